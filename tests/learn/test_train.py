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

from data_prep.config import to_dict
from mustache.cli import app
from mustache.errors import BadInput
from mustache.learn import checkpoint
from mustache.learn.train import training_loop
from mustache.learn.train_config import FIXED_ON_RESUME, TrainConfig, resolve_config

ROOT = Path(__file__).resolve().parents[2]
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

    from mustache.learn.models.classifier import Classifier, ClassifierConfig

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
    with pytest.raises(BadInput, match="64 px windows, the generator makes 128 px"):
        _run(synthetic_dataset, tmp_path / "bad", steps=1, guide=small)


# ---- options: explicit > checkpoint (resume) > preset ----

TINY = dict(steps=20, batch_size=8, lr_g=1e-3, lr_d=1e-3)  # the tiny preset's


def test_fresh_run_takes_the_preset_and_dataclass_defaults():
    from mustache.learn.presets import PRESETS

    d = PRESETS["default"]
    assert resolve_config({}) == TrainConfig(steps=d.steps, batch_size=d.batch_size,
                                             lr_g=d.lr_g, lr_d=d.lr_d)
    tiny = resolve_config({"preset": "tiny", "steps": None})  # None: not given
    assert tiny == TrainConfig(preset="tiny", **TINY)
    assert tiny.holdout == 0.1 and tiny.seed == 0 and tiny.data == "mustache-data"


def test_explicit_beats_the_preset():
    cfg = resolve_config({"preset": "tiny", "lr_g": 5e-4, "steps": 7, "batch_size": 4,
                          "data": Path("some/data/"), "holdout": 0.2, "seed": 3})
    assert (cfg.lr_g, cfg.lr_d, cfg.steps, cfg.batch_size) == (5e-4, 1e-3, 7, 4)
    assert (cfg.data, cfg.holdout, cfg.seed) == ("some/data", 0.2, 3)
    with pytest.raises(BadInput, match="--steps must be at least 1"):
        resolve_config({"steps": 0})
    with pytest.raises(BadInput, match="--preset: unknown preset 'huge'"):
        resolve_config({"preset": "huge"})
    with pytest.raises(TypeError, match="unknown training options: nope"):
        resolve_config({"nope": 1})


SAVED = TrainConfig(data="d", preset="tiny", steps=10, batch_size=6, lr_g=3e-4, lr_d=4e-4,
                    seed=5, guide="g.pt", guide_weight=4.0, holdout=0.2, warmup=7,
                    sample_every=5, device="cuda", workers=3, compile=True)


def test_resume_restores_the_saved_options_but_not_the_machine():
    cfg = resolve_config({}, SAVED)
    # device, workers and compile are this process's: the run may continue on another machine
    assert cfg == TrainConfig(**{**to_dict(SAVED), "device": "auto", "workers": 0,
                                 "compile": False})


def test_resume_applies_sound_overrides():
    cfg = resolve_config({"lr_g": 1e-4, "steps": 30, "batch_size": 12, "guide_weight": 2.0,
                          "device": "cpu"}, SAVED)
    assert (cfg.lr_g, cfg.steps, cfg.batch_size, cfg.guide_weight) == (1e-4, 30, 12, 2.0)
    assert cfg.device == "cpu" and cfg.lr_d == SAVED.lr_d and cfg.seed == SAVED.seed


@pytest.mark.parametrize("name,value", [
    ("data", "other"), ("preset", "default"), ("seed", 6), ("holdout", 0.1),
    ("guide", "other.pt"), ("warmup", 8)])
def test_resume_refuses_unsound_overrides_naming_the_option(name, value):
    assert name in FIXED_ON_RESUME
    flag = "--" + name.replace("_", "-")
    with pytest.raises(BadInput, match=f"^{flag} {value}: a resumed run keeps its {name} "):
        resolve_config({name: value}, SAVED)
    resolve_config({name: getattr(SAVED, name)}, SAVED)  # the same value is no change
    if name in ("data", "guide"):  # a path, however written
        resolve_config({name: Path("./" + getattr(SAVED, name) + "/")}, SAVED)


