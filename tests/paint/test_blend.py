"""blend_patch: untouched outside the mask, borders, clone modes, large regions, bad shapes."""

from __future__ import annotations

import numpy as np
import pytest

from mustache.paint.blend import blend_patch


def _ellipse_mask(h: int, w: int, feather: float = 3.0) -> np.ndarray:
    import cv2

    m = np.zeros((h, w), np.float32)
    cv2.ellipse(m, (w // 2, h // 2), (w // 3, h // 4), 0, 0, 360, 1.0, -1)
    return np.clip(cv2.GaussianBlur(m, (0, 0), feather) * 1.5 - 0.25, 0, 1).astype(np.float32)


def _stripes(h: int, w: int) -> np.ndarray:
    rows = np.where((np.arange(h) // 3) % 2 == 0, 20, 120)
    return np.repeat(np.repeat(rows[:, None, None], w, 1), 3, 2).astype(np.uint8)


def _photo(h=200, w=300, seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = np.linspace(60, 200, w)[None, :, None] + np.zeros((h, 1, 3))
    return np.clip(base + rng.normal(0, 8, (h, w, 3)), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("clone", ["normal", "mixed", "alpha"])
def test_outside_mask_unchanged_inside_changed(clone):
    photo = _photo()
    patch = _stripes(60, 100)
    mask = _ellipse_mask(60, 100)
    out = blend_patch(photo, patch, mask, (100, 70, 200, 130), clone=clone)
    assert out.shape == photo.shape and out.dtype == np.uint8
    full = np.zeros(photo.shape[:2], np.float32)
    full[70:130, 100:200] = mask
    assert np.array_equal(out[full == 0], photo[full == 0])
    core = full > 0.99
    # the stripes landed (Poisson may shift their colour, not their pattern)
    d = out.astype(np.float32)[..., 0][core] - photo.astype(np.float32)[..., 0][core]
    assert np.corrcoef(d, patch[..., 0].astype(np.float32)[mask > 0.99])[0, 1] > 0.8
    assert out is not photo and np.array_equal(photo, _photo())  # input untouched


@pytest.mark.parametrize("box", [(-40, -30, 60, 30), (250, 170, 350, 230), (-50, 150, 350, 210),
                                 (290, 0, 390, 60), (400, 400, 500, 460)])
@pytest.mark.parametrize("clone", ["normal", "mixed"])
def test_boxes_past_the_edges(box, clone):
    photo = _photo()
    x0, y0, x1, y1 = box
    patch = np.full((y1 - y0, x1 - x0, 3), 20, np.uint8)
    mask = np.ones((y1 - y0, x1 - x0), np.float32)  # full mask: touches the photo edge
    out = blend_patch(photo, patch, mask, box, clone=clone)
    inside = np.zeros(photo.shape[:2], bool)
    inside[max(y0, 0):max(y1, 0), max(x0, 0):max(x1, 0)] = True
    assert np.array_equal(out[~inside], photo[~inside])


def test_tiny_and_empty_masks():
    photo = _photo()
    patch = np.zeros((5, 5, 3), np.uint8)
    one = np.zeros((5, 5), np.float32)
    assert np.array_equal(blend_patch(photo, patch, one, (10, 10, 15, 15)), photo)
    one[2, 2] = 1.0
    out = blend_patch(photo, patch, one, (0, 0, 5, 5))  # one pixel, at the corner
    assert np.array_equal(out[3:], photo[3:])


def test_large_region_is_solved_downscaled_and_fast():
    import time

    photo = _photo(1400, 1600)
    patch = _stripes(500, 900)
    mask = _ellipse_mask(500, 900, 8)
    t = time.perf_counter()
    out = blend_patch(photo, patch, mask, (300, 600, 1200, 1100))
    assert time.perf_counter() - t < 2.0
    full = np.zeros(photo.shape[:2], np.float32)
    full[600:1100, 300:1200] = mask
    assert np.array_equal(out[full == 0], photo[full == 0])
    core = full > 0.99
    d = out.astype(np.float32)[..., 0][core] - photo.astype(np.float32)[..., 0][core]
    assert np.corrcoef(d, patch[..., 0].astype(np.float32)[mask > 0.99])[0, 1] > 0.8


def test_normal_clone_adapts_colour_alpha_does_not():
    photo = np.full((120, 160, 3), 180, np.uint8)
    patch = np.full((40, 80, 3), 100, np.uint8)
    mask = _ellipse_mask(40, 80, 2)
    box = (40, 40, 120, 80)
    alpha = blend_patch(photo, patch, mask, box, clone="alpha")
    normal = blend_patch(photo, patch, mask, box, clone="normal")
    # a flat patch on a flat photo: Poisson pulls it all the way to the surroundings
    assert alpha[60, 80].tolist() == [100, 100, 100]
    assert abs(int(normal[60, 80, 0]) - 180) <= 3


def test_bad_inputs_name_the_shape():
    photo = _photo()
    with pytest.raises(ValueError, match="box"):
        blend_patch(photo, np.zeros((10, 10, 3), np.uint8), np.ones((10, 10), np.float32), (0, 0, 5, 5))
    with pytest.raises(ValueError, match="mask"):
        blend_patch(photo, np.zeros((10, 10, 3), np.uint8), np.ones((9, 10), np.float32), (0, 0, 10, 10))
    with pytest.raises(ValueError, match="photo"):
        blend_patch(photo[..., 0], np.zeros((10, 10, 3), np.uint8), np.ones((10, 10)), (0, 0, 10, 10))
    with pytest.raises(ValueError, match="clone"):
        blend_patch(photo, np.zeros((10, 10, 3), np.uint8), np.ones((10, 10)), (0, 0, 10, 10), "x")


def test_in_place_matches_copy():
    photo = _photo()
    patch, mask, box = _stripes(60, 100), _ellipse_mask(60, 100), (100, 70, 200, 130)
    new = blend_patch(photo, patch, mask, box)
    buf = photo.copy()
    assert blend_patch(buf, patch, mask, box, out=buf) is buf
    assert np.array_equal(buf, new)
