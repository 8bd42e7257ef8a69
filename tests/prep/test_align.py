import numpy as np
import pytest

from data_prep.align import (
    AlignConfig,
    Alignment,
    anchor_points,
    estimate_alignment,
    sub_window,
    unwarp,
    warp,
)
from tests.conftest import rotate


@pytest.fixture(scope="module")
def face(detector, astronaut):
    return detector.detect(astronaut)[0]


def test_template_lands_on_anchors(face):
    a = estimate_alignment(face.xy)
    got = a.to_crop(anchor_points(face.xy))
    want = np.array(AlignConfig().template) * 256
    # a similarity fit of 4 points: a small residual, even for this broad smile
    assert np.linalg.norm(got - want, axis=1).mean() < 8


def test_inverse_maps_back_exactly(face):
    a = estimate_alignment(face.xy)
    pts = np.random.default_rng(0).uniform(0, 256, (50, 2))
    assert np.allclose(a.to_crop(a.to_photo(pts)), pts, atol=1e-9)
    b = Alignment.from_dict(a.to_dict())
    assert np.allclose(b.matrix, a.matrix, atol=1e-5)


def test_round_trip_reproduces_pixels(astronaut, face):
    """Align, then map back: inside the face the pixels come back within a small tolerance."""
    a = estimate_alignment(face.xy, AlignConfig(size=512))  # about photo scale: no information lost
    crop = warp(astronaut, a)
    box = (150, 60, 300, 210)
    back = unwarp(crop, a, box)
    orig = astronaut[box[1]:box[3], box[0]:box[2]].astype(float)
    err = np.abs(back.astype(float) - orig)[5:-5, 5:-5]
    assert err.mean() < 6, err.mean()


def test_rotation_is_undone(astronaut, detector):
    ref = estimate_alignment(detector.detect(astronaut)[0].xy)
    for deg in (-25, 15):
        f = detector.detect(rotate(astronaut, deg))[0]
        a = estimate_alignment(f.xy)
        assert abs((a.angle - ref.angle) - deg) < 3, (deg, a.angle, ref.angle)


def test_warp_large_photo_only_touches_face(astronaut, face):
    import cv2

    big = cv2.resize(astronaut, None, fx=6, fy=6, interpolation=cv2.INTER_CUBIC)  # 3072 px
    a_small = estimate_alignment(face.xy)
    a_big = estimate_alignment(face.xy * 6 + 2.5)
    c1, c2 = warp(astronaut, a_small), warp(big, a_big)
    assert np.abs(c1.astype(float) - c2).mean() < 8


def test_sub_window_is_a_crop_of_the_aligned_face(astronaut, face):
    a = estimate_alignment(face.xy)
    w = sub_window(a, (0.25, 0.5, 0.75, 1.0), 128)
    crop, win = warp(astronaut, a), warp(astronaut, w)
    assert np.abs(crop[128:256, 64:192].astype(float) - win).mean() < 2


def test_closed_form_fit_is_umeyamas(face):
    """The closed-form least squares gives scikit-image's Umeyama similarity, on a real face and
    on random points (some of them mirrored)."""
    from skimage.transform import SimilarityTransform

    rng = np.random.default_rng(0)
    dst = np.array(AlignConfig().template) * 256
    for lm in [face.xy, *(rng.uniform(0, 500, (478, 2)) for _ in range(50))]:
        t = SimilarityTransform()
        assert t.estimate(anchor_points(lm), dst)
        np.testing.assert_allclose(estimate_alignment(lm).matrix, t.params[:2], rtol=0, atol=1e-9)


def test_degenerate_landmarks_raise():
    with pytest.raises(ValueError, match="degenerate"):
        estimate_alignment(np.full((478, 2), 7.0))
    with pytest.raises(ValueError, match="degenerate"):
        estimate_alignment(np.full((478, 2), np.nan))


def test_bad_shapes_are_named():
    with pytest.raises(ValueError, match=r"\(468 or 478"):
        estimate_alignment(np.zeros((10, 2)))
    with pytest.raises(ValueError, match="empty window"):
        sub_window(Alignment(np.eye(3)[:2], 256), (0.5, 0.5, 0.5, 1.0), 64)