def test_resume_with_a_new_learning_rate_applies_it_and_records_it(synthetic_dataset, tmp_path):
    run = _run(synthetic_dataset, tmp_path / "run", steps=2, warmup=4)
    _run(None, None, resume=run, steps=4, lr_g=5e-4)
    ck = checkpoint.load(run)
    assert ck["train_config"]["lr_g"] == 5e-4 and ck["train_config"]["lr_d"] == 1e-3
    assert ck["schedulers"]["g"]["base_lrs"] == [5e-4]
    assert ck["schedulers"]["d"]["base_lrs"] == [1e-3]
    # the optimiser ran with it (the warm-up was over: 4 steps)
    assert ck["optimizers"]["g"]["param_groups"][0]["lr"] == pytest.approx(5e-4)
    options = json.loads((run / "config.json").read_text())
    assert options["lr_g"] == 5e-4 and options["steps"] == 4 and options["world_size"] == 1
    assert options["resumes"] == [{"step": 2, "changed": {"steps": 4, "lr_g": 5e-4}}]
    resume = [s for s in _stats(run) if s.get("event") == "resume"]
    assert resume[0]["changed"] == {"steps": 4, "lr_g": 5e-4}

    with pytest.raises(BadInput, match="--out .*: a resumed run continues in its own folder"):
        _run(None, tmp_path / "elsewhere", resume=run, steps=6)


def test_cli_resume_refuses_another_dataset_or_guide(synthetic_dataset, tmp_path):
    run = _run(synthetic_dataset, tmp_path / "run", steps=1)
    msg = _one_line_error(["--resume", run, tmp_path / "other-data"], 2)
    assert msg.startswith("error: --data ") and "keeps its data" in msg
    guide = _guide(tmp_path / "guide.pt")
    msg = _one_line_error(["--resume", run, "--guide", guide], 2)
    assert msg.startswith("error: --guide ") and "keeps its guide" in msg
    assert checkpoint.load(run)["step"] == 1  # nothing ran


def test_cli_help_shows_the_defaults_training_uses():
    import inspect
    import typing
    from dataclasses import MISSING, fields

    from mustache.commands import train as cmd

    hints = typing.get_type_hints(cmd.train, include_extras=True)
    shown = {name: next(m.show_default for m in hints[name].__metadata__)
             for name in inspect.signature(cmd.train).parameters}
    checked = 0
    for f in fields(TrainConfig):
        if f.name in shown:
            want = (cmd.PRESETS if f.default is MISSING else "none" if f.default is None
                    else "no-compile" if f.default is False else str(f.default))
            assert shown[f.name] == want, f.name
            checked += 1
    assert checked >= 12
    r = CliRunner().invoke(app, ["train", "--help"], terminal_width=200)
    assert r.exit_code == 0 and "[default: (mustache-data)]" in r.output
    assert "[default: (the preset's)]" in r.output and "[default: (500)]" in r.output


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
    assert "not found" in _one_line_error([tmp_path / "nope"], 2)  # DATA, like `prep`'s
    assert "two datasets given" in _one_line_error([tmp_path / "a", "--data", tmp_path / "b"], 2)
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
    import mustache.learn.train as T

    monkeypatch.setattr(T, "_augment", lambda w, m: (w * float("nan"), m))
    msg = _one_line_error(["--data", synthetic_dataset, "--out", tmp_path / "r", "--steps", "3"], 1)
    assert "non-finite" in msg
    assert not (tmp_path / "r" / "checkpoints").exists()


@pytest.mark.slow
def test_torchrun_two_cpu_ranks_end_with_the_same_weights(synthetic_dataset, tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    logs = tmp_path / "logs"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2",
           "--standalone", "--log-dir", str(logs), "--redirects", "2",  # each rank's stderr
           "-m", "mustache", "train", str(synthetic_dataset),
           "--out", str(tmp_path / "ddp"), "--preset", "tiny", "--steps", "4",
           "--device", "cpu", "--no-progress", "--checkpoint-every", "2"]
    r = subprocess.run(cmd, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    ranks_err = "".join(f"\n--- {p.relative_to(logs)}:\n{p.read_text()[-3000:]}"
                        for p in sorted(logs.rglob("stderr.log")))
    assert r.returncode == 0, r.stderr[-3000:] + ranks_err
    ranks = [s for s in _stats(tmp_path / "ddp") if s.get("event") == "ranks"]
    assert len(ranks) == 1 and len(ranks[0]["checksums"]) == 2
    assert ranks[0]["checksums"][0] == ranks[0]["checksums"][1]
    ck = checkpoint.load(tmp_path / "ddp")
    assert ck["step"] == 4 and len(ck["rng"]) == 2 and ck["world_size"] == 2
