"""Copies of a photo that look like the web and phone photos people have: upscaled and
re-compressed, soft, heavily compressed, colour-cast, dark and noisy.

Each function takes an RGB uint8 photo (H, W, 3) and a seeded ``numpy.random.Generator`` and
returns ``(image, label)``: a new RGB uint8 image (the same size unless the function says
otherwise) and a short label naming what was done ("up2.4 q85"). Pure: the input is never
changed, and the same seed gives the same pixels. Landmarks are not carried through: whoever
measures a copy detects its face again.

    from benchmarks.webphotos import DEGRADE, upscale_jpeg
    img, label = upscale_jpeg(rgb, np.random.default_rng(0), scale=2.4, quality=85)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Degrade = Callable[..., tuple[np.ndarray, str]]


def _check(image) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"image must be RGB uint8 (H, W, 3), got {image.dtype} {image.shape}")
    return image


def jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    """One JPEG encode and decode at ``quality`` (1-100, 4:2:0 chroma as cameras and sites
    write it): RGB uint8 (H, W, 3) -> the same shape."""
    import cv2

    image = _check(image)
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR),
                           [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def resize(image: np.ndarray, scale: float) -> np.ndarray:
    """Resize by ``scale``: area-averaged when shrinking, bicubic when enlarging (as an image
    editor does) -> RGB uint8 (round(H*scale), round(W*scale), 3)."""
    import cv2

    image = _check(image)
    h, w = image.shape[:2]
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    if size == (w, h):
        return image.copy()
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)


def upscale_jpeg(image: np.ndarray, rng: np.random.Generator, scale: float | None = None,
                 quality: int | None = None) -> tuple[np.ndarray, str]:
    """A small photo blown up (bicubic) by ``scale`` (default: 1.5-4x from ``rng``) and saved
    as JPEG ``quality`` (default 60-90): soft faces with compression blocks, as many web photos
    are. The result is ``scale`` times larger: (round(H*scale), round(W*scale), 3)."""
    scale = float(rng.uniform(1.5, 4.0)) if scale is None else float(scale)
    quality = int(rng.integers(60, 91)) if quality is None else int(quality)
    return jpeg(resize(image, scale), quality), f"up{scale:.1f} q{quality}"


def down_up(image: np.ndarray, rng: np.random.Generator, factor: float | None = None,
            quality: int | None = None) -> tuple[np.ndarray, str]:
    """Shrunk by ``factor`` (default 3 or 5), smoothed (a Gaussian of 0.5-1 small px) and
    blown back up (bicubic) to the same size, then JPEG (default quality 65-85): a photo
    resampled on its way to the web, soft at its full size."""
    import cv2

    image = _check(image)
    factor = float(rng.choice([3.0, 5.0])) if factor is None else float(factor)
    quality = int(rng.integers(65, 86)) if quality is None else int(quality)
    h, w = image.shape[:2]
    small = resize(image, 1 / factor)
    small = cv2.GaussianBlur(small, (0, 0), float(rng.uniform(0.5, 1.0)))
    up = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
    return jpeg(up, quality), f"soft/{factor:.0f} q{quality}"


def heavy_jpeg(image: np.ndarray, rng: np.random.Generator, quality: int | None = None
               ) -> tuple[np.ndarray, str]:
    """Saved twice as JPEG, the second time at ``quality`` (default 40-60): a photo shared and
    re-shared, with blocks and smeared chroma. Same size."""
    quality = int(rng.integers(40, 61)) if quality is None else int(quality)
    first = int(rng.integers(80, 96))
    return jpeg(jpeg(image, first), quality), f"jpeg q{quality}"


# white balance off: per-channel gains (R, G, B) before a small random jitter
CASTS = {"warm": (1.12, 1.0, 0.82), "cool": (0.85, 0.98, 1.15), "green": (0.92, 1.1, 0.88),
         "magenta": (1.08, 0.9, 1.06)}


def colour_cast(image: np.ndarray, rng: np.random.Generator, cast: str | None = None,
                quality: int | None = None) -> tuple[np.ndarray, str]:
    """White balance off: the channels scaled by a ``cast``'s gains (``CASTS``; default one
    from ``rng``, jittered by 3%) in linear light, then JPEG (default 70-90). Same size."""
    image = _check(image)
    cast = str(rng.choice(sorted(CASTS))) if cast is None else cast
    if cast not in CASTS:
        raise ValueError(f"cast must be one of {sorted(CASTS)}, got {cast!r}")
    quality = int(rng.integers(70, 91)) if quality is None else int(quality)
    gains = np.asarray(CASTS[cast], np.float32) * rng.uniform(0.97, 1.03, 3).astype(np.float32)
    lin = (image.astype(np.float32) / 255) ** 2.2 * gains
    out = np.clip(255 * np.clip(lin, 0, 1) ** (1 / 2.2) + 0.5, 0, 255).astype(np.uint8)
    return jpeg(out, quality), f"{cast} q{quality}"


def low_light(image: np.ndarray, rng: np.random.Generator, exposure: float | None = None,
              noise: float | None = None, quality: int | None = None) -> tuple[np.ndarray, str]:
    """A dim indoor phone shot: exposure cut (default to 25-50% in linear light), a
    brightening gamma (the phone's tone curve lifting the shadows), the sensor's noise
    (default 4-9 grey levels, plus half that in each channel: the chroma noise a phone's
    denoise leaves), then JPEG (default 60-80). Same size."""
    image = _check(image)
    exposure = float(rng.uniform(0.25, 0.5)) if exposure is None else float(exposure)
    noise = float(rng.uniform(4.0, 9.0)) if noise is None else float(noise)
    quality = int(rng.integers(60, 81)) if quality is None else int(quality)
    lin = (image.astype(np.float32) / 255) ** 2.2 * exposure
    dark = 255 * (lin ** (1 / 2.2)) ** 0.8
    grain = rng.standard_normal(image.shape[:2] + (1,), np.float32) * noise
    chroma = rng.standard_normal(image.shape, np.float32) * (0.5 * noise)
    out = np.clip(dark + grain + chroma + 0.5, 0, 255).astype(np.uint8)
    return jpeg(out, quality), f"dark{exposure:.2f} n{noise:.0f} q{quality}"


# the degradations of a studio photo that keep its size, by name (hair_quality's
# hires_degraded set takes them in turn)
DEGRADE: dict[str, Degrade] = {"soft": down_up, "compressed": heavy_jpeg, "cast": colour_cast,
                               "dark": low_light}


def degrade(image: np.ndarray, rng: np.random.Generator, kind: str) -> tuple[np.ndarray, str]:
    """``DEGRADE[kind](image, rng)``, a ValueError naming the kinds for an unknown one."""
    if kind not in DEGRADE:
        raise ValueError(f"kind must be one of {sorted(DEGRADE)}, got {kind!r}")
    return DEGRADE[kind](image, rng)
