"""The mustache region: a polygon from landmarks, its soft mask, and the fixed window.

The *window* is a fixed square of the aligned face (by default from just above the nose tip
to below the chin, 128 px) on which the GAN works; windows of different photos line up
because they are defined in aligned coordinates. The *region* is the part of the window a
mustache may cover: from under the nose (subnasale, alar bases) down over the upper lip, past
the mouth corners and down beside them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from data_prep import indices as ix
from data_prep.align import AlignConfig, Alignment, estimate_alignment, sub_window, warp


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
    if feather > 0:
        out = cv2.GaussianBlur(out, (0, 0), feather)
        # renormalise so the blurred mask still reaches 1 in the region's core
        out = np.clip(out * 1.5 - 0.25, 0.0, 1.0)
    return out


@dataclass(frozen=True, eq=False)
class MustacheRegion:
    """The region of one face, in window coordinates."""

    window: Alignment  # photo -> window
    polygon: np.ndarray  # (K, 2) window pixels
    mask: np.ndarray  # (S, S) float32 in [0, 1], soft


def mustache_region(landmarks: np.ndarray, face: Alignment,
                    config: RegionConfig = RegionConfig()) -> MustacheRegion:
    """Photo-space landmarks (478, 2+) and the face alignment -> the region in its window."""
    win = window_alignment(face, config)
    lm_w = win.to_crop(np.asarray(landmarks)[:, :2])
    poly = region_polygon(lm_w, config)
    d = float(np.linalg.norm(lm_w[list(ix.RIGHT_EYE_CORNERS)].mean(0)
                             - lm_w[list(ix.LEFT_EYE_CORNERS)].mean(0)))
    mask = polygon_mask(poly, config.window_size, feather=config.feather * d)
    return MustacheRegion(win, poly, mask)


def cut_window(image: np.ndarray, landmarks: np.ndarray, align: AlignConfig = AlignConfig(),
               config: RegionConfig = RegionConfig()) -> tuple[MustacheRegion, np.ndarray]:
    """One face's region and window, cut exactly as prep cuts them: RGB uint8 (H, W, 3) photo
    and (478, 2+) photo landmarks -> (region, window uint8 (S, S, 3))."""
    region = mustache_region(landmarks, estimate_alignment(landmarks, align), config)
    return region, warp(image, region.window)
