"""The shipped networks on OpenCV's DNN module (mustache/learn/runtime.py): the ONNX exports give
torch's outputs within one grey level, a stale export is never used, and `apply` with the
shipped model never imports torch."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from mustache.learn.runtime import OnnxGenerator, OnnxScorer, onnx_beside, sidecar

WEIGHTS = __import__("pathlib").Path(__file__).resolve().parents[2] / "mustache" / "weights"


def _windows(n: int, seed: int = 0):
    """n windows of 128 px: real-looking gradients and noise, the region in the middle."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[:128, :128]
    base = np.stack([x, y, (x + y) // 2], -1)[None] + rng.integers(0, 60, (n, 1, 1, 3))
    wins = np.clip(base + rng.normal(0, 20, (n, 128, 128, 3)), 0, 255).astype(np.uint8)
    mask = np.zeros((n, 1, 128, 128), np.float32)
    mask[:, :, 40:88, 16:112] = 1.0
    return wins, mask, rng.standard_normal((n, 16)).astype(np.float32)


def test_generator_export_matches_torch_within_one_grey_level():
    import torch

    from mustache.learn.checkpoint import load_generator
    from mustache.learn.runtime import TorchGenerator

    exported = onnx_beside(WEIGHTS / "default.pt")
    assert exported is not None, "mustache/weights/default.onnx is missing or stale: make onnx"
    g, _ = load_generator(WEIGHTS / "default.pt")
    wins, mask, noise = _windows(3)
    for label in (1, 0):
        ours = OnnxGenerator(exported).change(wins, mask, label, noise)
        with torch.inference_mode():
            ref = TorchGenerator(g, "cpu").change(wins, mask, label, noise)
        assert ours.shape == ref.shape == (3, 128, 128, 3)
        assert np.abs(ours - ref).max() < 1.0  # pixel units: under one grey level
        assert np.abs(ref).max() > 20  # and the change is a real one


def test_classifier_export_matches_torch():
    from mustache.learn.classify import DEFAULT_WEIGHTS, Scorer
    from mustache.learn.weights import CLASSIFIER  # what apply loads

    assert CLASSIFIER == DEFAULT_WEIGHTS
    exported = onnx_beside(DEFAULT_WEIGHTS)
    assert exported is not None, "mustache/weights/classifier.onnx is missing or stale: make onnx"
    wins, _, _ = _windows(6, seed=1)
    ours = OnnxScorer(exported).score_windows(wins)
    with Scorer() as s:
        ref = s.score_windows(wins)
    assert np.abs(ours - ref).max() < 2e-3


def test_a_stale_export_is_not_used(tmp_path):
    import shutil

    for name in ("default.pt", "default.onnx", "default.onnx.json"):
        shutil.copy(WEIGHTS / name, tmp_path / name)
    assert onnx_beside(tmp_path / "default.pt") is not None
    meta = json.loads(sidecar(tmp_path / "default.onnx").read_text())
    meta["source_sha1"] = "0" * 40  # as after retraining default.pt
    sidecar(tmp_path / "default.onnx").write_text(json.dumps(meta))
    assert onnx_beside(tmp_path / "default.pt") is None
    (tmp_path / "default.onnx.json").unlink()
    assert onnx_beside(tmp_path / "default.pt") is None


@pytest.mark.slow
def test_apply_with_the_shipped_model_imports_neither_torch_nor_matplotlib():
    code = """
import sys
from skimage import data
from mustache.paint.gan import ApplyOptions, Mustacher
with Mustacher() as m:
    r = m.apply(data.astronaut(), ApplyOptions(seed=1))
assert r.blended == 1, r.faces
assert r.faces[0].mustache_before is not None  # the existing-hair check ran, on ONNX
heavy = sorted(k for k in ("torch", "matplotlib", "mediapipe.tasks.python") if k in sys.modules)
print("heavy:", heavy)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "heavy: []" in out.stdout


def test_mediapipe_loads_without_its_drawing_and_tasks_modules_yet_keeps_them():
    code = """
import sys
from data_prep.mp_load import import_mediapipe
import_mediapipe()
assert "matplotlib" not in sys.modules and "mediapipe.tasks.python" not in sys.modules
import mediapipe.tasks.python as tasks
from mediapipe.python.solutions import drawing_utils
assert hasattr(tasks, "vision") and hasattr(drawing_utils, "draw_landmarks")
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.stdout.strip().endswith("ok"), out.stderr[-2000:]
