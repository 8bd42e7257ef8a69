"""The full-resolution hair stage: single hairs drawn at the photo's own resolution.

The GAN (or a donor's real mustache) works at the window's resolution, 128 px for the whole
lower face: on a 700 px face its change is stretched 5x and reads as a smooth smear. Here that
change only says *where* the mustache is, how dense and how dark; the detail comes from hairs
drawn in the photo's pixels:

- roots are sampled where the guide darkens the skin (fewer down the philtrum, none on the lip);
- each hair grows down and outward from the philtrum, long enough to reach the lip from its
  root (a limit on how far it overhangs), curves (a quadratic Bezier) and tapers; neighbouring
  hairs clump into locks; a dense short under-layer lies beneath longer, crossing top strands;
- hairs are 0.09-0.2 mm thick (a face is about 14 cm wide), so on most photos thinner than a
  pixel: each hair is splatted as many small samples whose weights are its covered area
  (anti-aliased, sub-pixel alpha), then composited layer over layer;
- beneath them the guide's low-frequency darkening stays as shadow, as an additive shift toward
  the hair colour (a multiplication would flatten the skin's texture) and never on the lip;
- the hair layer is blurred to the photo's own focus and given its grain, so hairs are neither
  sharper nor cleaner than the skin around them.

On small faces (LFW size) the window already covers the photo's pixels: the stage fades out
and the guide's own change is used as it is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from data_prep import indices as ix
from mustache.haircolor import HairColour

LOWER_LIP_INNER = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308)
_CHANNEL_WEIGHTS = np.array([0.299, 0.587, 0.114], np.float32)  # Rec. 601 luma


@dataclass(frozen=True)
class HairConfig:
    face_cm: float = 14.0  # a face's width (landmarks 234-454) in cm: sets the hairs' scale
    density: float = 120.0  # top-layer roots per cm^2 where the guide darkens fully (real: 75-110
    # visible hairs; more, thinner ones over the shadow read as hair, fewer as a line drawing)
    under: float = 1.5  # under-layer hairs per top-layer hair (short, dense, thin)
    width_mm: tuple[float, float] = (0.1, 0.2)  # hair diameter, root (tips taper to 35%)
    min_width_px: float = 0.7  # hairs drawn no thinner (fewer of them where real ones are)
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
    shadow: float = 0.6  # share of the guide's luminance drop kept beneath as shadow
    small_shadow: float = 1.0  # the same where hairs are finer than pixels (weight -> 0)
    max_shadow: float = 0.3  # cap on the shadow's shift toward the hair colour
    darkest: float = 0.32  # hair lightness (L*) no lower than this share of the skin's
    lightest: float = 14.0  # and at least this much (L*) below the skin's
    drop_ref: float = 14.0  # grey levels: a guide darkening of this much or more is "full"
    prior: float = 0.6  # least darkening between the nose and the lip, x drop_ref
    full_at: float = 200.0  # face width (px) from which hairs replace the guide's texture
    none_below: float = 40.0  # face width (px) below which the guide's change is kept as is
    opacity: float = 0.55  # alpha = 1 - exp(-opacity x covered area), taken before the focus
    # blur (as in the scene): 0.7 gave detail 2.0 against real hair's 1.66, 0.55 gives 1.85
    groups: int = 4  # hair colours drawn (quantiles of the person's hair colours)
    # soft photos: single hairs blurred to the photo's focus average into a flat smear, so
    # from soft_from to soft_full px of focus blur hairs gather into bigger locks of fewer,
    # thicker strands, locks differ in tone and length, and the shadow follows the locks
    soft_from: float = 0.9
    soft_full: float = 1.8
    soft_locks: float = 1.5  # lock_size x (1 + this), at full softness (not a tighter clump:
    # that combed the strands parallel, coherence 0.52 against real hair's 0.32)
    soft_thick: float = 1.2  # width x (1 + this), density / (1 + this)
    soft_tone: float = 20.0  # L* spread between locks' colours at full softness
    lock_length: float = 0.2  # lock-to-lock spread of length (a ragged, not a ruled, edge)
    lock_tone: float = 0.3  # share of a lock's hairs that take its guide's colour (+ softness)


class Flow(Protocol):
    """A style's outline and hair flow on one face, in box pixels
    (:class:`mustache.styles.StyleFit`)."""

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
    weight: float  # 0: the guide's change as it is, 1: hairs over its shadow


@dataclass(frozen=True)
class FaceFrame:
    """A face's own axes in box pixels."""

    right: np.ndarray  # (2,) unit vector from the viewer's left eye to the right one
    down: np.ndarray  # (2,) unit vector, right turned 90 degrees
    width: float  # face width, px (landmarks 234 to 454)
    philtrum: np.ndarray  # (2,) top of the upper lip's centre (landmark 0)
    half_mouth: float  # half the mouth-corner distance, px
    px_per_mm: float  # the face's scale


