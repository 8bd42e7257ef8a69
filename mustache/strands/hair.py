"""The hair stage: a mustache drawn as real hair, the same look at every face size.

The GAN (or a donor's real mustache) works at the window's resolution, 128 px for the whole
lower face. Its change says *where* the mustache is and how dense; it is never the final
pixels (pasted as it is it reads as marker pen). Here hairs are drawn instead:

- roots are sampled where the guide darkens the skin (fewer down the philtrum, none on the
  lip); as many hairs as reach the mustache's optical depth (``depth``): its core is dense,
  the skin barely showing through, and its edges thin out and fray;
- each hair grows down and outward from the philtrum, long enough to reach the lip from its
  root (a limit on how far it overhangs), curves (a quadratic Bezier) and tapers; a short,
  darker under-layer lies in the shade of longer, crossing top strands; a smooth random field
  of a few mm gives neighbouring hairs one tone (locks), so the mustache is textured, not flat;
- hairs are 0.1-0.2 mm thick (a face is about 14 cm wide). They are drawn where they are
  resolved: on a grid ``supersample`` times finer than the photo on faces under
  ``resolve_px``, then area-averaged down, so a 60 px face shows the aggregate of its ~1,000
  hairs (each hair's covered area is splatted as sub-pixel alpha);
- the skin between hairs lies in their shade; the palette's lightness is held so the band's
  tone lies where real mustaches' does at this face size and focus (:func:`hold_tone`,
  ``REAL_TONE``): never a flat near-black band, never a see-through fuzz;
- the hair layer is blurred to the photo's own focus and given its grain; on soft photos the
  locks' tone patches are no bigger than the blur lets show, so the texture survives it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from data_prep import indices as ix
from data_prep.canvas import FaceFrame, face_frame  # the one face frame (re-exported here)
from mustache.strands.haircolor import HairColour

__all__ = ["FaceFrame", "face_frame", "render", "grow_strands", "HairConfig", "HairResult"]

LOWER_LIP_INNER = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308)
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


# ---------------------------------------------------------------- masks

def lip_masks(xy: np.ndarray, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(upper vermilion, open mouth) float32 (h, w) masks from box-pixel landmarks."""
    from data_prep.region import polygon_mask

    verm = polygon_mask(np.concatenate([xy[list(ix.UPPER_LIP_OUTER)],
                                        xy[list(ix.UPPER_LIP_INNER)][::-1]]), shape)
    mouth = polygon_mask(np.concatenate([xy[list(ix.UPPER_LIP_INNER)],
                                         xy[list(LOWER_LIP_INNER)][::-1]]), shape)
    return verm, mouth


# ---------------------------------------------------------------- strands

def _lip_distance(points: np.ndarray, xy: np.ndarray, frame: FaceFrame) -> np.ndarray:
    """(N, 2) points -> (N,) distance down (face axes) from each point to the upper lip's top
    edge at the same position across the face (negative: already below it)."""
    lip = xy[list(ix.UPPER_LIP_OUTER)]
    lu = (lip - frame.philtrum) @ frame.right
    lv = (lip - frame.philtrum) @ frame.down
    order = np.argsort(lu)
    pu = (points - frame.philtrum) @ frame.right
    pv = (points - frame.philtrum) @ frame.down
    return np.interp(pu, lu[order], lv[order]) - pv


def _natural_angle(points: np.ndarray, frame: FaceFrame, config: HairConfig
                   ) -> tuple[np.ndarray, np.ndarray]:
    """(N, 2) box px -> (angle from "down", radians, outward positive x side; side +-1):
    hairs grow down at the philtrum and turn outward toward the mouth corners."""
    u = np.clip(((points - frame.philtrum) @ frame.right) / frame.half_mouth, -1.6, 1.6)
    side = np.where(u >= 0, 1.0, -1.0)
    a0, a1 = np.radians(config.spread_deg)
    return side * (a0 + (a1 - a0) * np.minimum(np.abs(u), 1.0) ** 0.9), side


def _unit(ang: np.ndarray, frame: FaceFrame) -> np.ndarray:
    """(N,) angles from "down" (positive toward the face's right) -> (N, 2) box px."""
    return np.cos(ang)[:, None] * frame.down + np.sin(ang)[:, None] * frame.right


def _turn(d: np.ndarray, ang: np.ndarray) -> np.ndarray:
    """(N, 2) vectors turned by (N,) radians."""
    c, s = np.cos(ang), np.sin(ang)
    return np.stack([c * d[:, 0] - s * d[:, 1], s * d[:, 0] + c * d[:, 1]], 1)


