"""Similarity alignment of a face to a canonical, FFHQ-like template.

An :class:`Alignment` holds the 2x3 matrix from photo pixels to aligned pixels and its inverse,
so any aligned pixel maps back to the photo exactly. Sub-windows of the aligned crop (such as
the mustache window) are alignments of their own, made with :func:`sub_window`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from data_prep import indices as ix

# Eye centres and mouth corners in unit coordinates of the aligned crop. FFHQ's framing (crop
# centre = eye_avg + 0.1 * eye_to_mouth, half size = 2 * eye distance); the points are the
# medians over 3,148 CelebA + LFW faces aligned with it, so the template fits real faces.
FFHQ_TEMPLATE = ((0.381, 0.474), (0.619, 0.474), (0.399, 0.734), (0.601, 0.734))


@dataclass(frozen=True)
class AlignConfig:
    size: int = 256  # side of the aligned face crop, pixels
    template: tuple[tuple[float, float], ...] = FFHQ_TEMPLATE  # unit coords of anchor_points()


@dataclass(frozen=True, eq=False)
class Alignment:
    """A similarity transform from photo pixels to a square crop of ``size`` pixels."""

    matrix: np.ndarray  # (2, 3) float64, photo (x, y) -> crop (x, y)
    size: int

    @functools.cached_property
    def inverse(self) -> np.ndarray:
        """(2, 3) float64, crop (x, y) -> photo (x, y)."""
        return _invert(self.matrix)

    @property
    def scale(self) -> float:
        """Crop pixels per photo pixel."""
        m = self.matrix
        return float(np.sqrt(abs(m[0, 0] * m[1, 1] - m[0, 1] * m[1, 0])))

    @property
    def angle(self) -> float:
        """Rotation of the photo's face in degrees (counter-clockwise in image coordinates)."""
        return float(np.degrees(np.arctan2(self.matrix[1, 0], self.matrix[0, 0])))

    def to_crop(self, points: np.ndarray) -> np.ndarray:
        """(N, 2) photo points -> (N, 2) crop points."""
        return _apply(self.matrix, points)

    def to_photo(self, points: np.ndarray) -> np.ndarray:
        """(N, 2) crop points -> (N, 2) photo points."""
        return _apply(self.inverse, points)

    def photo_box(self, margin: float = 0.0) -> tuple[int, int, int, int]:
        """Integer (x0, y0, x1, y1) photo box holding the crop's footprint, ``margin`` crop
        pixels wider on each side. Not clipped to the photo."""
        s = self.size
        c = np.array([[-margin, -margin], [s + margin, -margin], [s + margin, s + margin],
                      [-margin, s + margin]], dtype=np.float64)
        p = self.to_photo(c)
        x0, y0 = np.floor(p.min(0)).astype(int)
        x1, y1 = np.ceil(p.max(0)).astype(int) + 1
        return int(x0), int(y0), int(x1), int(y1)

    def to_dict(self) -> dict:
        return {"matrix": np.round(self.matrix, 6).tolist(), "size": self.size}

    @classmethod
    def from_dict(cls, d: dict) -> Alignment:
        return cls(np.asarray(d["matrix"], dtype=np.float64), int(d["size"]))


def _invert(m: np.ndarray) -> np.ndarray:
    # closed form: np.linalg.inv goes through LAPACK and costs ~1 ms a call under load
    a, b, c, d = m[0, 0], m[0, 1], m[1, 0], m[1, 1]
    det = a * d - b * c
    if det == 0:
        raise ValueError("singular alignment matrix")
    r = np.array([[d, -b], [-c, a]]) / det
    return np.hstack([r, -(r @ m[:, 2])[:, None]])


def _apply(m: np.ndarray, points: np.ndarray) -> np.ndarray:
    p = np.asarray(points, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] < 2:
        raise ValueError(f"points must have shape (N, 2), got {p.shape}")
    return p[:, :2] @ m[:, :2].T + m[:, 2]


def anchor_points(landmarks: np.ndarray) -> np.ndarray:
    """(478 or 468, >=2) FaceMesh landmarks -> (4, 2): eye centres (corner means), mouth corners."""
    lm = np.asarray(landmarks, dtype=np.float64)
    if lm.ndim != 2 or lm.shape[0] < 468 or lm.shape[1] < 2:
        raise ValueError(f"landmarks must have shape (468 or 478, 2 or 3), got {lm.shape}")
    return np.stack([
        lm[list(ix.LEFT_EYE_CORNERS), :2].mean(0),
        lm[list(ix.RIGHT_EYE_CORNERS), :2].mean(0),
        lm[ix.MOUTH_CORNERS[0], :2],
        lm[ix.MOUTH_CORNERS[1], :2],
    ])