def face_frame(xy: np.ndarray, face_cm: float = 14.0) -> FaceFrame:
    """(478, 2) landmarks -> the face's axes and sizes (``face_cm``: its width in cm)."""
    el = xy[list(ix.LEFT_EYE_CORNERS)].mean(0)
    er = xy[list(ix.RIGHT_EYE_CORNERS)].mean(0)
    right = (er - el) / max(float(np.linalg.norm(er - el)), 1e-6)
    down = np.array([-right[1], right[0]])
    width = float(np.linalg.norm(xy[ix.FACE_SIDES[1]] - xy[ix.FACE_SIDES[0]]))
    half = 0.5 * float(np.linalg.norm(xy[ix.MOUTH_CORNERS[1]] - xy[ix.MOUTH_CORNERS[0]]))
    return FaceFrame(right, down, max(width, 1.0), xy[0].astype(np.float64), max(half, 1.0),
                     max(width, 1.0) / (10 * face_cm))


def softness(sigma: float, config: HairConfig = HairConfig()) -> float:
    """0 on photos sharper than ``soft_from`` px of focus blur, 1 from ``soft_full`` px."""
    t = (sigma - config.soft_from) / max(config.soft_full - config.soft_from, 1e-6)
    return float(min(max(t, 0.0), 1.0))


def for_focus(config: HairConfig, soft: float) -> HairConfig:
    """``config`` for a photo of ``softness`` soft (0-1): bigger locks of fewer,
    thicker strands (the same ink), whose tone differs lock to lock, so the texture is
    coarser than the photo's blur and survives it."""
    from dataclasses import replace

    if soft <= 0:
        return config
    k = 1 + config.soft_thick * soft
    return replace(config, lock_size=round(config.lock_size * (1 + config.soft_locks * soft)),
                   under=config.under * (1 - 0.5 * soft),
                   density=config.density / k, min_width_px=config.min_width_px * k,
                   width_mm=tuple(v * k for v in config.width_mm),
                   lock_tone=config.lock_tone + (1 - config.lock_tone) * 0.8 * soft,
                   lock_length=config.lock_length * (1 + soft))


def hair_weight(face_width: float, config: HairConfig = HairConfig()) -> float:
    """0 below ``none_below`` px, 1 from ``full_at`` px, smooth between."""
    t = (face_width - config.none_below) / max(config.full_at - config.none_below, 1e-6)
    t = min(max(t, 0.0), 1.0)
    return t * t * (3 - 2 * t)


