"""An uploaded photo: checked, decoded upright, and encoded back in its own format.

The header comes first: its format and size are read without decoding a pixel, and a photo past
the pixel limit is refused (:class:`TooLarge`) before any memory is spent on it (a 46 KB PNG can
hold 7000x7000 grey pixels, 147 MB decoded).

A download keeps what the photo came with: JPEG in -> JPEG out with the original EXIF (less its
orientation tag, as the pixels are already upright, and less its GPS block unless asked to keep
EXIF whole: :mod:`mustache.web.exif`) and colour profile; PNG and WebP stay PNG and WebP; BMP
and TIFF come back as PNG. Every refusal is :class:`mustache.errors.BadInput` with one line a
person can act on.
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass

import numpy as np

from mustache.errors import BadInput
from mustache.web.exif import download_exif

# PIL's format name -> (download format, suffix); MPO is the multi-picture JPEG of many phones
FORMATS: dict[str, tuple[str, str]] = {
    "JPEG": ("JPEG", ".jpg"), "MPO": ("JPEG", ".jpg"), "PNG": ("PNG", ".png"),
    "WEBP": ("WEBP", ".webp"), "BMP": ("PNG", ".png"), "TIFF": ("PNG", ".png"),
}
# the major brands of HEIF files (iPhones' HEIC): Pillow reads none without a plugin
HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1",
               b"msf1"}


class TooLarge(BadInput):
    """An upload past the byte or pixel limit (answered 413)."""


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
    exif: bytes  # what a JPEG download carries (b"" when none): mustache.web.exif
    icc: bytes | None  # the colour profile, kept so colours look the same
    notes: tuple[str, ...] = ()  # for the page: what of the photo the download leaves out


def too_large(pixels: int, limit: int) -> TooLarge:
    return TooLarge(f"the photo is too large: {pixels / 1e6:.3g} MP, the limit is "
                    f"{limit / 1e6:.3g} MP")


def read_photo(data: bytes, limits: Limits = Limits(), keep_exif: bool = False) -> Photo:
    """An upload's bytes -> :class:`Photo`; BadInput with the reason when it is empty, too
    large (TooLarge), not an image, of another kind (PDF, HEIC, GIF, ...) or corrupt."""

    if not data:
        raise BadInput("the file is empty (0 bytes)")
    if len(data) > limits.max_bytes:
        raise TooLarge(f"the file is too large ({len(data) / 2**20:.1f} MB; the limit is "
                       f"{limits.max_bytes / 2**20:.0f} MB)")
    # Pillow's warnings (past 89 MP, its own guard; damaged EXIF) are no news here: the limit
    # is ours, checked below, and a damaged file is refused or read as well as it can be
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kind, (w, h), exif, icc = _header(data, limits)
        if w * h > limits.max_pixels:
            raise too_large(w * h, limits.max_pixels)
        fmt, suffix = FORMATS[kind]
        rgb = _decode_jpeg(data) if fmt == "JPEG" else None
        if rgb is None:
            rgb = _decode(data, limits)
        notes: tuple[str, ...] = ()
        exif_bytes = b""
        if fmt == "JPEG" and exif is not None:
            exif_bytes, note = download_exif(exif, keep_location=keep_exif)
            notes = (note,) if note else ()
        elif fmt == "JPEG" and exif is None:
            notes = ("the photo's EXIF could not be read, so the download has none",)
    return Photo(rgb, fmt, suffix, exif_bytes, icc, notes)


def _header(data: bytes, limits: Limits):
    """-> (PIL's format, (w, h), its EXIF or None when unreadable, colour profile), reading
    the header alone."""
    from PIL import Image, UnidentifiedImageError

    if data[4:8] == b"ftyp" and data[8:12] in HEIF_BRANDS:
        raise BadInput("HEIC is not supported; convert to JPEG or PNG")
    try:
        with Image.open(io.BytesIO(data)) as im:  # the header only: format, size, EXIF
            kind, size = im.format, im.size
            icc = im.info.get("icc_profile")
            if kind not in FORMATS:
                raise BadInput(f"{kind} images are not supported (use JPEG, PNG or WebP)")
            try:
                exif = im.getexif() if FORMATS[kind][0] == "JPEG" else None
            except Exception:  # a broken EXIF block spoils the EXIF, not the photo
                exif = None
    except BadInput:
        raise
    except Image.DecompressionBombError as e:  # past twice Pillow's own limit: said by size
        m = re.search(r"\((\d+) pixels\)", str(e))
        if m is None:
            raise TooLarge(f"the photo is too large ({e})") from None
        raise too_large(int(m.group(1)), limits.max_pixels) from None
    except UnidentifiedImageError:
        raise BadInput("this file is not an image (use JPEG, PNG or WebP)") from None
    except Exception as e:  # a header PIL cannot parse is a corrupt file, whatever it raised
        raise BadInput(f"this image is corrupt ({' '.join(str(e).split())})") from None
    return kind, size, exif, icc


def _decode(data: bytes, limits: Limits) -> np.ndarray:
    from data_prep.image_io import ImageLoadError, decode_image

    try:
        return decode_image(data, limits.max_pixels)
    except ImageLoadError as e:
        raise BadInput(f"this image cannot be read: {e}") from None
    except Exception as e:  # a decoder's own error on a crafted file (struct.error, ...)
        raise BadInput(f"this image cannot be read: {type(e).__name__}") from None


def _decode_jpeg(data: bytes) -> np.ndarray | None:
    """A JPEG through OpenCV, upright (it applies the EXIF orientation itself): 0.16 s for
    12 MP where PIL takes 0.47 s, a third of the page's time budget. None when OpenCV cannot
    read it: PIL then decodes it or says why."""
    import cv2

    try:
        bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    except cv2.error:
        return None
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
