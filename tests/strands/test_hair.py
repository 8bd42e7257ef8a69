"""The full-resolution hair stage (mustache.strands.hair): geometry, determinism, the lip, face sizes."""

from __future__ import annotations

import numpy as np
import pytest

from mustache.strands import hair as H
from mustache.strands.haircolor import HairColour


@pytest.fixture(scope="module")
def face(astronaut, detector):
    return detector.detect(astronaut)[0]


def _upscaled(image: np.ndarray, points: np.ndarray, width: float):
    """The face's lower half, upscaled so the face is ``width`` px wide -> (image, (478, 2))."""
    import cv2

    xy = points[:, :2].astype(np.float64)
    k = width / np.linalg.norm(xy[454] - xy[234])
    x0, y0 = np.floor(xy.min(0) - 10).astype(int)
    x1, y1 = np.ceil(xy.max(0) + 10).astype(int)
    crop = image[y0:y1, x0:x1]
    big = cv2.resize(crop, (round(crop.shape[1] * k), round(crop.shape[0] * k)),
                     interpolation=cv2.INTER_CUBIC)
    return big, (xy - [x0, y0]) * k


def _guide(image: np.ndarray, xy: np.ndarray, darken: float = 40.0):
    """A window-resolution-like change: a smooth dark blob over the region, as the GAN paints
    it -> (box, photo box, change, support, landmarks in box px)."""
    import cv2

    from data_prep.region import polygon_mask, region_polygon

    poly = region_polygon(xy)
    d = np.linalg.norm(xy[263] - xy[33])
    x0, y0 = np.floor(poly.min(0) - 0.1 * d).astype(int)
    x1, y1 = np.ceil(poly.max(0) + 0.1 * d).astype(int)
    box = (x0, y0, x1, y1)
    support = polygon_mask(poly - [x0, y0], (y1 - y0, x1 - x0), feather=0.03 * d)
    core = cv2.GaussianBlur(support, (0, 0), 0.05 * d)
    change = np.repeat(-darken * core[..., None], 3, axis=2).astype(np.float32)
    return box, image[y0:y1, x0:x1], change, support, xy - [x0, y0]


BROWN = HairColour(np.array([70, 50, 38], np.float32),
                   np.array([[60, 42, 30], [90, 66, 48], [50, 36, 28]], np.float32), "test")


def test_same_seed_same_pixels_other_seed_other_hairs(astronaut, face):
    big, xy = _upscaled(astronaut, face.points, 400)
    _, photo, change, support, lm = _guide(big, xy)
    a = H.render(photo, change, support, lm, BROWN, seed=3)
    b = H.render(photo, change, support, lm, BROWN, seed=3)
    c = H.render(photo, change, support, lm, BROWN, seed=4)
    assert a.strands > 300
    assert np.array_equal(a.patch, b.patch)
    assert np.abs(a.patch - c.patch).mean() > 1.0
    # nothing where the support is 0
    assert np.array_equal(a.patch[support == 0], photo[support == 0].astype(np.float32))


def _drawn(astronaut, face, width, blur=0.0, seed=0):
    """The astronaut's face at ``width`` px (optionally blurred by ``blur`` x 1% of the face
    width), the smooth guide over it, rendered -> (photo box, support, result)."""
    import cv2

    big, xy = _upscaled(astronaut, face.points, width)
    if blur:
        big = cv2.GaussianBlur(big, (0, 0), blur * width / 100)
    _, photo, change, support, lm = _guide(big, xy)
    return photo, support, H.render(photo, change, support, lm, BROWN, seed=seed)


def test_one_look_at_every_face_size(astronaut, face):
    """The same face drawn 60, 150, 400 and 1000 px wide: hairs are drawn where they are
    resolved (supersampled on small faces) and area-averaged, so the mustache's coverage and
    mean darkening (both area averages) stay the same; nothing fades to the guide's paint."""
    cover, drop = [], []
    for width in (60, 150, 400, 1000):
        photo, support, r = _drawn(astronaut, face, width)
        core = support > 0.5
        # the face's width as its frame measures it (the canvas's: at the mouth's scale, so a
        # turned face is not taken for a narrower one)
        seen = H.face_frame(_upscaled(astronaut, face.points, width)[1]).width
        assert r.supersample == H.supersample(seen) and r.strands > 500
        cover.append(float(r.alpha[core].mean()))
        drop.append(float((H.luminance(photo) - H.luminance(r.patch))[core].mean()))
    assert min(cover) > 0.5, cover  # a dense mustache, not a see-through fuzz
    assert max(cover) / min(cover) < 1.15, cover
    assert max(drop) / min(drop) < 1.25, drop
    assert H.supersample(30) == H.HairConfig().max_supersample and H.supersample(1000) == 1
    assert H.supersample(60) * 60 >= H.HairConfig().resolve_px


