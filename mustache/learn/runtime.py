"""The shipped networks for `apply`, without torch: OpenCV's DNN module over ONNX files.

``mustache/weights/default.pt`` and ``classifier.pt`` are exported (``make onnx``,
:mod:`mustache.learn.onnx_export`) to ``<name>.onnx`` plus ``<name>.onnx.json``: the configs `apply`
needs (window size, noise length, the dataset's window geometry) and the sha1 of the .pt file
they came from. An ONNX file counts only while that sha1 matches (:func:`onnx_beside`), so a
retrained .pt is never run through a stale export; otherwise torch runs the .pt, as it always
can (training, GPUs, checkpoints of one's own). OpenCV is loaded by the face search anyway;
importing torch costs 1.3 s of a 3 s `mustache apply`.

Both networks take one window a call (fixed-shape graphs: OpenCV's importer does not take a
batch dimension through the generator's reshapes); tests/learn/test_runtime.py holds them to torch's
outputs within one grey level.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

_SCALE = 127.5  # data_prep.pixels: uint8 0..255 <-> float -1..1


class WindowGenerator(Protocol):
    """What :class:`mustache.paint.gan.Mustacher` needs of a generator, torch or not."""

    size: int  # window side, px
    noise_dim: int

    def change(self, windows: np.ndarray, masks: np.ndarray, label: int, noise: np.ndarray
               ) -> np.ndarray:
        """windows uint8 (N, S, S, 3), masks float32 (N, 1, S, S) in [0, 1], noise float32
        (N, noise_dim) -> the change, float32 (N, S, S, 3) in pixel units (generated -
        original)."""
        ...


@dataclass(frozen=True)
class Exported:
    """An ONNX file and its sidecar's contents."""

    onnx: Path
    meta: dict  # "kind", "source_sha1", and the configs of the checkpoint (as dicts)


def sidecar(onnx: Path) -> Path:
    """``<name>.onnx.json`` beside ``<name>.onnx``."""
    return onnx.with_name(onnx.name + ".json")


def file_sha1(path: Path) -> str:
    return hashlib.sha1(Path(path).read_bytes()).hexdigest()


def onnx_beside(pt: str | Path) -> Exported | None:
    """The export of the checkpoint file ``pt`` (``<stem>.onnx`` beside it) when it exists and
    was made from these very bytes (sha1), else None."""
    pt = Path(pt)
    onnx = pt.with_suffix(".onnx")
    if not (pt.is_file() and onnx.is_file() and sidecar(onnx).is_file()):
        return None
    try:
        meta = json.loads(sidecar(onnx).read_text())
    except (OSError, ValueError):
        return None
    return Exported(onnx, meta) if meta.get("source_sha1") == file_sha1(pt) else None


def _net(path: Path):
    import cv2

    net = cv2.dnn.readNetFromONNX(str(path))
    net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
    net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
    return net


def to_nchw(u8: np.ndarray) -> np.ndarray:
    """uint8 (N, H, W, 3) -> float32 (N, 3, H, W) in [-1, 1] (as data_prep.pixels.to_model)."""
    return np.ascontiguousarray(u8.transpose(0, 3, 1, 2), np.float32) / np.float32(_SCALE) - 1


class OnnxGenerator:
    """The exported generator (:func:`mustache.learn.onnx_export.export_generator`) on OpenCV."""

    def __init__(self, exported: Exported):
        c = exported.meta["generator_config"]
        self.size, self.noise_dim = int(c["size"]), int(c["noise_dim"])
        self._net = _net(exported.onnx)

    def change(self, windows, masks, label, noise):
        x = to_nchw(windows)
        out = np.empty_like(x)
        lab = np.full((1, 1), float(label), np.float32)
        for i in range(len(x)):  # one window a call: the graph's shapes are fixed
            for name, v in (("window", x[i:i + 1]), ("mask", masks[i:i + 1].astype(np.float32)),
                            ("label", lab), ("noise", noise[i:i + 1].astype(np.float32))):
                self._net.setInput(np.ascontiguousarray(v), name)
            out[i] = self._net.forward()[0]
        return ((out - x) * np.float32(_SCALE)).transpose(0, 2, 3, 1)


