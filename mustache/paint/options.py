"""What one `apply` is asked and what it answers: :class:`ApplyOptions` (a photo's choices),
:class:`FaceResult` and :class:`ApplyResult`, the :class:`Engine` protocol both painters (the
GAN's :class:`mustache.paint.gan.Mustacher`, :class:`mustache.paint.donor.DonorTransfer`) meet, and
:func:`skip_reason` with its structured :class:`Skip`. Its own module so that the painters and the shared per-face pipeline
(:mod:`mustache.paint.pipeline`) import it and not each other; it imports only
:mod:`mustache.paint.blend` and :mod:`mustache.paint.styles`."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol

import numpy as np

from mustache.paint.blend import CLONE_MODES
from mustache.paint.styles import NATURAL, Style


@dataclass(frozen=True)
class ApplyOptions:
    seed: int = 0  # noise seed: the same seed gives the same mustache, hair for hair
    strength: float = 1.0  # the share of the change kept: 0 the photo as it is, 1 all of it
    clone: str = "normal"  # "normal" | "mixed" | "alpha" (see mustache.paint.blend)
    faces: tuple[int, ...] | None = None  # face indices to change (largest first); None = all
    label: int = 1  # 1 mustache, 0 clean (remove one)
    min_face: float = 40.0  # faces narrower than this (photo px) are skipped
    color: str | None = None  # hair colour name or #rrggbb (mustache.strands.haircolor); None: eyebrows
    force: bool = False  # paint faces that already have facial hair too
    hair: bool = True  # draw single hairs at the photo's resolution (mustache.strands.hair)
    style: Style = NATURAL  # the mustache's shape and hair flow (mustache.paint.styles.STYLES)
    length: float = 1.0  # x the style's hair length
    thickness: float = 1.0  # x the style's hair density
    curl: float = 1.0  # x the style's curl

    def __post_init__(self):
        if not 0.0 <= self.strength <= 1.0:
            raise ValueError(f"strength must be in [0, 1], got {self.strength}")
        if self.clone not in CLONE_MODES:
            raise ValueError(f"clone must be one of {CLONE_MODES}, got {self.clone!r}")
        if not self.min_face > 0:
            raise ValueError(f"min_face must be > 0 px, got {self.min_face}")
        if self.label not in (0, 1):
            raise ValueError(f"label must be 0 or 1, got {self.label}")
        if not isinstance(self.style, Style):
            raise ValueError(f"style must be a mustache.paint.styles.Style, got {self.style!r}")
        for name, v in (("length", self.length), ("thickness", self.thickness),
                        ("curl", self.curl)):
            if not (0.0 < v <= 4.0 if name == "length" else 0.0 <= v <= 4.0):
                raise ValueError(f"{name} must be in {'(0' if name == 'length' else '[0'}, 4], "
                                 f"got {v}")
        if isinstance(self.faces, int):  # one index is a fine way to say one face
            object.__setattr__(self, "faces", (self.faces,))
        if self.color is not None:
            from mustache.strands.haircolor import named_colour

            named_colour(self.color)  # ValueError naming the colour and the choices

    def wants(self, index: int) -> bool:
        return self.faces is None or index in self.faces


class Skip(str, Enum):
    """Why a face was left as it is, for code to act on (the note says it for people)."""

    NOT_SELECTED = "not selected"
    TOO_SMALL = "too small"
    STRENGTH_0 = "strength 0"
    HAS_HAIR = "has facial hair"
    UNALIGNED = "unaligned"  # landmarks the painter cannot align
    OUTSIDE = "outside"  # the painter's region lies outside the photo
    PAINTER = "painter"  # the painter's own reason (a donor's: its mouth is too small, ...)


# reasons a later, larger or better-placed sight of the same face may cure (a video retries)
PASSING = frozenset({Skip.TOO_SMALL, Skip.UNALIGNED, Skip.OUTSIDE})


@dataclass(frozen=True)
class Skipped:
    """A face not painted: the structured reason and the note a person reads."""

    reason: Skip
    note: str


@dataclass(frozen=True, eq=False)
class FaceResult:
    index: int  # face index in the photo, largest first
    box: tuple[float, float, float, float]  # (x0, y0, x1, y1) face box, photo px
    blended: bool  # False when the face was skipped
    note: str | None = None  # why it was skipped
    score: float | None = None  # detector confidence
    landmarks: np.ndarray | None = None  # (478, 2) float32 photo px
    region_box: tuple[int, int, int, int] | None = None  # photo box that was blended (clipped)
    mustache_before: float | None = None  # the classifier's mustache score before editing
    hairs: int = 0  # single hairs drawn at the photo's resolution
    colour: str | None = None  # where the hair colour came from ("eyebrows", "color brown", ...)
    reason: Skip | None = None  # why it was skipped, for code (``note`` says it in words)

    def to_dict(self) -> dict:
        d = {"index": self.index, "box": [round(float(v), 1) for v in self.box],
             "blended": self.blended, "note": self.note,
             "score": None if self.score is None else round(float(self.score), 4),
             "region_box": None if self.region_box is None else list(self.region_box),
             "mustache_before": None if self.mustache_before is None
             else round(float(self.mustache_before), 4),
             "hairs": int(self.hairs), "colour": self.colour}
        if self.landmarks is not None:
            d["landmarks"] = np.round(np.asarray(self.landmarks, np.float64)[:, :2], 1).tolist()
        return d


@dataclass(frozen=True, eq=False)
class ApplyResult:
    image: np.ndarray  # (H, W, 3) uint8 RGB, same size as the input
    faces: tuple[FaceResult, ...] = field(default_factory=tuple)
    warnings: tuple[str, ...] = ()

    @property
    def blended(self) -> int:
        """How many faces were changed."""
        return sum(f.blended for f in self.faces)

    def to_dict(self) -> dict:
        return {"size": [int(self.image.shape[1]), int(self.image.shape[0])],
                "faces": [f.to_dict() for f in self.faces], "warnings": list(self.warnings)}


class Engine(Protocol):
    """What the `apply` command and evaluation run: :class:`Mustacher` or
    :class:`mustache.paint.donor.DonorTransfer`."""

    def apply(self, image_or_path, options: ApplyOptions = ApplyOptions()) -> ApplyResult:
        """A mustache on every face of an RGB uint8 (H, W, 3) image or a path."""
        ...

    def close(self) -> None: ...


def skip_reason(index: int, face, options: ApplyOptions) -> Skipped | None:
    """Why face ``index`` (a FaceLandmarks) gets no mustache under ``options``, or None."""
    width = face.box[2] - face.box[0]
    if not options.wants(index):
        return Skipped(Skip.NOT_SELECTED, "not selected")
    if width < options.min_face:
        return Skipped(Skip.TOO_SMALL,
                       f"face too small ({width:.0f} px wide, min {options.min_face:.0f})")
    if options.strength == 0:
        return Skipped(Skip.STRENGTH_0, "strength 0")
    return None
