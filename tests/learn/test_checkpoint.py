from dataclasses import asdict

import pytest
import torch

from mustache.errors import MustacheError
from mustache.learn import checkpoint as ck
from mustache.learn.models.generator import Generator, GeneratorConfig

TINY = GeneratorConfig(base=8, max_channels=32, depth=3, noise_dim=8, embed_dim=16)


def _gan(tmp_path):
    torch.manual_seed(0)
    g = Generator(TINY)
    payload = {"kind": ck.GAN_KIND, "version": 1, "generator_config": asdict(TINY),
               "generator_ema": g.state_dict(), "generator": g.state_dict(),
               "discriminator": {"w": torch.zeros(3)}, "step": 7,
               "prep_config": {"region": {"window_size": 128}}}
    ck.save(tmp_path / "run" / "checkpoints" / "latest.pt", payload)
    return g


def test_export_keeps_what_apply_needs(tmp_path):
    g = _gan(tmp_path)
    out = ck.export_generator(tmp_path / "run", tmp_path / "small.pt")
    assert "discriminator" not in out and "generator" not in out and out["step"] == 7
    g2, ckpt = ck.load_generator(tmp_path / "small.pt")
    x = torch.rand(2, 3, 128, 128) * 2 - 1
    m = torch.zeros(2, 1, 128, 128)
    m[:, :, 60:90, 30:100] = 1
    lab = torch.tensor([0, 1])
    with torch.no_grad():
        assert torch.equal(g.eval()(x, m, lab), g2(x, m, lab))
    assert ckpt["prep_config"]["region"]["window_size"] == 128


def test_corrupt_foreign_and_missing(tmp_path):
    (tmp_path / "bad.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(MustacheError, match="bad.pt: not a loadable checkpoint"):
        ck.load(tmp_path / "bad.pt")
    ck.save(tmp_path / "clf.pt", {"kind": ck.CLASSIFIER_KIND})
    with pytest.raises(MustacheError, match="expected mustache-gan"):
        ck.load_generator(tmp_path / "clf.pt")
    with pytest.raises(MustacheError, match="not found"):
        ck.load(tmp_path / "nope.pt")
    (tmp_path / "emptyrun").mkdir()
    with pytest.raises(MustacheError, match="no checkpoints/latest.pt"):
        ck.load(tmp_path / "emptyrun")


def test_save_is_atomic(tmp_path, monkeypatch):
    ck.save(tmp_path / "a.pt", {"kind": "x", "v": 1})

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(ck.os, "replace", boom)
    with pytest.raises(OSError):
        ck.save(tmp_path / "a.pt", {"kind": "x", "v": 2})
    monkeypatch.undo()
    assert ck.load(tmp_path / "a.pt")["v"] == 1  # the old file is intact
    assert [p.name for p in tmp_path.iterdir()] == ["a.pt"]  # no temp file left


def test_export_keeps_the_run_options(tmp_path):
    """An exported file still says how its run was trained (`mustache eval` reads its hold-out)."""
    from data_prep.config import to_dict
    from mustache.learn.train_config import TrainConfig, saved_config

    cfg = TrainConfig(steps=9, batch_size=4, lr_g=1e-3, lr_d=1e-3, holdout=0.25, guide="g.pt")
    _gan(tmp_path)
    full = ck.load(tmp_path / "run")
    ck.save(tmp_path / "run" / "checkpoints" / "latest.pt", {**full, "train_config": to_dict(cfg)})
    ck.export_generator(tmp_path / "run", tmp_path / "small.pt")
    assert saved_config(ck.load(tmp_path / "small.pt"), "small.pt") == cfg
    assert saved_config(full, "x") is None  # a hand-made file records none
    with pytest.raises(MustacheError, match="bad.pt: its train_config does not fit"):
        saved_config({"train_config": {"holdout": 0.1}}, "bad.pt")  # no steps, no lrs
