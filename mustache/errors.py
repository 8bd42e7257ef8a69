"""The expected failures, as types: what went wrong, never how to exit. The CLI alone turns them
into exit codes (``mustache.cli.EXIT_CODES``, documented in the README).

Raise :class:`BadInput` for anything the user gave (a file, a folder, an option, a checkpoint,
a device), :class:`NoFace` when a photo holds no face, :class:`WorkFailed` when the work itself
failed (a non-finite loss, some photos of a folder). A plain ``ValueError`` means a caller
passed a bad argument (a bug when it comes from the CLI), so the CLI shows its traceback.
"""

from __future__ import annotations


class MustacheError(Exception):
    """An expected failure with a one-line message (naming the file when there is one)."""


class BadInput(MustacheError, ValueError):
    """Bad input or usage: a missing or unreadable file, a bad option, checkpoint or device.
    Also a ``ValueError``, so library callers that catch bad arguments catch it too."""


class NoFace(MustacheError):
    """The photo holds no face (`apply` has written it back unchanged)."""


class WorkFailed(MustacheError):
    """The input was fine but the work failed: a non-finite loss, photos of a folder run."""
