"""The mustache region: a polygon from landmarks, its soft mask, and the fixed window.

The *window* is a fixed square of the face (by default from just above the nose tip to below
the chin, 128 px) on which the GAN works; windows of different photos line up because they
are defined in the aligned crop's coordinates. With ``RegionConfig.canvas_window`` (prep's
default) the window is cut from the canvas through the face's mesh (:func:`window_pixels`),
so pose and expression are taken out, and the GAN's change goes back the same way
(:func:`window_change`); older checkpoints cut it by the flat alignment. The *region* is the part of the window a
mustache may cover: from under the nose (subnasale, alar bases) down over the upper lip, past
the mouth corners and down beside them.

The region a photo's face gets is drawn once on the canvas (:mod:`data_prep.canvas`, the
canonical frontal face) and mapped to the face through its mesh (:func:`region_support`):
its far side foreshortened, nothing on triangles that face away or beyond the silhouette, the
open mouth a hole, its lower edge a fixed share of the upper vermilion however the lips move.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from data_prep import indices as ix
from data_prep.align import AlignConfig, Alignment, estimate_alignment, shrunk, sub_window, warp


@dataclass(frozen=True)
class RegionConfig:
    window_box: tuple[float, float, float, float] = (0.25, 0.5, 0.75, 1.0)  # unit coords of aligned crop
    window_size: int = 128  # window side in pixels
    lip_cover: float = 0.35  # how far the region reaches from the outer towards the inner upper lip
    droop: float = 0.09  # how far below the mouth corners the region reaches (x eye distance)
    reach: float = 0.07  # how far past the mouth corners (x eye distance)
    lift: float = 0.03  # extra room above the under-nose line (x eye distance)
    grow: float = 0.04  # outward dilation of the whole polygon (x eye distance)
    feather: float = 0.03  # soft edge width (x eye distance), Gaussian sigma
    cut_feather: float = 0.012  # the lower edge's soft width (x eye distance), Gaussian sigma
    canvas_lip: float = 0.05  # on the canvas: the lower edge, a share of the upper vermilion
    # from its outer edge (nothing below it: hair overhangs the lip from above, as real ones)
    canvas_window: bool = False  # cut the window from the canvas through the face's mesh (pose
    # and expression taken out), not by the flat alignment; a file without the key was cut
    # flat, so False is the field's default and PrepConfig's default turns it on


def window_alignment(face: Alignment, config: RegionConfig = RegionConfig()) -> Alignment:
    """The window's own alignment (photo pixels -> window pixels)."""
    return sub_window(face, config.window_box, config.window_size)


def region_polygon(landmarks: np.ndarray, config: RegionConfig = RegionConfig()) -> np.ndarray:
    """(478, >=2) landmarks in any frame -> (K, 2) closed polygon of the mustache region in that
    frame (a similarity transform of the landmarks gives the same transform of the polygon)."""
    lm = np.asarray(landmarks, dtype=np.float64)[:, :2]
    if lm.shape[0] < 468:
        raise ValueError(f"landmarks must have shape (468 or 478, 2), got {lm.shape}")
    eye_l = lm[list(ix.LEFT_EYE_CORNERS)].mean(0)
    eye_r = lm[list(ix.RIGHT_EYE_CORNERS)].mean(0)
    d = float(np.linalg.norm(eye_r - eye_l))
    right = (eye_r - eye_l) / max(d, 1e-6)  # face's own axes, so the region follows tilt
    down = np.array([-right[1], right[0]])

    top = lm[list(ix.UNDER_NOSE)] - config.lift * d * down
    outer = lm[list(ix.UPPER_LIP_OUTER)]
    inner = lm[list(ix.UPPER_LIP_INNER)]
    bottom = outer + config.lip_cover * (inner - outer)
    c_l, c_r = lm[ix.MOUTH_CORNERS[0]], lm[ix.MOUTH_CORNERS[1]]
    tip_l = c_l - config.reach * d * right + config.droop * d * down
    tip_r = c_r + config.reach * d * right + config.droop * d * down
    poly = np.concatenate([top, [tip_r], bottom[::-1], [tip_l]])
    if config.grow > 0:  # push every vertex out from the centroid by a fixed distance
        c = poly.mean(0)
        v = poly - c
        n = np.linalg.norm(v, axis=1, keepdims=True)
        poly = c + v * (1 + config.grow * d / np.maximum(n, 1e-6))
    return poly


