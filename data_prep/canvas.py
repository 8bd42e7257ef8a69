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
- For thousands of points (hairs), lookup tables of the triangles (:func:`triangle_grid`):
  :meth:`FaceMesh.lift` takes photo points onto the canvas through :meth:`FaceMesh.photo_grid`,
  :meth:`FaceMesh.carry` takes canvas points back through a canonical table such as
  :attr:`Canonical.above_mouth_grid` (the triangles above the mouth: nothing crosses an open
  mouth).
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
from data_prep.triangles import (
    TriangleGrid,
    affines,
    apply_affine,
    barycentric_maps,
    locate,
    pixel_map,
    raster_ids,
    signed_area,
    triangle_grid,
)

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
    def areas(self) -> np.ndarray:
        """(T,) each triangle's signed area (positive: wound as the surface)."""
        return signed_area(self.points, self.triangles)

    @functools.cached_property
    def flat(self) -> np.ndarray:
        return self.areas > 0

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
        return affines(self.canvas_points, self.xy, self.triangles)

    @functools.cached_property
    def to_canvas_affines(self) -> np.ndarray:
        """(T, 2, 3) photo px -> canvas px, triangle by triangle."""
        return affines(self.xy, self.canvas_points, self.triangles)

    @functools.cached_property
    def front(self) -> np.ndarray:
        """(T,) bool: the triangle faces the camera (its winding is the surface's, and it is
        not squashed to a sliver edge-on) and is on the canvas (:attr:`Canonical.flat`)."""
        return _front(self.xy, np.arange(len(self.triangles)), self.area_scale)

    @functools.cached_property
    def area_scale(self) -> float:
        """The face's area (its mesh's, as seen) per canonical unit area."""
        return _scale2(self.xy)

    @functools.cached_property
    def depth_order(self) -> np.ndarray:
        """(T',) the front triangles' ids, far to near (by the landmarks' depth, else as
        listed)."""
        ids = np.flatnonzero(self.front)
        if self._depth is None:
            return ids
        return ids[np.argsort(-self._depth[ids], kind="stable")]

    # ------------------------------------------------------------------ points
    def to_photo(self, canvas: np.ndarray, usable: np.ndarray | None = None) -> np.ndarray:
        """(N, 2) canvas px -> (N, 2) photo px, through the canonical triangle each lies in
        (outside the mesh or in its holes: the nearest triangle's map, extrapolated).
        ``usable`` (T,) bool: only these triangles (default: :attr:`Canonical.flat`)."""
        q = _points(canvas)
        which = locate(q, self.canvas_points, self.triangles,
                        canonical().flat if usable is None else usable)
        return apply_affine(self.to_photo_affines, which, q)

    def to_canvas(self, photo: np.ndarray) -> np.ndarray:
        """(N, 2) photo px -> (N, 2) canvas px, through the visible triangle each lies in (the
        nearest when several overlap; outside: the nearest front triangle's map)."""
        q = _points(photo)
        which = locate(q, self.xy, self.triangles, self.front, self._depth)
        return apply_affine(self.to_canvas_affines, which, q)

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
        bary = self._barycentric
        uv = apply_affine(bary, which, q)
        miss = np.flatnonzero((uv.min(1) < -1e-9) | (uv.sum(1) > 1 + 1e-9))
        if len(miss):
            step = 1.0 / grid.per_px
            m = len(miss)
            offsets = np.array([(dx, dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)]) * step
            near = grid((q[miss][:, None] + offsets).reshape(-1, 2)).reshape(m, 9)
            nuv = np.einsum("mkij,mj->mki", bary[near][:, :, :, :2], q[miss]) + \
                bary[near][:, :, :, 2]
            inside = (nuv.min(2) >= -1e-9) & (nuv.sum(2) <= 1 + 1e-9)
            score = np.where(inside, self._depth[near] if self._depth is not None else 0.0,
                             np.inf)
            best = np.argmin(score, 1)
            hit = inside[np.arange(m), best]
            which[miss[hit]] = near[np.arange(m), best][hit]
        return apply_affine(self.to_canvas_affines, which, q)

    @functools.cached_property
    def _barycentric(self) -> np.ndarray:
        return barycentric_maps(self.xy, self.triangles)

    @functools.cached_property
    def _depth(self) -> np.ndarray | None:
        """(T,) each triangle's mean depth (smaller: nearer), None without depth."""
        return self.points[:, 2][self.triangles].mean(1) if self.points.shape[1] >= 3 else None

    def carry(self, canvas: np.ndarray, grid: TriangleGrid) -> np.ndarray:
        """(N, 2) canvas px -> (N, 2) photo px through the triangle ``grid`` (a table in
        canonical units, the same for every face: :attr:`Canonical.above_mouth_grid`) says
        each lies on (off its triangles, the nearest one's map, extrapolated)."""
        q = _points(canvas)
        return apply_affine(self.to_photo_affines, grid(q / self.scale), q)

    def visible(self, canvas: np.ndarray, tol: float = 0.5) -> np.ndarray:
        """(N, 2) canvas px -> (N,) bool: the point shows in the photo: it lies on a front
        triangle and its photo point maps back to it (within ``tol`` canvas px), so no nearer
        triangle covers it."""
        q = _points(canvas)
        which = locate(q, self.canvas_points, self.triangles, canonical().flat, strict=True)
        out = which >= 0
        out[out] = self.front[which[out]]
        if out.any():
            back = self.to_canvas(apply_affine(self.to_photo_affines, which[out], q[out]))
            out[np.flatnonzero(out)] = np.linalg.norm(back - q[out], axis=1) <= tol
        return out

    # ------------------------------------------------------------------ pixels
    def photo_map(self, box: tuple[int, int, int, int]) -> tuple[np.ndarray, np.ndarray]:
        """For the photo ``box`` (x0, y0, x1, y1): (map (h, w, 2) float32 canvas px of each
        pixel's centre, for ``cv2.remap`` of a canvas image; shown (h, w) bool: on a visible
        triangle). Hidden pixels map to (-1e4, -1e4): a constant border gives them 0."""
        x0, y0, x1, y1 = box
        if x1 <= x0 or y1 <= y0:
            raise ValueError(f"empty box {box}")
        ids = raster_ids(self.xy, self.triangles, self.depth_order, box)
        return pixel_map(ids, self.to_canvas_affines, box)

    def canvas_map(self, box: tuple[int, int, int, int]) -> tuple[np.ndarray, np.ndarray]:
        """For the canvas ``box`` (x0, y0, x1, y1) canvas px: (map (h, w, 2) float32 photo px
        of each canvas pixel's centre, for ``cv2.remap`` of the photo; on (h, w) bool: inside
        the mesh, not in a hole). Whether it shows: :meth:`visible`."""
        return pixel_map(_canvas_ids(float(self.scale), tuple(int(v) for v in box)),
                         self.to_photo_affines, box)

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
        ids = np.arange(len(self.triangles)) if only is None else np.asarray(only)
        tri = self.triangles[ids]
        front = _front(self.xy, ids, self.area_scale) & _front(other.xy, ids, other.area_scale)
        order = np.flatnonzero(front)
        if self._depth is not None:
            order = order[np.argsort(-self._depth[ids[order]], kind="stable")]
        ids = raster_ids(self.xy, tri, order, box)
        return pixel_map(ids, affines(self.xy, other.xy, tri), box)

    def silhouette(self, box: tuple[int, int, int, int]) -> np.ndarray:
        """(h, w) bool over the photo ``box``: pixels on the face (a front triangle)."""
        return raster_ids(self.xy, self.triangles, self.depth_order, box) >= 0


