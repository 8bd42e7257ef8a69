"""100% mouth crops (mustache.measure.crops): the box holds the blended region, stays in the photo, and
the crops are the photos' own pixels, never resampled."""

from __future__ import annotations

import numpy as np
import pytest

from data_prep import indices as ix
from mustache.measure.crops import before_after_crop, mouth_crop_box
from mustache.paint.gan import FaceResult


@pytest.fixture(scope="module")
def face(astronaut, detector) -> FaceResult:
    """The astronaut's face as `apply` reports it, with a region box from its landmarks."""
    from data_prep.region import region_polygon

    f = detector.detect(astronaut)[0]
    poly = region_polygon(f.xy)
    (x0, y0), (x1, y1) = np.floor(poly.min(0)).astype(int), np.ceil(poly.max(0)).astype(int)
    return FaceResult(index=0, box=f.box, blended=True, landmarks=f.xy.astype(np.float32),
                      region_box=(int(x0), int(y0), int(x1), int(y1)))


def _inside(inner, outer) -> bool:
    return outer[0] <= inner[0] and outer[1] <= inner[1] and inner[2] <= outer[2] and inner[3] <= outer[3]


def test_box_holds_the_region_and_lies_in_the_photo(face, astronaut):
    h, w = astronaut.shape[:2]
    box = mouth_crop_box(face, astronaut.shape)
    assert all(isinstance(v, int) for v in box)
    assert _inside(face.region_box, box) and _inside(box, (0, 0, w, h))
    rw = face.region_box[2] - face.region_box[0]
    assert box[2] - box[0] == pytest.approx(1.5 * rw, abs=2)  # 25% on each side
    assert mouth_crop_box(face, astronaut.shape, margin=0) == face.region_box


def test_box_from_landmarks_when_not_blended(face, astronaut):
    skipped = FaceResult(index=0, box=face.box, blended=False, note="not selected",
                         landmarks=face.landmarks)
    box = mouth_crop_box(skipped, astronaut.shape[:2])
    pts = face.landmarks[[ix.SUBNASALE, *ix.MOUTH_CORNERS, ix.CHIN]]
    assert (pts >= box[:2]).all() and (pts <= box[2:]).all()
    assert _inside(box, (0, 0, astronaut.shape[1], astronaut.shape[0]))


def test_box_clipped_at_the_photo_edge():
    corner = FaceResult(index=0, box=(0, 0, 50, 50), blended=True, region_box=(2, 90, 40, 100))
    assert mouth_crop_box(corner, (100, 80), margin=0.5) == (0, 85, 59, 100)


def test_crop_is_native_pixels_of_a_real_apply(astronaut):
    """The shipped default model on the astronaut: the pair is the two photos' pixels at the
    same place, side by side, with the gap white."""
    from mustache.paint.gan import ApplyOptions, Mustacher

    with Mustacher(device="cpu") as m:
        r = m.apply(astronaut, ApplyOptions(seed=0))
    f = r.faces[0]
    assert f.blended
    x0, y0, x1, y1 = box = mouth_crop_box(f, astronaut.shape)
    assert _inside(f.region_box, box)
    pair = before_after_crop(astronaut, r.image, f, gap=6)
    w = x1 - x0
    assert pair.dtype == np.uint8 and pair.shape == (y1 - y0, 2 * w + 6, 3)
    np.testing.assert_array_equal(pair[:, :w], astronaut[y0:y1, x0:x1])
    np.testing.assert_array_equal(pair[:, w + 6:], r.image[y0:y1, x0:x1])
    assert (pair[:, w:w + 6] == 255).all()
    assert not np.array_equal(pair[:, :w], pair[:, w + 6:])  # the mustache is in the crop


def test_bad_inputs_name_their_shapes(face, astronaut):
    with pytest.raises(ValueError, match=r"\(512, 512\)"):
        before_after_crop(astronaut[:, :, 0], astronaut, face)
    with pytest.raises(ValueError, match=r"differ in size"):
        before_after_crop(astronaut, astronaut[:400], face)
    with pytest.raises(ValueError, match=r"\(10, 2\)"):
        mouth_crop_box(FaceResult(0, face.box, False, landmarks=np.zeros((10, 2))), astronaut.shape)
    with pytest.raises(ValueError, match="shape must be"):
        mouth_crop_box(face, (512,))
    with pytest.raises(ValueError, match="outside"):
        mouth_crop_box(FaceResult(0, face.box, True, region_box=(600, 600, 700, 700)), astronaut.shape)