def polygon_mask(polygon: np.ndarray, size: int | tuple[int, int], feather: float = 0.0) -> np.ndarray:
    """Rasterise a polygon to a float32 mask in [0, 1] of shape (H, W), optionally feathered
    with a Gaussian of sigma ``feather`` pixels (kept inside: the hard polygon stays 1 inside
    the eroded core)."""
    import cv2

    h, w = (size, size) if isinstance(size, int) else size
    m = np.zeros((h, w), np.uint8)
    pts = np.round(np.asarray(polygon) * 16).astype(np.int32)  # 4 bits of sub-pixel precision
    cv2.fillPoly(m, [pts], 255, lineType=cv2.LINE_AA, shift=4)
    out = m.astype(np.float32) / 255.0
    return feather_mask(out, feather) if feather > 0 else out


def feather_mask(hard: np.ndarray, sigma: float) -> np.ndarray:
    """A (h, w) mask softened by a Gaussian of ``sigma`` px, renormalised so it still reaches 1
    in its core: the one feather of regions and styles' outlines."""
    import cv2

    out = cv2.GaussianBlur(np.asarray(hard, np.float32), (0, 0), sigma)
    return np.clip(out * 1.5 - 0.25, 0.0, 1.0)


def padded_box(points: np.ndarray, pad: float, shape: tuple[int, int], end: int = 0
               ) -> tuple[int, int, int, int]:
    """The box (x0, y0, x1, y1) of ``points`` (K, 2) grown by ``pad`` px, clipped to a photo of
    ``shape`` (h, w); ``end`` px more past the far corner (1: the last pixel's own column)."""
    h, w = shape
    x0, y0 = np.floor(points.min(0) - pad).astype(int)
    x1, y1 = np.ceil(points.max(0) + pad).astype(int) + end
    return max(int(x0), 0), max(int(y0), 0), min(int(x1), w), min(int(y1), h)


@dataclass(frozen=True, eq=False)
class MustacheRegion:
    """The region of one face, in window coordinates."""

    window: Alignment  # photo -> window
    polygon: np.ndarray  # (K, 2) window pixels
    mask: np.ndarray  # (S, S) float32 in [0, 1], soft
    landmarks: np.ndarray | None = None  # (478, 2+) photo px (with depth when known): the
    # face's mesh, for the region's photo support (region_support)
    config: RegionConfig = RegionConfig()


def mustache_region(landmarks: np.ndarray, face: Alignment,
                    config: RegionConfig = RegionConfig()) -> MustacheRegion:
    """Photo-space landmarks (478, 2+) and the face alignment -> the region in its window (on
    a canvas window: the canvas region, :func:`canvas_region`, as that window sees it)."""
    win = window_alignment(face, config)
    if config.canvas_window:
        scale, (wx, wy, _, _) = canvas_window_box(config)
        poly, m, (mx, my) = canvas_region(config, scale)
        mask = np.zeros((config.window_size,) * 2, np.float32)
        _paste(mask, m, mx - wx, my - wy)
        return MustacheRegion(win, poly - [wx, wy], mask, np.asarray(landmarks, np.float64), config)
    lm_w = win.to_crop(np.asarray(landmarks)[:, :2])
    poly = region_polygon(lm_w, config)
    d = float(np.linalg.norm(lm_w[list(ix.RIGHT_EYE_CORNERS)].mean(0)
                             - lm_w[list(ix.LEFT_EYE_CORNERS)].mean(0)))
    mask = polygon_mask(poly, config.window_size, feather=config.feather * d)
    return MustacheRegion(win, poly, mask, np.asarray(landmarks, np.float64), config)