@functools.lru_cache(maxsize=8)
def _canvas_ids(scale: float, box: tuple[int, int, int, int]) -> np.ndarray:
    """(h, w) the canonical triangle under each pixel of the canvas ``box`` at ``scale``: the
    same for every face (a GAN window's is drawn once, not 850 triangles a face)."""
    can = canonical()
    ids = raster_ids(can.points * scale, can.triangles, np.flatnonzero(can.flat), box)
    ids.setflags(write=False)
    return ids


def _front(xy: np.ndarray, ids: np.ndarray, scale2: float) -> np.ndarray:
    """(M,) bool for the mesh's triangles ``ids`` (M,) on a face whose landmarks are ``xy`` and
    whose area is ``scale2`` x the canonical face's: the triangle faces the camera (its winding
    is the surface's, and it is not squashed edge-on: 2% of its canonical area at the face's
    scale) and is on the canvas (:attr:`Canonical.flat`)."""
    can = canonical()
    c = can.areas[ids]
    return (signed_area(xy, can.triangles[ids]) > 0.02 * scale2 * np.abs(c)) & (c > 0)


def _scale2(xy: np.ndarray) -> float:
    """This face's area per canonical area: the whole mesh's, seen (a turned face's less)."""
    can = canonical()
    a = float(signed_area(xy, can.triangles).sum())
    return abs(a) / max(float(np.abs(can.areas).sum()), 1e-12)


def _points(p: np.ndarray) -> np.ndarray:
    q = np.asarray(p, np.float64)
    if q.ndim != 2 or q.shape[1] != 2:
        raise ValueError(f"points must have shape (N, 2), got {q.shape}")
    return q


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
