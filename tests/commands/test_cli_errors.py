"""Every command, given each kind of bad input, says so in one line on stderr and exits 2
(README "Exit codes"), without a traceback. Nothing here trains or runs a model."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from mustache.cli import EXIT_CODES, EXIT_FAILURE, EXIT_NO_FACE, EXIT_USAGE, app, exit_code
from mustache.errors import BadInput, MustacheError, NoFace, WorkFailed


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Bad and good inputs: a text file named .jpg, a file that is no checkpoint, a tiny
    labelled dataset (4 windows, 2 of each label), an unlabelled one, an empty photo folder, a
    128 px dataset prepped from it, malformed label and report files, a plain file to put
    outputs under."""
    from data_prep.image_io import save_image

    d = tmp_path_factory.mktemp("bad")
    (d / "photo.jpg").write_text("not an image")
    (d / "bad.pt").write_bytes(b"not a checkpoint")
    (d / "labels.csv").write_text("no header here\n")
    (d / "report.json").write_text("{not json")
    (d / "file").write_text("a file, not a folder")
    (d / "photos").mkdir()
    rng = np.random.default_rng(0)
    for name, labels in (("data", ["clean", "clean", "mustache", "mustache"]),
                         ("unlabelled", [None] * 4)):
        recs = []
        for i, label in enumerate(labels):
            files = {"window": f"w/{i}.png", "mask": f"m/{i}.png"}
            save_image(d / name / files["window"], rng.integers(0, 256, (128, 128, 3), np.uint8))
            save_image(d / name / files["mask"], np.full((128, 128), 255, np.uint8))
            recs.append({"id": f"{i:04d}", "source": f"p{i}.jpg", "person": f"p{i}",
                         "face_index": 0, "label": label, "files": files})
        (d / name / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))
    r = CliRunner().invoke(app, ["prep", str(d / "photos"), "--out", str(d / "prepped"),
                                 "--workers", "1", "--no-contact-sheet"])
    assert r.exit_code == 0 and (d / "prepped" / "prep_config.json").is_file(), r.output
    return d