def cut_window(image: np.ndarray, landmarks: np.ndarray, align: AlignConfig = AlignConfig(),
               config: RegionConfig = RegionConfig()) -> tuple[MustacheRegion, np.ndarray]:
    """One face's region and window, cut exactly as prep cuts them: RGB uint8 (H, W, 3) photo
    and (478, 2+) photo landmarks -> (region, window uint8 (S, S, 3))."""
    region = mustache_region(landmarks, estimate_alignment(landmarks, align), config)
    return region, window_pixels(image, region)


def cut_windows(image: np.ndarray, faces, align: AlignConfig = AlignConfig(),
                config: RegionConfig = RegionConfig()) -> tuple[np.ndarray, np.ndarray]:
    """:func:`cut_window` for several ``faces`` (objects with ``.xy`` (478, 2) photo px) of one
    RGB uint8 (H, W, 3) photo -> (windows uint8 (N, S, S, 3), masks uint8 (N, S, S) 0-255)."""
    wins, masks = [], []
    for f in faces:
        region, window = cut_window(image, f.xy, align, config)
        wins.append(window)
        masks.append(np.round(region.mask * 255).astype(np.uint8))
    s = config.window_size
    if not wins:
        return np.zeros((0, s, s, 3), np.uint8), np.zeros((0, s, s), np.uint8)
    return np.stack(wins), np.stack(masks)


def _paste(dst: np.ndarray, src: np.ndarray, x: int, y: int) -> None:
    """``src`` (h, w) written into ``dst`` with its corner at (x, y), clipped to ``dst``."""
    h, w = src.shape[:2]
    H, W = dst.shape[:2]
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, W), min(y + h, H)
    if x1 > x0 and y1 > y0:
        dst[y0:y1, x0:x1] = src[y0 - y:y1 - y, x0 - x:x1 - x]


# ---------------------------------------------------------------- the window on the canvas

def canvas_window_box(config: RegionConfig) -> tuple[float, tuple[int, int, int, int]]:
    """The canvas window: (canvas px a canonical unit, its box (x0, y0, x1, y1) in canvas px).
    The canonical face lives in the aligned crop's unit coordinates, so ``window_box`` names
    the same part of the face on the canvas as in the flat crop."""
    x0, y0, x1, y1 = config.window_box
    if not (x1 > x0 and abs((x1 - x0) - (y1 - y0)) < 1e-9):
        raise ValueError(f"a canvas window needs a square window box, got {config.window_box}")
    s = config.window_size / (x1 - x0)
    ox, oy = round(x0 * s), round(y0 * s)
    return s, (ox, oy, ox + config.window_size, oy + config.window_size)


def window_map(region: MustacheRegion) -> np.ndarray:
    """(S, S, 2) float32: the photo px (``cv2.remap``'s pixel centres) each pixel of a canvas
    window shows, through the face's mesh; beyond the mesh (below the chin, past the cheeks)
    and in its holes, the flat window's (:attr:`MustacheRegion.window`) instead."""
    from data_prep.canvas import FaceMesh

    if region.landmarks is None:
        raise ValueError("a canvas window needs the region's photo landmarks")
    scale, box = canvas_window_box(region.config)
    m, on = FaceMesh(region.landmarks, scale).canvas_map(box)
    if not on.all():
        n = region.config.window_size
        yy, xx = np.mgrid[0:n, 0:n]
        flat = region.window.to_photo(np.stack([xx.ravel(), yy.ravel()], 1).astype(np.float64))
        m[~on] = flat.reshape(n, n, 2).astype(np.float32)[~on]
    return m


