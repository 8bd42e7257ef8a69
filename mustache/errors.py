"""Errors the CLI turns into one line and an exit code (documented in the README)."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILURE = 1  # something went wrong while working (a photo failed in a folder run, NaN loss)
EXIT_USAGE = 2  # bad input: missing file or folder, unreadable image, bad checkpoint, bad option
EXIT_NO_FACE = 3  # `apply`/`score`: the photo holds no face; the photo is written back unchanged


class MustacheError(Exception):
    """An expected failure with a one-line message; ``exit_code`` is what the CLI exits with."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str, exit_code: int | None = None):
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code