class TorchGenerator:
    """A :class:`mustache.learn.models.generator.Generator` (any checkpoint, any device)."""

    def __init__(self, generator, device):
        self.generator, self.device = generator, device
        self.size, self.noise_dim = generator.config.size, generator.config.noise_dim

    def change(self, windows, masks, label, noise):
        import torch

        from data_prep.pixels import change_to_pixels, to_model

        d = self.device
        x = to_model(torch.from_numpy(np.ascontiguousarray(windows)).to(d))
        with torch.inference_mode():
            y = self.generator(x, torch.from_numpy(np.ascontiguousarray(masks)).to(d),
                               torch.full((len(x),), label, dtype=torch.long, device=d),
                               torch.from_numpy(np.ascontiguousarray(noise)).to(d))
        return change_to_pixels(y - x).cpu().numpy()


class OnnxScorer:
    """The exported mustache classifier (:func:`mustache.learn.onnx_export.export_classifier`) on
    OpenCV: what :class:`mustache.learn.classify.Scorer` does for photos, with no torch. The graph
    takes a window and its mirror image (batch 2) and gives their logits; the score is the
    sigmoid of their mean, as ``classify.predict`` does."""

    def __init__(self, exported: Exported):
        from data_prep.build import PrepConfig
        from data_prep.config import from_dict

        c = exported.meta["classifier_config"]
        if c.get("use_mask"):
            raise ValueError(f"{exported.onnx}: a classifier with a mask input is not exported")
        self.size = int(c["size"])
        self.prep = from_dict(PrepConfig, exported.meta.get("prep_config") or {})
        self._net = _net(exported.onnx)

    def score_windows(self, windows: np.ndarray, masks: np.ndarray | None = None) -> np.ndarray:
        """windows uint8 (N, S, S, 3) -> (N,) float64 mustache-ness in [0, 1]."""
        x = to_nchw(windows)
        out = np.empty(len(x), np.float64)
        for i in range(len(x)):
            self._net.setInput(np.ascontiguousarray(np.concatenate([x[i:i + 1],
                                                                    x[i:i + 1, :, :, ::-1]])))
            logit = float(self._net.forward().reshape(-1).mean())
            out[i] = 1 / (1 + np.exp(-logit))
        return out

    def score_faces(self, rgb: np.ndarray, faces) -> np.ndarray:
        """The mustache score of each of ``faces`` (``FaceLandmarks``) in ``rgb`` -> (N,)."""
        from data_prep.region import cut_windows

        wins, _ = cut_windows(rgb, faces, self.prep.align, self.prep.region)
        return self.score_windows(wins) if len(wins) else np.zeros(0)

    def close(self) -> None:
        pass


class LazyScorer:
    """The shipped classifier, loaded on the first face it must score (a photo with no face,
    or a run that never checks, never loads it): the ONNX export when it matches ``pt``, else
    torch's :class:`mustache.learn.classify.Scorer`."""

    def __init__(self, pt: str | Path):
        self.path = Path(pt)
        self._scorer = None

    @property
    def scorer(self):
        if self._scorer is None:
            exported = onnx_beside(self.path)
            if exported is not None:
                self._scorer = OnnxScorer(exported)
            else:
                from mustache.learn.classify import Scorer

                self._scorer = Scorer(self.path)
        return self._scorer

    def score_faces(self, rgb: np.ndarray, faces) -> np.ndarray:
        return self.scorer.score_faces(rgb, faces) if len(faces) else np.zeros(0)

    def close(self) -> None:
        if self._scorer is not None:
            self._scorer.close()
            self._scorer = None

    def __enter__(self) -> LazyScorer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
