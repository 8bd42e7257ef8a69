"""mustache: learned mustaches for faces in photos, Poisson-blended so only the upper lip changes.

Heavy modules (torch, MediaPipe) are imported by the submodules that need them, never here.
"""

__version__ = "0.1.0"