def thin_factor(frame: FaceFrame, config: HairConfig = HairConfig()) -> float:
    """How many hairs are drawn for each real one: below 1 where real hairs would be thinner
    than ``min_width_px`` (they are drawn that wide instead, so fewer of them cover the same)."""
    mean_mm = 0.5 * (config.width_mm[0] + config.width_mm[1])
    return min(1.0, mean_mm * frame.px_per_mm / config.min_width_px)


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
    """Hairs over one face's mustache region, at the photo's resolution.

    ``photo`` RGB uint8 (h, w, 3): the region's box; ``change`` float32 (h, w, 3): the guide's
    change there (the GAN's generated - original, or a donor's), the mustache's shape, density
    and darkness at the window's resolution; ``support`` float32 (h, w) in [0, 1]: the soft
    region mask (nothing changes where it is 0); ``landmarks`` (478, 2+) in box pixels;
    ``colour``: the hair colour (its base under the shadow, its samples hair by hair).
    Returns the new box (float32, not clipped) and the hair layer's alpha; deterministic in
    ``seed``. Where the face is small the guide's change is returned mostly as it is.
    ``flow``: a style's outline and hair flow (``support`` then its outline, grown): roots fill the
    outline at ``config.prior`` (a share of full density) at least, more where the guide
    darkens; hairs follow the style's flow and end at its outline.
    """
    import cv2

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
    k = hair_weight(frame.width, config)
    verm, mouth = lip_masks(xy, (h, w))
    lips = np.maximum(verm, mouth)
    # on the lip the guide may only darken (hair overhanging it), never shift its colour: the
    # GAN's change there turned the red lilac
    dark = np.minimum(luminance(change), 0)[..., None]
    change = change + lips[..., None] * (dark - change)
    if flow is not None:  # the guide's change counts only inside the style's outline
        change = change * support[..., None]
    if k == 0.0:
        return HairResult(base + change, np.zeros((h, w), np.float32), 0, 0.0)
    rng = np.random.default_rng([*np.atleast_1d(seed), 7])
    # the guide's darkening, low-passed: its shape and density, not its texture
    drop = np.maximum(-luminance(change), 0) * support
    drop = _smooth(drop, max(0.012 * frame.width, 1.0))
    guide = drop
    if flow is not None:  # a style: its whole outline is the floor
        drop = np.maximum(drop, config.prior * config.drop_ref * flow.mask)
    elif config.prior > 0:  # a floor where every mustache grows: the GAN paints little over
        # wide-open, laughing mouths, and such faces still get a (sparser) mustache
        from data_prep.region import polygon_mask

        area = np.concatenate([xy[list(ix.UNDER_NOSE)], xy[list(ix.UPPER_LIP_OUTER)][::-1]])
        floor = _smooth(polygon_mask(area, (h, w)), 0.015 * frame.width)
        drop = np.maximum(drop, config.prior * config.drop_ref * floor * support)
    # the photo's focus and grain, measured on the skin around the mustache: on a soft photo
    # hairs gather into coarser locks (for_focus) whose texture survives the blur
    fmask = (support > 0.3) & (lips < 0.5)
    grey = luminance(base)
    sigma = focus_sigma(grey, fmask)
    soft = softness(sigma, config)
    config = for_focus(config, soft)
    # skin and hair colour, and the darkness cap relative to the skin
    ring = (support > 0) & (support < 0.5) & (lips < 0.5)
    skin = np.median(base[ring], 0) if ring.sum() > 20 else np.median(base.reshape(-1, 3), 0)
    hair = _cap_darkness(colour.base[None], skin, config.darkest, config.lightest)[0]
    pal = _cap_darkness(_spread(palette(colour.samples, config.groups),
                                config.soft_tone * soft), skin, config.darkest, config.lightest)
    gap = max(float(luminance(skin) - luminance(hair)), 20.0)
    fade = np.clip(support * 2, 0, 1)  # hairs and shadow fade out at the region's edge
    # roots: where the guide darkens, fewer down the philtrum's centre, none on the lips
    # density follows the darkening smoothly (relative to this mustache's own core, but not
    # below drop_ref, so a faint guide stays sparse): edges thin out as real ones do
    ref = max(float(np.percentile(drop[support > 0.5], 90)) if (support > 0.5).any() else 0.0,
              config.drop_ref)
    if flow is None:
        dens = np.clip(drop / ref, 0, 1) ** 1.5 * support * (1 - lips)
    else:  # the style's outline at the floor's density, the guide's darkening over it
        f = config.prior
        dens = (f + (1 - f) * np.clip(guide / ref, 0, 1) ** 1.5) * flow.mask ** 1.5 * (1 - lips)
    r = frame.right / frame.half_mouth
    u = ((np.arange(w, dtype=np.float32) - frame.philtrum[0]) * r[0])[None, :] + \
        ((np.arange(h, dtype=np.float32) - frame.philtrum[1]) * r[1])[:, None]
    dens *= 1 - (1 - config.philtrum) * np.exp(-(u / 0.18) ** 2)
    px_per_cm2 = (frame.px_per_mm * 10) ** 2
    n_top = int(rng.poisson(config.density * thin_factor(frame, config) * float(dens.sum())
                            / px_per_cm2))
    layers = []
    for layer, count in (("under", int(n_top * config.under)), ("top", n_top)):
        roots = _sample(dens, count, rng)
        layers.append(grow_strands(roots, xy, frame, len(pal), rng, config, layer, flow))
    blur = math.sqrt(max(sigma ** 2 - 0.41 ** 2, 0.0))  # a bilinear splat's own sigma: 0.41 px
    grain = noise_sigma(grey, fmask)
    noise = rng.standard_normal((h, w, 1), np.float32) * grain if grain > 0 else 0
    # both layers in one splat (palette groups 0..G-1 under, G..2G-1 top)
    g = len(pal)
    under, top = layers
    both = Strands(np.concatenate([under.p0, top.p0]), np.concatenate([under.p1, top.p1]),
                   np.concatenate([under.p2, top.p2]), np.concatenate([under.width, top.width]),
                   np.concatenate([under.group, top.group + g]))
    cov = np.moveaxis(splat(both, both.group, 2 * g, (h, w)), 0, -1)  # (h, w, 2G)
    # each layer's opacity (overlaps saturate) and colour x opacity, in the photo's sharp
    # pixels, then blurred to its focus: saturating after the blur flattened dense hair
    ext = np.concatenate([pal, np.ones((g, 1), np.float32)], 1)  # (G, 4)
    sharp = []
    for i in range(2):
        acc = cov[..., i * g:(i + 1) * g] @ ext  # (h, w, 4): colour x coverage, coverage
        alpha = 1 - np.exp(-config.opacity * acc[..., 3:])
        sharp.append(np.concatenate([acc[..., :3] * (alpha / np.maximum(acc[..., 3:], 1e-6)),
                                     alpha], -1))
    ink = np.concatenate(sharp, -1)  # (h, w, 8)
    if blur > 0.05:
        ink = cv2.GaussianBlur(ink, (0, 0), blur).reshape(h, w, -1)
    # shadow: an additive shift toward the hair colour, in proportion to the darkening; on a
    # soft photo it follows the locks (deeper under them, lighter between), not a flat fill
    share = config.small_shadow + k * (config.shadow - config.small_shadow)
    cap = config.max_shadow * share / config.shadow
    a = np.clip(share * drop / gap, 0, cap) * (1 - lips) * fade
    if soft > 0:
        cover = _smooth(ink[..., 7], 0.4 * frame.px_per_mm)
        top_q = float(np.percentile(cover[dens > 0], 90)) if (dens > 0).any() else 0.0
        a *= 1 - 0.7 * soft * (1 - np.clip(cover / max(top_q, 1e-3), 0, 1))
    out = base + a[..., None] * (hair - skin)
    alpha_all = np.zeros((h, w), np.float32)
    for i in range(2):
        alpha = ink[..., 4 * i + 3] * fade
        colour = ink[..., 4 * i:4 * i + 3] / np.maximum(ink[..., 4 * i + 3:4 * i + 4], 1e-6) + noise
        out += alpha[..., None] * (colour - out)
        alpha_all = 1 - (1 - alpha_all) * (1 - alpha)
    result = base + k * (out - base) + (1 - k) * change
    return HairResult(result.astype(np.float32), alpha_all, sum(len(s) for s in layers), k)


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
    from mustache.haircolor import lab_to_rgb, rgb_to_lab

    lab = rgb_to_lab(colours)  # (cv2's float Lab cost 23 ms a call here)
    skin_l = float(rgb_to_lab(skin)[0])
    lab[:, 0] = np.clip(lab[:, 0], darkest * skin_l, max(skin_l - lightest, darkest * skin_l))
    return lab_to_rgb(lab).astype(np.float32)


def _spread(colours: np.ndarray, tone: float) -> np.ndarray:
    """(G, 3) RGB colours, lightest last, with their L* spread ``tone`` wider (evenly, from
    -tone/2 for the darkest to +tone/2 for the lightest): locks of distinct tone."""
    from mustache.haircolor import lab_to_rgb, rgb_to_lab

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
