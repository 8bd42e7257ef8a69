"""data_prep.pixels: the one conversion between uint8 photos and the networks' floats."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from data_prep.pixels import change_to_pixels, mask_to_model, to_model, to_uint8


def test_every_uint8_value_round_trips_exactly():
    u8 = torch.arange(256, dtype=torch.uint8).reshape(1, 16, 16, 1).repeat(2, 1, 1, 3)
    u8[1] = u8[1].flip(0)  # a second image, other values at each place
    x = to_model(u8)
    assert x.shape == (2, 3, 16, 16) and x.dtype == torch.float32
    assert x.min() == -1 and x.max() == 1
    assert x[0, :, 0, 0].tolist() == [-1, -1, -1] and x[0, 2, 15, 15] == 1
    back = to_uint8(x)
    assert back.shape == (2, 16, 16, 3) and back.dtype == torch.uint8
    assert torch.equal(back, u8)


def test_numpy_in_and_channel_order():
    rgb = np.zeros((1, 4, 5, 3), np.uint8)
    rgb[..., 0] = 255  # red
    x = to_model(rgb)
    assert x.shape == (1, 3, 4, 5)
    assert (x[0, 0] == 1).all() and (x[0, 1:] == -1).all()  # channel 0 is red


def test_to_uint8_clamps_and_rounds():
    x = torch.tensor([-3.0, -1.0, 0.0, 0.004, 0.9999, 5.0]).reshape(1, 1, 1, 6).repeat(1, 3, 1, 1)
    got = to_uint8(x)[0, 0, :, 0].tolist()
    assert got == [0, 0, 128, 128, 255, 255]  # 0 -> 127.5, rounded half to even
    assert to_uint8(x.to(torch.bfloat16)).dtype == torch.uint8  # autocast outputs


def test_masks_and_changes():
    m = mask_to_model(np.array([[[0, 255], [51, 102]]], np.uint8))
    assert m.shape == (1, 1, 2, 2)
    assert m.flatten().tolist() == pytest.approx([0.0, 1.0, 0.2, 0.4])
    u8 = torch.randint(0, 256, (2, 8, 8, 3), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    other = torch.randint(0, 256, (2, 8, 8, 3), dtype=torch.uint8, generator=torch.Generator().manual_seed(1))
    d = change_to_pixels(to_model(other) - to_model(u8))
    assert d.shape == (2, 8, 8, 3)
    assert torch.allclose(d, other.float() - u8.float(), atol=1e-4)


@pytest.mark.parametrize("fn, bad, says", [
    (to_model, torch.zeros(2, 3, 8, 8, dtype=torch.uint8), r"\(N, H, W, 3\), got torch.uint8 \(2, 3, 8, 8\)"),
    (to_model, torch.zeros(8, 8, 3, dtype=torch.uint8), r"got torch.uint8 \(8, 8, 3\)"),
    (to_model, np.zeros((1, 8, 8, 3), np.float32), r"must be uint8 .* got torch.float32"),
    (to_uint8, torch.zeros(1, 8, 8, 3), r"\(N, 3, H, W\), got torch.float32 \(1, 8, 8, 3\)"),
    (to_uint8, torch.zeros(1, 3, 8, 8, dtype=torch.uint8), r"must be float .* got torch.uint8"),
    (mask_to_model, torch.zeros(1, 1, 8, 8, dtype=torch.uint8), r"\(N, H, W\), got torch.uint8 \(1, 1, 8, 8\)"),
    (change_to_pixels, torch.zeros(3, 8, 8), r"\(N, 3, H, W\), got torch.float32 \(3, 8, 8\)"),
])
def test_bad_shapes_and_dtypes_are_named(fn, bad, says):
    with pytest.raises(ValueError, match=says):
        fn(bad)


def test_data_prep_does_not_import_mustache():
    import re
    from pathlib import Path

    import data_prep

    offenders = [p.name for p in Path(data_prep.__file__).parent.glob("*.py")
                 if re.search(r"^\s*(from|import) mustache\b", p.read_text(), re.M)]
    assert offenders == []
