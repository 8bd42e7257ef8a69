"""Growing hairs: the upper lip's masks, roots grown into strands down and out from the
philtrum (:func:`grow_strands`), on the canvas and carried back through the face's mesh
(:func:`grow_on_canvas`, the default) or in the flat face frame (a style's flow), locks, the
palette, the splat of every hair onto a fine grid (:func:`splat`), and the photo's own focus
and grain the hair layer is given. The pieces that :func:`mustache.strands.hair.render` puts
together."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from data_prep import indices as ix
from data_prep.canvas import FaceFrame
from mustache.strands.settings import (
    Flow,
    HairConfig,
    Strands,
    luminance,
)

# ---------------------------------------------------------------- masks

def lip_masks(xy: np.ndarray, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(upper vermilion, open mouth) float32 (h, w) masks from box-pixel landmarks."""
    from data_prep.region import polygon_mask

    verm = polygon_mask(np.concatenate([xy[list(ix.UPPER_LIP_OUTER)],
                                        xy[list(ix.UPPER_LIP_INNER)][::-1]]), shape)
    mouth = polygon_mask(np.concatenate([xy[list(ix.UPPER_LIP_INNER)],
                                         xy[list(ix.LOWER_LIP_INNER)][::-1]]), shape)
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
    keep = np.clip(first / len(f) + config.outline_overhang * rng.uniform(0, 1, len(roots)), 0.2, 1.0)
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
    # thicker ones keep the same darkness and stay legible (on the canvas its px are the
    # drawing's for a frontal face)
    width = np.maximum(width, config.min_width_px)
    return Strands(roots, mid, tip, width.astype(np.float32), group)


@dataclass(frozen=True, eq=False)
class Surface:
    """What hairs are grown on (:func:`grow_on_canvas`), made once a face by
    :func:`surface_of`: the face's ``mesh`` (:class:`data_prep.canvas.FaceMesh`, the canonical
    face drawn as wide as the face is, so a frontal face's canvas px are the drawing's), the
    canvas's own ``frame``, and two lookup tables: ``roots`` (which visible triangle a point of
    the drawing lies on) and ``ends`` (which canvas triangle above the mouth a hair's middle or
    tip lies on, :attr:`data_prep.canvas.Canonical.above_mouth_grid`, one for every face: a tip
    past the upper lip is carried by the lip's map, never across an open mouth to the lower
    lip)."""

    mesh: object
    frame: FaceFrame
    roots: object
    ends: object


def surface_of(points: np.ndarray, frame: FaceFrame, shape: tuple[int, int],
               config: HairConfig) -> Surface:
    """The :class:`Surface` of a face with (478, 2+) landmarks ``points`` in the drawing's px
    (with depth when known), ``frame`` its face frame, over a drawing of ``shape`` (h, w)."""
    from data_prep.canvas import FaceMesh, canonical, face_frame

    can = canonical()
    cw = float(np.linalg.norm(can.points[ix.FACE_SIDES[1]] - can.points[ix.FACE_SIDES[0]]))
    mesh = FaceMesh(points, frame.width / cw)
    h, w = shape
    return Surface(mesh, face_frame(mesh.canvas_points, config.face_cm),
                   mesh.photo_grid((0, 0, w, h)), can.above_mouth_grid)


def grow_on_canvas(roots: np.ndarray, surface: Surface, groups: int,
                   rng: np.random.Generator, config: HairConfig, layer: str) -> Strands:
    """Hairs grown on the canvas (:mod:`data_prep.canvas`) from (N, 2) roots in the drawing's
    px: each root is lifted onto the canonical face, grown there as on a frontal, neutral face
    (:func:`grow_strands`: direction, length to the canonical lip, curl, locks) and carried
    back through the mesh: the far side of a turned face foreshortened, hairs bent and
    stretched with a smiling or talking lip, ending on the photo's lip as they end on the
    canonical one, none across an open mouth (see :class:`Surface`)."""
    mesh = surface.mesh
    if not len(roots):
        return grow_strands(roots, mesh.canvas_points, surface.frame, groups, rng, config, layer)
    st = grow_strands(mesh.lift(roots, surface.roots), mesh.canvas_points, surface.frame,
                      groups, rng, config, layer)
    ends = mesh.carry(np.concatenate([st.p1, st.p2]), surface.ends)
    return Strands(roots, ends[:len(roots)], ends[len(roots):], st.width, st.group)


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


def splat(strands: Strands, groups: int, shape: tuple[int, int],
          step: float = 1.0) -> np.ndarray:
    """Draw hairs as coverage: each hair is sampled every ``step`` px along its curve, and
    each sample adds its covered area (width x step, tapering to the tip) bilinearly to the
    coverage map of its colour (``strands.group``). Sub-pixel hairs so become partial alpha.
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
