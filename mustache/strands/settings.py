"""The hair stage's settings and shapes: :class:`HairConfig` (every knob of the stage, with
why each is where it is), real mustaches' tone bands (``REAL_TONE``), the drawn
:class:`Strands`, the :class:`Flow` a style gives, :class:`HairResult`, and the small rules
that follow from the settings (``supersample``, ``softness``, ``for_focus``, ``tone_band``).
Split from :mod:`mustache.strands.hair`, which re-exports them: ``from
mustache.strands.hair import HairConfig`` stays the way to reach them."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import numpy as np

_CHANNEL_WEIGHTS = np.array([0.299, 0.587, 0.114], np.float32)  # Rec. 601 luma


@dataclass(frozen=True)
class ToneBand:
    """Real mustaches' tone at one face size and focus: the darker half of the mustache area's
    L* over the skin ring's (``mustache.measure.photo_metrics.band_tone``): 10th percentile, median
    and 90th percentile. The rendered band is held between ``lo`` and a little past the median
    (see :func:`hold_tone`): lighter than most real mustaches is what reads as a faint fuzz."""

    min_width: float  # face width (px) from which this band applies
    soft: bool  # measured on soft photos (focus blur >= HairConfig.soft_from px)
    lo: float
    mid: float
    hi: float


# Real mustaches' band tone by face width and focus: 407 faces of the labelled mustached men
# of ../shared/data (CelebA Mustache=1, LFW p_Mustache > 0.5, hires REAL_HAIR; as they are and
# as web copies: upscaled 1.5-4x with JPEG, blurred, cast, dark),
# `benchmarks/hair_quality.py --reference-only --reference-json` (README "On the photos people
# have"). Soft: focus blur >= soft_from (0.9 px). The 120-150 px sharp row had 4 faces: the
# 40-120 px one is used there.
REAL_TONE: tuple[ToneBand, ...] = (
    ToneBand(0, False, 0.46, 0.72, 0.88), ToneBand(0, True, 0.22, 0.54, 0.86),
    ToneBand(120, True, 0.27, 0.52, 0.81),
    ToneBand(150, False, 0.48, 0.76, 0.80), ToneBand(150, True, 0.33, 0.68, 0.87),
    ToneBand(250, False, 0.47, 0.75, 0.78), ToneBand(250, True, 0.31, 0.59, 0.86),
    ToneBand(400, False, 0.45, 0.72, 0.78), ToneBand(400, True, 0.36, 0.70, 0.78),
)


@dataclass(frozen=True)
class HairConfig:
    face_cm: float = 14.0  # a face's width (landmarks 234-454) in cm: sets the hairs' scale
    depth: float = 3.0  # optical depth of the hair at the mustache's core (hair area per skin
    # area x opacity): 1 - exp(-3) = 95% covered, the skin barely showing through as on real
    # mustaches; the hair count is whatever reaches it with hairs of these widths and lengths
    under_share: float = 0.55  # the short, dense under-layer's share of that depth
    opacity: float = 0.7  # one hair's own opacity over a pixel it fully covers: 1 - exp(-1)
    width_mm: tuple[float, float] = (0.1, 0.2)  # hair diameter, root (tips taper to 35%)
    min_width_px: float = 0.7  # hairs drawn no thinner, in the drawing's pixels (fewer of them)
    resolve_px: float = 320.0  # hairs are drawn on a grid where the face is at least this wide
    max_supersample: int = 8  # ... at most this many drawing pixels a photo pixel (per side),
    # then area-averaged down: a 60 px face shows the aggregate of its ~1,000 hairs
    length_mm: tuple[float, float] = (3.0, 9.0)  # top-layer length range
    spread_deg: tuple[float, float] = (12.0, 62.0)  # angle from "down": philtrum, mouth corners
    angle_jitter_deg: float = 24.0  # hair-to-hair spread of that angle (real hair crosses: a
    # combed, parallel field measured 2x the line coherence of real mustaches)
    under_jitter: float = 2.0  # the under-layer's spread, x angle_jitter_deg
    curl: float = 0.2  # mean sideways bend (x length) of a hair's midpoint, toward outward-down
    clump: float = 0.45  # how far tips are pulled toward their lock's guide hair (0-1)
    lock_size: int = 14  # hairs per lock
    overhang: float = 0.35  # how far tips may pass the upper lip's edge (x lip height)
    on_canvas: bool = True  # grow hairs on the canvas and carry them back through the face's
    # mesh (a turned face's far side shorter); False: in the flat face frame (a style's flow
    # always is: its field lives in the photo's box)
    outline_overhang: float = 0.3  # a style's: how far tips may pass its outline (x the
    # hair's length; a ragged edge). Two fields, not one: the two paths measure it apart
    philtrum: float = 0.45  # root density at the philtrum's centre, relative to the sides
    shadow: float = 0.35  # share of the darkening toward the hair colour laid beneath the hairs
    # (skin in the hairs' shade), in proportion to the local hair density: never a band
    darkest: float = 0.32  # hair lightness (L*) no lower than this share of the skin's
    lightest: float = 14.0  # and the hair's core at least this much (L*) below the skin's
    lightest_lock: float = 4.0  # the lightest lock's tone at least this much
    drop_ref: float = 14.0  # grey levels: a guide darkening of this much or more is "full"
    prior: float = 0.6  # a style's least darkening inside its outline, x drop_ref
    floor: float = 0.35  # the natural mustache's least darkening between the nose and the lip,
    # x the guide's strongest (the GAN paints a thin line over laughing mouths); 0: none
    groups: int = 4  # hair colours drawn (quantiles of the person's hair colours)
    tone: tuple[ToneBand, ...] = REAL_TONE  # () : no tone hold
    tone_above: float = 0.0  # the band no lighter than the real median + this
    core: tuple[float, float] = (0.1, 0.5)  # guide darkening (share of its strongest) from
    # which roots start, and from which they are at full density
    under_dark: float = 6.0  # L* the under-layer is darker than the top strands (their shade)
    fray: float = 0.6  # how far the outline wanders, in shares of the guide's strongest
    tint_spread: float = 6.0  # L* the palette's colours may differ from the hair's core
    lock_mm: float = 2.5  # the size of a lock's patch of one tone
    lock_contrast: float = 0.3  # sd of the lock field (0-1 spans the palette's tones)
    lock_tone: float = 0.7  # share of a lock's hairs that take its guide's colour
    lock_spread: float = 10.0  # L* spread between the palette's colours: locks of distinct
    # tone are what makes a mustache textured, not flat, once hairs are finer than pixels
    lock_length: float = 0.2  # lock-to-lock spread of length (a ragged, not a ruled, edge)
    # soft photos (focus blur from soft_from to soft_full px): hairs gather into bigger locks
    # of thicker strands (the same depth: coverage is kept), whose tone differs more
    focus_match: float = 0.85  # share of the photo's own focus blur given to the hairs
    soft_from: float = 0.9
    soft_full: float = 1.8
    soft_locks: float = 1.5  # lock_size x (1 + this) at full softness
    soft_contrast: float = 0.15  # lock field sd + this at full softness
    soft_cell: float = 2.0  # tone patches no bigger than this x the photo's blur (px)
    soft_thick: float = 1.0  # widths x (1 + this) at full softness (fewer hairs, same depth)
    soft_tone: float = 24.0  # extra L* spread between locks at full softness


class Flow(Protocol):
    """A style's outline and hair flow on one face, in box pixels
    (:class:`mustache.paint.styles.StyleFit`)."""

    mask: np.ndarray  # (h, w) float32 in [0, 1]: the style's feathered outline

    def inside(self, points: np.ndarray) -> np.ndarray: ...  # (N, 2) -> (N,) the mask there

    def direction(self, points: np.ndarray, natural: np.ndarray) -> np.ndarray: ...  # (N, 2)


@dataclass(frozen=True, eq=False)
class Strands:
    """Hairs as quadratic Bezier curves, in box pixels. N hairs."""

    p0: np.ndarray  # (N, 2) roots
    p1: np.ndarray  # (N, 2) control points
    p2: np.ndarray  # (N, 2) tips
    width: np.ndarray  # (N,) diameter at the root, px
    group: np.ndarray  # (N,) int: the hair's colour, an index into the palette

    def __len__(self) -> int:
        return len(self.p0)


@dataclass(frozen=True, eq=False)
class HairResult:
    patch: np.ndarray  # (h, w, 3) float32 RGB 0-255: the box with the mustache
    alpha: np.ndarray  # (h, w) float32: the hair layer's opacity (for tests and sheets)
    strands: int  # hairs drawn
    supersample: int  # drawing pixels per photo pixel (per side) the hairs were drawn at


def softness(sigma: float, config: HairConfig = HairConfig()) -> float:
    """0 on photos sharper than ``soft_from`` px of focus blur, 1 from ``soft_full`` px."""
    t = (sigma - config.soft_from) / max(config.soft_full - config.soft_from, 1e-6)
    return float(min(max(t, 0.0), 1.0))


def for_focus(config: HairConfig, soft: float) -> HairConfig:
    """``config`` for a photo ``soft`` (0-1) soft: bigger locks of thicker strands whose tone
    differs more lock to lock, so the texture is coarser than the photo's blur and survives
    it. The depth stays: a soft photo of a mustache is still a dense, dark patch."""
    from dataclasses import replace

    if soft <= 0:
        return config
    k = 1 + config.soft_thick * soft
    return replace(config, lock_size=round(config.lock_size * (1 + config.soft_locks * soft)),
                   min_width_px=config.min_width_px * k,
                   width_mm=tuple(v * k for v in config.width_mm),
                   lock_tone=config.lock_tone + (1 - config.lock_tone) * 0.6 * soft,
                   lock_contrast=config.lock_contrast + config.soft_contrast * soft,
                   lock_spread=config.lock_spread + config.soft_tone * soft,
                   lock_length=config.lock_length * (1 + soft))


def supersample(face_width: float, config: HairConfig = HairConfig()) -> int:
    """Drawing pixels per photo pixel (per side): enough that the face is ``resolve_px`` wide
    where hairs are drawn, at most ``max_supersample``; 1 on faces that wide already."""
    return int(min(max(math.ceil(config.resolve_px / max(face_width, 1.0)), 1),
                   config.max_supersample))


def tone_band(face_width: float, soft: bool, config: HairConfig = HairConfig()
              ) -> ToneBand | None:
    """The real mustaches' tone range for a face this wide, sharp or soft (None: no hold)."""
    rows = [t for t in config.tone if t.soft == soft and t.min_width <= face_width]
    return max(rows, key=lambda t: t.min_width) if rows else None


def luminance(rgb: np.ndarray) -> np.ndarray:
    """(..., 3) -> (...) float32 luma."""
    return np.asarray(rgb, np.float32) @ _CHANNEL_WEIGHTS
