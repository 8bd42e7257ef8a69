"""`mustache eval`: window metrics from a tiny untrained GAN, photo metrics with stand-in apply
functions, the CLI table."""

from __future__ import annotations

import json
from dataclasses import asdict

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from mustache.cli import app
from mustache.judge.evaluate import EvalConfig, evaluate, generate_windows, outside_change
from mustache.learn import checkpoint
from mustache.learn.classify import Scorer
from mustache.learn.models.classifier import Classifier, ClassifierConfig
from mustache.learn.models.generator import Generator, GeneratorConfig
from mustache.paint.gan import ApplyResult

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


class _Judge:
    """A Scorer whose scores are known: 0.1 for a window of the dataset as it is, and for the
    i-th generated one 0.9 when i is a multiple of 3, else 0.2 (features: the real ones)."""

    def __init__(self, scorer, originals: np.ndarray):
        self.scorer, self.originals = scorer, originals

    def __getattr__(self, name):
        return getattr(self.scorer, name)

    def score_windows(self, windows, masks=None):
        return np.array([0.1 if any(np.array_equal(w, o) for o in self.originals)
                         else 0.9 if i % 3 == 0 else 0.2 for i, w in enumerate(windows)])


def test_window_metrics_without_photos(tiny_models, synthetic_dataset, tmp_path):
    from data_prep.dataset import load_windows

    gan, clf = tiny_models
    with Scorer(clf) as s:
        r = evaluate(gan, synthetic_dataset, _Judge(s, load_windows(synthetic_dataset).windows),
                     out_dir=tmp_path, config=CONFIG)
    # the rate counts the generated windows scored over 0.5, the clean rate the same windows
    # before generation
    hits = [i % 3 == 0 for i in range(r.faces)]
    assert r.faces >= 3 and r.mustache_rate == pytest.approx(np.mean(hits))
    assert r.mean_score == pytest.approx(np.mean([0.9 if h else 0.2 for h in hits]))
    assert r.clean_rate == 0.0 and np.isfinite(r.kid)
    # the synthetic clean windows are the painted ones' faces: some skin detail, below the
    # painted mustaches' strands
    assert 0 < r.texture_before < 1 and r.texture > 0
    assert r.photos == 0 and r.outside_change is None
    assert any("no --photos folder" in n for n in r.notes)
    assert not any("geometry" in n for n in r.notes)
    assert json.loads((tmp_path / "report.json").read_text())["faces"] == r.faces
    assert (tmp_path / "contact_sheet.png").is_file()


def test_photo_metrics_with_stand_in_pipelines(tiny_models, synthetic_dataset, synthetic_photos):
    gan, clf = tiny_models
    with Scorer(clf) as s:
        same = evaluate(gan, synthetic_dataset, s, [synthetic_photos], config=CONFIG,
                        apply_fn=_StandIn(lambda rgb, seed: ApplyResult(rgb.copy())))
        brighter = evaluate(gan, synthetic_dataset, s, [synthetic_photos], config=CONFIG,
                            apply_fn=_StandIn(lambda rgb, seed: ApplyResult(
                                np.clip(rgb.astype(int) + 10, 0, 255).astype(np.uint8))))
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
    # with photos: the real apply pipeline measures one photo
    r = runner.invoke(app, ["eval", str(gan), "--out", str(tmp_path / "p"), "--photos",
                            str(synthetic_photos), "--max-photos", "1", *args])
    assert r.exit_code == 0, r.output
    rep = json.loads((tmp_path / "p" / "report.json").read_text())
    assert rep["photos"] == 1, rep["notes"]
    assert rep["outside_change"] is not None and 0 <= rep["outside_change"] < 0.5  # (0 seen)
    assert rep["landmark_drift"] is not None and 0 <= rep["landmark_drift"] < 5  # % (0.65 seen)
    assert not any("skipped" in n for n in rep["notes"])
    r = runner.invoke(app, ["eval", str(tmp_path / "missing.pt"), *args])
    assert r.exit_code == 2 and "not found" in r.output