# (command line with {d} for the fixture folder, what the one line must say)
CASES = [
    # prep
    ("prep {d}/nope", "nope: input folder not found"),
    ("prep {d}/photos --out {d}/prepped --window-size 64", "prep_config.json: this dataset was built with other"),
    ("prep {d}/photos --out {d}/x --auto-label-margin 0.7", "--auto-label-margin"),
    ("prep {d}/photos --out {d}/x --window-size 0", "--window-size >= 16"),
    ("prep {d}/photos --out {d}/x --shard 5/2", "shard"),
    ("prep {d}/photos --out {d}/x --labels {d}/none.csv", "none.csv: label file not found"),
    ("prep {d}/photos --out {d}/x --labels {d}/labels.csv", "labels.csv"),
    ("prep {d}/photos --out {d}/file/x", "file/x: output folder is not writable"),
    ("prep {d}/photos --out {d}/x --auto-label {d}/bad.pt", "bad.pt: not a loadable checkpoint"),
    ("prep {d}/photos --out {d}/x --cluster tcp://127.0.0.1:1", "tcp://127.0.0.1:1: cannot reach the Dask scheduler"),
    ("prep {d}/photos --out {d}/x --cluster my-laptop", "--cluster must be 'local' or a scheduler address"),
    # train
    ("train --data {d}/nope --preset tiny --device cpu --no-progress", "nope: dataset folder not found"),
    ("train --data {d}/data --preset tiny --device cuda --no-progress", "cuda"),
    ("train --data {d}/data --preset tiny --device cpu --steps 0 --no-progress", "steps"),
    ("train --data {d}/data --preset huge --device cpu --no-progress", "huge"),
    ("train --data {d}/data --resume {d}/bad.pt --device cpu --no-progress", "bad.pt: not a loadable checkpoint"),
    # train-classifier
    ("train-classifier {d}/nope", "nope: dataset folder not found"),
    ("train-classifier {d}/data --holdout 2", "--holdout"),
    ("train-classifier {d}/data --device cuda", "cuda"),
    ("train-classifier {d}/data --device npu", "--device npu"),
    ("train-classifier {d}/unlabelled --device cpu", "labelled faces of both classes"),
    ("train-classifier {d}/data --device cpu --eval-labels {d}/labels.csv", "labels.csv"),
    # score
    ("score {d}/nope.jpg", "nope.jpg: file not found"),
    ("score {d}/photo.jpg", "photo.jpg: not an image"),
    ("score {d}/photo.jpg --device cuda", "cuda"),
    ("score {d}/photo.jpg --model {d}/bad.pt", "bad.pt: not a loadable checkpoint"),
    # apply
    ("apply {d}/nope.jpg", "nope.jpg: not found"),
    ("apply {d}/photo.jpg --device cpu --no-hair", "photo.jpg: not an image"),
    ("apply {d}/photo.jpg --device cuda", "cuda"),
    ("apply {d}/photo.jpg --model {d}/bad.pt", "bad.pt: not a loadable checkpoint"),
    ("apply {d}/photo.jpg --model {d}/none.pt", "none.pt: checkpoint not found"),
    ("apply {d}/photo.jpg --strength 2", "strength must be in [0, 1]"),
    ("apply {d}/photo.jpg --clone sideways", "--clone"),
    ("apply {d}/photo.jpg --color purple", "purple"),
    ("apply {d}/photo.jpg --donor {d}/nope.jpg", "nope.jpg: donor photo not found"),
    ("apply {d}/photo.jpg --min-face 0", "min_face must be > 0"),
    ("apply {d}/photo.jpg --style bushy", "bushy"),
    ("apply {d}/photo.jpg --cluster local", "--cluster is for a folder"),
    ("apply {d}/photos --device cpu --cluster tcp://127.0.0.1:1", "tcp://127.0.0.1:1: cannot reach the Dask scheduler"),
    # live (no display here, as in CI), serve
    ("live 0", "no display"),
    ("serve --port 70000", "--port must be in 0..65535"),
    # styles
    ("styles --sheet {d}/s.png --photo {d}/nope.jpg", "nope.jpg"),
    ("styles --sheet {d}/s.png --photo {d}/photo.jpg", "photo.jpg: not an image"),
    # eval
    ("eval {d}/bad.pt --data {d}/nope", "nope: dataset folder not found"),
    ("eval {d}/none.pt --data {d}/data --out {d}/e --device cpu", "none.pt: checkpoint not found"),
    ("eval {d}/bad.pt --data {d}/data --out {d}/e --device cpu", "bad.pt: not a loadable checkpoint"),
    ("eval {d}/bad.pt --data {d}/data --holdout 0", "--holdout"),
    ("eval {d}/bad.pt --data {d}/data --device cuda", "cuda"),
    ("eval {d}/bad.pt --data {d}/data --classifier {d}/bad.pt", "bad.pt: not a loadable checkpoint"),
    ("eval {d}/bad.pt --data {d}/data --compare {d}/report.json", "report.json: not a report.json"),
    ("eval {d}/bad.pt --data {d}/data --out {d}/file/e", "file/e: cannot create the output folder"),
]


@pytest.mark.parametrize("line, says", CASES, ids=[c[0].replace("{d}/", "") for c in CASES])
def test_bad_input_is_one_line_and_exit_2(files, line, says, monkeypatch):
    if "cuda" in line and torch.cuda.is_available():
        pytest.skip("needs a machine without CUDA")
    for var in ("DISPLAY", "WAYLAND_DISPLAY"):  # `live` without a screen, as in CI
        monkeypatch.delenv(var, raising=False)
    args = [a.replace("{d}", str(files)) for a in line.split()]
    r = CliRunner().invoke(app, args)
    assert isinstance(r.exception, SystemExit), r.exception  # not an uncaught error
    assert r.exit_code == EXIT_USAGE, r.output
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), r.stderr
    assert says in lines[0], lines[0]
    assert "Traceback" not in r.output


def test_every_command_is_covered():
    from typer.main import get_command

    assert {c.split()[0] for c, _ in CASES} == set(get_command(app).commands)


def test_one_mapping_from_error_type_to_exit_code():
    assert exit_code(BadInput("x")) == EXIT_USAGE == 2
    assert exit_code(NoFace("x")) == EXIT_NO_FACE == 3
    assert exit_code(WorkFailed("x")) == EXIT_FAILURE == 1
    assert exit_code(MustacheError("x")) == EXIT_FAILURE
    assert isinstance(BadInput("x"), ValueError)  # library callers catching ValueError see it
    assert {kind for kind, _ in EXIT_CODES} == {BadInput, NoFace, WorkFailed, MustacheError}


def test_a_plain_value_error_keeps_its_traceback(monkeypatch, files):
    """A ValueError that is not BadInput is a bug: it must not turn into a tidy exit 2."""

    def broken(*a, **k):
        raise ValueError("a bug")

    monkeypatch.setattr("mustache.learn.classify.Scorer", broken)
    r = CliRunner().invoke(app, ["score", str(files / "photo.jpg")])
    assert isinstance(r.exception, ValueError) and r.exit_code == 1
