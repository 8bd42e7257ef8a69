"""The web and phone copies of benchmarks/webphotos.py: deterministic in the seed, the shape and
dtype kept (upscaling: the shape scaled), the input left alone; on a small astronaut."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks import webphotos as wp


@pytest.fixture(scope="module")
def small(astronaut) -> np.ndarray:
    import cv2

    return cv2.resize(astronaut, (96, 96), interpolation=cv2.INTER_AREA)


SAME_SIZE = [wp.down_up, wp.heavy_jpeg, wp.colour_cast, wp.low_light]


@pytest.mark.parametrize("fn", SAME_SIZE + [wp.upscale_jpeg], ids=lambda f: f.__name__)
def test_deterministic_in_the_seed_and_pure(small, fn):
    keep = small.copy()
    a, la = fn(small, np.random.default_rng(3))
    b, lb = fn(small, np.random.default_rng(3))
    assert np.array_equal(small, keep)  # the input is not changed
    assert la == lb and isinstance(la, str) and 0 < len(la) <= 24
    if a.shape == b.shape:
        assert np.array_equal(a, b)
    else:
        pytest.fail(f"same seed, different shapes: {a.shape} {b.shape}")
    # another seed draws other settings (some seed among a few gives other pixels)
    others = [fn(small, np.random.default_rng(s))[0] for s in (4, 5, 6)]
    assert any(o.shape != a.shape or not np.array_equal(o, a) for o in others)


@pytest.mark.parametrize("fn", SAME_SIZE, ids=lambda f: f.__name__)
def test_shape_and_dtype_kept(small, fn):
    out, _ = fn(small, np.random.default_rng(0))
    assert out.shape == small.shape and out.dtype == np.uint8
    assert not np.array_equal(out, small)


def test_upscale_scales_the_shape(small):
    out, label = wp.upscale_jpeg(small, np.random.default_rng(0), scale=2.4, quality=85)
    assert out.shape == (230, 230, 3) and out.dtype == np.uint8 and label == "up2.4 q85"
    out, label = wp.upscale_jpeg(small, np.random.default_rng(0))  # 1.5-4x, quality 60-90
    assert 144 <= out.shape[0] <= 384 and out.shape[0] == out.shape[1]
    q = int(label.split("q")[1])
    assert 60 <= q <= 90
    assert wp.resize(small, 0.5).shape == (48, 48, 3)


def test_what_each_copy_does(small):
    """Soft copies lose fine detail, dark ones light, casts shift the channels' balance."""
    import cv2

    def detail(im):
        g = cv2.cvtColor(im, cv2.COLOR_RGB2GRAY).astype(np.float32)
        return float(np.abs(g - cv2.GaussianBlur(g, (0, 0), 1.0)).mean())

    rng = np.random.default_rng
    assert detail(wp.down_up(small, rng(0))[0]) < 0.7 * detail(small)
    assert wp.low_light(small, rng(0))[0].mean() < 0.9 * small.mean()
    warm = wp.colour_cast(small, rng(0), cast="warm", quality=95)[0].astype(float)
    cool = wp.colour_cast(small, rng(0), cast="cool", quality=95)[0].astype(float)
    assert (warm[..., 0] - warm[..., 2]).mean() > (cool[..., 0] - cool[..., 2]).mean() + 20


def test_bad_input(small):
    with pytest.raises(ValueError, match="RGB uint8"):
        wp.heavy_jpeg(small.astype(np.float32), np.random.default_rng(0))
    with pytest.raises(ValueError, match="kind must be one of"):
        wp.degrade(small, np.random.default_rng(0), "sepia")
    with pytest.raises(ValueError, match="cast must be one of"):
        wp.colour_cast(small, np.random.default_rng(0), cast="sepia")
    out, _ = wp.degrade(small, np.random.default_rng(0), "soft")
    assert out.shape == small.shape
