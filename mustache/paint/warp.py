"""A donor's mustache mapped onto another face: the control points of both faces
(:func:`control_points`), the piecewise-affine map between them (:func:`piecewise_map`), and
the colour match by the skin ring around the region (:func:`match_colour`), with
:class:`DonorConfig`. The geometry and colour that :class:`mustache.paint.donor.DonorTransfer`
puts together."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from data_prep import indices as ix
from data_prep.region import RegionConfig, polygon_mask, region_polygon

# Landmarks in and around the region that drive the warp: nose base, the under-nose line, both
# upper-lip contours, the lower lip (the region droops beside the mouth corners), cheeks
# beside the nose and the mouth, and the chin just below the lip.
_NOSE = (2, 97, 326, 98, 327)  # not 94: it sits within a pixel of 2 and makes slivers
_CHEEKS = (36, 266, 205, 425, 206, 426, 207, 427, 216, 436, 192, 416, 214, 434, 212, 432,
           202, 422)
_CHIN = (83, 18, 313)
CONTROL_INDICES = tuple(dict.fromkeys(
    _NOSE + ix.UNDER_NOSE + ix.UPPER_LIP_OUTER + ix.UPPER_LIP_INNER + ix.LOWER_LIP_OUTER
    + _CHEEKS + _CHIN))
LIPS = ix.UPPER_LIP_OUTER + ix.LOWER_LIP_OUTER[::-1]  # outer lip contour, for the skin ring

@dataclass(frozen=True)
class DonorConfig:
    # the region polygon and its feather: wider than `apply`'s by default, so the Poisson
    # boundary runs over skin around the donor's hair rather than through it (a boundary
    # through the hair pulls it to the target's skin colour and washes it out)
    region: RegionConfig = RegionConfig(lift=0.10, grow=0.10, reach=0.10, droop=0.12)
    min_mouth_width: float = 10.0  # photo px between the mouth corners; less is no usable lip
    min_region_area: float = 80.0  # photo px^2 of the region polygon
    mirror_yaw: float = 6.0  # deg; mirror the donor when both heads turn beyond this, opposite ways
    frame: float = 0.35  # outer frame of the warp, beyond the region (x eye distance)
    frame_points: int = 16  # points on that frame
    ring: float = 0.12  # width of the skin ring around the region for colour (x eye distance)
    max_gain: float = 1.6  # bound on the colour match's scale factors, either way
    check_mustache: bool = True  # score the donor with the shipped classifier, if there is one
    warn_below: float = 0.5  # classifier score under which the donor gets a warning


# ---------------------------------------------------------------- geometry

def eye_frame(xy: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """-> (eye distance, unit 'right', unit 'down'): the canvas's face frame
    (:func:`data_prep.canvas.face_frame`; its scale the face's own, a turned face's too)."""
    from data_prep.canvas import face_frame

    f = face_frame(xy)
    return f.eye_distance, f.right, f.down


def control_points(points: np.ndarray, config: DonorConfig = DonorConfig()) -> np.ndarray:
    """(478, 2+) landmarks -> (N, 2) warp control points: the landmarks of CONTROL_INDICES,
    then an ellipse of ``frame_points`` around the region in the face's own axes (so the warp
    fades into a plain similarity away from the lip). Same N and order for every face."""
    xy = np.asarray(points, dtype=np.float64)[:, :2]
    d, right, down = eye_frame(xy)
    poly = region_polygon(xy, config.region)
    c = poly.mean(0)
    rx = np.abs((poly - c) @ right).max() + config.frame * d
    ry = np.abs((poly - c) @ down).max() + config.frame * d
    t = np.linspace(0, 2 * np.pi, config.frame_points, endpoint=False)
    ring = c + np.outer(rx * np.cos(t), right) + np.outer(ry * np.sin(t), down)
    return np.concatenate([xy[list(CONTROL_INDICES)], ring])


def piecewise_map(src: np.ndarray, dst: np.ndarray, box: tuple[int, int, int, int]
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Backward map of a piecewise-affine warp taking ``src`` points (N, 2) to ``dst`` (N, 2).

    Returns (map_x, map_y), float32 (y1 - y0, x1 - x0): for each pixel of the destination box
    (x0, y0, x1, y1), where to sample the source, for ``cv2.remap``. Triangles are Delaunay on
    ``dst``; outside their hull the map is the least-squares similarity of all points.
    """
    import cv2
    from scipy.spatial import Delaunay

    src = np.asarray(src, np.float64)
    dst = np.asarray(dst, np.float64)
    if src.shape != dst.shape or src.ndim != 2 or src.shape[1] != 2 or len(src) < 3:
        raise ValueError(f"src and dst must both be (N>=3, 2), got {src.shape} and {dst.shape}")
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    local = dst - [x0, y0]
    sim, _ = cv2.estimateAffinePartial2D(local, src, method=cv2.LMEDS)
    if sim is None:
        raise ValueError("degenerate control points: cannot fit a similarity")
    tris = Delaunay(local).simplices
    label = np.zeros((h, w), np.uint16)  # 0 = outside every triangle: the similarity
    table = np.repeat(sim[None], len(tris) + 1, axis=0)  # (T+1, 2, 3) dst box -> src
    scale = np.sqrt(abs(np.linalg.det(sim[:, :2])))
    for k, t in enumerate(tris, start=1):
        a = local[t]
        if abs(np.cross(a[1] - a[0], a[2] - a[0])) < 1e-6:
            continue  # flat triangle: its pixels keep the similarity
        m = cv2.getAffineTransform(a.astype(np.float32), src[t].astype(np.float32))
        sv = np.linalg.svd(m[:, :2], compute_uv=False)
        if sv[0] > 4 * scale or sv[1] < scale / 4:
            continue  # a sliver stretched out of shape (near-coincident points): no spikes
        table[k] = m
        cv2.fillConvexPoly(label, np.round(a * 16).astype(np.int32), k, lineType=cv2.LINE_8,
                           shift=4)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    m = table[label]  # (h, w, 2, 3)
    mx = m[..., 0, 0] * xx + m[..., 0, 1] * yy + m[..., 0, 2]
    my = m[..., 1, 0] * xx + m[..., 1, 1] * yy + m[..., 1, 2]
    return mx.astype(np.float32), my.astype(np.float32)


