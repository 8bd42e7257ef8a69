"""The `mustache` command line: thin typed functions over the library.

Heavy imports (torch, MediaPipe, OpenCV) happen inside the commands, so `mustache --help` is
instant. Expected failures raise the types of :mod:`mustache.errors`; :func:`clean_errors` alone
turns them into one line on stderr and the exit code the README documents (``EXIT_CODES``).
"""

from __future__ import annotations

import functools
import sys

import typer

from mustache.errors import BadInput, MustacheError, NoFace, WorkFailed

EXIT_FAILURE, EXIT_USAGE, EXIT_NO_FACE = 1, 2, 3
# the one mapping from failure to exit code (README "Exit codes"); the first match wins
EXIT_CODES: tuple[tuple[type[MustacheError], int], ...] = (
    (BadInput, EXIT_USAGE),  # a missing or unreadable file, a bad option, checkpoint or device
    (NoFace, EXIT_NO_FACE),  # `apply`, `score`: the photo holds no face
    (WorkFailed, EXIT_FAILURE),  # a non-finite loss, photos of a folder that failed
    (MustacheError, EXIT_FAILURE),
)

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Learned mustaches for faces in photos: prep a dataset, train, apply.",
)


@app.callback()
def _root() -> None:
    """Learned mustaches for faces in photos: prep a dataset, train, apply."""


def exit_code(error: MustacheError) -> int:
    """The exit code of an expected failure (``EXIT_CODES``)."""
    return next(code for kind, code in EXIT_CODES if isinstance(error, kind))


def clean_errors(fn):
    """Turn expected errors into one line on stderr and an exit code, without a traceback.
    Anything else (a plain ValueError included) is a bug and keeps its traceback."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except MustacheError as e:
            line = " ".join(str(e).split("\n"))  # one line, whatever a wrapped message held
            typer.echo(f"error: {line}", err=True)
            raise typer.Exit(exit_code(e)) from None
        except KeyboardInterrupt:
            typer.echo("interrupted", err=True)
            raise typer.Exit(130) from None

    return wrapper


def command(module: str, name: str, help: str):
    """Register `name` from `mustache.commands.<module>` (imported only when the module is)."""
    import importlib

    fn = getattr(importlib.import_module(f"mustache.commands.{module}"), name)
    app.command(name=name.replace("_", "-"), help=help)(clean_errors(fn))


command("prep", "prep", "Find, align and crop every face in a folder of photos into a dataset.")
command("train", "train", "Train the mustache GAN on a prepped dataset (or --resume a run).")
command("train_classifier", "train_classifier", "Train the mustache-ness classifier on a dataset.")
command("score", "score", "Print the mustache-ness of every face in photos (0 clean .. 1 mustache).")
command("apply", "apply", "Put a mustache on every face of a photo (or a folder of photos).")
command("styles", "styles", "List the mustache styles (--sheet: every style on one face).")
command("live", "live", "A camera preview with a mustache on every face (needs a display).")
command("eval", "eval", "Measure GAN checkpoints: mustache rate, KID, change outside, drift.")
command("serve", "serve", "A local web page: drop photos, try styles, download at full resolution.")


def main() -> None:  # pragma: no cover
    app(prog_name="mustache")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
