"""`mustache eval`: window metrics from a tiny untrained GAN, photo metrics with stand-in apply
functions, the CLI table."""

from __future__ import annotations

import json
from dataclasses import asdict

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from mustache import checkpoint
from mustache.classify import Scorer
from mustache.cli import app
from mustache.evaluate import EvalConfig, evaluate, generate_windows, outside_change
from mustache.models.classifier import Classifier, ClassifierConfig
from mustache.models.generator import Generator, GeneratorConfig

CONFIG = EvalConfig(holdout=0.5, max_faces=8, max_photos=2, kid_subsets=5, sheet_pairs=4)


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory, synthetic_dataset):
    """An untrained tiny GAN checkpoint and an untrained tiny classifier checkpoint."""
    from data_prep.build import read_prep_config

    torch.manual_seed(0)
    d = tmp_path_factory.mktemp("models")
    prep = asdict(read_prep_config(synthetic_dataset))
    gcfg = GeneratorConfig(base=8, max_channels=16, depth=3, noise_dim=4, embed_dim=8)
    checkpoint.save(d / "gan.pt", {"kind": checkpoint.GAN_KIND, "version": 1,
                                   "generator_config": asdict(gcfg),
                                   "generator_ema": Generator(gcfg).state_dict(),
                                   "prep_config": prep})
    ccfg = ClassifierConfig(widths=(8, 16))
    checkpoint.save(d / "clf.pt", {"kind": checkpoint.CLASSIFIER_KIND, "version": 1,
                                   "classifier_config": asdict(ccfg),
                                   "classifier": Classifier(ccfg).state_dict(),
                                   "prep_config": prep})
    return d / "gan.pt", d / "clf.pt"


def test_generated_windows_change_only_the_region(tiny_models, synthetic_dataset):
    from data_prep.dataset import load_windows

    gen, _ = checkpoint.load_generator(tiny_models[0])
    data = load_windows(synthetic_dataset)
    out = generate_windows(gen, data.windows[:3], data.masks[:3], seed=1)
    assert out.shape == data.windows[:3].shape and out.dtype == np.uint8
    outside = data.masks[:3] == 0
    assert np.array_equal(out[outside], data.windows[:3][outside])
    assert not np.array_equal(out, data.windows[:3])


def test_window_metrics_without_photos(tiny_models, synthetic_dataset, tmp_path):
    gan, clf = tiny_models
    with Scorer(clf) as s:
        r = evaluate(gan, synthetic_dataset, s, out_dir=tmp_path, config=CONFIG)
    assert r.faces >= 1 and 0 <= r.mustache_rate <= 1 and np.isfinite(r.kid)
    # the synthetic clean windows are the painted ones' faces: some skin detail, below the
    # painted mustaches' strands
    assert 0 < r.texture_before < 1 and r.texture > 0
    assert r.photos == 0 and r.outside_change is None and any("photo" in n for n in r.notes)
    assert not any("geometry" in n for n in r.notes)
    assert json.loads((tmp_path / "report.json").read_text())["faces"] == r.faces
    assert (tmp_path / "contact_sheet.png").is_file()


def test_photo_metrics_with_stand_in_pipelines(tiny_models, synthetic_dataset, synthetic_photos):
    gan, clf = tiny_models
    with Scorer(clf) as s:
        same = evaluate(gan, synthetic_dataset, s, [synthetic_photos], config=CONFIG,
                        apply_fn=lambda rgb, seed: rgb.copy())
        brighter = evaluate(gan, synthetic_dataset, s, [synthetic_photos], config=CONFIG,
                            apply_fn=lambda rgb, seed: np.clip(rgb.astype(int) + 10, 0, 255
                                                               ).astype(np.uint8))
    assert same.photos >= 1 and same.outside_change == 0.0
    assert same.landmark_drift == pytest.approx(0.0, abs=1e-6)
    assert 8 <= brighter.outside_change <= 10


def test_outside_change_checks_shapes():
    a = np.zeros((4, 4, 3), np.uint8)
    with pytest.raises(ValueError, match="shapes differ"):
        outside_change(a, np.zeros((4, 5, 3), np.uint8), np.ones((4, 4), bool))


def test_eval_cli_compares_checkpoints(tiny_models, synthetic_dataset, synthetic_photos, tmp_path):
    gan, clf = tiny_models
    runner = CliRunner()
    args = ["--data", str(synthetic_dataset), "--classifier", str(clf), "--holdout", "0.5",
            "--max-faces", "4", "--device", "cpu"]
    r = runner.invoke(app, ["eval", str(gan), "--out", str(tmp_path / "one"), *args])
    assert r.exit_code == 0, r.output
    assert "rate" in r.output and "KID" in r.output
    r = runner.invoke(app, ["eval", str(gan), str(gan), "--out", str(tmp_path / "two"),
                            "--compare", str(tmp_path / "one" / "report.json"), *args])
    assert r.exit_code == 0, r.output
    assert r.output.count(str(gan)) >= 3  # three table rows
    # with photos: the real apply pipeline when mustache.apply exists, else a note
    r = runner.invoke(app, ["eval", str(gan), "--out", str(tmp_path / "p"), "--photos",
                            str(synthetic_photos), "--max-photos", "1", *args])
    assert r.exit_code == 0, r.output
    rep = json.loads((tmp_path / "p" / "report.json").read_text())
    assert rep["photos"] == 1 or any("apply" in n for n in rep["notes"])
    r = runner.invoke(app, ["eval", str(tmp_path / "missing.pt"), *args])
    assert r.exit_code == 2 and "not found" in r.output
