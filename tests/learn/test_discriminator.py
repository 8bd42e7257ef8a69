"""The conditional PatchGAN: shapes, receptive field, label conditioning, spectral norm."""

from __future__ import annotations

import pytest
import torch

from mustache.learn.models.discriminator import Discriminator, DiscriminatorConfig, receptive_field
from mustache.learn.presets import PRESETS

TINY = PRESETS["tiny"].discriminator


def _inputs(n=2, size=128, seed=0):
    g = torch.Generator().manual_seed(seed)
    w = torch.rand(n, 3, size, size, generator=g) * 2 - 1
    m = torch.zeros(n, 1, size, size)
    m[:, :, 48:80, 24:104] = 1
    return w, m, torch.tensor([0, 1] * (n // 2))


def test_shapes():
    d = Discriminator(TINY)
    patch, cls = d(*_inputs(4))
    assert patch.shape == (4, 1, 14, 14)
    assert cls.shape == (4,)
    assert torch.isfinite(patch).all() and torch.isfinite(cls).all()


def test_receptive_field_is_70px():
    assert receptive_field(DiscriminatorConfig()) == 70
    # empirically: the gradient of the centre logit touches at most a 70 px square
    d = Discriminator(TINY).eval()
    w, m, y = _inputs(2)
    w.requires_grad_(True)
    patch, _ = d(w, m, y)
    patch[0, 0, 7, 7].backward()
    ys, xs = torch.nonzero(w.grad[0].abs().sum(0) > 0, as_tuple=True)
    assert 0 < int(ys.max() - ys.min()) + 1 <= 70
    assert 0 < int(xs.max() - xs.min()) + 1 <= 70


def test_label_conditions_patches_and_class_sees_region():
    d = Discriminator(TINY).eval()
    w, m, _ = _inputs(2)
    p0, c0 = d(w, m, torch.tensor([0, 0]))
    p1, c1 = d(w, m, torch.tensor([1, 1]))
    assert not torch.allclose(p0, p1)  # projection: the label matters per patch
    assert torch.equal(c0, c1)  # the classifier judges the pixels, not the claimed label


def test_spectral_norm_on_every_weight_layer():
    d = Discriminator(TINY)
    names = [n for n, _ in d.named_parameters() if n.endswith("weight.original")]
    assert len(names) == TINY.layers + 4  # convs + patch + embedding + classifier


@pytest.mark.parametrize("bad", ["window", "mask", "label"])
def test_bad_shapes_name_the_shape(bad):
    d = Discriminator(TINY)
    w, m, y = _inputs(2)
    args = {"window": w[:, :2], "mask": m[:, :, :64], "label": y[:1]}
    kw = {"window": w, "mask": m, "label": y, bad: args[bad]}
    with pytest.raises(ValueError, match=bad):
        d(**kw)
