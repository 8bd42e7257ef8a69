"""100% crops of a face's mustache area, for judging the hair at native pixels.

    box = mouth_crop_box(face, photo.shape)                  # (x0, y0, x1, y1) ints, in the photo
    pair = before_after_crop(photo, result.image, face)      # before | after, never resized

``face`` is a :class:`mustache.paint.gan.FaceResult` or anything with its ``region_box``,
``landmarks`` and ``box`` attributes (for example one rebuilt from ``mustache apply --json``).
"""

from __future__ import annotations

import numpy as np

from data_prep import indices as ix

# fallback when a face was not blended (no region box): nose base, mouth corners, chin
_MOUTH_POINTS = (ix.SUBNASALE, *ix.MOUTH_CORNERS, ix.CHIN)


def mouth_crop_box(face, shape, margin: float = 0.25) -> tuple[int, int, int, int]:
    """Integer box (x0, y0, x1, y1), photo px, end-exclusive, around ``face``'s mustache area.

    The face's ``region_box`` (the box that was blended) or, when it is None, the box of its
    nose base, mouth corners and chin (``landmarks`` (478, 2+) photo px), grown on every side
    by ``margin`` x its width (height), then clipped to a photo of ``shape`` (H, W[, C]).
    Raises ValueError when the face has neither, or the box misses the photo.
    """
    if len(shape) not in (2, 3):
        raise ValueError(f"shape must be (H, W) or (H, W, C), got {tuple(shape)}")
    h, w = int(shape[0]), int(shape[1])
    if face.region_box is not None:
        x0, y0, x1, y1 = (float(v) for v in face.region_box)
    elif face.landmarks is not None:
        pts = np.asarray(face.landmarks, np.float64)
        if pts.ndim != 2 or pts.shape[0] < ix.NUM_LANDMARKS or pts.shape[1] < 2:
            raise ValueError(f"landmarks must be ({ix.NUM_LANDMARKS}, 2) photo px, got {pts.shape}")
        xy = pts[list(_MOUTH_POINTS), :2]
        (x0, y0), (x1, y1) = xy.min(0), xy.max(0)
    else:
        raise ValueError("face has neither a region_box nor landmarks")
    gx, gy = margin * (x1 - x0), margin * (y1 - y0)
    box = (max(int(np.floor(x0 - gx)), 0), max(int(np.floor(y0 - gy)), 0),
           min(int(np.ceil(x1 + gx)), w), min(int(np.ceil(y1 + gy)), h))
    if box[2] <= box[0] or box[3] <= box[1]:
        raise ValueError(f"mouth box {box} lies outside the {w}x{h} photo")
    return box


def before_after_crop(before: np.ndarray, after: np.ndarray, face, margin: float = 0.25,
                      gap: int = 4) -> np.ndarray:
    """The same mouth box cut from two RGB uint8 (H, W, 3) photos of one size, side by side
    with a white ``gap`` px between -> uint8 (h, 2w + gap, 3). The crops are the photos' own
    pixels: nothing is resized or resampled."""
    for name, a in (("before", before), ("after", after)):
        if a.ndim != 3 or a.shape[2] != 3 or a.dtype != np.uint8:
            raise ValueError(f"{name} must be RGB uint8 (H, W, 3), got {a.dtype} {a.shape}")
    if before.shape != after.shape:
        raise ValueError(f"before {before.shape} and after {after.shape} differ in size")
    x0, y0, x1, y1 = mouth_crop_box(face, before.shape, margin)
    h, w = y1 - y0, x1 - x0
    out = np.full((h, 2 * w + gap, 3), 255, np.uint8)
    out[:, :w] = before[y0:y1, x0:x1]
    out[:, w + gap:] = after[y0:y1, x0:x1]
    return out
