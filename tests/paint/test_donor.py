import warnings

import cv2
import numpy as np
import pytest

from data_prep import indices as ix
from data_prep.region import region_polygon
from mustache.errors import BadInput, MustacheError
from mustache.paint.donor import (
    DonorConfig,
    DonorTransfer,
    DonorWarning,
    cycle_pairs,
    piecewise_map,
    transfer,
)
from mustache.paint.gan import ApplyOptions, ApplyResult, FaceResult
from tests.conftest import ROOT, SHARED, paint_mustache, requires_data, rotate


@pytest.fixture(scope="module")
def donor(astronaut, detector) -> np.ndarray:
    """The astronaut at twice the size with a dark mustache over the skin above her lip.

    A mustache painted over the whole upper lip hides it from the landmarker, which then puts
    the lip several pixels too high; real mustaches sit above the lip, and so does this one.
    """
    big = cv2.resize(astronaut, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
    lm = detector.detect(big)[0].points.copy()
    top, lip = list(ix.UNDER_NOSE[1:-1]), list(ix.UPPER_LIP_OUTER[1:-1])
    lm[lip, :2] += 0.3 * (lm[top, :2] - lm[lip, :2])
    return paint_mustache(big, lm)


@pytest.fixture(scope="module")
def transfer_from_donor(donor, detector):
    with DonorTransfer(donor, detector=detector) as t:
        yield t


def _gray(im):
    return cv2.cvtColor(im, cv2.COLOR_RGB2GRAY).astype(np.int16)


def _distance_outside(polygon, shape):
    """(H, W) float: each pixel's distance in px to the polygon (0 inside)."""
    inside = np.zeros(shape, np.uint8)
    cv2.fillPoly(inside, [np.round(polygon).astype(np.int32)], 1)
    return cv2.distanceTransform(1 - inside, cv2.DIST_L2, 5)


@pytest.mark.parametrize("deg,scale", [(0, 1.0), (20, 1.0), (-25, 0.8), (10, 1.4)])
def test_mustache_lands_in_the_region_and_nothing_else_changes(
        astronaut, detector, transfer_from_donor, deg, scale):
    target = rotate(astronaut, deg, scale)
    out = transfer_from_donor.apply(target).image
    assert out.shape == target.shape and out.dtype == np.uint8
    face = detector.detect(target)[0]
    poly = region_polygon(face.xy, DonorConfig().region)
    dist = _distance_outside(poly, target.shape[:2])
    d_eye = np.linalg.norm(face.xy[list(ix.RIGHT_EYE_CORNERS)].mean(0)
                           - face.xy[list(ix.LEFT_EYE_CORNERS)].mean(0))
    dark = _gray(out) < _gray(target) - 40
    assert dark.sum() > 0.3 * d_eye**2 / 10  # a mustache, not a few stray pixels
    assert (dist[dark] <= 2).mean() > 0.98
    # the blend's mask is the polygon feathered by a Gaussian: nothing beyond its reach moves
    reach = 3 * DonorConfig().region.feather * d_eye + 3
    changed = (out != target).any(axis=2)
    assert changed.any() and dist[changed].max() <= reach


def test_the_mustache_follows_the_lip(astronaut, transfer_from_donor):
    """Its dark pixels lie along the under-nose line of each target, not at a fixed place."""
    for deg in (-20, 20):
        target = rotate(astronaut, deg)
        out = transfer_from_donor.apply(target).image
        ys, xs = np.nonzero(_gray(out) < _gray(target) - 40)
        slope = np.polyfit(xs, ys, 1)[0]  # the mustache tilts with the face
        assert np.sign(slope) == -np.sign(deg) and abs(np.degrees(np.arctan(slope))) > 8


def test_results_and_options_are_apply_s(astronaut, transfer_from_donor):
    r = transfer_from_donor.apply(astronaut)
    assert isinstance(r, ApplyResult) and r.blended == 1
    f = r.faces[0]
    assert isinstance(f, FaceResult) and f.blended and f.region_box is not None
    assert f.landmarks.shape == (478, 2)
    for options, note in ((ApplyOptions(faces=(1,)), "not selected"),
                          (ApplyOptions(strength=0.0), "strength 0"),
                          (ApplyOptions(min_face=1000), "face too small")):
        r = transfer_from_donor.apply(astronaut, options)
        assert np.array_equal(r.image, astronaut) and note in r.faces[0].note
    half = transfer_from_donor.apply(astronaut, ApplyOptions(strength=0.5)).image
    full = transfer_from_donor.apply(astronaut).image
    assert 0 < np.abs(half.astype(int) - astronaut).sum() < np.abs(full.astype(int) - astronaut).sum()
    gray = np.full((200, 200, 3), 128, np.uint8)  # no face: unchanged, no results
    r = transfer_from_donor.apply(gray)
    assert r.faces == () and np.array_equal(r.image, gray)


def test_a_face_onto_itself_changes_little(astronaut, detector):
    out = transfer(astronaut, astronaut, detector=detector,
                   config=DonorConfig(check_mustache=False)).image  # no mustache, no warning
    face = detector.detect(astronaut)[0]
    inside = _distance_outside(region_polygon(face.xy, DonorConfig().region),
                               astronaut.shape[:2]) == 0
    diff = np.abs(out.astype(np.int16) - astronaut)[inside]
    # no hair is drawn (the donor's change is ~0); what is left is the Poisson blend's
    # offset of about 2 grey levels
    assert diff.mean() <= 2.2


def test_donor_without_a_face_is_an_error(detector):
    with pytest.raises(BadInput, match="no face"):  # bad input (exit 2), not the target's NoFace
        DonorTransfer(np.full((256, 256, 3), 128, np.uint8), detector=detector)


def test_donor_without_a_visible_lip_is_an_error(astronaut, detector):
    face = detector.detect(astronaut)[0]
    cut = np.ascontiguousarray(astronaut[: int(face.xy[ix.SUBNASALE, 1]) + 2])
    with pytest.raises(MustacheError, match="no visible upper lip"):
        DonorTransfer(cut, detector=detector)


def test_several_donor_faces_largest_first_and_selectable(donor, detector):
    large = cv2.resize(donor, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    small = cv2.resize(donor, None, fx=0.35, fy=0.35, interpolation=cv2.INTER_AREA)
    h, w = large.shape[:2]
    tiled = np.full((h, w + small.shape[1], 3), 200, np.uint8)
    tiled[:, :w] = large
    tiled[: small.shape[0], w:] = small
    cfg = DonorConfig(check_mustache=False)
    with DonorTransfer(tiled, detector=detector, config=cfg) as t:
        assert t.face.box[2] <= w  # the large one
    with DonorTransfer(tiled, donor_face=1, detector=detector, config=cfg) as t:
        assert t.face.box[0] >= w  # the small one
    with pytest.raises(MustacheError, match="out of range"):
        DonorTransfer(tiled, donor_face=5, detector=detector, config=cfg)


def test_mirrored_donor_swaps_left_and_right(transfer_from_donor):
    face, mirror = transfer_from_donor.face, transfer_from_donor.mirrored()
    w = face.image.shape[1]
    left, right = ix.MOUTH_CORNERS
    # the viewer's left corner of the mirror is the reflection of the donor's right corner
    mouth = face.points[right, 0] - face.points[left, 0]
    assert mirror is not face
    assert abs(mirror.points[left, 0] - (w - 1 - face.points[right, 0])) < 0.1 * mouth
    assert mirror.points[left, 0] < mirror.points[right, 0]
    assert transfer_from_donor.donor_for(0.0) is face


def test_piecewise_map_is_exact_on_the_control_points():
    rng = np.random.default_rng(0)
    dst = rng.uniform(5, 95, (30, 2))
    src = dst * 1.5 + [3, -2] + rng.normal(0, 1, dst.shape)
    mx, my = piecewise_map(src, dst, (0, 0, 100, 100))
    assert mx.shape == (100, 100)
    i = np.round(dst).astype(int)
    near = np.stack([mx[i[:, 1], i[:, 0]], my[i[:, 1], i[:, 0]]], 1)
    expect = (i - dst) * 1.5 + src  # the local affine is close to the global scale
    assert np.abs(near - expect).max() < 2.5


def test_cycle_pairs(tmp_path):
    for name in ("a.jpg", "b.jpg", "c.jpg"):
        (tmp_path / "t" / name).parent.mkdir(exist_ok=True)
        (tmp_path / "t" / name).write_bytes(b"")
    for name in ("x.png", "y.png"):
        (tmp_path / "d" / name).parent.mkdir(exist_ok=True)
        (tmp_path / "d" / name).write_bytes(b"")
    pairs = [(t.name, d.name) for t, d in cycle_pairs(tmp_path / "t", tmp_path / "d")]
    assert pairs == [("a.jpg", "x.png"), ("b.jpg", "y.png"), ("c.jpg", "x.png")]
    with pytest.raises(MustacheError):
        list(cycle_pairs(tmp_path / "t", tmp_path / "missing"))


@pytest.mark.skipif(not (ROOT / "mustache" / "weights" / "classifier.pt").is_file(),
                    reason="no shipped mustache classifier")
def test_the_shipped_classifier_warns_about_a_clean_donor(astronaut, detector):
    with pytest.warns(UserWarning, match="does not look like a mustache"):
        DonorTransfer(astronaut, detector=detector)


@requires_data
def test_the_shipped_classifier_accepts_a_real_mustache(detector):
    """A real LFW mustache donor gets no warning. (The flat painted test donor does: the
    classifier is trained to call painted-over blobs clean.)"""
    import csv

    rows = csv.DictReader(open(SHARED / "lfw" / "manifest.csv"))
    best = max((r for r in rows if r["p_Mustache"]), key=lambda r: float(r["p_Mustache"]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        DonorTransfer(SHARED / "lfw" / best["file"], detector=detector)


def test_a_donor_that_does_not_look_mustached_gets_a_warning(astronaut, detector, monkeypatch):
    import mustache.paint.gan as apply_module

    class Doubtful:  # the classifier, scoring every lip as clean
        def score_faces(self, image, faces):
            return np.full(len(faces), 0.1)

        def close(self):
            pass

    monkeypatch.setattr(apply_module, "shipped_scorer", lambda: Doubtful())
    with pytest.warns(DonorWarning, match="does not look like a mustache"):
        t = DonorTransfer(astronaut, detector=detector)
    assert len(t.warnings) == 1
    assert t.apply(astronaut).warnings == t.warnings


def test_check_existing_off_paints_a_bearded_target(astronaut, detector, monkeypatch):
    """The donor check (check_mustache) loads the classifier too; it must not skip targets
    when check_existing is off."""
    import mustache.paint.gan as apply_module

    class Bearded:  # every lip already a mustache
        def score_faces(self, image, faces):
            return np.full(len(faces), 0.9)

        def close(self):
            pass

    monkeypatch.setattr(apply_module, "shipped_scorer", lambda: Bearded())
    with DonorTransfer(astronaut, detector=detector) as t:
        assert not t.apply(astronaut).faces[0].blended
    with DonorTransfer(astronaut, detector=detector, check_existing=False) as t:
        assert t.apply(astronaut).faces[0].blended
