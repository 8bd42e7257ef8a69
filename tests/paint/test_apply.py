"""The apply pipeline and `mustache apply`, with a tiny untrained generator (it still paints
something, so every step runs)."""

from __future__ import annotations

import json
from dataclasses import asdict

import numpy as np
import pytest

from mustache.errors import MustacheError
from mustache.paint.gan import ApplyOptions, ApplyResult, FaceResult, Mustacher


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    import torch

    from data_prep.build import PrepConfig
    from mustache.learn import checkpoint
    from mustache.learn.models.generator import Generator, GeneratorConfig

    torch.manual_seed(0)
    cfg = GeneratorConfig(base=8, max_channels=32, depth=3, noise_dim=8, embed_dim=16)
    path = tmp_path_factory.mktemp("model") / "tiny.pt"
    prep = json.loads(json.dumps(asdict(PrepConfig())))  # as training stores it: plain JSON
    g = Generator(cfg)
    with torch.no_grad():  # FiLM starts as the identity: give it weights so the noise matters
        for name, p in g.named_parameters():
            if "film" in name:
                p.normal_(0, 0.5)
    checkpoint.save(path, {"kind": "mustache-gan", "version": 1, "generator_config": asdict(cfg),
                           "generator_ema": g.state_dict(), "prep_config": prep})
    return path


@pytest.fixture(scope="module")
def mustacher(tiny_model):
    with Mustacher(tiny_model, "cpu") as m:
        yield m


