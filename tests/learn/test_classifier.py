"""The mustache-ness classifier: shapes, learning a synthetic set, scoring, CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from conftest import requires_data
from typer.testing import CliRunner

from mustache.cli import app
from mustache.learn.classify import ClassifierTrainConfig, Scorer, train_classifier
from mustache.learn.models.classifier import Classifier, ClassifierConfig
from mustache.measure.metrics import roc_auc

TINY = ClassifierConfig(widths=(8, 16, 32), dropout=0.0)


def test_shapes_and_boundary_checks():
    m = Classifier(TINY)
    x = torch.zeros(2, 3, 128, 128)
    assert m(x).shape == (2,)
    assert m.features(x).shape == (2, 32)
    with pytest.raises(ValueError, match=r"\(N, 3, 128, 128\), got \(2, 3, 64, 64\)"):
        m(torch.zeros(2, 3, 64, 64))
    masked = Classifier(ClassifierConfig(widths=(8, 16), use_mask=True))
    assert masked(x, torch.zeros(2, 1, 128, 128)).shape == (2,)
    with pytest.raises(ValueError, match="needs mask"):
        masked(x)
    with pytest.raises(ValueError, match="multiple of"):
        ClassifierConfig(size=100)


@pytest.fixture(scope="module")
def tiny_classifier(synthetic_dataset, tmp_path_factory):
    """A tiny classifier trained for seconds on the synthetic astronaut set."""
    torch.manual_seed(0)
    out = tmp_path_factory.mktemp("clf") / "classifier.pt"
    cfg = ClassifierTrainConfig(epochs=6, batch=16, lr=3e-3, samples_per_epoch=160, holdout=0.2)
    train_classifier(synthetic_dataset, out, cfg, TINY, device="cpu", log=lambda s: None)
    return out


def test_learns_synthetic_mustaches(tiny_classifier, synthetic_dataset):
    from data_prep.dataset import load_windows

    data = load_windows(synthetic_dataset)
    with Scorer(tiny_classifier) as s:
        scores = s.score_windows(data.windows)
        assert s.features_windows(data.windows[:3]).shape == (3, 32)
        with pytest.raises(ValueError, match=r"\(N, 128, 128, 3\)"):
            s.score_windows(data.windows[:, :64])
    assert scores.shape == (16,) and ((scores >= 0) & (scores <= 1)).all()
    assert roc_auc(data.labels, scores) >= 0.9
    assert scores[data.labels == 1].mean() > scores[data.labels == 0].mean() + 0.2


def test_painted_fakes_change_only_the_region_and_read_clean():
    from mustache.learn.classify import paint_fakes

    gen = torch.Generator().manual_seed(0)
    x = torch.zeros(8, 3, 32, 32)
    mask = torch.zeros(8, 1, 32, 32)
    mask[:, :, 10:20, 5:25] = 1
    y = torch.ones(8)
    x2, y2 = paint_fakes(x, mask, y, 1.0, gen)
    assert (y2 == 0).all() and (y == 1).all()  # inputs are left alone
    assert (x2[:, :, :10] == 0).all() and not (x2[:, :, 10:20, 5:25] == 0).all()
    assert torch.equal(paint_fakes(x, mask, y, 0.0, gen)[1], y)


def test_score_cli(tiny_classifier, synthetic_photos, tmp_path):
    from data_prep.image_io import save_image

    runner = CliRunner()
    photo = synthetic_photos / "mustache" / "mustache_0.png"
    r = runner.invoke(app, ["score", str(photo), "--model", str(tiny_classifier)])
    assert r.exit_code == 0, r.output
    assert "face 0" in r.output
    r = runner.invoke(app, ["score", str(photo), str(synthetic_photos / "clean" / "clean_0.png"),
                            "--model", str(tiny_classifier), "--json"])
    lines = [json.loads(x) for x in r.output.strip().splitlines()]
    assert r.exit_code == 0 and len(lines) == 2
    assert 0 <= lines[0]["faces"][0]["score"] <= 1
    blank = tmp_path / "blank.png"
    save_image(blank, np.full((200, 200, 3), 128, np.uint8))
    r = runner.invoke(app, ["score", str(blank), "--model", str(tiny_classifier)])
    assert r.exit_code == 3 and "no face" in r.output
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not an image")
    r = runner.invoke(app, ["score", str(bad), "--model", str(tiny_classifier)])
    assert r.exit_code == 2 and len(r.output.strip().splitlines()) == 1
    r = runner.invoke(app, ["score", str(photo), "--model", str(bad)])
    assert r.exit_code == 2 and "checkpoint" in r.output


def test_train_classifier_cli_and_auto_label(synthetic_dataset, synthetic_photos, tmp_path):
    import shutil

    runner = CliRunner()
    out = tmp_path / "c.pt"
    r = runner.invoke(app, ["train-classifier", str(synthetic_dataset), "--out", str(out),
                            "--epochs", "1", "--samples", "32", "--batch", "16",
                            "--holdout", "0.2", "--device", "cpu"])
    assert r.exit_code == 0, r.output
    assert "ROC-AUC" in r.output and out.is_file()
    # auto-label: prep the photos without labels, then label them with the classifier
    data = tmp_path / "ds"
    shutil.copytree(synthetic_photos / "clean", tmp_path / "photos" / "clean")
    r = runner.invoke(app, ["prep", str(tmp_path / "photos"), "--out", str(data), "--workers", "1",
                            "--no-folder-labels", "--auto-label", str(out), "--no-contact-sheet"])
    assert r.exit_code == 0, r.output
    from data_prep.dataset import read_manifest

    recs = read_manifest(data)
    assert len(recs) == 8 and all(0 <= x["mustache_score"] <= 1 for x in recs)
    assert all(x["label"] in ("clean", "mustache") and x["label_source"] == "classifier"
               for x in recs)


@requires_data
@pytest.mark.slow
def test_real_data_short_run(tmp_path):
    """Prep 300 mustached and 300 clean-shaven CelebA men, train briefly: held-out people are
    ranked far above chance."""
    import csv

    from conftest import SHARED

    from data_prep.build import build_dataset
    from data_prep.labels import from_celeba

    celeba = SHARED / "celeba"
    photos = tmp_path / "photos"
    photos.mkdir()
    n = {1: 0, 0: 0}
    with open(celeba / "manifest.csv", newline="") as f:
        for row in csv.DictReader(f):
            y = 1 if row["Mustache"] == "1" else 0 if row["No_Beard"] == "1" else -1
            if y >= 0 and n[y] < 300:
                n[y] += 1
                (photos / row["file"]).symlink_to(celeba / "images" / row["file"])
    data = tmp_path / "ds"
    build_dataset(photos, data, from_celeba(celeba / "list_attr_celeba_staged.txt"), workers=2)
    torch.manual_seed(0)
    cfg = ClassifierTrainConfig(epochs=3, batch=32, samples_per_epoch=640, holdout=0.25)
    r = train_classifier(data, tmp_path / "c.pt", cfg, device="cpu", log=lambda s: None)
    assert r.heldout.positives >= 30
    assert r.heldout.roc_auc > 0.75, r.heldout
