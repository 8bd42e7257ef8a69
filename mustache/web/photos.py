"""An uploaded photo: checked, decoded upright, and encoded back in its own format.

A download keeps what the photo came with: JPEG in -> JPEG out with the original EXIF (less its
orientation tag: the pixels are already upright) and colour profile; PNG and WebP stay PNG and
WebP; BMP and TIFF come back as PNG. Every refusal is :class:`mustache.errors.BadInput` with one
line a person can act on.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np

from mustache.errors import BadInput

# PIL's format name -> (download format, suffix); MPO is the multi-picture JPEG of many phones
FORMATS: dict[str, tuple[str, str]] = {
    "JPEG": ("JPEG", ".jpg"), "MPO": ("JPEG", ".jpg"), "PNG": ("PNG", ".png"),
    "WEBP": ("WEBP", ".webp"), "BMP": ("PNG", ".png"), "TIFF": ("PNG", ".png"),
}
ORIENTATION = 0x0112  # EXIF tag


@dataclass(frozen=True)
class Limits:
    """What one upload may be."""

    max_bytes: int = 40 * 1024 * 1024  # a 12 MP phone JPEG is 3-8 MB, a 24 MP PNG ~50 MB
    max_pixels: int = 50_000_000  # 50 MP: decoded it is 150 MB of RGB

    def __post_init__(self):
        if self.max_bytes <= 0 or self.max_pixels <= 0:
            raise ValueError(f"limits must be > 0, got {self.max_bytes}, {self.max_pixels}")


@dataclass(frozen=True, eq=False)
class Photo:
    rgb: np.ndarray  # (H, W, 3) uint8, EXIF orientation applied
    format: str  # the download's PIL format: JPEG, PNG or WEBP
    suffix: str  # .jpg, .png or .webp
    exif: bytes  # the original EXIF less orientation (b"" when none)
    icc: bytes | None  # the colour profile, kept so colours look the same


def read_photo(data: bytes, limits: Limits = Limits()) -> Photo:
    """An upload's bytes -> :class:`Photo`; BadInput with the reason when it is empty, too
    large, not an image, of another kind (PDF, HEIC, GIF, ...) or corrupt."""
    from PIL import Image, UnidentifiedImageError

    from data_prep.image_io import ImageLoadError, decode_image

    if not data:
        raise BadInput("the file is empty (0 bytes)")
    if len(data) > limits.max_bytes:
        raise BadInput(f"the file is too large ({len(data) / 2**20:.1f} MB; the limit is "
                       f"{limits.max_bytes / 2**20:.0f} MB)")
    try:
        with Image.open(io.BytesIO(data)) as im:  # the header only: format, size, EXIF
            kind, (w, h) = im.format, im.size
            exif = im.getexif()
            icc = im.info.get("icc_profile")
    except UnidentifiedImageError:
        raise BadInput("this file is not an image (use JPEG, PNG or WebP)") from None
    except Exception as e:  # a header PIL cannot parse is a corrupt file, whatever it raised
        raise BadInput(f"this image is corrupt ({e})") from None
    if kind not in FORMATS:
        raise BadInput(f"{kind} images are not supported (use JPEG, PNG or WebP)")
    if w * h > limits.max_pixels:
        raise BadInput(f"the photo is too large ({w}x{h} = {w * h / 1e6:.3g} MP; the limit is "
                       f"{limits.max_pixels / 1e6:.3g} MP)")
    fmt, suffix = FORMATS[kind]
    rgb = _decode_jpeg(data) if fmt == "JPEG" else None
    if rgb is None:
        try:
            rgb = decode_image(data, limits.max_pixels)
        except ImageLoadError as e:
            raise BadInput(f"this image cannot be read: {e}") from None
    exif_bytes = b""
    if fmt == "JPEG" and len(exif):
        exif.pop(ORIENTATION, None)
        exif_bytes = exif.tobytes()
    return Photo(rgb, fmt, suffix, exif_bytes, icc)


def _decode_jpeg(data: bytes) -> np.ndarray | None:
    """A JPEG through OpenCV, upright (it applies the EXIF orientation itself): 0.16 s for
    12 MP where PIL takes 0.47 s, a third of the page's time budget. None when OpenCV cannot
    read it: PIL then decodes it or says why."""
    import cv2

    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    return None if bgr is None else cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB, dst=bgr)


def encode_like(rgb: np.ndarray, photo: Photo, quality: int = 95) -> bytes:
    """RGB uint8 (H, W, 3) -> bytes in ``photo``'s format, with its EXIF and colour profile."""
    from PIL import Image

    im = Image.fromarray(np.ascontiguousarray(rgb))
    extra: dict = {"icc_profile": photo.icc} if photo.icc else {}
    buf = io.BytesIO()
    if photo.format == "JPEG":
        im.save(buf, "JPEG", quality=quality, exif=photo.exif, **extra)
    elif photo.format == "WEBP":
        im.save(buf, "WEBP", quality=quality, **extra)
    else:  # level 1: a 12 MP PNG in ~0.5 s instead of ~3 s, a few % larger
        im.save(buf, "PNG", compress_level=1, **extra)
    return buf.getvalue()


def encode_crop(rgb: np.ndarray) -> bytes:
    """A small crop for the page as PNG: lossless, so the 100% view shows the real pixels."""
    from data_prep.image_io import encode_image

    return encode_image(np.ascontiguousarray(rgb), ".png")