def _follow(roots: np.ndarray, length: np.ndarray, jit: np.ndarray, frame: FaceFrame,
            config: HairConfig, flow: Flow, rng: np.random.Generator
            ) -> tuple[np.ndarray, np.ndarray]:
    """A style's hairs: two half-steps along its flow field (so hairs bend with it), cut
    where they would leave its outline (plus a little overhang). -> (mid, tip) (N, 2)."""
    def step(p):
        nat, _ = _natural_angle(p, frame, config)
        return _turn(flow.direction(p, _unit(nat, frame)), jit)

    d0 = step(roots)
    mid = roots + 0.5 * length[:, None] * d0
    d1 = step(mid)
    # march along the path: the first sample outside the outline ends the hair
    f = np.arange(1, 9) / 8.0  # (8,)
    path = np.where(f[None, :, None] <= 0.5,
                    roots[:, None] + (f[None, :, None] * length[:, None, None]) * d0[:, None],
                    mid[:, None] + ((f[None, :, None] - 0.5) * length[:, None, None]) * d1[:, None])
    out = flow.inside(path.reshape(-1, 2)).reshape(len(roots), -1) < 0.35
    first = np.where(out.any(1), out.argmax(1), len(f))  # samples kept
    keep = np.clip(first / len(f) + config.overhang * rng.uniform(0, 1, len(roots)), 0.2, 1.0)
    length = length * keep
    mid = roots + 0.5 * length[:, None] * d0
    return mid, mid + 0.5 * length[:, None] * d1


def grow_strands(roots: np.ndarray, xy: np.ndarray, frame: FaceFrame, groups: int,
                 rng: np.random.Generator, config: HairConfig, layer: str,
                 flow: Flow | None = None) -> Strands:
    """Hairs from (N, 2) box-pixel roots: direction by position across the face, length by
    height above the lip, a curl, a taper width, one of ``groups`` palette colours. With a
    style's ``flow``: direction along its flow, length from ``length_mm``, cut at its
    outline."""
    n = len(roots)
    mm = frame.px_per_mm
    nat, side = _natural_angle(roots, frame, config)
    # short under-layer hairs lie every which way; long top strands follow the growth field
    jitter = config.angle_jitter_deg * (config.under_jitter if layer == "under" else 1.0)
    ang = nat + rng.normal(0, math.radians(jitter), n)
    ang = np.clip(ang, -1.4, 1.4)  # hairs never grow up toward the nose (80 degrees at most)
    # down, turned outward (toward the viewer's right for the right side)
    direction = _unit(ang, frame)
    lo, hi = config.length_mm[0] * mm, config.length_mm[1] * mm
    if flow is None:
        lip_h = max(float(np.linalg.norm(xy[0] - xy[13])), 0.05 * frame.width)
        reach = _lip_distance(roots, xy, frame) + config.overhang * lip_h * rng.uniform(0.2, 1.0, n)
        length = np.clip(reach / np.maximum(np.cos(ang), 0.35), lo, hi)
    else:
        length = rng.uniform(lo, hi, n)
    if layer == "under":  # short, fine hairs that fill the skin between the long ones
        length *= rng.uniform(0.3, 0.6, n)
    else:
        length *= rng.uniform(0.8, 1.1, n)
    # locks: neighbouring roots share a guide hair (the lock's first); a lock's hairs are of
    # a length and mostly of a colour, so locks differ from each other as real ones do
    g = _locks(roots, config.lock_size, rng)
    length *= np.exp(rng.normal(0, config.lock_length, n))[g]
    group = rng.integers(0, groups, n)
    if layer == "top":  # (short under-layer hairs of one tone make blotches, not locks)
        group = np.where(rng.uniform(0, 1, n) < config.lock_tone, group[g], group)
    if flow is None:
        tip = roots + length[:, None] * direction
        centre = None
    else:
        centre, tip = _follow(roots, length, ang - nat, frame, config, flow, rng)
        d = tip - roots
        direction = d / np.maximum(np.linalg.norm(d, axis=1, keepdims=True), 1e-6)
        length = np.linalg.norm(d, axis=1)
    # clumping: tips pulled toward the tip offset of their lock's guide hair
    if config.clump > 0 and n > 1:
        pull = config.clump * rng.uniform(0.5, 1.0, n)[:, None]
        tip = tip + pull * ((roots + (tip[g] - roots[g])) - tip)
    # curl: the midpoint bends sideways, outward and down for most hairs
    normal = np.stack([-direction[:, 1], direction[:, 0]], 1) * side[:, None]
    bend = rng.normal(config.curl, config.curl, n) * length
    # a style's hair passes through its bent midpoint: the control point is set so it does
    mid = (0.5 * (roots + tip) if centre is None else 2 * centre - 0.5 * (roots + tip)) \
        + bend[:, None] * normal
    w0, w1 = config.width_mm
    # widths vary a lot from hair to hair (and so their darkness): a mustache of equal hairs
    # reads as a uniform mass
    width = rng.uniform(w0, w1, n) * rng.lognormal(0, 0.4, n) * mm * (0.7 if layer == "under" else 1.0)
    # no thinner than min_width_px: sub-pixel hairs all fade to the same faint tone; fewer,
    # thicker ones (see thin_factor) keep the same darkness and stay legible
    width = np.maximum(width, config.min_width_px)
    return Strands(roots, mid, tip, width.astype(np.float32), group)


