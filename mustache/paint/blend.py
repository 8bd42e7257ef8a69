"""Blend a painted patch into a photo: Poisson (cv2.seamlessClone) on a tight crop, then a
feathered alpha composite, so nothing outside the mask changes.

``cv2.seamlessClone`` treats the mask's outer pixel ring as zero and can crash or ghost when
the mask touches the image border (opencv #15294, #10498), and its cost grows with the mask's
bounding box. So it runs on a crop around the mask with a margin (padded by replication where
the photo ends), and large regions are solved on a downscaled copy: the Poisson correction
(clone - source) is smooth, so it is upsampled and added back to the full-resolution patch.
"""

from __future__ import annotations

import math

import numpy as np

CLONE_MODES = ("normal", "mixed", "alpha")
GROW = 4  # px: normal cloning takes its boundary this far outside the mask (see _membrane_clone)


def _check(photo: np.ndarray, patch: np.ndarray, mask: np.ndarray, box, clone: str) -> None:
    if photo.ndim != 3 or photo.shape[2] != 3 or photo.dtype != np.uint8:
        raise ValueError(f"photo must be uint8 (H, W, 3), got {photo.dtype} {photo.shape}")
    if patch.ndim != 3 or patch.shape[2] != 3 or patch.dtype != np.uint8:
        raise ValueError(f"patch must be uint8 (h, w, 3), got {patch.dtype} {patch.shape}")
    if mask.shape != patch.shape[:2]:
        raise ValueError(f"mask must have the patch's shape {patch.shape[:2]}, got {mask.shape}")
    x0, y0, x1, y1 = box
    if (y1 - y0, x1 - x0) != patch.shape[:2]:
        raise ValueError(f"box {tuple(box)} is {(y1 - y0, x1 - x0)} but the patch is {patch.shape[:2]}")
    if clone not in CLONE_MODES:
        raise ValueError(f"clone must be one of {CLONE_MODES}, got {clone!r}")


def blend_patch(photo: np.ndarray, patch: np.ndarray, mask: np.ndarray,
                box: tuple[int, int, int, int], clone: str = "normal", *,
                max_solve: int = 256, out: np.ndarray | None = None) -> np.ndarray:
    """Blend ``patch`` into ``photo[y0:y1, x0:x1]`` and return a new photo.

    ``photo`` RGB uint8 (H, W, 3); ``patch`` RGB uint8 (h, w, 3) and ``mask`` float (h, w) in
    [0, 1] cover ``box`` = (x0, y0, x1, y1), which may extend past the photo (the outside is
    ignored). ``clone``: "normal" (Poisson, recoloured to its surroundings), "mixed" (Poisson
    keeping the stronger gradient, so skin texture shows) or "alpha" (no Poisson).
    ``max_solve``: long side (px) above which the Poisson step runs on a downscaled crop.
    ``out``: write into this array (it may be ``photo`` itself) instead of a new copy, which
    saves a full-photo copy per face on large photos. Pixels where ``mask == 0`` are
    bit-identical to ``photo``.
    """
    photo = np.asarray(photo)
    patch = np.asarray(patch)
    mask = np.asarray(mask)
    box = tuple(int(v) for v in box)
    _check(photo, patch, mask, box, clone)
    h, w = photo.shape[:2]
    x0, y0, x1, y1 = box
    if out is None:
        out = photo.copy()
    elif out.shape != photo.shape or out.dtype != np.uint8:
        raise ValueError(f"out must be uint8 {photo.shape}, got {out.dtype} {out.shape}")
    elif out is not photo:
        out[...] = photo
    cx0, cy0, cx1, cy1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    if cx1 <= cx0 or cy1 <= cy0:
        return out
    m = np.clip(np.nan_to_num(mask[cy0 - y0:cy1 - y0, cx0 - x0:cx1 - x0].astype(np.float32)), 0, 1)
    ys, xs = np.nonzero(m > 0)
    if ys.size == 0:
        return out
    # the mask's own bounding box, GROW px wider where the patch reaches (the Poisson boundary
    # is taken there), in photo pixels: everything below works on it only
    mh, mw = m.shape
    by0, by1 = max(ys.min() - GROW, 0), min(ys.max() + 1 + GROW, mh)
    bx0, bx1 = max(xs.min() - GROW, 0), min(xs.max() + 1 + GROW, mw)
    a = m[by0:by1, bx0:bx1]
    src = patch[cy0 - y0 + by0:cy0 - y0 + by1, cx0 - x0 + bx0:cx0 - x0 + bx1]
    bx0, by0, bx1, by1 = cx0 + bx0, cy0 + by0, cx0 + bx1, cy0 + by1
    here = photo[by0:by1, bx0:bx1].copy()  # a copy: ``out`` may be ``photo``
    if clone != "alpha":
        src = _poisson(photo, src, a > 0, (bx0, by0, bx1, by1), clone, max_solve)
    mixed = here.astype(np.float32) * (1 - a[..., None]) + src.astype(np.float32) * a[..., None]
    mixed = np.clip(np.rint(mixed), 0, 255).astype(np.uint8)
    out[by0:by1, bx0:bx1] = np.where((a > 0)[..., None], mixed, here)
    return out


