"""Named mustache styles (mustache.paint.styles): each stays in its own region, they differ in shape,
they still read as mustaches, and they follow the face's tilt and scale."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from mustache.errors import BadInput
from mustache.paint.gan import ApplyOptions
from mustache.paint.styles import NATURAL, STYLES, Style, style_named, style_polygon
from tests.conftest import SHARED, requires_data, rotate

NAMED = [n for n in STYLES if n != "natural"]


def _big(astronaut):
    import cv2

    return cv2.resize(astronaut, (1024, 1024), interpolation=cv2.INTER_CUBIC)


@pytest.fixture(scope="module")
def engine(detector):
    from mustache.paint.gan import Mustacher

    with Mustacher(detector=detector) as m:
        yield m


@pytest.fixture(scope="module")
def styled(engine, astronaut):
    """The upscaled astronaut (face ~330 px wide), its face and every style on it."""
    image = _big(astronaut)
    faces = engine.detect(image)
    out = {n: engine.apply(image, ApplyOptions(style=STYLES[n], force=True), faces=faces)
           for n in STYLES}
    return image, faces[0], out


def _changed(before: np.ndarray, after: np.ndarray, level: float = 10.0) -> np.ndarray:
    """(H, W) bool: where the grey level moved by more than ``level``."""
    d = np.abs(after.astype(np.float32) - before.astype(np.float32)).max(2)
    return d > level


def test_every_style_changes_only_its_own_support(styled):
    from mustache.paint.pipeline import Painted
    from mustache.paint.pipeline import styled as fit
    from mustache.strands.hair import HairConfig

    image, face, out = styled
    for name in NAMED:
        r = out[name]
        assert r.faces[0].blended, (name, r.faces[0].note)
        dummy = Painted((0, 0, 2, 2), np.zeros((2, 2, 3), np.float32), np.ones((2, 2), np.float32))
        p, flow = fit(image.shape[:2], face.points, dummy, ApplyOptions(style=STYLES[name]),
                      HairConfig())
        assert flow is not None
        x0, y0, x1, y1 = p.box
        allowed = np.zeros(image.shape[:2], bool)
        allowed[y0:y1, x0:x1] = p.support > 0
        moved = np.any(r.image != image, axis=2)
        assert moved.sum() > 500, name
        assert not (moved & ~allowed).any(), f"{name}: pixels changed outside its support"
        assert r.faces[0].region_box == p.box


def test_styles_differ_in_shape(styled):
    image, _, out = styled
    areas = {n: _changed(image, out[n].image) for n in STYLES}
    for a, b in itertools.combinations(STYLES, 2):
        iou = (areas[a] & areas[b]).sum() / max((areas[a] | areas[b]).sum(), 1)
        assert iou < 0.8, f"{a} and {b} change nearly the same area (IoU {iou:.2f})"


@requires_data
def test_every_style_reads_as_a_mustache(engine):
    """On a clean-shaven man at full resolution (the astronaut, a laughing woman, is scored
    clean even with the natural mustache: 0.08; see README, Where it still falls short)."""
    from data_prep.image_io import load_image
    from mustache.paint.gan import shipped_scorer

    path = SHARED / "hires" / "canada" / "121m.jpg"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    image = load_image(path)
    face = engine.detect(image)[0]
    scorer = shipped_scorer()
    if scorer is None:
        pytest.skip("no shipped classifier in this install")
    with scorer:
        before = float(scorer.score_faces(image, [face])[0])
        scores = {n: float(scorer.score_faces(engine.apply(
            image, ApplyOptions(style=STYLES[n]), faces=[face]).image, [face])[0])
            for n in STYLES}
    assert before < 0.5
    # a pencil mustache is a 3 mm line: the classifier, trained on CelebA's mustaches, calls
    # it clean (0.24); it is still asked to score clearly above the bare lip
    assert scores.pop("pencil") > before + 0.1
    low = {n: round(s, 2) for n, s in scores.items() if s < 0.5}
    assert not low, f"judged clean: {low} (all: {scores})"


@pytest.mark.parametrize("name", ["horseshoe", "dali"])
def test_style_follows_tilt_and_scale(engine, astronaut, name):
    """Rotate and shrink the photo: the changed area moves and shrinks with it."""
    import cv2

    image = _big(astronaut)
    deg, scale = 14.0, 0.8
    turned = rotate(image, deg, scale)
    m = cv2.getRotationMatrix2D((image.shape[1] / 2, image.shape[0] / 2), deg, scale)
    opts = ApplyOptions(style=STYLES[name], force=True)
    a = engine.apply(image, opts)
    b = engine.apply(turned, opts)
    ya, xa = np.nonzero(_changed(image, a.image))
    yb, xb = np.nonzero(_changed(turned, b.image))
    pa = np.stack([xa, ya], 1).astype(np.float64)
    pb = np.stack([xb, yb], 1).astype(np.float64)
    # the original's changed pixels carried by the same rotation land where b changed
    moved = pa @ m[:, :2].T + m[:, 2]
    width = float(np.linalg.norm(a.faces[0].landmarks[454] - a.faces[0].landmarks[234]))
    assert np.linalg.norm(moved.mean(0) - pb.mean(0)) < 0.03 * width
    # its extent along the face's own axes shrinks by the scale
    def extent(p, axes):
        q = (p - p.mean(0)) @ axes
        return np.percentile(q, 98, axis=0) - np.percentile(q, 2, axis=0)

    ratio = extent(pb, m[:, :2] / scale) / extent(pa, np.eye(2))
    assert np.allclose(ratio, scale, atol=0.15), ratio
    # and the fitted outlines themselves map onto each other
    pa_poly = style_polygon(STYLES[name], a.faces[0].landmarks) @ m[:, :2].T + m[:, 2]
    pb_poly = style_polygon(STYLES[name], b.faces[0].landmarks)
    assert np.abs(pa_poly - pb_poly).max() < 0.05 * width


def test_unknown_style_lists_the_choices():
    with pytest.raises(BadInput) as e:
        style_named("goatee")
    assert "handlebar" in str(e.value) and "\n" not in str(e.value)
    assert style_named("Fu-Manchu") is STYLES["fu_manchu"]


def test_options_and_user_styles():
    assert ApplyOptions().style is NATURAL
    with pytest.raises(ValueError):
        ApplyOptions(style="handlebar")
    with pytest.raises(ValueError):
        ApplyOptions(length=0)
    mine = Style("mine", outline=((0, 0.2), (1.0, 0.5), (0.8, 1.0), (0, 1.0)),
                 spine=((0, 0.6), (1.0, 0.7)))
    assert ApplyOptions(style=mine, length=1.5).style is mine
    with pytest.raises(ValueError):
        Style("bad", outline=((0, 0), (1, 1)), spine=((0, 0), (1, 0)))


def test_multipliers_reach_the_hair(styled):
    from mustache.strands.hair import HairConfig

    base = HairConfig()
    c = STYLES["walrus"].hair_config(base, length=2.0, thickness=0.5, curl=0.0)
    assert c.length_mm == tuple(2 * v for v in STYLES["walrus"].length_mm)
    assert c.depth == pytest.approx(base.depth * STYLES["walrus"].density * 0.5)
    assert c.curl == 0.0
    n = NATURAL.hair_config(base, length=1.3)
    assert n.length_mm == tuple(1.3 * v for v in base.length_mm) and n.prior == base.prior


def test_face_frame_round_trips(styled):
    from mustache.paint.styles import face_coords

    _, face, _ = styled
    coords = face_coords(face.points)
    uv = np.random.default_rng(0).uniform([-2.0, -0.5], [2.0, 4.2], (200, 2))
    assert np.abs(coords.to_uv(coords.to_px(uv)) - uv).max() < 1e-6


def test_style_from_photo_needs_a_mustache(detector, astronaut):
    from mustache.paint.donor import style_from_photo

    with pytest.raises(BadInput, match="no mustache"):
        style_from_photo(astronaut, detector=detector)  # a woman's bare lip
    with pytest.raises(BadInput, match="no face"):
        style_from_photo(np.full((300, 300, 3), 128, np.uint8), detector=detector)


@requires_data
def test_style_from_photo_takes_the_shape_and_draws_fresh_hair(engine, detector):
    """canada/115m's real mustache as the shape on canada/121m (clean-shaven): the area that
    changes is where the donor's own mustache, warped onto 121m, lies; its pixels are new
    hair, not the donor's."""
    import cv2

    from data_prep.image_io import load_image
    from mustache.paint.donor import DonorTransfer, mustache_mask, style_from_photo

    donor, target = SHARED / "hires" / "canada" / "115m.jpg", SHARED / "hires" / "canada" / "121m.jpg"
    if not (donor.is_file() and target.is_file()):
        pytest.skip("hires photos not found")
    style = style_from_photo(donor, detector=detector)
    assert style.outline is not None and not style.mirror
    image = load_image(target)
    face = engine.detect(image)[0]
    out = engine.apply(image, ApplyOptions(style=style), faces=[face]).image
    with DonorTransfer(donor, detector=detector, check_existing=False) as t:
        warped, mask, (x0, y0, x1, y1) = t.patch(image, face.points)
    pasted = image.copy()
    here = pasted[y0:y1, x0:x1].astype(np.float32)
    pasted[y0:y1, x0:x1] = np.rint(here + mask[..., None] * (warped - here)).astype(np.uint8)
    theirs = mustache_mask(pasted, face.points)  # the donor's mustache, warped onto 121m
    ours = mustache_mask(out, face.points)  # the mustache drawn in its shape
    assert theirs.sum() > 2000
    both = (ours & theirs).sum()
    assert both / theirs.sum() > 0.7 and both / ours.sum() > 0.6, (both, ours.sum(), theirs.sum())

    def fine(a):  # the hair's own texture (strands), not the shape
        g = a.astype(np.float32).mean(2)
        return g - cv2.GaussianBlur(g, (0, 0), 2.0)

    a, b = fine(out)[ours & theirs], fine(pasted)[ours & theirs]
    assert abs(np.corrcoef(a, b)[0, 1]) < 0.3
