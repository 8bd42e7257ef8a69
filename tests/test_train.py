"""The training loop and `mustache train`: files written, exact resume, DDP, bad input."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from mustache import checkpoint
from mustache.cli import app
from mustache.errors import MustacheError
from mustache.train import training_loop

ROOT = Path(__file__).resolve().parents[1]
FAST = dict(preset="tiny", device="cpu", progress=False, log_every=1)


def _run(data, out, **kw):
    return training_loop(data=data, run_dir=out, **{**FAST, **kw})


def _stats(run):
    return [json.loads(s) for s in (run / "stats.jsonl").read_text().splitlines()]


def test_run_writes_config_stats_samples_and_loadable_checkpoint(synthetic_dataset, tmp_path):
    run = _run(synthetic_dataset, tmp_path / "run", steps=4, sample_every=2, checkpoint_every=2)
    cfg = json.loads((run / "config.json").read_text())
    assert cfg["preset"] == "tiny" and cfg["generator"]["base"] == 8
    assert cfg["counts"]["clean"] > 0 and cfg["counts"]["mustache"] > 0
    steps = [s for s in _stats(run) if "step" in s and "g_rec" in s]
    assert [s["step"] for s in steps] == [1, 2, 3, 4]
    assert all(s["img_per_s"] > 0 for s in steps)
    assert sorted(p.name for p in run.glob("samples-*.png")) == [
        "samples-0000000.png", "samples-0000002.png", "samples-0000004.png"]
    ck = sorted(p.name for p in (run / "checkpoints").iterdir())
    assert ck == ["latest.pt", "step-0000002.pt", "step-0000004.pt"]
    g, payload = checkpoint.load_generator(run)
    assert payload["step"] == 4 and payload["prep_config"]["region"]["window_size"] == 128
    latest = checkpoint.load(run / "checkpoints" / "latest.pt")
    last = checkpoint.load(run / "checkpoints" / "step-0000004.pt")
    assert all(torch.equal(latest["generator_ema"][k], last["generator_ema"][k])
               for k in last["generator_ema"])
    # the sample grid: originals, asked clean, asked mustache, 12 tiles a row
    from data_prep.image_io import load_image

    sheet = load_image(run / "samples-0000004.png")
    assert sheet.shape[1] == 12 * 130 + 2


def _states(run):
    ck = checkpoint.load(run)
    return {**{f"g.{k}": v for k, v in ck["generator"].items()},
            **{f"d.{k}": v for k, v in ck["discriminator"].items()},
            **{f"ema.{k}": v for k, v in ck["generator_ema"].items()}}, ck


def test_resume_equals_an_uninterrupted_run(synthetic_dataset, tmp_path):
    whole = _run(synthetic_dataset, tmp_path / "whole", steps=6, checkpoint_every=3)
    half = _run(synthetic_dataset, tmp_path / "half", steps=3, checkpoint_every=3)
    _run(None, None, resume=half, steps=6, checkpoint_every=3)  # data/run come from the ckpt
    a, ca = _states(whole)
    b, cb = _states(half)
    assert ca["step"] == cb["step"] == 6
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a), [k for k in a if not torch.equal(a[k], b[k])]
    assert ca["optimizers"]["g"]["state"][0]["exp_avg"].equal(
        cb["optimizers"]["g"]["state"][0]["exp_avg"])
    # stats: one line per step, none repeated
    assert [s["step"] for s in _stats(half) if "g_rec" in s] == [1, 2, 3, 4, 5, 6]


def _guide(path, **kw):
    """An untrained classifier checkpoint: enough to check the guide's plumbing."""
    import dataclasses

    from mustache.models.classifier import Classifier, ClassifierConfig

    torch.manual_seed(0)
    cfg = ClassifierConfig(widths=(8, 16), dropout=0.0, **kw)
    checkpoint.save(path, {"kind": checkpoint.CLASSIFIER_KIND, "version": 1,
                           "classifier_config": dataclasses.asdict(cfg),
                           "classifier": Classifier(cfg).state_dict()})
    return path


