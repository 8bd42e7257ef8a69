"""The public path of the GAN painter and its options (``from mustache.apply import Mustacher,
ApplyOptions``), kept for code written against it; the code lives in :mod:`mustache.paint`."""

from mustache.paint.gan import DEFAULT_MODEL, Mustacher, apply, as_rgb, resolve_model
from mustache.paint.options import ApplyOptions, ApplyResult, Engine, FaceResult, Skip

__all__ = ["DEFAULT_MODEL", "ApplyOptions", "ApplyResult", "Engine", "FaceResult", "Mustacher",
           "Skip", "apply", "as_rgb", "resolve_model"]
