"""The face's surface as the canvas: one frontal, neutral face, mapped to each face in a photo
triangle by triangle through the mesh.

The *canvas* is the canonical face (``canvas_face.npz``, made by ``examples/canvas_face.py``:
the mean of 400 prep-aligned frontal, neutral LFW faces, in the aligned crop's unit
coordinates) drawn at ``scale`` pixels a unit. A face's 478 landmarks and the canonical ones
are the corners of the same triangles (``FACEMESH_TESSELATION``'s 850 faces), so each triangle
has an affine map between the canvas and the photo; together they are a piecewise-affine map
that bends with the lips, foreshortens the far side of a turned face and has holes where the
mesh has them (the mouth opening, the eyes).

- :class:`FaceMesh` holds one face's maps: points both ways (:meth:`FaceMesh.to_canvas`,
  :meth:`FaceMesh.to_photo`), pixels both ways (:meth:`FaceMesh.photo_map`: for a photo box,
  where each pixel lies on the canvas, to ``cv2.remap`` a canvas image into it;
  :meth:`FaceMesh.canvas_map`: the reverse), which triangles face the camera
  (:attr:`FaceMesh.front`: their winding is the canonical one) and its silhouette
  (:meth:`FaceMesh.silhouette`). A triangle that faces away, or lies behind a nearer one
  (the landmarks' depth), is hidden: nothing drawn on the canvas shows there.
- :func:`face_frame` is the one face frame (axes and scale, from the rigid landmarks) that the
  hair, the styles and the donor use.

A pixel map over one face's mustache box is built in a few ms and applied by ``cv2.remap``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from data_prep import indices as ix

CANVAS_FILE = Path(__file__).with_name("canvas_face.npz")
# the face's rigid landmarks (eye corners, the nose's bridge and base, the face's sides, the
# forehead): the frame's axes and scale are fitted on them, so a smile or an open mouth does
# not change them (fitted on the mouth area, a wide smile read as a face 30% larger)
FRAME_POINTS = (*ix.LEFT_EYE_CORNERS, *ix.RIGHT_EYE_CORNERS, 168, 6, 197, 195, 5, 4,
                ix.NOSE_TIP, ix.SUBNASALE, *ix.ALAR_BASES, *ix.FACE_SIDES, ix.FOREHEAD, 151, 9)


@dataclass(frozen=True, eq=False)
class Canonical:
    """The canonical face: ``points`` (478, 2) float64 in the aligned crop's unit coordinates,
    ``depth`` (478,) (MediaPipe's z, same unit, smaller is nearer), ``triangles`` (T, 3) int64
    wound alike over the surface, counter-clockwise on it (image axes, y down) but for the few
    folded in its frontal view (beside the nostrils): ``flat`` (T,) marks the others, the
    canvas's own domain (no two of them overlap)."""

    points: np.ndarray
    depth: np.ndarray
    triangles: np.ndarray

    @functools.cached_property
    def flat(self) -> np.ndarray:
        return _signed_area(self.points, self.triangles) > 0

    @functools.cached_property
    def above_mouth(self) -> np.ndarray:
        """(T,) bool: flat triangles that touch no point of the lower lip but the mouth's
        corners (on the canvas the mouth is closed: what passes the upper lip's inner edge
        lies on the lower lip, which an open mouth takes away)."""
        lower = set(ix.LOWER_LIP_OUTER) | set(ix.LOWER_LIP_INNER)
        lower -= {*ix.MOUTH_CORNERS, ix.LOWER_LIP_INNER[0], ix.LOWER_LIP_INNER[-1]}
        return self.flat & ~np.isin(self.triangles, sorted(lower)).any(1)

    @functools.cached_property
    def above_mouth_grid(self) -> TriangleGrid:
        """:attr:`above_mouth`'s triangles as a lookup table over the face, in canonical units
        (one table for every face: see :meth:`FaceMesh.carry`)."""
        return triangle_grid(self.points, self.triangles, np.flatnonzero(self.above_mouth),
                             (0.0, 0.0, 1.0, 1.0), 512)


@functools.cache
def canonical() -> Canonical:
    """The shipped canonical face (read once; a constant table)."""
    d = np.load(CANVAS_FILE)
    return Canonical(d["canon"].astype(np.float64), d["depth"].astype(np.float64),
                     d["triangles"].astype(np.int64))


def _affines(src: np.ndarray, dst: np.ndarray, tri: np.ndarray) -> np.ndarray:
    """(T, 2, 3) per-triangle affine maps taking ``src`` (N, 2) corners to ``dst`` (N, 2)."""
    a, b, c = src[tri[:, 0]], src[tri[:, 1]], src[tri[:, 2]]
    m = np.stack([b - a, c - a], 2)  # (T, 2, 2): columns are the edges
    det = m[:, 0, 0] * m[:, 1, 1] - m[:, 0, 1] * m[:, 1, 0]
    det = np.where(np.abs(det) < 1e-12, 1e-12, det)
    inv = np.stack([np.stack([m[:, 1, 1], -m[:, 0, 1]], 1),
                    np.stack([-m[:, 1, 0], m[:, 0, 0]], 1)], 1) / det[:, None, None]
    da, db, dc = dst[tri[:, 0]], dst[tri[:, 1]], dst[tri[:, 2]]
    lin = np.stack([db - da, dc - da], 2) @ inv  # (T, 2, 2)
    return np.concatenate([lin, (da - np.einsum("tij,tj->ti", lin, a))[:, :, None]], 2)


def _apply(aff: np.ndarray, which: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(N, 2) points each mapped by affine ``aff[which]`` -> (N, 2)."""
    m = aff[which]
    return np.einsum("nij,nj->ni", m[:, :, :2], points) + m[:, :, 2]


def _signed_area(p: np.ndarray, tri: np.ndarray) -> np.ndarray:
    a, b, c = p[tri[:, 0]], p[tri[:, 1]], p[tri[:, 2]]
    return 0.5 * ((b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1])
                  - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0]))


def _raster(points: np.ndarray, tri: np.ndarray, order: np.ndarray,
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


@dataclass(frozen=True, eq=False)
class FaceMesh:
    """One face's piecewise-affine maps to and from the canvas.

    ``points`` (478, 2 or 3) landmarks in some pixel frame (with MediaPipe's depth as the third
    column when known: hidden triangles then follow it; without it, by winding only);
    ``scale`` canvas pixels a canonical unit."""

    points: np.ndarray
    scale: float = 512.0

    def __post_init__(self):
        p = np.asarray(self.points, np.float64)
        if p.ndim != 2 or p.shape[0] < 468 or p.shape[1] < 2:
            raise ValueError(f"landmarks must have shape (468 or 478, 2 or 3), got {p.shape}")
        object.__setattr__(self, "points", p)

    @functools.cached_property
    def xy(self) -> np.ndarray:
        return self.points[:, :2]

    @functools.cached_property
    def canvas_points(self) -> np.ndarray:
        """(478, 2) the canonical landmarks in canvas px."""
        return canonical().points * self.scale

    @property
    def triangles(self) -> np.ndarray:
        return canonical().triangles

    @functools.cached_property
    def to_photo_affines(self) -> np.ndarray:
        """(T, 2, 3) canvas px -> photo px, triangle by triangle."""
        return _affines(self.canvas_points, self.xy, self.triangles)

    @functools.cached_property
    def to_canvas_affines(self) -> np.ndarray:
        """(T, 2, 3) photo px -> canvas px, triangle by triangle."""
        return _affines(self.xy, self.canvas_points, self.triangles)

    @functools.cached_property
    def front(self) -> np.ndarray:
        """(T,) bool: the triangle faces the camera (its winding is the surface's, and it is
        not squashed to a sliver edge-on) and is on the canvas (:attr:`Canonical.flat`)."""
        return _front(self.xy, self.triangles, self.area_scale)

    @functools.cached_property
    def area_scale(self) -> float:
        """The face's area (its mesh's, as seen) per canonical unit area."""
        return _scale2(self.xy)

    @functools.cached_property
    def depth_order(self) -> np.ndarray:
        """(T',) the front triangles' ids, far to near (by the landmarks' depth, else as
        listed)."""
        ids = np.flatnonzero(self.front)
        if self.points.shape[1] < 3:
            return ids
        z = self.points[:, 2][self.triangles[ids]].mean(1)
        return ids[np.argsort(-z, kind="stable")]

    # ------------------------------------------------------------------ points
    def to_photo(self, canvas: np.ndarray, usable: np.ndarray | None = None) -> np.ndarray:
        """(N, 2) canvas px -> (N, 2) photo px, through the canonical triangle each lies in
        (outside the mesh or in its holes: the nearest triangle's map, extrapolated).
        ``usable`` (T,) bool: only these triangles (default: :attr:`Canonical.flat`)."""
        q = _points(canvas)
        which = _locate(q, self.canvas_points, self.triangles,
                        canonical().flat if usable is None else usable)
        return _apply(self.to_photo_affines, which, q)

    def to_canvas(self, photo: np.ndarray) -> np.ndarray:
        """(N, 2) photo px -> (N, 2) canvas px, through the visible triangle each lies in (the
        nearest when several overlap; outside: the nearest front triangle's map)."""
        q = _points(photo)
        z = None
        if self.points.shape[1] >= 3:
            z = self.points[:, 2][self.triangles].mean(1)
        which = _locate(q, self.xy, self.triangles, self.front, z)
        return _apply(self.to_canvas_affines, which, q)

    def photo_grid(self, box: tuple[float, float, float, float], cells: int = 256
                   ) -> TriangleGrid:
        """Which visible triangle (the nearest where several overlap) each point of the photo
        ``box`` lies on, as a lookup table (:func:`triangle_grid`)."""
        return triangle_grid(self.xy, self.triangles, self.depth_order, box, cells)

    def lift(self, photo: np.ndarray, grid: TriangleGrid) -> np.ndarray:
        """(N, 2) photo px -> (N, 2) canvas px through the triangle :meth:`photo_grid` says
        each lies on: for thousands of points (hairs' roots). A point outside the triangle its
        cell names (near an edge) takes the one of the 3 x 3 cells around that holds it (the
        nearest by depth)."""
        q = _points(photo)
        which = grid(q)
        ids = np.unique(which)
        a, b, c = (self.xy[self.triangles[ids, k]] for k in range(3))
        miss = np.flatnonzero(~_inside_of(q, a, b, c, which, ids))
        if len(miss):
            step = 1.0 / grid.per_px
            near = np.stack([grid(q[miss] + [dx * step, dy * step])
                             for dx in (-1, 0, 1) for dy in (-1, 0, 1)], 1)  # (M, 9)
            ids = np.unique(near)
            a, b, c = (self.xy[self.triangles[ids, k]] for k in range(3))
            z = self.points[:, 2][self.triangles].mean(1) if self.points.shape[1] >= 3 else None
            found = _pick(q[miss], a, b, c, np.searchsorted(ids, near), ids, z, strict=True)
            which[miss[found >= 0]] = found[found >= 0]
        return _apply(self.to_canvas_affines, which, q)

    def carry(self, canvas: np.ndarray, grid: TriangleGrid) -> np.ndarray:
        """(N, 2) canvas px -> (N, 2) photo px through the triangle ``grid`` (a table in
        canonical units, the same for every face: :attr:`Canonical.above_mouth_grid`) says
        each lies on (off its triangles, the nearest one's map, extrapolated)."""
        q = _points(canvas)
        return _apply(self.to_photo_affines, grid(q / self.scale), q)

    def visible(self, canvas: np.ndarray, tol: float = 0.5) -> np.ndarray:
        """(N, 2) canvas px -> (N,) bool: the point shows in the photo: it lies on a front
        triangle and its photo point maps back to it (within ``tol`` canvas px), so no nearer
        triangle covers it."""
        q = _points(canvas)
        which = _locate(q, self.canvas_points, self.triangles, canonical().flat, strict=True)
        out = which >= 0
        out[out] = self.front[which[out]]
        if out.any():
            back = self.to_canvas(_apply(self.to_photo_affines, which[out], q[out]))
            out[np.flatnonzero(out)] = np.linalg.norm(back - q[out], axis=1) <= tol
        return out

    @functools.cached_property
    def width(self) -> float:
        """The face's width (px) as if it faced the camera (:func:`face_frame`)."""
        return face_frame(self.points).width

    # ------------------------------------------------------------------ pixels
    def photo_map(self, box: tuple[int, int, int, int]) -> tuple[np.ndarray, np.ndarray]:
        """For the photo ``box`` (x0, y0, x1, y1): (map (h, w, 2) float32 canvas px of each
        pixel's centre, for ``cv2.remap`` of a canvas image; shown (h, w) bool: on a visible
        triangle). Hidden pixels map to (-1e4, -1e4): a constant border gives them 0."""
        x0, y0, x1, y1 = box
        if x1 <= x0 or y1 <= y0:
            raise ValueError(f"empty box {box}")
        ids = _raster(self.xy, self.triangles, self.depth_order, box)
        return _pixel_map(ids, self.to_canvas_affines, box)

    def canvas_map(self, box: tuple[int, int, int, int]) -> tuple[np.ndarray, np.ndarray]:
        """For the canvas ``box`` (x0, y0, x1, y1) canvas px: (map (h, w, 2) float32 photo px
        of each canvas pixel's centre, for ``cv2.remap`` of the photo; on (h, w) bool: inside
        the mesh, not in a hole). Whether it shows: :meth:`visible`."""
        ids = _raster(self.canvas_points, self.triangles, np.flatnonzero(canonical().flat), box)
        return _pixel_map(ids, self.to_photo_affines, box)

    def to_photo_image(self, canvas_image: np.ndarray, box: tuple[int, int, int, int],
                       origin: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
        """A canvas image (its pixel (0, 0) at canvas px ``origin``) resampled over the photo
        ``box``: (h, w, ...) float32, 0 where the canvas does not show (hidden triangles, the
        mouth's hole, beyond the silhouette)."""
        import cv2

        m, _ = self.photo_map(box)
        m = m - np.asarray(origin, np.float32)
        return cv2.remap(np.ascontiguousarray(canvas_image, np.float32), m[..., 0], m[..., 1],
                         cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)

    def map_from(self, other: FaceMesh, box: tuple[int, int, int, int],
                 only: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The same face surface seen in another frame: for this face's photo ``box``, where
        each pixel centre lies in ``other``'s frame (its landmarks' pixels; the same canvas
        point through both meshes), for ``cv2.remap`` of ``other``'s image; and (h, w) bool:
        on a visible triangle here that faces the camera there too. ``only``: the triangle
        ids to draw (those of a small area: a video's mustache, every frame), else all."""
        tri = self.triangles if only is None else self.triangles[np.asarray(only)]
        front = _front(self.xy, tri, self.area_scale) & _front(other.xy, tri, other.area_scale)
        order = np.flatnonzero(front)
        if self.points.shape[1] >= 3:
            z = self.points[:, 2][tri[order]].mean(1)
            order = order[np.argsort(-z, kind="stable")]
        ids = _raster(self.xy, tri, order, box)
        return _pixel_map(ids, _affines(self.xy, other.xy, tri), box)

    def silhouette(self, box: tuple[int, int, int, int]) -> np.ndarray:
        """(h, w) bool over the photo ``box``: pixels on the face (a front triangle)."""
        return _raster(self.xy, self.triangles, self.depth_order, box) >= 0


def _front(xy: np.ndarray, tri: np.ndarray, scale2: float) -> np.ndarray:
    """(T,) bool for the (T, 3) triangles ``tri`` of a face whose landmarks are ``xy`` and
    whose area is ``scale2`` x the canonical face's: the triangle faces the camera (its winding
    is the surface's, and it is not squashed edge-on: 2% of its canonical area at the face's
    scale) and is on the canvas (:attr:`Canonical.flat`)."""
    c = _signed_area(canonical().points, tri)
    return (_signed_area(xy, tri) > 0.02 * scale2 * np.abs(c)) & (c > 0)


def _scale2(xy: np.ndarray) -> float:
    """This face's area per canonical area: the whole mesh's, seen (a turned face's less)."""
    can = canonical()
    a = float(_signed_area(xy, can.triangles).sum())
    return abs(a) / max(float(np.abs(_signed_area(can.points, can.triangles)).sum()), 1e-12)


def _points(p: np.ndarray) -> np.ndarray:
    q = np.asarray(p, np.float64)
    if q.ndim != 2 or q.shape[1] != 2:
        raise ValueError(f"points must have shape (N, 2), got {q.shape}")
    return q


def _box(p: np.ndarray, pad: int) -> tuple[int, int, int, int]:
    lo = np.floor(p.min(0)).astype(int) - pad
    hi = np.ceil(p.max(0)).astype(int) + pad + 1
    return int(lo[0]), int(lo[1]), int(hi[0]), int(hi[1])


def _pixel_map(ids: np.ndarray, aff: np.ndarray, box) -> tuple[np.ndarray, np.ndarray]:
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


def _locate(q: np.ndarray, corners: np.ndarray, tri: np.ndarray, usable: np.ndarray,
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
        return _pick(q, a, b, c, every, ids, z, strict)
    # candidates: the triangles whose centroids are nearest (mesh triangles are small) ...
    k = min(12, len(ids))
    _, cand = cKDTree(cen).query(q, k)
    cand = cand.reshape(len(q), k)
    out = _pick(q, a, b, c, cand, ids, z, strict)
    miss = np.flatnonzero(out < 0) if strict else np.flatnonzero(~_inside_of(q, a, b, c, out, ids))
    if len(miss) and len(miss) * len(ids) <= 4_000_000:  # ... else every one (thin triangles
        # of a face turned far have far centroids)
        every = np.broadcast_to(np.arange(len(ids)), (len(miss), len(ids)))
        again = _pick(q[miss], a, b, c, every, ids, z, strict=True)
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
    (hairs) where :func:`_locate` compares each with every triangle. A point near an edge may
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
    ids = _raster((corners - lo) * f, tri, order, (0, 0, w, h)).astype(np.int64)
    if (ids < 0).all():  # slivers that cover no cell centre: one triangle's map everywhere
        ids[:] = order[-1]
    elif (ids < 0).any():
        _, label = cv2.distanceTransformWithLabels((ids < 0).astype(np.uint8), cv2.DIST_L2, 5,
                                                   labelType=cv2.DIST_LABEL_PIXEL)
        drawn = ids[ids >= 0]  # in raster order, as the labels count them (from 1)
        ids = drawn[label - 1]
    return TriangleGrid(ids, lo, f)


def _inside_of(q, a, b, c, which, ids) -> np.ndarray:
    """(N,) whether each point lies in its triangle ``which`` (ids into the mesh)."""
    pos = np.searchsorted(ids, which)
    pa, pb, pc = a[pos], b[pos], c[pos]
    e1, e2, d = pb - pa, pc - pa, q - pa
    det = e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0]
    det = np.where(np.abs(det) < 1e-12, 1e-12, det)
    u = (d[:, 0] * e2[:, 1] - d[:, 1] * e2[:, 0]) / det
    v = (e1[:, 0] * d[:, 1] - e1[:, 1] * d[:, 0]) / det
    return (u >= -1e-9) & (v >= -1e-9) & (u + v <= 1 + 1e-9)


def _pick(q, a, b, c, cand, ids, z, strict) -> np.ndarray:
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
        pick = np.argmin(score, 1)
    else:
        pick = np.argmax(inside, 1)
    hit = inside[np.arange(len(q)), pick]
    out[hit] = ids[cand[hit, pick[hit]]]
    if not strict:  # the candidate it lies least outside of (on an edge: its neighbour's)
        least = np.argmax(np.minimum(np.minimum(u, v), 1 - u - v), 1)
        out[~hit] = ids[cand[~hit, least[~hit]]]
    return out


@dataclass(frozen=True)
class FaceFrame:
    """A face's frame, in the landmarks' pixel frame."""

    right: np.ndarray  # (2,) unit: from the viewer's left eye to the right one
    down: np.ndarray  # (2,) unit: right turned 90 degrees
    width: float  # the face's width (px) as if it faced the camera (a turned face keeps it)
    eye_distance: float  # the same scale's eye distance (px)
    philtrum: np.ndarray  # (2,) the upper lip's top centre (landmark 0)
    half_mouth: float  # half the mouth-corner distance (px), as seen
    px_per_mm: float  # with a face ``face_cm`` wide
    affine: np.ndarray  # (2, 3) canonical unit coords -> px, fitted on the rigid landmarks


def face_frame(points: np.ndarray, face_cm: float = 14.0) -> FaceFrame:
    """(478, 2+) landmarks in any pixel frame -> the face's frame: the least-squares affine
    from the canonical face's rigid landmarks to this one's gives its scale (yaw or pitch
    shortens one axis, never both); the eye line its roll."""
    xy = np.asarray(points, np.float64)
    if xy.ndim != 2 or xy.shape[0] < 468 or xy.shape[1] < 2:
        raise ValueError(f"landmarks must have shape (468 or 478, 2+), got {xy.shape}")
    xy = xy[:, :2]
    can = canonical().points
    idx = list(FRAME_POINTS)
    src = np.hstack([can[idx], np.ones((len(idx), 1))])
    sol, *_ = np.linalg.lstsq(src, xy[idx], rcond=None)
    aff = sol.T  # (2, 3)
    lin = aff[:, :2]
    # yaw shortens x (and shears y by the mouth's depth), pitch y: the area over the shorter
    # axis is the unshortened scale (the larger singular value would count the shear)
    s = float(abs(np.linalg.det(lin)) / max(min(np.linalg.norm(lin[:, 0]),
                                                 np.linalg.norm(lin[:, 1])), 1e-12))
    if not np.isfinite(s) or s < 1e-6:
        raise ValueError("degenerate landmarks: no face frame")
    # the roll from the eye line (as every frame before the canvas had it: the hair is tuned
    # on it), square: the mesh bends what needs bending
    el = xy[list(ix.LEFT_EYE_CORNERS)].mean(0)
    er = xy[list(ix.RIGHT_EYE_CORNERS)].mean(0)
    right = (er - el) / max(float(np.linalg.norm(er - el)), 1e-6)
    down = np.array([-right[1], right[0]])
    cw = float(np.linalg.norm(can[ix.FACE_SIDES[1]] - can[ix.FACE_SIDES[0]]))
    ce = float(np.linalg.norm(can[list(ix.RIGHT_EYE_CORNERS)].mean(0)
                              - can[list(ix.LEFT_EYE_CORNERS)].mean(0)))
    width = max(s * cw, 1.0)
    half = 0.5 * float(np.linalg.norm(xy[ix.MOUTH_CORNERS[1]] - xy[ix.MOUTH_CORNERS[0]]))
    return FaceFrame(right, down, width, s * ce, xy[0].copy(), max(half, 1.0),
                     width / (10 * face_cm), aff)


def triangles_near(points: np.ndarray, box: tuple[int, int, int, int], pad: float = 0.0
                   ) -> np.ndarray:
    """(M,) ids of the mesh's triangles whose corners' box meets ``box`` (x0, y0, x1, y1),
    grown by ``pad`` px, on a face with (478, 2+) landmarks ``points``."""
    xy = np.asarray(points, np.float64)[:, :2]
    c = xy[canonical().triangles]  # (T, 3, 2)
    lo, hi = c.min(1), c.max(1)
    x0, y0, x1, y1 = box
    return np.flatnonzero((hi[:, 0] >= x0 - pad) & (lo[:, 0] <= x1 + pad)
                          & (hi[:, 1] >= y0 - pad) & (lo[:, 1] <= y1 + pad))