def window_pixels(image: np.ndarray, region: MustacheRegion) -> np.ndarray:
    """The region's window cut from the photo: (H, W, C) -> (S, S, C), same dtype; by the flat
    alignment, or through the mesh for a canvas window (the photo area-shrunk first when the
    window is much smaller than the face, as :func:`data_prep.align.warp` does)."""
    import cv2

    if not region.config.canvas_window:
        return warp(image, region.window)
    m = window_map(region)
    x0, y0, x1, y1 = padded_box(m.reshape(-1, 2), 2, image.shape[:2], end=1)
    if x1 <= x0 or y1 <= y0:  # the window lies off the photo: its nearest pixels
        x0, y0, x1, y1 = 0, 0, image.shape[1], image.shape[0]
    roi, (sx, sy) = shrunk(image[y0:y1, x0:x1], region.window.scale)
    m = (m - np.array([x0, y0], np.float32) + 0.5) * np.array([sx, sy], np.float32) - 0.5
    return cv2.remap(roi, m[..., 0], m[..., 1], cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REFLECT101)


def window_change(window: np.ndarray, region: MustacheRegion, box: tuple[int, int, int, int]
                  ) -> tuple[np.ndarray, np.ndarray]:
    """The generator's change back over the photo ``box`` with the region's support there:
    (:func:`window_to_photo` (h, w, C), :func:`region_support` (h, w)); for a canvas window
    both from one pixel map of the face's mesh."""
    import cv2

    from data_prep.canvas import FaceMesh

    if region.landmarks is None:
        raise ValueError("the region has no photo landmarks (cut it with cut_window)")
    config = region.config
    if not config.canvas_window:
        return (window_to_photo(window, region, box),
                region_support(region.landmarks, box, config))
    mesh = FaceMesh(region.landmarks)
    _, mask, origin = canvas_region(config, mesh.scale)
    m, _ = mesh.photo_map(box)  # canvas px at the region's scale
    support = cv2.remap(mask, *(m - np.asarray(origin, np.float32)).transpose(2, 0, 1),
                        cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    scale, (wx, wy, _, _) = canvas_window_box(config)
    k = np.float32(scale / mesh.scale)
    mw = (m + 0.5) * k - 0.5 - np.array([wx, wy], np.float32)  # pixel centres, rescaled
    change = cv2.remap(np.ascontiguousarray(window, np.float32), mw[..., 0], mw[..., 1],
                       cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return change, np.clip(support, 0.0, 1.0)


def window_to_photo(window: np.ndarray, region: MustacheRegion,
                    box: tuple[int, int, int, int]) -> np.ndarray:
    """A window image (S, S, C) float32 (the generator's change) back over the photo ``box``
    (x0, y0, x1, y1): (h, w, C), 0 beyond the window; by the flat alignment, or for a canvas
    window through the mesh (0 too where the canvas does not show: hidden triangles, the
    mouth's hole, beyond the silhouette)."""
    from data_prep.align import unwarp
    from data_prep.canvas import FaceMesh

    window = np.ascontiguousarray(window, np.float32)
    if not region.config.canvas_window:
        return unwarp(window, region.window, box)
    if region.landmarks is None:
        raise ValueError("a canvas window needs the region's photo landmarks")
    scale, (wx, wy, _, _) = canvas_window_box(region.config)
    return FaceMesh(region.landmarks, scale).to_photo_image(window, box, (wx, wy))


# ---------------------------------------------------------------- the region on the canvas

def canvas_region(config: RegionConfig = RegionConfig(), scale: float = 512.0
                  ) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
    """The region on the canvas at ``scale`` canvas px a unit: (polygon (K, 2) canvas px,
    soft mask float32 (h, w), the mask's origin (x0, y0) in canvas px). The polygon is
    :func:`region_polygon` of the canonical face; its mask is cut hard at ``canvas_lip`` of
    the upper vermilion (the grow and the feather reach no lower). Read-only arrays: one
    drawing per config and scale serves every face (4 ms each time otherwise)."""
    return _canvas_region(config, float(scale))


@functools.lru_cache(maxsize=16)
def _canvas_region(config: RegionConfig, scale: float):
    from data_prep.canvas import canonical

    can = canonical().points * scale
    poly = region_polygon(can, config)
    d = float(np.linalg.norm(can[list(ix.RIGHT_EYE_CORNERS)].mean(0)
                             - can[list(ix.LEFT_EYE_CORNERS)].mean(0)))
    pad = int(np.ceil(3 * config.feather * d)) + 2
    x0, y0 = (np.floor(poly.min(0)).astype(int) - pad).tolist()
    x1, y1 = (np.ceil(poly.max(0)).astype(int) + pad + 1).tolist()
    shape = (y1 - y0, x1 - x0)
    mask = polygon_mask(poly - [x0, y0], shape, feather=config.feather * d)
    # the cut: at each x across the lip, canvas_lip of the way from its outer edge to its
    # inner one (landmark pairs are not above each other: pairing them cut deeper in places)
    outer, inner = can[list(ix.UPPER_LIP_OUTER)], can[list(ix.UPPER_LIP_INNER)]
    xs = np.linspace(outer[:, 0].min(), outer[:, 0].max(), 64)
    yo = np.interp(xs, *outer[np.argsort(outer[:, 0])].T)
    yi = np.interp(xs, *inner[np.argsort(inner[:, 0])].T)
    cut = np.stack([xs, yo + config.canvas_lip * np.maximum(yi - yo, 0)], 1)
    # above the cut line between the mouth corners; beside them the region droops freely
    # (the cut turns down and out from each corner)
    lo = y1 + pad
    drop = 0.3 * (lo - cut[:, 1])
    above = np.concatenate([cut, [[cut[-1, 0] + drop[-1], lo], [x1 + pad, lo],
                                  [x1 + pad, y0 - pad], [x0 - pad, y0 - pad], [x0 - pad, lo],
                                  [cut[0, 0] - drop[0], lo]]])
    # a narrow feather on the cut: hairs thin out over it, tip by tip, instead of ending on a
    # ruled line
    mask *= polygon_mask(above - [x0, y0], shape, feather=config.cut_feather * d)
    # nor on the lower lip, which the droop beside the corners would touch (grown 1 px)
    lower = np.concatenate([can[list(ix.LOWER_LIP_OUTER)], can[list(ix.LOWER_LIP_INNER)][::-1]])
    mask *= 1 - np.clip(polygon_mask(lower - [x0, y0], shape, feather=1.0) * 4, 0, 1)
    poly.setflags(write=False)
    mask.setflags(write=False)
    return poly, mask, (x0, y0)


def region_box(landmarks: np.ndarray, shape: tuple[int, int],
               config: RegionConfig = RegionConfig()) -> tuple[int, int, int, int] | None:
    """The photo box (x0, y0, x1, y1) the canvas region needs on a face with (478, 2+) photo
    landmarks, clipped to a photo of ``shape`` (h, w); None when it is empty."""
    from data_prep.canvas import FaceMesh

    _, mask, (cx, cy) = canvas_region(config)
    h, w = mask.shape
    edge = np.concatenate([np.stack([np.linspace(cx, cx + w, 24), np.full(24, y)], 1)
                           for y in (cy, cy + h)]
                          + [np.stack([np.full(12, x), np.linspace(cy, cy + h, 12)], 1)
                             for x in (cx, cx + w)])
    x0, y0, x1, y1 = padded_box(FaceMesh(landmarks).to_photo(edge), 0, shape, end=1)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    return x0, y0, x1, y1


def region_support(landmarks: np.ndarray, box: tuple[int, int, int, int],
                   config: RegionConfig = RegionConfig()) -> np.ndarray:
    """The region's soft mask over the photo ``box`` (x0, y0, x1, y1) of a face with
    (478, 2+) photo landmarks (with depth: hidden triangles follow it): float32 (h, w) in
    [0, 1], drawn on the canvas and mapped through the face's mesh."""
    from data_prep.canvas import FaceMesh

    _, mask, origin = canvas_region(config)
    out = FaceMesh(landmarks).to_photo_image(mask, box, origin)
    return np.clip(out, 0.0, 1.0)
