"""Where the full-range detector looks: a pyramid of overlapping square views of a photo.

:func:`search_levels` gives the views level by level, finest first, then the whole photo's
view; :func:`views_pixels` cuts and shrinks their pixels. No detector here: only geometry,
so the search (:mod:`data_prep.landmarks`) can choose which views are worth running.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

import numpy as np

View = tuple[int, int, int, int]  # (x0, y0, x1, y1) photo px; may reach past the photo's edge
FULL_RANGE_INPUT = 192  # the full-range detector's input side: views are shrunk to it first


class ViewGeometry(Protocol):
    """What the pyramid needs of a :class:`data_prep.landmarks.DetectorConfig`."""

    min_face: float
    mesh_reach: float
    view_reach: float
    level_ratio: float
    overlap: float


def search_levels(shape: tuple[int, int], config: ViewGeometry, fine_reach: float | None = None
                  ) -> list[list[View]]:
    """The views the detector looks at in a photo of ``shape`` (H, W), one list a level,
    finest first, the last the whole photo's view: every face from ``config.min_face`` px wide
    up to the mesh's reach fills at least ``config.view_reach`` of one view's side
    (``fine_reach`` at the finest level, when another detector runs there).
    Views reach past the photo's edge by half their overlap (edge pixels repeated there), so no
    photo edge is a view's edge and faces cut by it are still seen. The number of views grows
    with the photo's area over ``min_face`` squared: the cost is per megapixel. Empty when the
    mesh's own pass reaches every face of interest."""
    h, w = shape
    long = max(h, w)
    if config.min_face >= config.mesh_reach * long:
        return []
    levels: list[list[View]] = []
    pad = int(round(config.overlap / 2 * long))
    face = config.min_face  # the narrowest face of each level; it holds faces up to level_ratio x
    t = face / (fine_reach or config.view_reach)
    while t < long + 2 * pad:  # larger faces: the whole photo's view
        side = int(round(t))
        tpad = int(round(config.overlap / 2 * side))
        step = (1 - config.overlap) * side
        levels.append([(x, y, x + side, y + side) for y in _starts(h, side, tpad, step)
                       for x in _starts(w, side, tpad, step)])
        face *= config.level_ratio
        t = face / config.view_reach
    return levels + [[(-pad, -pad, w + pad, h + pad)]]


def search_views(shape: tuple[int, int], config: ViewGeometry) -> list[View]:
    """Every view of :func:`search_levels`, finest first, then the whole photo."""
    return [v for level in search_levels(shape, config) for v in level]


def _starts(n: int, side: int, pad: int, step: float) -> list[int]:
    """Evenly spaced starts of views ``side`` long over [-pad, n + pad], at most ``step`` apart."""
    lo, hi = -pad, n + pad - side
    if hi <= lo:  # one view holds it all: centred
        return [int(round((n - side) / 2))]
    k = int(np.ceil((hi - lo) / step))
    return [int(round(lo + i * (hi - lo) / k)) for i in range(k + 1)]


def inside(view: View, box) -> bool:
    """Whether the (x0, y0, x1, y1) ``box`` holds all of ``view`` (a view inside a found face
    holds no other face of its level)."""
    return box[0] <= view[0] and box[1] <= view[1] and view[2] <= box[2] and view[3] <= box[3]


class Pyramid:
    """Shrunk, edge-padded copies of one photo, made once a scale and each from the nearest
    finer copy (a 16 MP photo is resized once; coarser copies cost a quarter each), so levels
    can be run in any order. ``image`` RGB uint8 (H, W, 3); ``reach``: how far (photo px) any
    view runs past the photo's edge."""

    def __init__(self, image: np.ndarray, reach: int):
        self.image, self.reach = image, max(0, int(reach))
        self._copies: dict[float, np.ndarray] = {1.0: image}  # scale -> unpadded copy
        self._padded: dict[float, tuple[int, np.ndarray]] = {}

    def scaled(self, k: float) -> np.ndarray:
        """The photo shrunk by ``k`` <= 1 (area interpolation), unpadded."""
        import cv2

        if k not in self._copies:
            src_k = min(s for s in self._copies if s >= k)
            h, w = self.image.shape[:2]
            self._copies[k] = cv2.resize(self._copies[src_k], (max(1, round(w * k)),
                                                               max(1, round(h * k))),
                                         interpolation=cv2.INTER_AREA)
        return self._copies[k]

    def pixels(self, views: list[View], size: int
               ) -> Iterator[tuple[np.ndarray, tuple[float, float, float, float]]]:
        """The pixels of each of ``views``, edge pixels repeated where a view runs past the
        photo's edge, shrunk so its long side is at most ``size``, in order: ((h, w, 3) uint8,
        the (x0, y0, x1, y1) photo px those pixels span exactly). (A mirrored border turns a
        face cut by the edge into a double face the detector misses; a repeated edge does not:
        2 of 2 such misses found.)"""
        import cv2

        for view in views:
            x0, y0, x1, y1 = view
            k = min(1.0, size / max(x1 - x0, y1 - y0))
            if k not in self._padded:
                pad = int(np.ceil(self.reach * k)) + 1
                self._padded[k] = (pad, cv2.copyMakeBorder(self.scaled(k), pad, pad, pad, pad,
                                                           cv2.BORDER_REPLICATE))
            pad, padded = self._padded[k]
            (a0, b0), (a1, b1) = ((round(x0 * k), round(y0 * k)), (round(x1 * k), round(y1 * k)))
            yield (np.ascontiguousarray(padded[b0 + pad:b1 + pad, a0 + pad:a1 + pad]),
                   (a0 / k, b0 / k, a1 / k, b1 / k))


def reach_of(views: list[View], shape: tuple[int, int]) -> int:
    """How far (px) any of ``views`` runs past the edge of a photo of ``shape`` (H, W)."""
    h, w = shape
    return max([0, *(-v[0] for v in views), *(-v[1] for v in views),
                *(v[2] - w for v in views), *(v[3] - h for v in views)])


def views_pixels(image: np.ndarray, views: list[View], size: int
                 ) -> Iterator[tuple[np.ndarray, tuple[float, float, float, float]]]:
    """:meth:`Pyramid.pixels` of ``views`` of RGB uint8 (H, W, 3), on a pyramid of its own."""
    yield from Pyramid(image, reach_of(views, image.shape[:2])).pixels(views, size)


def box_iou(a, b) -> float:
    """Intersection over union of two (x0, y0, x1, y1) boxes."""
    ix0, iy0 = max(a[0], b[0]), max(a[1], b[1])
    ix1, iy1 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, ix1 - ix0) * max(0.0, iy1 - iy0)
    ua = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / ua if ua > 0 else 0.0
