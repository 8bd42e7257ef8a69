"""Loading MediaPipe quietly and without what this project never uses.

``import mediapipe`` runs the package's ``__init__``, which imports every solution, the
drawing helpers (``drawing_utils`` imports matplotlib.pyplot: 0.2-0.5 s) and the tasks API
(0.2 s). :func:`import_mediapipe` loads it with stand-ins for those two while the package
initialises, then removes the stand-ins, so a later ``import mediapipe.tasks.python`` (or the
drawing helpers) still gets the real modules. Its C++ side logs through glog/absl at start-up
and writes warnings straight to fd 2: :func:`quiet_stderr` hides those.
"""

from __future__ import annotations

import contextlib
import os
import sys
import types

# never used here, and the slowest parts of mediapipe's __init__
SKIPPED = ("mediapipe.python.solutions.drawing_utils",
           "mediapipe.python.solutions.drawing_styles", "mediapipe.tasks", "mediapipe.tasks.python")


def import_mediapipe():
    """-> (SolutionBase, the face_mesh module, the face_detection module)."""
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "mediapipe" not in sys.modules:
        with _stand_ins(SKIPPED):
            import mediapipe  # noqa: F401
    from absl import logging as absl_logging  # MediaPipe's own dependency
    from mediapipe.python.solution_base import SolutionBase
    from mediapipe.python.solutions import face_detection, face_mesh

    absl_logging.set_verbosity(absl_logging.ERROR)
    return SolutionBase, face_mesh, face_detection


@contextlib.contextmanager
def _stand_ins(names: tuple[str, ...]):
    """Empty modules under ``names`` for the time of the block; afterwards the names (and the
    attributes their parents got) are gone again, so the real modules load when asked for."""
    added = [n for n in names if n not in sys.modules]
    for n in added:
        sys.modules[n] = types.ModuleType(n, "a stand-in while mediapipe initialises")
        parent, _, leaf = n.rpartition(".")
        if parent in added:  # `import a.b.c as x` reads c as an attribute of a.b
            setattr(sys.modules[parent], leaf, sys.modules[n])
    try:
        yield
    finally:
        stubs = [sys.modules.pop(n) for n in added if n in sys.modules]
        for n in added:  # `import a.b.c as c` binds c in a's namespace too
            parent, _, leaf = n.rpartition(".")
            holder = sys.modules.get(parent)
            if holder is not None and any(getattr(holder, leaf, None) is s for s in stubs):
                delattr(holder, leaf)


@contextlib.contextmanager
def quiet_stderr():
    """MediaPipe's C++ side writes warnings straight to fd 2 at start-up; hide them there."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