def _locks(roots: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """(N, 2) roots -> (N,) index of each one's lock guide: the nearest of N / ``size``
    roots drawn at random (itself for a guide)."""
    from scipy.spatial import cKDTree

    n = len(roots)
    if n < 2:
        return np.arange(n)
    guide = rng.choice(n, max(1, n // max(size, 1)), replace=False)
    _, which = cKDTree(roots[guide]).query(roots)
    return guide[which]


def palette(colours: np.ndarray, groups: int = 4) -> np.ndarray:
    """(M, 3) hair colours -> (G, 3): the colours at evenly spaced quantiles of lightness (the
    splat draws one coverage map per palette colour)."""
    order = np.argsort(luminance(colours), kind="stable")
    q = np.round(np.linspace(0, len(colours) - 1, min(groups, len(colours)) + 2)[1:-1])
    return colours[order[q.astype(int)]] if len(colours) > 1 else colours


def splat(strands: Strands, group: np.ndarray, groups: int, shape: tuple[int, int],
          step: float = 1.0) -> np.ndarray:
    """Draw hairs as coverage: each hair is sampled every ``step`` px along its curve, and
    each sample adds its covered area (width x step, tapering to the tip) bilinearly to the
    coverage map of its colour ``group`` (N,) int. Sub-pixel hairs so become partial alpha.
    Returns (groups, h, w) float32; one bincount for everything (a loop over hairs in Python
    cost 50-140 ms a face)."""
    h, w = shape
    W = w + 2  # a one-pixel border takes the samples that fall off the box: no masking
    size = (h + 2) * W
    if not len(strands):
        return np.zeros((groups, h, w), np.float32)
    p0, p1, p2 = (np.asarray(p, np.float32) for p in (strands.p0, strands.p1, strands.p2))
    length = np.linalg.norm(p1 - p0, axis=1) + np.linalg.norm(p2 - p1, axis=1)
    n = np.maximum(2, np.ceil(length / step)).astype(np.int64)
    idx = np.repeat(np.arange(len(n)), n)
    start = np.repeat(np.cumsum(n) - n, n)
    t = (((np.arange(idx.size) - start) + 0.5) / n[idx]).astype(np.float32)
    a, b, c = (1 - t) ** 2, 2 * (1 - t) * t, t * t
    # pixel centres at integer + 0.5: bilinear weights between the four nearest centres
    x = a * p0[idx, 0] + b * p1[idx, 0] + c * p2[idx, 0] + 0.5  # + 1 - 0.5: the border
    y = a * p0[idx, 1] + b * p1[idx, 1] + c * p2[idx, 1] + 0.5
    wgt = strands.width[idx] * (1 - 0.65 * t ** 1.5) * (length / n)[idx]
    x = np.clip(x, 0, w + 0.999)
    y = np.clip(y, 0, h + 0.999)
    x0, y0 = x.astype(np.int64), y.astype(np.int64)
    fx, fy = x - x0, y - y0
    f = np.asarray(strands.group, np.int64)[idx] * size + y0 * W + x0
    k1 = wgt * fx
    k0 = wgt - k1
    n_all = groups * size
    # the four bilinear corners in one bincount (one output array instead of four)
    cov = np.bincount(np.concatenate([f, f + 1, f + W, f + W + 1]),
                      np.concatenate([k0 * (1 - fy), k1 * (1 - fy), k0 * fy, k1 * fy]), n_all)
    return cov.astype(np.float32).reshape(groups, h + 2, W)[:, 1:-1, 1:-1]


# ---------------------------------------------------------------- the photo's own look

def focus_sigma(grey: np.ndarray, mask: np.ndarray, probe: float = 1.0) -> float:
    """The photo's blur as a Gaussian sigma (px), from how much a known extra blur ``probe``
    lowers its strongest gradients under ``mask``: an edge blurred by s has a peak gradient
    ~1/s, so the ratio r = s / sqrt(s^2 + probe^2) gives s (re-blur analysis). Clipped to
    [0.3, 3]."""
    import cv2

    def peak(g):
        gx = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3)
        gy = cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3)
        m = np.hypot(gx, gy)[mask]
        return float(np.percentile(m, 97)) if m.size > 50 else 0.0

    g = grey.astype(np.float32)
    a = peak(g)
    if a <= 1e-3:
        return 1.0
    r = min(peak(cv2.GaussianBlur(g, (0, 0), probe)) / a, 0.97)
    s = probe * r / math.sqrt(1 - r * r)
    # the 3x3 Sobel smooths by about 0.67 px itself: take it out
    return float(np.clip(math.sqrt(max(s * s - 0.45, 0.0)), 0.3, 3.0))


def noise_sigma(grey: np.ndarray, mask: np.ndarray) -> float:
    """The photo's grain (grey levels), a robust (MAD) estimate from the finest detail."""
    import cv2

    g = grey.astype(np.float32)
    hp = g - cv2.GaussianBlur(g, (0, 0), 0.8)
    v = hp[mask]
    if v.size < 50:
        return 0.0
    return float(1.4826 * np.median(np.abs(v - np.median(v))) * 1.6)


# ---------------------------------------------------------------- the stage

def render(photo: np.ndarray, change: np.ndarray, support: np.ndarray, landmarks: np.ndarray,
           colour: HairColour, seed: int | tuple[int, ...] = 0, config: HairConfig = HairConfig(),
           flow: Flow | None = None) -> HairResult:
    """Hairs over one face's mustache region, drawn where they are resolved and area-averaged
    to the photo's pixels; the same look at every face size.

    ``photo`` RGB uint8 (h, w, 3): the region's box; ``change`` float32 (h, w, 3): the guide's
    change there (the GAN's generated - original, or a donor's): where the mustache is, how
    dense and how dark, never its pixels; ``support`` float32 (h, w) in [0, 1]: the soft
    region mask (nothing changes where it is 0); ``landmarks`` (478, 2+) in box pixels;
    ``colour``: the hair colour (its base for the shade beneath the hairs, its samples for the
    hairs). Returns the new box (float32, not clipped) and the hair layer's alpha;
    deterministic in ``seed``. ``flow``: a style's outline and hair flow (``support`` then its
    outline, grown): roots fill the outline at ``config.prior`` (a share of full density) at
    least, more where the guide darkens; hairs follow the style's flow and end at its outline.
    """
    photo = np.asarray(photo)
    h, w = photo.shape[:2]
    if photo.ndim != 3 or photo.shape[2] != 3:
        raise ValueError(f"photo must be (h, w, 3), got {photo.shape}")
    if change.shape != photo.shape or support.shape != (h, w):
        raise ValueError(f"change {change.shape} and support {support.shape} must match the "
                         f"photo box {photo.shape}")
    xy = np.asarray(landmarks, np.float64)[:, :2]
    base = photo.astype(np.float32)
    frame = face_frame(xy, config.face_cm)
    verm, mouth = lip_masks(xy, (h, w))
    lips = np.maximum(verm, mouth)
    if flow is not None:  # the guide's change counts only inside the style's outline
        change = change * support[..., None]
    rng = np.random.default_rng([*np.atleast_1d(seed), 7])
    # the guide's darkening, low-passed: its shape and density, not its texture
    drop = _smooth(np.maximum(-luminance(change), 0) * support, max(0.012 * frame.width, 1.0))
    guide = drop
    if flow is not None:  # a style: its whole outline is the floor
        drop = np.maximum(drop, config.prior * config.drop_ref * flow.mask)
    elif config.floor > 0:  # a floor where every mustache grows: the GAN paints little over
        # wide-open, laughing mouths, and such faces still get a mustache
        from data_prep.region import polygon_mask

        area = np.concatenate([xy[list(ix.UNDER_NOSE)], xy[list(ix.UPPER_LIP_OUTER)][::-1]])
        floor = _smooth(polygon_mask(area, (h, w)), 0.015 * frame.width)
        # relative to this guide's own strongest darkening: a share of full density
        strongest = max(float(np.percentile(drop[support > 0.5], 90))
                        if (support > 0.5).any() else 0.0, config.drop_ref)
        drop = np.maximum(drop, config.floor * strongest * floor * support)
    # the photo's focus and grain, measured on the skin around the mustache
    fmask = (support > 0.3) & (lips < 0.5)
    grey = luminance(base)
    sigma = focus_sigma(grey, fmask)
    soft = softness(sigma, config)
    config = for_focus(config, soft)
    ring = (support > 0) & (support < 0.5) & (lips < 0.5)
    skin = np.median(base[ring], 0) if ring.sum() > 20 else np.median(base.reshape(-1, 3), 0)
    hair = _cap_darkness(colour.base[None], skin, config.darkest, config.lightest)[0]
    # the palette around the hair's own core, held visibly darker than the skin, then spread
    # into the tones that locks take (lightest last)
    pal = _spread(_around(palette(colour.samples, config.groups), hair, config.tint_spread),
                  config.lock_spread)
    # the under-layer lies in the top strands' shade: darker, so lit strands stand out
    pal = np.concatenate([_shift_l(pal, -config.under_dark), pal])
    fade = np.clip(support * 2, 0, 1)  # hairs fade out at the region's edge
    # roots where the guide darkens (relative to this mustache's own core, but not below
    # drop_ref, so a faint guide stays sparse), fewer down the philtrum, none on the lips: a
    # dense core whose edges thin out and fray as real ones do
    ref = max(float(np.percentile(drop[support > 0.5], 90)) if (support > 0.5).any() else 0.0,
              config.drop_ref)
    # a ragged outline: where the mustache starts wanders by a few mm (hair by hair,
    # lock by lock), rather than following the guide's smooth contour; never where it is bare
    fray = config.fray * (_lock_field((h, w), 1.5 * frame.px_per_mm, rng) - 0.5)

    def frayed(x):
        return _ramp(x + fray * np.clip(x / config.core[1], 0, 1), config.core)

    if flow is None:
        dens = frayed(drop / ref) * support * (1 - lips)
    else:  # the style's outline at the floor's density, the guide's darkening over it
        f = config.prior
        dens = (f + (1 - f) * frayed(guide / ref)) * flow.mask ** 1.5 * (1 - lips)
    r = frame.right / frame.half_mouth
    u = ((np.arange(w, dtype=np.float32) - frame.philtrum[0]) * r[0])[None, :] + \
        ((np.arange(h, dtype=np.float32) - frame.philtrum[1]) * r[1])[:, None]
    dens = dens * (1 - (1 - config.philtrum) * np.exp(-(u / 0.18) ** 2))
    # the drawing: s x s drawing pixels a photo pixel, landmarks scaled with it
    s = supersample(frame.width, config)
    xs = xy * s
    fs = face_frame(xs, config.face_cm)
    g = len(pal) // 2
    layers = []
    for layer, share in (("under", config.under_share), ("top", 1 - config.under_share)):
        # as many hairs as reach the depth: a small pilot set guesses a hair's area, a third
        # more than that guess are grown, and the first of them whose areas add up to the
        # depth are kept (hair areas vary lognormally: a count from the mean alone drifted)
        target = share * config.depth / config.opacity * float(dens.sum()) * s * s
        pilot = grow_strands(_sample(dens, 128, rng) * s, xs, fs, g, rng, config, layer, flow)
        each = float(np.mean(_ink_area(pilot))) if len(pilot) else 1.0
        grown = grow_strands(_sample(dens, int(1.35 * target / max(each, 1e-3)) + 8, rng) * s,
                             xs, fs, g, rng, config, layer, flow)
        keep = int(np.searchsorted(np.cumsum(_ink_area(grown)), target)) + 1
        layers.append(_take(grown, min(keep, len(grown))))
    # locks: a smooth random field of a few mm sets each hair's tone by where it lies, so
    # neighbouring hairs share it (crossing hairs of random tones average to a flat fill)
    # on a soft photo the patches are as small as its blur lets show (a mustache photographed
    # soft or small, then enlarged, keeps the texture of the pixels it had)
    cell = config.lock_mm * frame.px_per_mm
    if soft > 0:
        cell = min(cell, max(config.soft_cell * sigma, 2.0))
    field = _lock_field((h, w), cell, rng, config.lock_contrast)
    under, top = (_toned(st, field, s, g, config.lock_tone, rng) for st in layers)
    both = Strands(np.concatenate([under.p0, top.p0]), np.concatenate([under.p1, top.p1]),
                   np.concatenate([under.p2, top.p2]), np.concatenate([under.width, top.width]),
                   np.concatenate([under.group, top.group + g]))
    cov = splat(both, both.group, 2 * g, (h * s, w * s))  # (2G, hs, ws)
    # each layer saturates where its hairs overlap, in the drawing's own pixels; its weights per
    # palette colour (summing to its alpha) are linear in the colours, so they are what is
    # area-averaged down and blurred to the photo's focus
    wts = np.empty_like(cov)
    for i in range(2):
        c = cov[i * g:(i + 1) * g]
        total = c.sum(0)
        wts[i * g:(i + 1) * g] = c * ((1 - np.exp(-config.opacity * total))
                                      / np.maximum(total, 1e-6))
    wts = _area_down(wts, s)  # (2G, h, w)
    own = 0.29 if s > 1 else 0.41  # the blur the drawing already has: a box or a bilinear splat
    blur = math.sqrt(max((config.focus_match * sigma) ** 2 - own ** 2, 0.0))
    if blur > 0.05:
        import cv2

        for plane in wts:  # 2-D planes: cv2 blurs them fastest
            cv2.GaussianBlur(plane, (0, 0), blur, dst=plane)
    wts *= fade
    grain = noise_sigma(grey, fmask)
    noise = rng.standard_normal((h, w), np.float32) * np.float32(grain)
    # the skin between hairs lies in their shade, as deep as the hair is dense there
    alpha_all = 1 - (1 - wts[:g].sum(0)) * (1 - wts[g:].sum(0))
    shade = config.shadow * _smooth(alpha_all, 0.4 * frame.px_per_mm) * (1 - lips) * fade
    band = (dens > 0.2) & (alpha_all > 0.05)
    planes = np.ascontiguousarray(np.moveaxis(base, -1, 0))  # (3, h, w)
    pal = hold_tone(pal, skin, planes, wts, shade, noise, hair, band, frame.width, soft > 0.5,
                    config, faint_ok=colour.chosen)
    out = np.moveaxis(_composite(planes, wts, shade, noise, hair, pal), 0, -1)
    return HairResult(out, alpha_all.astype(np.float32), len(both), s)


def _lock_field(shape: tuple[int, int], cell: float, rng: np.random.Generator,
                contrast: float = 0.3) -> np.ndarray:
    """(h, w) float32 in [0, 1]: smooth noise whose blobs are about ``cell`` px across, sd
    ``contrast`` around 0.5."""
    import cv2

    h, w = shape
    cell = max(cell, 1.0)
    grid = rng.standard_normal((int(h / cell) + 3, int(w / cell) + 3)).astype(np.float32)
    big = cv2.resize(grid, (round(grid.shape[1] * cell), round(grid.shape[0] * cell)),
                     interpolation=cv2.INTER_CUBIC)[:h, :w]
    if big.shape != (h, w):  # a box smaller than one cell
        big = cv2.resize(big, (w, h), interpolation=cv2.INTER_LINEAR)
    return np.clip(0.5 + contrast * big / max(float(big.std()), 1e-6), 0, 1)


def _toned(strands: Strands, field: np.ndarray, s: int, groups: int, share: float,
           rng: np.random.Generator) -> Strands:
    """``strands`` (drawing px, ``s`` a photo px) with palette groups (lightest last) from
    the lock ``field`` (h, w) at each hair's middle for ``share`` of them, random for the
    rest (single hairs that stray from their lock's tone)."""
    if not len(strands):
        return strands
    h, w = field.shape
    mid = 0.25 * strands.p0 + 0.5 * strands.p1 + 0.25 * strands.p2
    x = np.clip((mid[:, 0] / s).astype(int), 0, w - 1)
    y = np.clip((mid[:, 1] / s).astype(int), 0, h - 1)
    locked = np.clip(np.rint(field[y, x] * (groups - 1) + rng.normal(0, 0.4, len(x))),
                     0, groups - 1).astype(np.int64)
    group = np.where(rng.uniform(0, 1, len(x)) < share, locked, strands.group)
    return Strands(strands.p0, strands.p1, strands.p2, strands.width, group)


def _ramp(x: np.ndarray, core: tuple[float, float]) -> np.ndarray:
    """0 below ``core[0]``, 1 from ``core[1]``, smooth between: the guide's darkening (a share
    of its strongest) -> root density. Most of the painted area is core, dense."""
    t = np.clip((x - core[0]) / max(core[1] - core[0], 1e-6), 0, 1)
    return t * t * (3 - 2 * t)


def _around(colours: np.ndarray, base: np.ndarray, spread: float) -> np.ndarray:
    """(G, 3) palette colours moved in L* so their median is ``base``'s (3,) and none is more
    than ``spread`` L* from it: the measured samples hold skin-mixed, near-skin pixels that
    would draw see-through hairs."""
    from mustache.strands.haircolor import lab_to_rgb, rgb_to_lab

    lab = rgb_to_lab(colours)
    d = np.clip(lab[:, 0] - np.median(lab[:, 0]), -spread, spread)
    lab[:, 0] = float(rgb_to_lab(base)[0]) + d
    return lab_to_rgb(lab).astype(np.float32)


def _shift_l(colours: np.ndarray, shift: float) -> np.ndarray:
    """(G, 3) RGB colours with L* moved by ``shift``."""
    from mustache.strands.haircolor import lab_to_rgb, rgb_to_lab

    lab = rgb_to_lab(colours)
    lab[:, 0] = np.clip(lab[:, 0] + shift, 0, 100)
    return lab_to_rgb(lab).astype(np.float32)


def _take(strands: Strands, n: int) -> Strands:
    """The first ``n`` hairs of ``strands`` (their order is random)."""
    return Strands(strands.p0[:n], strands.p1[:n], strands.p2[:n], strands.width[:n],
                   strands.group[:n])


def _ink_area(strands: Strands) -> np.ndarray:
    """(N,) the area each hair covers (width x length, tapered as :func:`splat` draws it)."""
    length = np.linalg.norm(strands.p1 - strands.p0, axis=1) + \
        np.linalg.norm(strands.p2 - strands.p1, axis=1)
    return strands.width * length * 0.74  # mean of 1 - 0.65 t^1.5 over t in [0, 1]


def _area_down(planes: np.ndarray, s: int) -> np.ndarray:
    """(C, h s, w s) -> (C, h, w): each photo pixel the mean of its s x s drawing pixels."""
    if s == 1:
        return planes
    import cv2

    c, hs, ws = planes.shape
    # INTER_AREA at an integer factor is exactly the block mean, and 3-5x faster than numpy's
    return np.stack([cv2.resize(p, (ws // s, hs // s), interpolation=cv2.INTER_AREA)
                     for p in planes])


def _composite(base: np.ndarray, wts: np.ndarray, shade: np.ndarray, noise: np.ndarray,
               hair: np.ndarray, pal: np.ndarray) -> np.ndarray:
    """The photo (3, N..) in the hairs' shade, then the under-layer and the top layer over it:
    ``wts`` (2G, N..) per colour of ``pal`` (2G, 3) (the under-layer's, in the top strands'
    shade, then the top's), ``shade`` (N..) toward ``hair`` (3,), ``noise`` (N..) the
    photo's grain on the hairs. Channels first: -> (3, N..)."""
    g = len(pal) // 2
    hair = np.asarray(hair, np.float32).reshape((3,) + (1,) * shade.ndim)
    out = base + shade * (hair - base)
    for i in range(2):
        w = wts[i * g:(i + 1) * g]
        alpha = w.sum(0)
        out *= 1 - alpha
        out += np.tensordot(pal[i * g:(i + 1) * g].T.astype(np.float32), w, 1)
        out += alpha * noise
    return out


def hold_tone(pal: np.ndarray, skin: np.ndarray, base: np.ndarray, wts: np.ndarray,
              shade: np.ndarray, noise: np.ndarray, hair: np.ndarray, band: np.ndarray,
              face_width: float, soft: bool, config: HairConfig, faint_ok: bool = False
              ) -> np.ndarray:
    """The palette (G, 3) with its L* moved so that the drawn band's tone (the darker half's
    L* over the skin's, as :func:`mustache.measure.photo_metrics.band_tone` measures it) lies where
    real mustaches' does for this face size and focus (``config.tone``): from their 10th
    percentile to ``tone_above`` past their median. Never a flat near-black band, never
    fainter than most real hair (only at full depth: ``--thickness`` below 1 asks for faint;
    ``faint_ok``: a colour the user named keeps its lightness).
    The hair's own colour floor (``darkest``, ``lightest_lock``) holds throughout."""
    from mustache.strands.haircolor import lab_to_rgb, rgb_to_lab

    band_rows = tone_band(face_width, soft, config)
    lab0 = rgb_to_lab(pal)
    skin_l = float(rgb_to_lab(skin)[0])

    def at(shift: float) -> np.ndarray:
        lab = lab0.copy()
        lab[:, 0] += shift
        return _cap_darkness(lab_to_rgb(lab).astype(np.float32), skin, config.darkest,
                             config.lightest_lock)

    if band_rows is None or band.sum() < 12:
        return at(0.0)
    idx = np.flatnonzero(band.ravel())[:: max(1, int(band.sum()) // 1024)]
    b, wv = base.reshape(3, -1)[:, idx], wts.reshape(len(wts), -1)[:, idx]
    sv, nv = shade.ravel()[idx], noise.ravel()[idx]

    def ratio(shift: float) -> float:
        px = np.clip(_composite(b, wv, sv, nv, hair, at(shift)).T, 0, 255)
        lum = rgb_to_lab(px)[:, 0]
        return float(np.median(lum[lum <= np.median(lum)])) / max(skin_l, 1.0)

    lo, hi = band_rows.lo + 0.02, min(band_rows.hi - 0.02, band_rows.mid + config.tone_above)
    if faint_ok or config.depth < HairConfig.depth:
        hi = math.inf  # asked to be faint, or for a light colour by name
    shift, r = 0.0, ratio(0.0)
    for _ in range(3):  # ratio grows about linearly with the L* shift: secant steps
        if lo <= r <= hi:
            break
        target = lo if r < lo else hi
        step = 40.0 if r < lo else -40.0
        r2 = ratio(shift + step)
        slope = (r2 - r) / step
        if abs(slope) < 1e-5:
            break
        shift = float(np.clip(shift + (target - r) / slope, -60.0, 60.0))
        r = ratio(shift)
    return at(shift)


def _smooth(image: np.ndarray, sigma: float) -> np.ndarray:
    """A wide Gaussian blur, done on a copy shrunk so the kernel stays a few pixels wide (the
    result is smooth, so upsampling it back loses nothing visible)."""
    import cv2

    h, w = image.shape[:2]
    f = max(1.0, sigma / 2.0)
    if f == 1.0:
        return cv2.GaussianBlur(image, (0, 0), sigma)
    small = cv2.resize(image, (max(1, round(w / f)), max(1, round(h / f))),
                       interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), sigma / f)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def _cap_darkness(colours: np.ndarray, skin: np.ndarray, darkest: float, lightest: float
                  ) -> np.ndarray:
    """Hair colours no darker (L*) than ``darkest`` x the skin's (black hair on a photo's skin
    is lit too; a pure black line reads as ink) and at least ``lightest`` L* darker than the
    skin (pale brows on pale skin otherwise give a mustache no one sees)."""
    from mustache.strands.haircolor import lab_to_rgb, rgb_to_lab

    lab = rgb_to_lab(colours)  # (cv2's float Lab cost 23 ms a call here)
    skin_l = float(rgb_to_lab(skin)[0])
    lab[:, 0] = np.clip(lab[:, 0], darkest * skin_l, max(skin_l - lightest, darkest * skin_l))
    return lab_to_rgb(lab).astype(np.float32)


def _spread(colours: np.ndarray, tone: float) -> np.ndarray:
    """(G, 3) RGB colours, lightest last, with their L* spread ``tone`` wider (evenly, from
    -tone/2 for the darkest to +tone/2 for the lightest): locks of distinct tone."""
    from mustache.strands.haircolor import lab_to_rgb, rgb_to_lab

    if tone <= 0 or len(colours) < 2:
        return np.asarray(colours, np.float32)
    lab = rgb_to_lab(colours)
    lab[:, 0] += tone * (np.linspace(0, 1, len(colours)) - 0.5)
    return lab_to_rgb(lab).astype(np.float32)


def _sample(density: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` points (x, y) drawn with probability ~ ``density`` (h, w), jittered in their pixel."""
    flat = density.ravel().astype(np.float64)
    total = flat.sum()
    if n <= 0 or total <= 0:
        return np.zeros((0, 2))
    cdf = np.cumsum(flat)
    pick = np.searchsorted(cdf, rng.uniform(0, cdf[-1], n))
    pick = np.minimum(pick, flat.size - 1)
    y, x = np.divmod(pick, density.shape[1])
    return np.stack([x + rng.uniform(0, 1, n), y + rng.uniform(0, 1, n)], 1)