# ---------------------------------------------------------------- high-resolution photos
@pytest.fixture(scope="module")
def hires_dir(tmp_path_factory, astronaut):
    """Photos laid out as ../shared/data/hires: the astronaut at twice her size (face ~180 px)
    as a REAL_HAIR photo and as a plain one, and at her own size (face ~90 px) in another
    folder."""
    import cv2

    from data_prep.image_io import save_image

    root = tmp_path_factory.mktemp("hires")
    big = cv2.resize(astronaut, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
    save_image(root / "london_neutral" / "022_03.jpg", big)
    save_image(root / "london_neutral" / "500_03.png", big)
    save_image(root / "canada" / "small.png", astronaut)
    return root


@pytest.fixture(scope="module")
def stranded_apply(detector):
    """A stand-in for Mustacher.apply: dark strands over the mustache area of the largest face."""
    from mustache.measure.photo_metrics import mouth_masks
    from mustache.paint.gan import ApplyResult, FaceResult
    from tests.measure.test_photo_metrics import _full, strands

    def apply(rgb, seed):
        found = detector.detect(rgb)
        if not found:
            return ApplyResult(rgb.copy())
        lm = found[0].points[:, :2].astype(np.float32)
        m = mouth_masks(lm, rgb.shape)
        out = strands(rgb, _full(m, m.mustache, rgb.shape), lm, seed=seed)
        return ApplyResult(out, (FaceResult(0, tuple(found[0].box), True, landmarks=lm),))

    return _StandIn(apply)


class _StandIn:
    """An :class:`mustache.judge.evaluate.ApplyFn` around a function (rgb, seed) -> ApplyResult."""

    def __init__(self, fn):
        self.fn, self.closed = fn, False

    def __call__(self, rgb, seed):
        return self.fn(rgb, seed)

    def close(self):
        self.closed = True


def test_hires_photos_real_hair_first_then_each_folder_in_turn(tmp_path):
    from mustache.judge.hires import hires_photos

    for name in ["a/1.jpg", "a/2.jpg", "a/3.jpg", "b/1.png", "canada/115m.jpg", "a/notes.txt"]:
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    got = hires_photos([tmp_path], max_photos=4)
    assert got[0].name == "115m.jpg" and len(got) == 4
    assert {p.parent.name for p in got[1:3]} == {"a", "b"}
    assert hires_photos([tmp_path], 4) == got  # deterministic
    assert hires_photos([tmp_path / "b" / "1.png"]) == [tmp_path / "b" / "1.png"]


def test_hires_metrics_with_a_stand_in_pipeline(hires_dir, stranded_apply):
    from mustache.judge.hires import hires_metrics, hires_photos

    photos = hires_photos([hires_dir])
    rep = hires_metrics(stranded_apply, photos, min_face=100)
    assert rep.photos == 3
    assert rep.faces == 1  # the small face is below min_face; the REAL_HAIR one is the reference
    assert rep.real_faces == 1 and rep.min_face == 100
    assert rep.detail_after > 1.2 and rep.detail_after > 2 * rep.detail_before
    assert rep.brow_distance != rep.brow_distance_before and rep.vermilion_change == 0.0
    assert 0 < rep.real_detail < rep.detail_after and 0 < rep.real_coherence < 1
    rows = json.loads(json.dumps(rep.to_dict()))["rows"]
    assert {(r["photo"], r["real_hair"]) for r in rows} == {
        ("london_neutral/022_03.jpg", True), ("london_neutral/500_03.png", False)}
    none = hires_metrics(stranded_apply, photos[1:], min_face=1000)
    assert none.faces == 0 and np.isnan(none.detail_after) and any("1000" in n for n in none.notes)


def test_eval_cli_hires_only(tiny_models, hires_dir, stranded_apply, tmp_path, monkeypatch):
    """--hires without a dataset: only the hires figures, a second table, report.json["hires"]."""
    gan, clf = tiny_models
    monkeypatch.setattr("mustache.judge.evaluate.default_apply_fn", lambda model, device="auto": stranded_apply)
    r = CliRunner().invoke(app, ["eval", str(gan), "--data", str(tmp_path / "none"), "--classifier",
                                 str(clf), "--out", str(tmp_path / "h"), "--hires", str(hires_dir),
                                 "--hires-max", "3", "--hires-min-face", "100", "--device", "cpu"])
    assert r.exit_code == 0, r.output
    assert "detail" in r.output and "real hair (reference)" in r.output
    rep = json.loads((tmp_path / "h" / "report.json").read_text())
    assert rep["hires"]["photos"] == 3 and rep["hires"]["faces"] == 1
    r = CliRunner().invoke(app, ["eval", str(gan), "--data", str(tmp_path / "none"), "--hires",
                                 str(tmp_path / "missing")])
    assert r.exit_code == 2 and "not found" in r.output


def test_holdout_is_the_one_the_checkpoint_records(tiny_models, synthetic_dataset, tmp_path):
    """Eval measures on the people the run held out: its checkpoint (or the exported file's
    source) says what fraction; an explicit EvalConfig.holdout overrides it."""
    from dataclasses import replace

    from data_prep.config import to_dict
    from mustache.errors import BadInput
    from mustache.learn.train_config import TrainConfig

    gan, clf = tiny_models
    ck = checkpoint.load(gan)
    run_cfg = to_dict(TrainConfig(steps=1, batch_size=2, lr_g=1e-3, lr_d=1e-3, holdout=0.5))
    checkpoint.save(tmp_path / "run.pt", {**ck, "train_config": run_cfg})
    checkpoint.save(tmp_path / "small.pt", {**ck, "source": {"train_config": run_cfg}})
    config = EvalConfig(max_faces=8, kid_subsets=5, sheet_pairs=4)  # no holdout: the model's
    with Scorer(clf) as s:
        for model in ("run.pt", "small.pt"):  # 0.5 holds out the 8 clean faces
            assert evaluate(tmp_path / model, synthetic_dataset, s, config=config).faces == 8
        # none recorded: the trainer's default 0.1, which holds out nobody here
        with pytest.raises(BadInput, match=r"no held-out clean faces \(holdout 0.1\)"):
            evaluate(gan, synthetic_dataset, s, config=config)
        with pytest.raises(BadInput, match=r"\(holdout 0.2\)"):
            evaluate(tmp_path / "run.pt", synthetic_dataset, s, config=replace(config, holdout=0.2))


def test_eval_cli_existing_hair_fairness(tiny_models, astronaut, detector, tmp_path):
    """--existing-hair alone (no GAN): the check's false skips by lightness band and the real
    mustaches recognised, on a shared-data-shaped folder (one woman, one REAL_HAIR man)."""
    from conftest import paint_mustache

    from data_prep.image_io import save_image

    _, clf = tiny_models
    hires = tmp_path / "shared" / "hires" / "london_neutral"
    hires.mkdir(parents=True)
    (hires.parent / "london_info.csv").write_text(
        "face_id,face_age,face_gender,face_eth\n001,30,female,white\n140,50,male,white\n")
    save_image(hires / "001_03.jpg", astronaut)
    points = detector.detect(astronaut)[0].points
    save_image(hires / "140_03.jpg", paint_mustache(astronaut, points))
    r = CliRunner().invoke(app, ["eval", "--existing-hair", str(tmp_path / "shared"),
                                 "--existing-hair-split", "all", "--classifier", str(clf),
                                 "--out", str(tmp_path / "e")])
    assert r.exit_code == 0, r.output
    assert "clean by lightness" in r.output and "real mustaches" in r.output
    rep = json.loads((tmp_path / "e" / "existing_hair.json").read_text())
    assert len(rep["rows"]) == 2 and rep["split"] == "all"
    assert rep["report"]["real mustaches"]["hires"]["n"] == 1
    assert sum(g["n"] for g in rep["report"]["clean by lightness"].values()) == 1
    r = CliRunner().invoke(app, ["eval", "--existing-hair", str(tmp_path / "missing")])
    assert r.exit_code == 2 and "not found" in r.output
    r = CliRunner().invoke(app, ["eval"])
    assert r.exit_code == 2 and "--existing-hair" in r.output