def test_the_guide_never_shows_as_it_is(astronaut, face):
    """A 60 px face: the guide's paint (a flat band) is not pasted; hairs replace it, so the
    band's fine texture is the hairs', and a different guide colour changes nothing."""
    big, xy = _upscaled(astronaut, face.points, 60)
    _, photo, change, support, lm = _guide(big, xy)
    a = H.render(photo, change, support, lm, BROWN, seed=0)
    # a tint of no luminance (the GAN's odd hue): the guide's darkening is the same
    tinted = change + np.array([25, 0, -7.475 / 0.114], np.float32) * (support[..., None] > 0)
    b = H.render(photo, tinted, support, lm, BROWN, seed=0)
    assert a.strands > 500
    assert np.abs(a.patch - b.patch).max() < 1e-3  # only the guide's darkening counts


@pytest.mark.parametrize("degrees", [-25.0, 20.0])
def test_hairs_turn_with_the_head(face, degrees):
    """The mean hair direction (root to tip, each side mirrored onto the other) turns with the
    head; their length scales with it."""
    xy = face.points[:, :2].astype(np.float64)
    c = xy.mean(0)

    def strands(points, seed=0):
        fr = H.face_frame(points)
        roots = points[[57, 186, 92, 165, 167, 393, 391, 322, 410, 287]] * 0.6 + \
            points[[61, 185, 40, 39, 37, 267, 269, 270, 409, 291]] * 0.4
        roots = np.repeat(roots, 30, axis=0)
        return H.grow_strands(roots, points, fr, 4, np.random.default_rng(seed), H.HairConfig(),
                              "top"), fr

    def mean_angle(s, fr):
        v = s.p2 - s.p0
        side = np.sign((s.p0 - fr.philtrum) @ fr.right)
        # mirror the left side's hairs onto the right: hairs part from the philtrum
        along, across = v @ fr.down, (v @ fr.right) * side
        world = np.outer(along, [0, 1]) + np.outer(across, [1, 0])
        return np.degrees(np.arctan2(world[:, 1], world[:, 0]).mean()), np.linalg.norm(v, axis=1).mean()

    t = np.radians(degrees)
    rot = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
    s0, f0 = strands(xy)
    s1, f1 = strands((xy - c) @ rot.T * 1.5 + c)
    a0, l0 = mean_angle(s0, f0)
    a1, l1 = mean_angle(s1, f1)
    assert abs(a1 - a0) < 2.0  # the same in the face's own axes ...
    d0 = np.degrees(np.arctan2(*(s0.p2 - s0.p0).mean(0)[::-1]))
    d1 = np.degrees(np.arctan2(*(s1.p2 - s1.p0).mean(0)[::-1]))
    assert abs(((d1 - d0) - degrees + 180) % 360 - 180) < 4.0  # ... so turned in the photo's
    assert 1.35 < l1 / l0 < 1.65
    assert np.all((s0.p2 - s0.p0) @ f0.down > 0)  # every hair grows downward


def test_the_lip_keeps_its_colour(astronaut, face):
    """Where no hair overhangs it, the upper vermilion is unchanged, even when the guide
    painted over it."""
    big, xy = _upscaled(astronaut, face.points, 600)
    _, photo, change, support, lm = _guide(big, xy)
    verm, _ = H.lip_masks(lm, support.shape)
    change = change.copy()
    change[verm > 0.5] += np.array([30, -20, 25], np.float32)  # the GAN's lilac lip
    r = H.render(photo, change, support, lm, BROWN, seed=0)
    bare = (verm > 0.99) & (r.alpha < 0.02)
    assert bare.sum() > 100
    diff = np.abs(r.patch[bare] - photo[bare].astype(np.float32))
    assert diff.mean() < 1.0, diff.mean()


