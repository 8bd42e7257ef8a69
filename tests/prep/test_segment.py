"""The person mask (MediaPipe selfie segmentation, offline) and the head hair found with it."""

from __future__ import annotations

import numpy as np
import pytest

from data_prep.segment import PersonSegmenter, person_mask
from mustache.strands.haircolor import rgb_to_lab
from mustache.strands.head_hair import FACE_OVAL, head_hair
from tests.conftest import seconds_each


@pytest.fixture(scope="module")
def face(astronaut, detector) -> np.ndarray:
    return detector.detect(astronaut)[0].points


def test_person_mask_covers_the_astronaut_not_the_sky(astronaut, face):
    with PersonSegmenter() as seg:
        m = seg.mask(astronaut)
        assert m.shape == (512, 512) and m.dtype == np.float32
        assert 0.0 <= m.min() and m.max() <= 1.0
        nose = np.round(face[1, :2]).astype(int)
        assert m[nose[1], nose[0]] > 0.9  # the face is person
        assert m[:60, 380:].mean() < 0.1  # the sky and the shuttle are not
        x0, y0, x1, y1 = 150, 20, 350, 260  # a box around the head: same answer there
        box = seg.mask(astronaut, (x0, y0, x1, y1))
        assert box.shape == (240, 200)
        assert np.mean((box > 0.5) == (m[y0:y1, x0:x1] > 0.5)) > 0.95
    np.testing.assert_array_equal(person_mask(astronaut) > 0.5, m > 0.5)
    with pytest.raises(ValueError, match=r"\(512, 512\)"):
        person_mask(astronaut[..., 0])
    with pytest.raises(ValueError, match="outside"):
        person_mask(astronaut, (600, 600, 700, 700))


def test_astronaut_has_brown_head_hair(astronaut, face):
    hh = head_hair(astronaut, face)
    assert hh.colour is not None and hh.reason == "head hair", hh
    base = rgb_to_lab(hh.colour.base)
    assert base[0] < 45 and 40 < np.degrees(np.arctan2(base[2], base[1])) < 80, base  # brown
    assert hh.texture > 1.15


def test_no_hair_on_a_bald_head_or_a_hat(astronaut, face):
    """Everything above the brows outside the face painted as forehead skin (bald), or as a
    flat dark grey (a smooth hat): no colour either way."""
    import cv2

    ov = np.zeros(astronaut.shape[:2], np.uint8)
    cv2.fillPoly(ov, [np.round(face[list(FACE_OVAL), :2]).astype(np.int32)], 1)
    ov = cv2.dilate(ov, np.ones((7, 7), np.uint8)).astype(bool)
    top = int(face[[10, 105, 334], 1].max())
    head = np.zeros_like(ov)
    head[:top] = True
    head &= ~ov
    person = person_mask(astronaut) > 0.3
    forehead = astronaut[int(face[151, 1]), int(face[151, 0])]
    bald = astronaut.copy()
    bald[head & person] = forehead
    assert head_hair(bald, face).colour is None
    hat = astronaut.copy()
    hat[head & person] = (60, 60, 64)
    assert head_hair(hat, face).colour is None


def test_head_hair_is_fast(astronaut, face):
    import cv2

    big = cv2.resize(astronaut, (2000, 2000), interpolation=cv2.INTER_CUBIC)
    pts = face * (2000 / 512)
    # ~20 ms here: the segmentation sees 512 px
    assert seconds_each(lambda: head_hair(big, pts), 3) < 0.08


def test_person_colour_combines_brows_and_head_hair(astronaut, face):
    from mustache.strands.haircolor import brow_colour
    from mustache.strands.person_colour import person_colour

    c = person_colour(astronaut, face)
    assert c.source == "eyebrows + head hair"
    brows, mix = rgb_to_lab(brow_colour(astronaut, face).base), rgb_to_lab(c.base)
    assert abs(mix[0] - brows[0]) < 2  # the brows' lightness
    assert c.samples.shape[1] == 3 and len(c.samples) >= 16