def _poisson(photo: np.ndarray, src: np.ndarray, sel: np.ndarray, box: tuple[int, int, int, int],
             clone: str, max_solve: int) -> np.ndarray:
    """Poisson-clone ``src`` (bh, bw, 3) over ``sel`` (bh, bw) bool into the photo at ``box``;
    returns the (bh, bw, 3) uint8 cloned values."""
    import cv2

    bx0, by0, bx1, by1 = box
    bh, bw = sel.shape
    f = min(1.0, max_solve / max(bh, bw))
    mg = max(8, math.ceil(4 / f)) + GROW  # keeps the (grown) mask >= 4 px off the crop edge
    h, w = photo.shape[:2]
    ex0, ey0, ex1, ey1 = bx0 - mg, by0 - mg, bx1 + mg, by1 + mg
    crop = photo[max(ey0, 0):min(ey1, h), max(ex0, 0):min(ex1, w)]
    dst = cv2.copyMakeBorder(crop, max(0, -ey0), max(0, ey1 - h), max(0, -ex0), max(0, ex1 - w),
                             cv2.BORDER_REPLICATE)
    full = dst.copy()
    cmask = np.zeros(dst.shape[:2], np.uint8)
    if clone == "normal":  # the patch where it is known; the boundary is GROW px out
        full[mg:mg + bh, mg:mg + bw] = src
        # GROW - 2: the pixels just outside the grown mask, its boundary, are still patch
        cmask[mg:mg + bh, mg:mg + bw] = cv2.dilate(sel.astype(np.uint8) * np.uint8(255),
                                                   np.ones((2 * GROW - 3,) * 2, np.uint8))
    else:
        full[mg:mg + bh, mg:mg + bw] = np.where(sel[..., None], src, full[mg:mg + bh, mg:mg + bw])
        cmask[mg:mg + bh, mg:mg + bw] = sel * np.uint8(255)
    if f < 1.0:
        size = (max(8, round(dst.shape[1] * f)), max(8, round(dst.shape[0] * f)))
        dst_s = cv2.resize(dst, size, interpolation=cv2.INTER_AREA)
        src_s = cv2.resize(full, size, interpolation=cv2.INTER_AREA)
        cm_s = cv2.resize(cmask, size, interpolation=cv2.INTER_LINEAR)
        cm_s = np.where(cm_s > 0, 255, 0).astype(np.uint8)
    else:
        dst_s, src_s, cm_s = dst, full, cmask
    # one pixel wider, so thin or single-pixel masks still make a solvable region (a 1x1 region
    # crashes seamlessClone); the border stays clear: seamlessClone reads its outer ring as zero
    cm_s = cv2.dilate(cm_s, np.ones((3, 3), np.uint8))
    cm_s[:2] = 0
    cm_s[-2:] = 0
    cm_s[:, :2] = 0
    cm_s[:, -2:] = 0
    x, y, rw, rh = cv2.boundingRect(cm_s)
    if rw == 0 or rh == 0:
        return src
    # seamlessClone puts the mask's bounding box at p - size // 2: this p keeps it in place
    centre = (x + rw // 2, y + rh // 2)
    if clone == "normal":
        cloned = _membrane_clone(src_s, dst_s, cm_s, centre)
    else:
        cloned = cv2.seamlessClone(src_s, dst_s, cm_s, centre, cv2.MIXED_CLONE)
    if f < 1.0:  # the correction is smooth: solve small, add it back at full resolution
        corr = cloned.astype(np.float32) - src_s.astype(np.float32)
        corr = cv2.resize(corr, (dst.shape[1], dst.shape[0]), interpolation=cv2.INTER_LINEAR)
        cloned = np.clip(full.astype(np.float32) + corr, 0, 255).astype(np.uint8)
    return cloned[mg:mg + bh, mg:mg + bw]


def _membrane_clone(src: np.ndarray, dst: np.ndarray, mask: np.ndarray, centre) -> np.ndarray:
    """Poisson cloning as ``src`` plus the harmonic interpolation of ``dst - src`` from the
    mask's boundary (the same solution as NORMAL_CLONE in exact arithmetic).

    seamlessClone drops the source's gradients on the mask's outer ring; a soft mask's change
    ramps up right there, so cloning the source directly lightened a generated mustache
    (measured: -28 -> -12 grey levels in its core). Cloning a flat source onto the boundary
    difference has no gradients to drop: a patch that already meets the photo stays as it is,
    and one that does not is pulled to its surroundings.
    """
    import cv2

    diff = dst.astype(np.int16) - src.astype(np.int16)  # -255..255, halved to fit uint8
    boundary = np.clip((diff >> 1) + 128, 0, 255).astype(np.uint8)
    # only the boundary's values may count, but seamlessClone still reads the destination's
    # gradients on the mask's outer ring: make the inside flat, at the boundary's median
    inside = mask > 0
    ring = (cv2.dilate(mask, np.ones((3, 3), np.uint8)) > 0) & ~inside
    boundary[inside] = np.median(boundary[ring], axis=0).astype(np.uint8)
    flat = np.full_like(boundary, 128)
    membrane = cv2.seamlessClone(flat, boundary, mask, centre, cv2.NORMAL_CLONE)
    corr = (membrane.astype(np.int16) - 128) * 2
    return np.clip(src.astype(np.int16) + corr, 0, 255).astype(np.uint8)
