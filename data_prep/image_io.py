"""Reading and writing photos.

Convention at every edge of the project: images are ``uint8`` arrays of shape ``(H, W, 3)`` in
**RGB** order. This module is the one place that turns arbitrary files (any mode, bit depth,
EXIF orientation) into that, and writes results atomically.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff"})
MAX_PIXELS = 80_000_000  # ~ 9000x9000: anything bigger is treated as a decompression bomb


class ImageLoadError(ValueError):
    """A file that cannot be read as a photo; the message names the reason."""


def is_image_path(path: str | os.PathLike) -> bool:
    return Path(path).suffix.lower() in IMAGE_SUFFIXES


def load_image(path: str | os.PathLike, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Read any supported photo as RGB ``uint8`` ``(H, W, 3)``.

    EXIF orientation is applied; grayscale, palette, RGBA (composited on white), 16-bit and
    CMYK inputs are converted. Raises :class:`ImageLoadError` with a one-line reason.
    """
    path = Path(path)
    if not path.is_file():
        raise ImageLoadError("file not found")
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ImageLoadError(f"cannot read file ({e.strerror})") from None
    return decode_image(data, max_pixels)


def decode_image(data: bytes, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Like :func:`load_image`, from the file's bytes."""
    import io

    from PIL import Image, ImageOps, UnidentifiedImageError

    if not data:
        raise ImageLoadError("empty file (0 bytes)")
    try:
        with Image.open(io.BytesIO(data)) as im:
            w, h = im.size
            if w * h > max_pixels:
                raise ImageLoadError(
                    f"image too large ({w}x{h} = {w * h:,} pixels > limit {max_pixels:,})"
                )
            im = ImageOps.exif_transpose(im)
            return _to_rgb(im)
    except ImageLoadError:
        raise
    except Image.DecompressionBombError as e:
        raise ImageLoadError(f"image too large ({e})") from None
    except UnidentifiedImageError:
        raise ImageLoadError("not an image (unrecognised format)") from None
    except (OSError, SyntaxError, ValueError) as e:
        raise ImageLoadError(f"corrupt or truncated image ({e})") from None


def _to_rgb(im) -> np.ndarray:
    mode = im.mode
    if mode in ("I;16", "I;16B", "I;16L", "I"):
        a = np.asarray(im, dtype=np.float64)
        top = 65535.0 if a.max() > 255 else 255.0
        g = np.clip(a / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return np.repeat(g[:, :, None], 3, axis=2)
    if mode == "F":
        a = np.asarray(im, dtype=np.float64)
        g = np.clip(a * (255.0 if a.max() <= 1.0 else 1.0) + 0.5, 0, 255).astype(np.uint8)
        return np.repeat(g[:, :, None], 3, axis=2)
    if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in im.info):
        from PIL import Image

        rgba = im.convert("RGBA")
        bg = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        im = Image.alpha_composite(bg, rgba)
    rgb = np.asarray(im.convert("RGB"), dtype=np.uint8)
    return np.ascontiguousarray(rgb)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename, so a reader never sees
    a half-written file and an interrupted run leaves the old one in place."""
    path = Path(path)
    # pid + thread id make the name unique per writer without mkstemp's retries
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        try:
            f = open(tmp, "wb")
        except FileNotFoundError:
            path.parent.mkdir(parents=True, exist_ok=True)
            f = open(tmp, "wb")
        with f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def encode_image(image: np.ndarray, suffix: str = ".png", quality: int = 95) -> bytes:
    """Encode an RGB (or single-channel) ``uint8`` image to bytes in the format of ``suffix``."""
    import cv2

    arr = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    params: list[int] = []
    s = suffix.lower()
    if s in (".jpg", ".jpeg"):
        params = [cv2.IMWRITE_JPEG_QUALITY, quality]
    elif s == ".webp":
        params = [cv2.IMWRITE_WEBP_QUALITY, quality]
    elif s == ".png":
        # level 1 + Huffman-only: a third faster than level 1 alone, same size on photos
        params = [cv2.IMWRITE_PNG_COMPRESSION, 1,
                  cv2.IMWRITE_PNG_STRATEGY, cv2.IMWRITE_PNG_STRATEGY_HUFFMAN_ONLY]
    ok, buf = cv2.imencode(s if s != ".tif" else ".tiff", arr, params)
    if not ok:
        raise ValueError(f"cannot encode image as {suffix}")
    return buf.tobytes()


def save_image(path: str | os.PathLike, image: np.ndarray, quality: int = 95) -> None:
    """Atomically write an RGB ``uint8`` ``(H, W, 3)`` (or ``(H, W)`` gray) image."""
    atomic_write_bytes(path, encode_image(image, Path(path).suffix or ".png", quality))


def read_image_fast(path: str | os.PathLike) -> np.ndarray:
    """Read a file this project wrote itself (no EXIF, 8-bit) with OpenCV: RGB or gray uint8."""
    import cv2

    a = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if a is None:
        raise ImageLoadError(f"cannot read {path}")
    if a.ndim == 3:
        a = cv2.cvtColor(a, cv2.COLOR_BGR2RGB)
    return a


def shrink(image: np.ndarray, size: int) -> tuple[np.ndarray, float]:
    """RGB uint8 (H, W, 3) -> (a copy at most ``size`` px long, its scale); the image itself and
    1.0 when it is already that small. For detectors: fast rather than finely filtered."""
    import cv2

    h, w = image.shape[:2]
    k = size / max(h, w)
    if k >= 1.0:
        return image, 1.0
    size_wh = (max(1, round(w * k)), max(1, round(h * k)))
    if k < 0.5:
        # nearest-neighbour down to 2x the target, then bilinear (at 2x it averages 2x2
        # pixels): INTER_AREA over a 4000 px photo costs 8x more, and a numpy stride 2x more
        # (cv2 copies the strided view)
        image = cv2.resize(image, (2 * size_wh[0], 2 * size_wh[1]), interpolation=cv2.INTER_NEAREST)
    small = cv2.resize(image, size_wh, interpolation=cv2.INTER_LINEAR)
    return small, small.shape[1] / w
