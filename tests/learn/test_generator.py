"""The U-Net generator: shapes, range, only the region changes, it learns, checkpoints."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from mustache.learn import checkpoint
from mustache.learn.models.generator import Generator, GeneratorConfig
from mustache.learn.presets import PRESETS

TINY = PRESETS["tiny"].generator


def _batch(n=4, size=128, seed=0):
    g = torch.Generator().manual_seed(seed)
    # smooth windows (bilinear from 8x8): the region is predictable from its surroundings
    w = torch.rand(n, 3, 8, 8, generator=g) * 2 - 1
    w = torch.nn.functional.interpolate(w, size=(size, size), mode="bilinear")
    m = torch.zeros(n, 1, size, size)
    m[:, :, 50:78, 30:98] = 1
    m[:, :, 48:50, 30:98] = 0.5  # a soft edge
    return w, m, torch.tensor([0, 1] * (n // 2))


@pytest.mark.parametrize("config", [TINY, PRESETS["default"].generator])
def test_shape_range_and_only_region_changes(config):
    g = Generator(config).eval()
    w, m, y = _batch()
    out = g(w, m, y, torch.randn(4, config.noise_dim))
    assert out.shape == w.shape
    assert out.min() >= -1 and out.max() <= 1
    outside = m == 0
    assert torch.equal(out.expand_as(w)[outside.expand_as(w)], w[outside.expand_as(w)])
    assert not torch.allclose(out, w)


def test_label_and_noise_change_the_region():
    g = Generator(TINY).eval()
    w, m, _ = _batch()
    a = g(w, m, torch.zeros(4, dtype=torch.long))
    b = g(w, m, torch.ones(4, dtype=torch.long))
    assert not torch.allclose(a, b)
    # FiLM starts as the identity, so noise acts once training has moved it off zero
    with torch.no_grad():
        for p in g.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    z = torch.randn(4, TINY.noise_dim)
    assert not torch.allclose(g(w, m, torch.zeros(4, dtype=torch.long)),
                              g(w, m, torch.zeros(4, dtype=torch.long), z))


def test_does_not_see_what_was_in_the_region():
    g = Generator(TINY).eval()
    w, m, y = _batch()
    w2 = w.clone()
    w2[:, :, 50:78, 30:98] = 1.0  # change only fully-masked pixels
    assert torch.allclose(g(w, m, y), g(w2, m, y))


@pytest.mark.parametrize("bad", ["window", "mask", "label"])
def test_bad_shapes_name_the_shape(bad):
    g = Generator(TINY)
    w, m, y = _batch()
    args = {"window": w[:, :, :64], "mask": m[:2], "label": y[:, None]}
    kw = {"window": w, "mask": m, "label": y, bad: args[bad]}
    with pytest.raises(ValueError, match=bad):
        g(**kw)


def _fit(g, w, m, y, steps, lr=3e-3):
    opt = torch.optim.Adam(g.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        loss = ((g(w, m, y) - w).abs() * m).sum() / (3 * m.sum())
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def test_few_steps_lower_reconstruction_loss():
    torch.manual_seed(0)
    losses = _fit(Generator(TINY), *_batch(), steps=20)
    assert losses[-1] < 0.95 * losses[0], losses


def test_tiny_model_overfits_a_handful_of_windows():
    torch.manual_seed(0)
    losses = _fit(Generator(TINY), *_batch(2), steps=200)
    assert losses[-1] < 0.35 * losses[0], losses[::25]


def test_checkpoint_round_trip_gives_identical_outputs(tmp_path):
    torch.manual_seed(1)
    g = Generator(TINY).eval()
    path = tmp_path / "g.pt"
    checkpoint.save(path, {"kind": checkpoint.GAN_KIND, "version": 1,
                           "generator_config": dataclasses.asdict(TINY),
                           "generator_ema": g.state_dict()})
    g2, _ = checkpoint.load_generator(path)
    w, m, y = _batch()
    z = torch.randn(4, TINY.noise_dim)
    assert torch.equal(g(w, m, y, z), g2(w, m, y, z))
    assert g2.config == TINY


def test_config_checks_size():
    with pytest.raises(ValueError, match="multiple"):
        GeneratorConfig(size=100, depth=5)


@pytest.mark.parametrize("shape", [(2, 32, 16, 16), (1, 5, 7, 11)])
def test_folded_upsample_conv_equals_upsample_then_conv(shape):
    import torch.nn.functional as F

    from mustache.learn.models.generator import fold_upsample_kernel, upsample_conv

    torch.manual_seed(0)
    x = torch.randn(shape, requires_grad=True)
    w = torch.randn(6, shape[1], 3, 3, requires_grad=True)
    b = torch.randn(6)
    ref = F.conv2d(F.interpolate(x, scale_factor=2.0, mode="nearest"), w, b, padding=1)
    out = upsample_conv(x, fold_upsample_kernel(w), b)
    assert out.shape == ref.shape
    torch.testing.assert_close(out, ref, atol=1e-4, rtol=1e-4)
    g = torch.randn_like(ref)
    gx, gw = torch.autograd.grad((ref * g).sum(), (x, w))
    fx, fw = torch.autograd.grad((out * g).sum(), (x, w))
    torch.testing.assert_close(fx, gx, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(fw, gw, atol=1e-3, rtol=1e-4)


def test_inference_fold_cache_follows_the_weights():
    torch.manual_seed(0)
    g = Generator(GeneratorConfig(base=8, max_channels=32, depth=3, noise_dim=8, embed_dim=16)).eval()
    x, m = torch.rand(2, 3, 128, 128) * 2 - 1, torch.zeros(2, 1, 128, 128)
    m[:, :, 64:96, 32:96] = 1
    label, noise = torch.tensor([0, 1]), torch.randn(2, 8)
    train_path = g(x, m, label, noise)  # grad enabled: folds inside the graph
    with torch.inference_mode():
        torch.testing.assert_close(g(x, m, label, noise), train_path.detach())
    other = Generator(g.config)
    g.load_state_dict(other.state_dict())  # new weights: the cached folds must not be reused
    with torch.inference_mode():
        torch.testing.assert_close(g(x, m, label, noise), other.eval()(x, m, label, noise))
