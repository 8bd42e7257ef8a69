import numpy as np
import pytest

from data_prep import indices as ix
from data_prep.align import estimate_alignment, warp
from data_prep.region import RegionConfig, mustache_region, polygon_mask, region_polygon
from tests.conftest import rotate


def _region(detector, image):
    f = detector.detect(image)[0]
    a = estimate_alignment(f.xy)
    return f, mustache_region(f.xy, a)


def test_region_sits_between_nose_and_lip(detector, astronaut):
    f, r = _region(detector, astronaut)
    lm = r.window.to_crop(f.xy)
    m = r.mask >= 0.5
    ys, xs = np.nonzero(m)
    # above the region: the nose tip; the region's bulk below the subnasale, above the lower lip
    assert lm[ix.NOSE_TIP, 1] < ys.min() + 3
    assert ys.mean() > lm[ix.SUBNASALE, 1]
    assert ys.mean() < lm[list(ix.LOWER_LIP_OUTER), 1].mean()
    # it reaches past both mouth corners
    assert xs.min() < lm[ix.MOUTH_CORNERS[0], 0] and xs.max() > lm[ix.MOUTH_CORNERS[1], 0]
    # every upper-lip-to-nose midpoint is inside
    mid = (lm[list(ix.UNDER_NOSE)][2:-2] + lm[list(ix.UPPER_LIP_OUTER)][2:-2]) / 2
    assert all(m[int(round(y)), int(round(x))] for x, y in mid)


@pytest.mark.parametrize("deg,scale,flip", [(0, 1.0, False), (20, 1.0, False), (-25, 0.7, False),
                                            (10, 1.3, True)])
def test_window_follows_the_lip_under_rotation_scale_flip(detector, astronaut, deg, scale, flip):
    """Windows from transformed photos line up with the original's: the mask and the window's
    pixels land in the same place."""
    _, ref = _region(detector, astronaut)
    ref_win = warp(astronaut, ref.window)
    im = rotate(astronaut, deg, scale)
    if flip:
        im = np.ascontiguousarray(im[:, ::-1])
    _, r = _region(detector, im)
    win = warp(im, r.window)
    if flip:
        win = win[:, ::-1]
        mask = r.mask[:, ::-1]
    else:
        mask = r.mask
    inter = ((mask > 0.5) & (ref.mask > 0.5)).sum()
    union = ((mask > 0.5) | (ref.mask > 0.5)).sum()
    assert inter / union > 0.75  # landmark jitter on a 90 px face moves the edge a little
    assert np.abs(win.astype(float) - ref_win)[32:112, 16:112].mean() < 20


def test_polygon_is_equivariant():
    rng = np.random.default_rng(0)
    lm = rng.uniform(0, 100, (478, 2))
    th = np.radians(30)
    R = np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
    p1 = region_polygon(lm @ R.T * 2 + 5)
    p2 = region_polygon(lm) @ R.T * 2 + 5
    assert np.allclose(p1, p2, atol=1e-6)


def test_soft_mask_range_and_feather():
    poly = np.array([[20, 20], [100, 20], [100, 60], [20, 60]], float)
    hard = polygon_mask(poly, 128)
    soft = polygon_mask(poly, 128, feather=3)
    assert hard.dtype == np.float32 and hard.min() == 0 and hard.max() == 1
    assert soft[40, 60] == 1.0 and soft[5, 5] == 0.0
    assert 0 < soft[20, 60] < 1  # the edge is soft


def test_config_changes_window_size(detector, astronaut):
    f = detector.detect(astronaut)[0]
    r = mustache_region(f.xy, estimate_alignment(f.xy), RegionConfig(window_size=64))
    assert r.mask.shape == (64, 64) and r.window.size == 64


# ---------------------------------------------------------------- windows cut through the canvas

CANVAS = RegionConfig(canvas_window=True)


def test_prep_cuts_canvas_windows_and_old_files_stay_flat():
    from data_prep.build import PrepConfig
    from data_prep.config import from_dict

    assert PrepConfig().region.canvas_window
    # a checkpoint or dataset written before the canvas window has no key: it was cut flat
    old = from_dict(PrepConfig, {"region": {"window_size": 128}})
    assert not old.region.canvas_window


@pytest.mark.parametrize("deg,scale", [(0, 1.0), (25, 0.8)])
def test_canvas_window_round_trips_to_the_photo(detector, astronaut, deg, scale):
    """The window's pixels mapped back through the mesh are the photo's own, and its mask is
    the region apply cuts the change to (region_support), so training and apply agree."""
    from data_prep.region import (
        cut_window,
        region_box,
        region_support,
        window_change,
        window_to_photo,
    )

    im = rotate(astronaut, deg, scale)
    f = detector.detect(im)[0]
    region, win = cut_window(im, f.points, config=CANVAS)
    assert win.shape == (128, 128, 3) and win.dtype == np.uint8
    box = region_box(region.landmarks, im.shape[:2], CANVAS)
    back = window_to_photo(win.astype(np.float32), region, box)
    x0, y0, x1, y1 = box
    support = region_support(region.landmarks, box, CANVAS)
    core = support > 0.5
    assert core.sum() > 200
    assert np.abs(back - im[y0:y1, x0:x1])[core].mean() < 5  # bilinear twice
    mask_back = window_to_photo(region.mask, region, box)
    assert np.abs(mask_back - support).mean() < 0.02
    # apply's one-map path gives the same two
    change, one_map_support = window_change(win.astype(np.float32), region, box)
    assert np.allclose(one_map_support, support, atol=1e-4)
    assert np.abs(change - back).max() < 0.5


def test_canvas_window_takes_the_smile_out(detector, astronaut):
    """On the canvas the mouth is the canonical, closed one: the astronaut's smile (teeth
    showing) is stretched wider than the canvas lip in the flat window, not in the canvas one,
    and the canvas window's upper lip lies where the canonical face has it."""
    from data_prep.canvas import canonical
    from data_prep.region import canvas_window_box, cut_window

    f = detector.detect(astronaut)[0]
    flat, _ = cut_window(astronaut, f.points, config=RegionConfig())
    canvas, _ = cut_window(astronaut, f.points, config=CANVAS)
    scale, (wx, wy, _, _) = canvas_window_box(CANVAS)
    can = canonical().points * scale - [wx, wy]
    lm_flat = flat.window.to_crop(f.xy)
    span = lambda p: p[ix.MOUTH_CORNERS[1], 0] - p[ix.MOUTH_CORNERS[0], 0]  # noqa: E731
    assert span(lm_flat) > 1.1 * span(can)  # the smile, as the flat window sees it
    # the region's polygon on the canvas window is the canonical face's
    assert np.allclose(canvas.polygon, region_polygon(can, CANVAS), atol=1e-6)


def test_canvas_window_is_the_same_for_a_turned_photo_of_the_face(detector, astronaut):
    """Pose is taken out: a photo rotated and scaled gives the same canvas window."""
    from data_prep.region import cut_window

    f = detector.detect(astronaut)[0]
    _, ref = cut_window(astronaut, f.points, config=CANVAS)
    im = rotate(astronaut, -20, 0.7)
    g = detector.detect(im)[0]
    region, win = cut_window(im, g.points, config=CANVAS)
    core = region.mask > 0.5
    assert np.abs(win.astype(float) - ref)[core].mean() < 12