def box_of(polygon: np.ndarray, pad: float, shape: tuple[int, int]) -> tuple[int, int, int, int]:
    # styles.style_box's box, one pixel further (the donor's warp samples the last column)
    from data_prep.region import padded_box

    return padded_box(polygon, pad, shape, end=1)


# ---------------------------------------------------------------- colour

def skin_ring(xy: np.ndarray, polygon: np.ndarray, box: tuple[int, int, int, int],
               config: DonorConfig) -> np.ndarray:
    """Bool (h, w) mask of skin just outside the region (lips left out) within ``box``."""
    import cv2

    x0, y0, x1, y1 = box
    d, _, _ = eye_frame(xy)
    inside = polygon_mask(polygon - [x0, y0], (y1 - y0, x1 - x0)) > 0
    r = max(2, int(round(config.ring * d)))
    grown = cv2.dilate(inside.astype(np.uint8), cv2.getStructuringElement(
        cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))) > 0
    lips = polygon_mask(xy[list(LIPS)] - [x0, y0], (y1 - y0, x1 - x0)) > 0
    return grown & ~inside & ~lips


def _robust_stats(lab: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Median and IQR-based std per channel of (h, w, 3) float pixels under ``mask``: nostrils,
    stubble and highlights in the ring do not drag them."""
    px = lab[mask]
    if len(px) < 20:
        raise ValueError("skin ring too small")
    q25, q50, q75 = np.percentile(px, [25, 50, 75], axis=0)
    return q50, np.maximum((q75 - q25) / 1.349, 1e-3)


def match_colour(patch: np.ndarray, patch_ring: np.ndarray, target: np.ndarray,
                 target_ring: np.ndarray, max_gain: float = 1.6) -> np.ndarray:
    """Recolour the donor ``patch`` (h, w, 3) uint8 so that its skin ring ``patch_ring`` (h, w)
    bool matches the ``target`` box's ring (same shapes) in Lab.

    Lightness is scaled by the ratio of the ring medians (a change of light multiplies, so the
    hair stays as much darker than the skin as it was) and its contrast by the ratio of the
    spreads; a and b are shifted to the target's median and scaled down (never up) towards its
    spread. Gains are kept within [1/max_gain, max_gain].
    """
    import cv2

    lab_p = cv2.cvtColor(patch, cv2.COLOR_RGB2LAB).astype(np.float32)
    lab_t = cv2.cvtColor(target, cv2.COLOR_RGB2LAB).astype(np.float32)
    mp, sp = _robust_stats(lab_p, patch_ring)
    mt, st = _robust_stats(lab_t, target_ring)
    lo, hi = 1 / max_gain, max_gain
    out = np.empty_like(lab_p)
    light = np.clip(mt[0] / max(mp[0], 1.0), lo, hi)
    contrast = np.clip((st[0] / sp[0]) / light, lo, hi)  # extra contrast beyond the light gain
    out[..., 0] = (lab_p[..., 0] * light - mt[0]) * contrast + mt[0]
    for c in (1, 2):  # a colour cast shifts chroma; it is never made stronger than it was
        k = np.clip(st[c] / sp[c], lo, 1.0)
        out[..., c] = (lab_p[..., c] - mp[c]) * k + mt[c]
    return cv2.cvtColor(np.clip(out + 0.5, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)
