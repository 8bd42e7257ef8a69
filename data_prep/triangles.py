"""Where points lie in a triangle mesh, and the maps between two of its drawings: per-triangle
affine maps, exact point location (:func:`locate`), rasters of triangle ids
(:func:`raster_ids`), pixel maps for ``cv2.remap`` (:func:`pixel_map`) and lookup tables for
thousands of points (:func:`triangle_grid`). Pure functions of the corners and the triangles:
:mod:`data_prep.canvas` puts them to work on the face's mesh."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def barycentric_maps(corners: np.ndarray, tri: np.ndarray) -> np.ndarray:
    """(T, 2, 3) per-triangle affine maps from the plane to each triangle's barycentric (u, v)
    (its first corner (0, 0), second (1, 0), third (0, 1)): a point lies in triangle t when
    u, v >= 0 and u + v <= 1."""
    a, b, c = corners[tri[:, 0]], corners[tri[:, 1]], corners[tri[:, 2]]
    m = np.stack([b - a, c - a], 2)  # (T, 2, 2): columns are the edges
    det = m[:, 0, 0] * m[:, 1, 1] - m[:, 0, 1] * m[:, 1, 0]
    det = np.where(np.abs(det) < 1e-12, 1e-12, det)
    inv = np.stack([np.stack([m[:, 1, 1], -m[:, 0, 1]], 1),
                    np.stack([-m[:, 1, 0], m[:, 0, 0]], 1)], 1) / det[:, None, None]
    return np.concatenate([inv, -np.einsum("tij,tj->ti", inv, a)[:, :, None]], 2)


def affines(src: np.ndarray, dst: np.ndarray, tri: np.ndarray) -> np.ndarray:
    """(T, 2, 3) per-triangle affine maps taking ``src`` (N, 2) corners to ``dst`` (N, 2):
    each triangle's barycentric map (:func:`barycentric_maps`) followed by its ``dst`` edges."""
    bary = barycentric_maps(src, tri)
    da, db, dc = dst[tri[:, 0]], dst[tri[:, 1]], dst[tri[:, 2]]
    edges = np.stack([db - da, dc - da], 2)  # (T, 2, 2): columns are the edges
    lin = edges @ bary[:, :, :2]
    return np.concatenate([lin, (da + np.einsum("tij,tj->ti", edges, bary[:, :, 2]))[:, :, None]],
                          2)