def test_guide_joins_the_generator_loss_and_is_kept_on_resume(synthetic_dataset, tmp_path):
    guide = _guide(tmp_path / "guide.pt", use_mask=True)
    plain = _run(synthetic_dataset, tmp_path / "plain", steps=2, guide=guide, guide_weight=0.0)
    run = _run(synthetic_dataset, tmp_path / "run", steps=2, guide=guide, guide_weight=5.0)
    assert json.loads((run / "config.json").read_text())["guide"] == str(guide)
    assert all(s["g_guide"] > 0 for s in _stats(run) if "g_rec" in s)
    # its gradient reaches the generator: same seed, different weight, different weights
    a, b = checkpoint.load(plain)["generator"], checkpoint.load(run)["generator"]
    assert any(not torch.equal(a[k], b[k]) for k in a)
    _run(None, None, resume=run, steps=4)  # the guide and its weight come from the checkpoint
    ck = checkpoint.load(run)
    assert ck["step"] == 4 and ck["train_config"]["guide_weight"] == 5.0
    assert all(s["g_guide"] > 0 for s in _stats(run) if "g_rec" in s and s["step"] > 2)

    small = _guide(tmp_path / "small.pt", size=64)
    with pytest.raises(MustacheError, match="64 px windows, the generator makes 128 px"):
        _run(synthetic_dataset, tmp_path / "bad", steps=1, guide=small)


def test_cli_trains_into_a_new_run_folder(synthetic_dataset, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copytree(synthetic_dataset, tmp_path / "mustache-data")
    args = ["train", "--preset", "tiny", "--steps", "2", "--device", "cpu", "--no-progress"]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["00001-tiny", "00002-tiny"]


def _one_line_error(args, code):
    r = CliRunner().invoke(app, ["train", "--preset", "tiny", "--device", "cpu", "--no-progress",
                                 *map(str, args)])
    assert r.exit_code == code, r.output
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), r.output
    return lines[0]


def test_cli_bad_input(synthetic_dataset, tmp_path):
    assert "not found" in _one_line_error(["--data", tmp_path / "nope"], 2)
    (tmp_path / "empty").mkdir()
    assert "empty" in _one_line_error(["--data", tmp_path / "empty"], 2)

    one = tmp_path / "one-label"
    shutil.copytree(synthetic_dataset, one)
    lines = (one / "manifest.jsonl").read_text().splitlines()
    (one / "manifest.jsonl").write_text(
        "".join(ln + "\n" for ln in lines if json.loads(ln)["label"] == "clean"))
    assert "both labels" in _one_line_error(["--data", one], 2)

    bad = tmp_path / "corrupt.pt"
    bad.write_bytes(b"not a checkpoint")
    assert "not a loadable checkpoint" in _one_line_error(["--resume", bad], 2)
    other = tmp_path / "classifier.pt"
    checkpoint.save(other, {"kind": checkpoint.CLASSIFIER_KIND, "version": 1})
    assert "expected mustache-gan" in _one_line_error(["--resume", other], 2)
    apply_only = tmp_path / "apply-only.pt"
    checkpoint.save(apply_only, {"kind": checkpoint.GAN_KIND, "version": 1})
    assert "cannot resume" in _one_line_error(["--resume", apply_only], 2)
    assert "unknown preset" in CliRunner().invoke(
        app, ["train", "--preset", "huge", "--data", str(synthetic_dataset)]).output


def test_cli_nan_loss_exits_1(synthetic_dataset, tmp_path, monkeypatch):
    import mustache.train as T

    monkeypatch.setattr(T, "_augment", lambda w, m: (w * float("nan"), m))
    msg = _one_line_error(["--data", synthetic_dataset, "--out", tmp_path / "r", "--steps", "3"], 1)
    assert "non-finite" in msg
    assert not (tmp_path / "r" / "checkpoints").exists()


@pytest.mark.slow
def test_torchrun_two_cpu_ranks_end_with_the_same_weights(synthetic_dataset, tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2",
           "--standalone", "-m", "mustache", "train", "--data", str(synthetic_dataset),
           "--out", str(tmp_path / "ddp"), "--preset", "tiny", "--steps", "4",
           "--device", "cpu", "--no-progress", "--checkpoint-every", "2"]
    r = subprocess.run(cmd, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    ranks = [s for s in _stats(tmp_path / "ddp") if s.get("event") == "ranks"]
    assert len(ranks) == 1 and len(ranks[0]["checksums"]) == 2
    assert ranks[0]["checksums"][0] == ranks[0]["checksums"][1]
    ck = checkpoint.load(tmp_path / "ddp")
    assert ck["step"] == 4 and len(ck["rng"]) == 2 and ck["train_config"]["world_size"] == 2
