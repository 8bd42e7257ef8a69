"""mustache: learned mustaches for faces in photos, Poisson-blended so only the upper lip changes.

The house by stage (docs/DEVELOPING.md): :mod:`mustache.paint` (painters, the per-face pipeline,
styles, options), :mod:`mustache.strands` (the hair stage), :mod:`mustache.video`,
:mod:`mustache.learn` (training, networks, checkpoints), :mod:`mustache.measure` and
:mod:`mustache.judge` (figures, `mustache eval`), :mod:`mustache.batch` (files, clusters), and on
top :mod:`mustache.web` and :mod:`mustache.commands`.

Heavy modules (torch, MediaPipe) are imported by the submodules that need them, never here: the
public names below are found on first use.
"""

__version__ = "0.1.0"

# public name -> the module that holds it (loaded on first use: no import side effects)
_PUBLIC = {
    "Mustacher": "mustache.paint.gan",
    "ApplyOptions": "mustache.paint.options",
    "ApplyResult": "mustache.paint.options",
    "FaceResult": "mustache.paint.options",
    "DonorTransfer": "mustache.paint.donor",
    "Style": "mustache.paint.styles",
    "STYLES": "mustache.paint.styles",
    "VideoMustacher": "mustache.video.stream",
}


def __getattr__(name: str):
    if name not in _PUBLIC:
        raise AttributeError(f"module 'mustache' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_PUBLIC[name]), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_PUBLIC])
