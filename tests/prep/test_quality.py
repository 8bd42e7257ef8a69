import numpy as np
import pytest

from data_prep.align import estimate_alignment, warp
from data_prep.quality import (
    Quality,
    QualityConfig,
    head_pose,
    measure,
    rejection_reason,
    sharpness,
)
from tests.conftest import rotate


def test_frontal_pose_and_roll(detector, astronaut):
    yaw, pitch, roll = head_pose(detector.detect(astronaut)[0].points)
    assert abs(yaw) < 10 and abs(pitch) < 20
    _, _, roll2 = head_pose(detector.detect(rotate(astronaut, 20))[0].points)
    assert abs((roll2 - roll) + 20) < 4  # counter-clockwise image rotation = negative roll


def test_mirror_flips_yaw_sign(detector, astronaut):
    import cv2

    # turn the head: squash one side of the face by a perspective warp
    h, w = astronaut.shape[:2]
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dst = np.float32([[0, 0], [w, 60], [w, h - 60], [0, h]])
    turned = cv2.warpPerspective(astronaut, cv2.getPerspectiveTransform(src, dst), (w, h))
    y1 = head_pose(detector.detect(turned)[0].points)[0]
    y2 = head_pose(detector.detect(np.ascontiguousarray(turned[:, ::-1]))[0].points)[0]
    assert np.sign(y1) == -np.sign(y2) and abs(y1 + y2) < 5


def test_blur_measure_drops_for_blurred_face(detector, astronaut):
    import cv2

    f = detector.detect(astronaut)[0]
    a = estimate_alignment(f.xy)
    sharp = measure(f.points, warp(astronaut, a), 0.0)
    blurred = measure(f.points, warp(cv2.GaussianBlur(astronaut, (0, 0), 3), a), 0.0)
    assert blurred.blur < sharp.blur / 3
    assert 80 < sharp.face_width < 110  # the landmark box is 92 px wide


def test_rejection_reasons():
    ok = Quality(100, 0, 0, 0, 100, 0)
    assert rejection_reason(ok) is None
    assert "too small" in rejection_reason(Quality(20, 0, 0, 0, 100, 0))
    assert "yaw" in rejection_reason(Quality(100, 50, 0, 0, 100, 0))
    assert "blurry" in rejection_reason(ok, QualityConfig(min_blur=500))
    assert "border" in rejection_reason(Quality(100, 0, 0, 0, 100, 0.5))


def test_sharpness_is_the_laplacian_variance(astronaut):
    """Integer Laplacian and sums: the very value of the float64 Laplacian's variance."""
    import cv2

    rng = np.random.default_rng(0)
    for gray in (cv2.cvtColor(astronaut, cv2.COLOR_RGB2GRAY), rng.integers(0, 256, (256, 256), np.uint8),
                 np.full((64, 64), 200, np.uint8)):
        want = float(cv2.Laplacian(gray, cv2.CV_64F).var())
        assert sharpness(gray) == pytest.approx(want, rel=1e-12, abs=1e-9)