def estimate_alignment(landmarks: np.ndarray, config: AlignConfig = AlignConfig()) -> Alignment:
    """Least-squares similarity from the face's anchor points to the template.

    Closed form: a 2-D similarity is [[a, -b], [b, a]] plus a shift, linear in (a, b), so least
    squares on centred points gives it directly; the same optimum as Umeyama's SVD (scikit-image),
    without its import (a second of worker start-up) or its per-call cost (~1 ms).
    """
    src = anchor_points(landmarks)
    dst = np.asarray(config.template, dtype=np.float64) * config.size
    s_mean, d_mean = src.mean(0), dst.mean(0)
    s, d = src - s_mean, dst - d_mean
    norm = float((s * s).sum())
    a = float((s * d).sum()) / norm if norm > 0 else np.nan
    b = float((s[:, 0] * d[:, 1] - s[:, 1] * d[:, 0]).sum()) / norm if norm > 0 else np.nan
    r = np.array([[a, -b], [b, a]])
    m = np.hstack([r, (d_mean - r @ s_mean)[:, None]])
    if not np.all(np.isfinite(m)) or a == b == 0:
        raise ValueError("degenerate landmarks: cannot fit an alignment")
    return Alignment(m, config.size)


def sub_window(alignment: Alignment, box: tuple[float, float, float, float], size: int) -> Alignment:
    """The alignment of a square sub-window of the crop.

    ``box`` is (x0, y0, x1, y1) in unit coordinates of the crop; it is resampled to
    ``size`` x ``size`` pixels.
    """
    x0, y0, x1, y1 = box
    if not (x1 > x0 and y1 > y0):
        raise ValueError(f"empty window box {box}")
    s = alignment.size
    sx, sy = size / ((x1 - x0) * s), size / ((y1 - y0) * s)
    a = np.array([[sx, 0.0, -x0 * s * sx], [0.0, sy, -y0 * s * sy], [0.0, 0.0, 1.0]])
    return Alignment((a @ np.vstack([alignment.matrix, [0, 0, 1]]))[:2], size)


def warp(image: np.ndarray, alignment: Alignment, border: str = "reflect") -> np.ndarray:
    """Resample the photo into the aligned crop: (H, W, C) -> (size, size, C), same dtype.

    Only the crop's footprint in the photo is touched, and it is first shrunk with area
    averaging when the crop is much smaller than the face, so large photos neither alias nor
    cost more than their face.
    """
    import cv2

    if image.ndim not in (2, 3):
        raise ValueError(f"image must be (H, W) or (H, W, C), got {image.shape}")
    h, w = image.shape[:2]
    x0, y0, x1, y1 = alignment.photo_box(margin=2)
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    m = alignment.matrix.copy()
    roi = image
    if x1 > x0 and y1 > y0:
        roi = image[y0:y1, x0:x1]
        m[:, 2] += m[:, :2] @ np.array([x0, y0], dtype=np.float64)
        roi, (sx, sy) = shrunk(roi, alignment.scale)
        m = m @ np.diag([1 / sx, 1 / sy, 1.0])
    mode = {"reflect": cv2.BORDER_REFLECT101, "constant": cv2.BORDER_CONSTANT,
            "replicate": cv2.BORDER_REPLICATE}[border]
    s = alignment.size
    return cv2.warpAffine(np.ascontiguousarray(roi), m, (s, s), flags=cv2.INTER_LINEAR,
                          borderMode=mode)


def shrunk(patch: np.ndarray, scale: float) -> tuple[np.ndarray, tuple[float, float]]:
    """A photo patch about to be sampled at ``scale`` crop px a photo px: area-shrunk first
    when the scale is under 0.5, so bilinear sampling does not skip pixels. -> (the patch,
    its new px per old px along x and y; (1, 1) when left as it is)."""
    import cv2

    if scale >= 0.5:
        return patch, (1.0, 1.0)
    f = min(1.0, 2 * scale)
    nw, nh = max(1, round(patch.shape[1] * f)), max(1, round(patch.shape[0] * f))
    out = cv2.resize(np.ascontiguousarray(patch), (nw, nh), interpolation=cv2.INTER_AREA)
    return out, (nw / patch.shape[1], nh / patch.shape[0])


def unwarp(crop: np.ndarray, alignment: Alignment, box: tuple[int, int, int, int]) -> np.ndarray:
    """Map an aligned crop back to the photo, only over the photo ``box`` (x0, y0, x1, y1).

    Returns an array of shape (y1 - y0, x1 - x0, C) aligned with that box; pixels outside
    the crop's footprint are zero.
    """
    import cv2

    x0, y0, x1, y1 = box
    inv = alignment.inverse.copy()
    inv[:, 2] -= np.array([x0, y0], dtype=np.float64)
    return cv2.warpAffine(crop, inv, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)
