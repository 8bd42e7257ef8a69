import json
import subprocess
import sys

from data_prep.build import read_jsonl


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "mustache", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, timeout=300)


def test_help_lists_every_command():
    """(That --help stays instant is test_help_imports_nothing_heavy.)"""
    r = run("--help")
    assert r.returncode == 0
    for name in ("prep", "train", "train-classifier", "score", "apply", "eval"):
        assert f" {name} " in r.stdout, name


def test_help_imports_nothing_heavy():
    code = ("import sys; from mustache.cli import app; "
            "print(sorted(m for m in ('torch', 'mediapipe', 'cv2') if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.stdout.strip() == "[]", r.stdout + r.stderr


def test_prep_default_output_folder(synthetic_photos, tmp_path):
    r = run("prep", synthetic_photos, "--workers", "1", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    out = tmp_path / "mustache-data"
    assert len(list(read_jsonl(out / "manifest.jsonl"))) == 16
    assert (out / "contact_sheet.png").is_file()
    assert "faces kept" in r.stdout and "label mustache" in r.stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["by_label"] == {"clean": 8, "mustache": 8}


def test_missing_input_is_one_line(tmp_path):
    r = run("prep", tmp_path / "nope")
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "nope" in r.stderr and "not found" in r.stderr
    assert "Traceback" not in r.stderr


def test_unwritable_output_is_one_line(synthetic_photos, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    r = run("prep", synthetic_photos, "--out", blocker / "sub")
    assert r.returncode == 2 and "not writable" in r.stderr and "Traceback" not in r.stderr


def test_bad_shard_and_missing_label_file(synthetic_photos, tmp_path):
    r = run("prep", synthetic_photos, "--out", tmp_path / "o", "--shard", "5/2")
    assert r.returncode == 2 and "shard" in r.stderr
    r = run("prep", synthetic_photos, "--out", tmp_path / "o", "--labels", tmp_path / "x.csv")
    assert r.returncode == 2 and "x.csv" in r.stderr
