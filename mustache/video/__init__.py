"""Video: faces tracked from frame to frame (:mod:`mustache.video.track`), each painted once
and carried along (:mod:`mustache.video.stream`), and the files read and written
(:mod:`mustache.video.codec`). It may import :mod:`mustache.paint.options` (what a painter is
asked and answers), :mod:`data_prep` and :mod:`mustache.errors`; an engine (a painter) is
handed to it, so it never imports the painters themselves.

``from mustache.video import VideoMustacher`` keeps working: the names of
:mod:`mustache.video.stream` are found here on first use (no import at package load)."""


def __getattr__(name: str):
    # the public path of the video stream (README); loaded on first use, no import side effect.
    # import_module, not `from mustache.video import stream`: that asks this very hook for
    # "stream" before the submodule is loaded, and recursed
    import importlib

    if name.startswith("_"):
        raise AttributeError(f"module 'mustache.video' has no attribute {name!r}")
    try:
        return getattr(importlib.import_module("mustache.video.stream"), name)
    except AttributeError:
        raise AttributeError(f"module 'mustache.video' has no attribute {name!r}") from None