def test_focus_and_grain_are_measured():
    import cv2

    rng = np.random.default_rng(0)
    sharp = (rng.uniform(0, 1, (200, 200)) > 0.97).astype(np.float32) * 200
    sharp = cv2.GaussianBlur(sharp, (0, 0), 0.5)
    soft = cv2.GaussianBlur(sharp, (0, 0), 2.0)
    m = np.ones(sharp.shape, bool)
    assert H.focus_sigma(soft, m) > H.focus_sigma(sharp, m) + 0.8
    flat = np.full((200, 200), 120, np.float32)
    assert H.noise_sigma(flat + rng.normal(0, 6, flat.shape).astype(np.float32), m) > \
        3 * H.noise_sigma(flat + rng.normal(0, 1, flat.shape).astype(np.float32), m)


def test_splat_keeps_the_covered_area():
    """A hair's coverage sums to its area (width x length, tapered), wherever it lies."""
    s = H.Strands(np.array([[10.3, 10.7]]), np.array([[20.0, 25.0]]), np.array([[30.2, 40.6]]),
                  np.array([0.5], np.float32), np.array([1]))
    cov = H.splat(s, 2, (60, 60))
    assert cov.shape == (2, 60, 60) and cov[0].sum() == 0
    length = np.linalg.norm([9.7, 14.3]) + np.linalg.norm([10.2, 15.6])
    assert 0.5 * 0.5 * length < cov[1].sum() < 0.5 * length
    with pytest.raises(ValueError, match="photo box"):
        H.render(np.zeros((10, 10, 3), np.uint8), np.zeros((10, 9, 3), np.float32),
                 np.zeros((10, 10), np.float32), np.zeros((478, 2)), BROWN)


def test_soft_photos_keep_coverage_and_texture(astronaut, face):
    """A soft copy of the photo gets as dense and dark a mustache as the sharp one (a real one
    photographed soft is still a dense, dark patch), and its tone patches stay visible through
    the blur."""
    sharp_photo, support, sharp = _drawn(astronaut, face, 500)
    photo, _, soft = _drawn(astronaut, face, 500, blur=0.4)
    assert H.softness(H.focus_sigma(H.luminance(photo), support > 0.3)) == 1.0
    core = support > 0.5
    assert soft.alpha[core].mean() > 0.85 * sharp.alpha[core].mean()
    drops = [float((H.luminance(p) - H.luminance(r.patch))[core].mean())
             for p, r in ((sharp_photo, sharp), (photo, soft))]
    assert drops[1] == pytest.approx(drops[0], rel=0.2)
    # not a smudge: the mustache's fine detail (photo_metrics' measure, blur 1.5 px) at
    # least the skin's around it, on the soft photo as on the sharp one
    from mustache.measure.photo_metrics import fine_detail

    ring = support == 0  # the skin around the region (in the box: cheeks, nose's foot, chin)
    for p, r in ((sharp_photo, sharp), (photo, soft)):
        inside = fine_detail(H.luminance(r.patch), core & (r.alpha > 0.3))
        assert inside > 1.0 * fine_detail(H.luminance(p), ring), (inside, r.supersample)
    assert H.for_focus(H.HairConfig(), 0.0) == H.HairConfig()


def test_tone_is_held_to_real_mustaches(astronaut, face):
    """Black hair on pale skin is lightened to the darkest real mustaches' tone (no flat
    near-black band); a measured colour near the skin is darkened to real ones' median (no
    see-through fuzz); asking for a thin mustache (depth below the default), or naming a light
    colour, keeps it light."""
    from mustache.strands.haircolor import named_colour, rgb_to_lab

    big, xy = _upscaled(astronaut, face.points, 300)
    _, photo, change, support, lm = _guide(big, xy)
    band = H.tone_band(300, False)

    def tone(colour, config=H.HairConfig()):
        r = H.render(photo, change, support, lm, colour, seed=0, config=config)
        sel = (support > 0.5) & (r.alpha > 0.3)
        L = rgb_to_lab(np.clip(r.patch[sel], 0, 255))[:, 0]
        skin = np.median(rgb_to_lab(photo[(support > 0) & (support < 0.5)])[:, 0])
        return float(np.median(L[L <= np.median(L)]) / skin)

    def measured(spec):  # the same colour as if measured on the person (held both ways)
        c = named_colour(spec)
        return HairColour(c.base, c.samples, "test")

    assert tone(measured("black")) >= band.lo - 0.03
    assert tone(measured("#c8a08c")) <= band.mid + 0.03
    assert tone(measured("#c8a08c"), H.HairConfig(depth=0.8)) > band.hi
    # a light colour the user names keeps its lightness
    assert tone(named_colour("#c8a08c")) > tone(measured("#c8a08c")) + 0.05