def _changed(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.any(a != b, axis=2)


def test_only_the_region_changes(mustacher, astronaut):
    from data_prep.region import region_polygon

    r = mustacher.apply(astronaut, ApplyOptions(seed=1))
    assert isinstance(r, ApplyResult) and r.image.shape == astronaut.shape
    assert len(r.faces) == 1 and isinstance(r.faces[0], FaceResult) and r.faces[0].blended
    f = r.faces[0]
    assert f.landmarks.shape == (478, 2) and 0 < f.score <= 1
    changed = _changed(r.image, astronaut)
    assert changed.sum() > 200
    x0, y0, x1, y1 = f.region_box
    outside = np.ones_like(changed)
    outside[y0:y1, x0:x1] = False
    assert not changed[outside].any()
    # and inside the box, only near the region polygon (dilated by its feather)
    import cv2

    poly = np.round(region_polygon(f.landmarks)).astype(np.int32)
    near = np.zeros(changed.shape, np.uint8)
    cv2.fillPoly(near, [poly], 1)
    near = cv2.dilate(near, np.ones((9, 9), np.uint8)) > 0
    assert not changed[~near].any()


def test_seed_strength_and_file_input(mustacher, astronaut, tmp_path):
    from data_prep.image_io import save_image

    a = mustacher.apply(astronaut, ApplyOptions(seed=1)).image
    assert np.array_equal(a, mustacher.apply(astronaut, ApplyOptions(seed=1)).image)
    b = mustacher.apply(astronaut, ApplyOptions(seed=2)).image
    assert not np.array_equal(a, b)
    zero = mustacher.apply(astronaut, ApplyOptions(seed=1, strength=0.0))
    assert np.array_equal(zero.image, astronaut) and zero.faces[0].note == "strength 0"
    half = mustacher.apply(astronaut, ApplyOptions(seed=1, strength=0.5, clone="alpha")).image
    full = mustacher.apply(astronaut, ApplyOptions(seed=1, clone="alpha")).image
    d_half = np.abs(half.astype(int) - astronaut).sum()
    assert 0.3 < d_half / np.abs(full.astype(int) - astronaut).sum() < 0.7
    save_image(tmp_path / "a.png", astronaut)
    assert np.array_equal(mustacher.apply(tmp_path / "a.png", ApplyOptions(seed=1)).image, a)


def test_face_at_the_edge(mustacher, astronaut):
    face = mustacher.detect(astronaut)[0]
    # the mouth's left corner a few pixels from the left border: given landmarks, so the
    # detector's luck does not decide whether the edge path runs
    x = int(face.points[61, 0]) - 3
    crop = np.ascontiguousarray(astronaut[:, x:])
    from data_prep.landmarks import FaceLandmarks

    p = face.points.copy()
    p[:, 0] -= x
    r = mustacher.apply(crop, ApplyOptions(seed=1), faces=[FaceLandmarks(p, face.score, face.box)])
    assert r.faces[0].blended and r.faces[0].region_box[0] == 0
    assert _changed(r.image, crop)[:, :5].any()
    # and detected for real, with the mouth a few px from the bottom edge
    y = int(face.points[14, 1]) + 4  # lower inner lip
    low = np.ascontiguousarray(astronaut[:y])
    r = mustacher.apply(low, ApplyOptions(seed=1))
    assert r.image.shape == low.shape and any(f.blended for f in r.faces)


def test_several_faces_tiny_faces_and_selection(mustacher, astronaut):
    tiled = np.tile(astronaut, (2, 2, 1))
    r = mustacher.apply(tiled, ApplyOptions(seed=1))
    assert len(r.faces) >= 2 and sum(f.blended for f in r.faces) == len(r.faces)
    boxes = {f.region_box for f in r.faces}
    assert len(boxes) == len(r.faces)
    one = mustacher.apply(tiled, ApplyOptions(seed=1, faces=(1,)))
    assert [f.blended for f in one.faces].count(True) == 1 and one.faces[0].note == "not selected"
    small = mustacher.apply(astronaut, ApplyOptions(min_face=10_000))
    assert np.array_equal(small.image, astronaut) and "too small" in small.faces[0].note


def test_group_photo_finds_every_face(mustacher, astronaut):
    # five 92 px faces in a 1536 px photo: on the 640 px detection copy the mesh finds only
    # some of them; the crowd search finds the rest, each with full-resolution landmarks
    five = np.tile(astronaut, (2, 3, 1))
    five[512:, 1024:] = 128
    faces = mustacher.detect(five)
    assert len(faces) == 5
    centres = sorted((round((f.box[1] + f.box[3]) / 2 // 512), round((f.box[0] + f.box[2]) / 2 // 512))
                     for f in faces)
    assert centres == [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1)]
    single = mustacher.detect(astronaut)[0].points[:, :2]
    for f in faces:  # the same face everywhere: the same landmarks, shifted by its tile
        tile = np.floor(f.points[:, :2].mean(0) / 512) * 512
        assert np.abs(f.points[:, :2] - tile - single).mean() < 2.0


def test_no_face_and_bad_inputs(mustacher, tiny_model, monkeypatch):
    blank = np.full((200, 300, 3), 128, np.uint8)
    r = mustacher.apply(blank)
    assert r.faces == () and np.array_equal(r.image, blank)
    with pytest.raises(ValueError, match=r"\(H, W, 3\)"):
        mustacher.apply(blank[..., 0])
    with pytest.raises(ValueError, match="strength"):
        ApplyOptions(strength=2.0)
    import mustache.paint.gan as A

    monkeypatch.setattr(A, "DEFAULT_MODEL", tiny_model.parent / "missing.pt")
    with pytest.raises(MustacheError, match="no default model"):
        Mustacher()


# ---------------------------------------------------------------- CLI
@pytest.fixture(scope="module")
def cli():
    from typer.testing import CliRunner

    from mustache.cli import app

    runner = CliRunner()
    return lambda *args: runner.invoke(app, ["apply", *map(str, args)])


def test_cli_one_photo(cli, tiny_model, astronaut, tmp_path):
    from data_prep.image_io import load_image, save_image

    src = tmp_path / "face.jpg"
    save_image(src, astronaut)
    res = cli(src, "--model", tiny_model, "--compare", "--json", tmp_path / "r.json", "--seed", 3)
    assert res.exit_code == 0, res.output
    out = tmp_path / "face_mustache.jpg"
    assert "face_mustache.jpg" in res.output and out.is_file()
    assert load_image(out).shape == astronaut.shape
    assert load_image(tmp_path / "face_mustache_compare.jpg").shape == (512, 1024, 3)
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["faces"][0]["blended"] and len(report["faces"][0]["landmarks"]) == 478
    res = cli(src, "-o", tmp_path / "x" / "o.png", "--model", tiny_model, "--clone", "mixed", "--json", "-")
    assert res.exit_code == 0, res.output
    assert (tmp_path / "x" / "o.png").is_file()
    assert json.loads(res.stdout)["faces"][0]["blended"]


def test_cli_no_face_unreadable_and_no_model(cli, tiny_model, tmp_path, monkeypatch):
    from data_prep.image_io import save_image

    blank = tmp_path / "blank.jpg"
    save_image(blank, np.full((120, 160, 3), 90, np.uint8))
    res = cli(blank, "--model", tiny_model, "-o", tmp_path / "b_out.jpg")
    assert res.exit_code == 3 and "no face" in res.output
    assert (tmp_path / "b_out.jpg").read_bytes() == blank.read_bytes()
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not a jpeg")
    res = cli(bad, "--model", tiny_model)
    assert res.exit_code == 2 and res.output.count("\n") == 1 and "bad.jpg" in res.output
    import mustache.paint.gan as A

    monkeypatch.setattr(A, "DEFAULT_MODEL", tmp_path / "missing.pt")
    res = cli(blank)
    assert res.exit_code == 2 and "no default model" in res.output


def test_cli_folder_with_a_broken_file(cli, tiny_model, astronaut, tmp_path):
    from data_prep.image_io import save_image

    src = tmp_path / "photos"
    save_image(src / "a.jpg", astronaut)
    save_image(src / "sub" / "b.png", astronaut[:, ::-1])
    save_image(src / "none.jpg", np.full((100, 100, 3), 200, np.uint8))
    (src / "broken.jpg").write_bytes(b"\xff\xd8 truncated")
    (src / "notes.txt").write_text("not a photo, ignored")
    res = cli(src, "--model", tiny_model, "-o", tmp_path / "out", "--json", tmp_path / "r.json")
    assert res.exit_code == 1, res.output
    assert "broken.jpg" in res.output
    assert "processed 3 photos: 2 faces changed, 1 without a face, 1 failed" in res.output
    assert (tmp_path / "out" / "a_mustache.jpg").is_file()
    assert (tmp_path / "out" / "sub" / "b_mustache.png").is_file()
    assert json.loads((tmp_path / "r.json").read_text())["summary"]["failed"] == 1


def test_cli_color_force_and_no_hair(cli, tiny_model, astronaut, tmp_path):
    import cv2

    from data_prep.image_io import load_image, save_image

    src = tmp_path / "face.png"
    astronaut = cv2.resize(astronaut[40:300, 100:360], (1040, 1040), interpolation=cv2.INTER_CUBIC)
    save_image(src, astronaut)  # a face about 400 px wide: hairs at full weight
    res = cli(src, "--model", tiny_model, "--color", "purple", "-o", tmp_path / "p.png")
    assert res.exit_code == 2 and res.output.count("\n") == 1 and "purple" in res.output
    assert not (tmp_path / "p.png").exists()  # nothing written for a bad option
    outs = {}
    for name, extra in (("blonde", ["--color", "blonde"]), ("black", ["--color", "#201a18"]),
                        ("plain", ["--no-hair"])):
        res = cli(src, "--model", tiny_model, *extra, "--force", "-o", tmp_path / f"{name}.png",
                  "--json", "-")
        assert res.exit_code == 0, res.output
        outs[name] = (load_image(tmp_path / f"{name}.png").astype(int), json.loads(res.stdout))
    assert outs["blonde"][1]["faces"][0]["colour"] == "color blonde"
    assert outs["plain"][1]["faces"][0]["hairs"] == 0 and outs["blonde"][1]["faces"][0]["hairs"] > 0
    changed = np.abs(outs["blonde"][0] - astronaut).sum(-1) > 0
    assert outs["blonde"][0][changed].mean() > outs["black"][0][changed].mean() + 10