def apply_affine(aff: np.ndarray, which: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(N, 2) points each mapped by affine ``aff[which]`` -> (N, 2)."""
    m = aff[which]
    return np.einsum("nij,nj->ni", m[:, :, :2], points) + m[:, :, 2]


def signed_area(p: np.ndarray, tri: np.ndarray) -> np.ndarray:
    a, b, c = p[tri[:, 0]], p[tri[:, 1]], p[tri[:, 2]]
    return 0.5 * ((b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1])
                  - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0]))


def raster_ids(points: np.ndarray, tri: np.ndarray, order: np.ndarray,
            box: tuple[int, int, int, int]) -> np.ndarray:
    """(h, w) int32 triangle ids (-1: none) over ``box`` (x0, y0, x1, y1) of a frame in which
    the corners are ``points`` (N, 2); triangles ``order`` are drawn in turn, later ones over
    earlier ones (so: far to near)."""
    import cv2

    x0, y0, x1, y1 = box
    h, w = y1 - y0, x1 - x0
    # ids + 1 in an int32 image (cv2 fills int32 images); 0 is "none"
    ids = np.zeros((h, w), np.int32)
    corners = points[tri[order]] - [x0, y0]  # (T', 3, 2)
    lo, hi = corners.min(1), corners.max(1)
    near = (hi[:, 0] >= -1) & (hi[:, 1] >= -1) & (lo[:, 0] <= w) & (lo[:, 1] <= h)
    # pixel centres: a pixel is the triangle's when its centre is inside (4 bits sub-pixel)
    fixed = np.round((corners - 0.5) * 16).astype(np.int32)
    for k in np.flatnonzero(near):
        cv2.fillConvexPoly(ids, fixed[k], int(order[k]) + 1, lineType=cv2.LINE_8, shift=4)
    return ids - 1


def pixel_map(ids: np.ndarray, aff: np.ndarray, box) -> tuple[np.ndarray, np.ndarray]:
    """(h, w) triangle ids over ``box`` and (T, 2, 3) affines -> ((h, w, 2) float32 map of
    each pixel centre, -1e4 off the mesh; (h, w) bool on it)."""
    x0, y0, x1, y1 = box
    on = ids >= 0
    # remap samples at integer pixel centres: centres in, centres out (the -0.5 folded in)
    coef = aff.reshape(-1, 6).astype(np.float32)
    coef[:, 2] += 0.5 * (coef[:, 0] + coef[:, 1]) - 0.5
    coef[:, 5] += 0.5 * (coef[:, 3] + coef[:, 4]) - 0.5
    safe = np.maximum(ids, 0)
    xs = np.arange(x0, x1, dtype=np.float32)[None, :]
    ys = np.arange(y0, y1, dtype=np.float32)[:, None]
    out = np.empty(ids.shape + (2,), np.float32)
    for k in range(2):
        c = coef[:, 3 * k:3 * k + 3]
        out[..., k] = c[:, 0][safe] * xs + c[:, 1][safe] * ys + c[:, 2][safe]
    out[~on] = -1e4
    return out, on


def locate(q: np.ndarray, corners: np.ndarray, tri: np.ndarray, usable: np.ndarray,
            z: np.ndarray | None = None, strict: bool = False) -> np.ndarray:
    """(N,) the triangle each of the (N, 2) points ``q`` lies in, among the ``usable`` (T,)
    ones (the nearest by ``z`` (T,) where several hold it); outside all: the nearby one it
    lies least outside of (-1 when ``strict``)."""
    from scipy.spatial import cKDTree

    ids = np.flatnonzero(usable)
    out = np.full(len(q), -1, np.int64)
    if not len(q) or not len(ids):
        return out
    a, b, c = (corners[tri[ids, k]] for k in range(3))
    cen = (a + b + c) / 3
    if z is not None and len(q) * len(ids) <= 4_000_000:  # depth decides among overlapping
        # triangles, near or far: every triangle is a candidate
        every = np.broadcast_to(np.arange(len(ids)), (len(q), len(ids)))
        return pick(q, a, b, c, every, ids, z, strict)
    # candidates: the triangles whose centroids are nearest (mesh triangles are small) ...
    k = min(12, len(ids))
    _, cand = cKDTree(cen).query(q, k)
    cand = cand.reshape(len(q), k)
    out = pick(q, a, b, c, cand, ids, z, strict)
    miss = np.flatnonzero(out < 0) if strict else np.flatnonzero(~inside_of(q, a, b, c, out, ids))
    if len(miss) and len(miss) * len(ids) <= 4_000_000:  # ... else every one (thin triangles
        # of a face turned far have far centroids)
        every = np.broadcast_to(np.arange(len(ids)), (len(miss), len(ids)))
        again = pick(q[miss], a, b, c, every, ids, z, strict=True)
        out[miss[again >= 0]] = again[again >= 0]
    return out


@dataclass(frozen=True, eq=False)
class TriangleGrid:
    """A lookup table of triangle ids over a box: (h, w) ``ids`` (every cell holds one: off the
    triangles, the nearest drawn one's), cell (0, 0) at ``origin`` (x, y), ``per_px`` cells a
    pixel. Called with (N, 2) points -> (N,) triangle ids."""

    ids: np.ndarray
    origin: np.ndarray
    per_px: float

    def __call__(self, q: np.ndarray) -> np.ndarray:
        h, w = self.ids.shape
        c = np.floor((np.asarray(q, np.float64) - self.origin) * self.per_px).astype(np.int64)
        return self.ids[np.clip(c[:, 1], 0, h - 1), np.clip(c[:, 0], 0, w - 1)]


def triangle_grid(corners: np.ndarray, tri: np.ndarray, order: np.ndarray,
                  box: tuple[float, float, float, float], cells: int = 256) -> TriangleGrid:
    """The triangles ``order`` of a mesh whose corners are ``corners`` (N, 2) rastered (drawn
    in turn, later over earlier: far to near) over ``box`` (x0, y0, x1, y1) at most ``cells``
    a side, each empty cell given its nearest drawn cell's triangle: for thousands of points
    (hairs) where :func:`locate` compares each with every triangle. A point near an edge may
    get the neighbour, whose map agrees there (the maps are continuous); where they do not (a
    fold, an edge-on triangle) :meth:`FaceMesh.lift` checks. A box that meets no triangle grows
    to reach them."""
    import cv2

    order = np.asarray(order, np.int64)
    if not len(order):
        raise ValueError("no triangles to draw")
    lo = np.asarray(box[:2], np.float64)
    hi = np.asarray(box[2:], np.float64)
    c = corners[tri[order]].reshape(-1, 2)
    if (c.max(0) < lo).any() or (c.min(0) > hi).any():
        lo, hi = np.minimum(lo, c.min(0)), np.maximum(hi, c.max(0))
    f = cells / max(float((hi - lo).max()), 1e-6)
    w, h = (np.ceil((hi - lo) * f).astype(int) + 1).tolist()
    ids = raster_ids((corners - lo) * f, tri, order, (0, 0, w, h)).astype(np.int64)
    if (ids < 0).all():  # slivers that cover no cell centre: one triangle's map everywhere
        ids[:] = order[-1]
    elif (ids < 0).any():
        _, label = cv2.distanceTransformWithLabels((ids < 0).astype(np.uint8), cv2.DIST_L2, 5,
                                                   labelType=cv2.DIST_LABEL_PIXEL)
        drawn = ids[ids >= 0]  # in raster order, as the labels count them (from 1)
        ids = drawn[label - 1]
    return TriangleGrid(ids, lo, f)


def inside_of(q, a, b, c, which, ids) -> np.ndarray:
    """(N,) whether each point lies in its triangle ``which`` (ids into the mesh)."""
    pos = np.searchsorted(ids, which)
    pa, pb, pc = a[pos], b[pos], c[pos]
    e1, e2, d = pb - pa, pc - pa, q - pa
    det = e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0]
    det = np.where(np.abs(det) < 1e-12, 1e-12, det)
    u = (d[:, 0] * e2[:, 1] - d[:, 1] * e2[:, 0]) / det
    v = (e1[:, 0] * d[:, 1] - e1[:, 1] * d[:, 0]) / det
    return (u >= -1e-9) & (v >= -1e-9) & (u + v <= 1 + 1e-9)


def pick(q, a, b, c, cand, ids, z, strict) -> np.ndarray:
    """(N,) the triangle (a mesh id) among each point's (N, k) candidates (indices into
    ``ids``) that holds it (the nearest by ``z``); else the one it lies least outside of, or
    -1 when ``strict``."""
    out = np.full(len(q), -1, np.int64)
    pa, pb, pc = a[cand], b[cand], c[cand]  # (N, k, 2)
    e1, e2, d = pb - pa, pc - pa, q[:, None] - pa
    det = e1[..., 0] * e2[..., 1] - e1[..., 1] * e2[..., 0]
    det = np.where(np.abs(det) < 1e-12, 1e-12, det)
    u = (d[..., 0] * e2[..., 1] - d[..., 1] * e2[..., 0]) / det
    v = (e1[..., 0] * d[..., 1] - e1[..., 1] * d[..., 0]) / det
    inside = (u >= -1e-9) & (v >= -1e-9) & (u + v <= 1 + 1e-9)
    if z is not None:
        score = np.where(inside, z[ids[cand]], np.inf)
        best = np.argmin(score, 1)
    else:
        best = np.argmax(inside, 1)
    hit = inside[np.arange(len(q)), best]
    out[hit] = ids[cand[hit, best[hit]]]
    if not strict:  # the candidate it lies least outside of (on an edge: its neighbour's)
        least = np.argmax(np.minimum(np.minimum(u, v), 1 - u - v), 1)
        out[~hit] = ids[cand[~hit, least[~hit]]]
    return out
