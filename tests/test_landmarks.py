import numpy as np
import pytest

from data_prep.landmarks import MediaPipeDetector
from tests.conftest import rotate


def test_one_face_with_478_points_in_photo_pixels(detector, astronaut):
    faces = detector.detect(astronaut)
    assert len(faces) == 1
    f = faces[0]
    assert f.points.shape == (478, 3) and f.points.dtype == np.float32
    assert 0.5 <= f.score <= 1.0
    x0, y0, x1, y1 = f.box
    assert 150 < x0 < x1 < 300 and 50 < y0 < y1 < 200  # the astronaut's face


def test_landmarks_follow_scale(detector, astronaut):
    import cv2

    small = detector.detect(astronaut)[0].xy
    big = detector.detect(cv2.resize(astronaut, None, fx=2, fy=2))[0].xy
    assert np.abs(big / 2 - small).mean() < 2.0


def test_tiled_photo_finds_every_face(detector, astronaut):
    import cv2

    tiled = np.ascontiguousarray(np.tile(astronaut, (2, 3, 1)))
    tiled = cv2.resize(tiled, None, fx=1.5, fy=1.5)  # 2304 x 1536, six faces of ~140 px
    faces = detector.detect(tiled)
    assert len(faces) == 6
    centres = sorted((round((f.box[1] + f.box[3]) / 2 / 768), round((f.box[0] + f.box[2]) / 2 / 768))
                     for f in faces)
    assert len(set(centres)) == 6  # six distinct places, no duplicates


def test_small_faces_need_the_full_range_pass(astronaut):
    import cv2

    canvas = np.full((2400, 2400, 3), 200, np.uint8)
    face = cv2.resize(astronaut, (256, 256))
    canvas[1000:1256, 1500:1756] = face
    with MediaPipeDetector() as full:
        assert len(full.detect(canvas)) == 1


def test_no_face(detector):
    assert detector.detect(np.full((300, 300, 3), 128, np.uint8)) == []


def test_rotated_face_found(detector, astronaut):
    assert len(detector.detect(rotate(astronaut, 30))) == 1


def test_rejects_wrong_input(detector):
    with pytest.raises(ValueError, match=r"RGB uint8 \(H, W, 3\)"):
        detector.detect(np.zeros((10, 10), np.uint8))
