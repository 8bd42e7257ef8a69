"""Put a generated mustache on every face of a photo, at full resolution.

Per face: landmarks -> the mustache window (the checkpoint's own window geometry: cut through
the face's mesh from the canvas, or by the flat alignment for checkpoints from before it) ->
the generator paints the region (label 1, noise from the seed) -> the change goes back the
same way over the region's photo box only. From there :func:`mustache.paint.pipeline.run_faces`
(shared with donor transfer) skips faces that already have a mustache, draws single hairs at
the photo's resolution guided by that change (:mod:`mustache.strands.hair`) and Poisson-blends the
result. Nothing outside the region's mask changes.

    with Mustacher("runs/gan") as m:                    # model loaded once, reused
        result = m.apply("face.jpg", ApplyOptions(seed=3))
        result.image, result.faces                       # (H, W, 3) uint8, one FaceResult a face
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from mustache.errors import BadInput
from mustache.learn.weights import WEIGHTS
from mustache.paint.options import (  # noqa: F401 (re-exported: `from mustache.paint.gan import ...`)
    ApplyOptions,
    ApplyResult,
    Engine,
    FaceResult,
    skip_reason,
)

if TYPE_CHECKING:
    from data_prep.landmarks import FaceDetector, FaceLandmarks
    from mustache.learn.runtime import WindowGenerator

DEFAULT_MODEL = WEIGHTS / "default.pt"


def as_rgb(image_or_path) -> np.ndarray:
    """A path (EXIF applied) or an array -> RGB uint8 (H, W, 3); BadInput naming the file."""
    if isinstance(image_or_path, str | os.PathLike):
        from data_prep.image_io import ImageLoadError, load_image

        try:
            return load_image(image_or_path)
        except ImageLoadError as e:
            raise BadInput(f"{image_or_path}: {e}") from None
    a = np.asarray(image_or_path)
    if a.ndim != 3 or a.shape[2] != 3 or a.dtype != np.uint8:
        raise ValueError(f"image must be RGB uint8 (H, W, 3), got {a.dtype} {a.shape}")
    return np.ascontiguousarray(a)


def prep_config_of(ckpt: dict):
    """The checkpoint's (or an ONNX export's metadata's) window geometry as a
    :class:`data_prep.build.PrepConfig` (defaults when it has none)."""
    from data_prep.build import PrepConfig
    from data_prep.config import from_dict

    return from_dict(PrepConfig, ckpt.get("prep_config") or {})


def resolve_model(model: str | os.PathLike | None) -> Path:
    """A checkpoint file or run folder; None -> the shipped default (a clear error if absent)."""
    if model is not None:
        return Path(model)
    if not DEFAULT_MODEL.is_file():
        raise BadInput(f"no default model yet ({DEFAULT_MODEL} is missing): pass --model "
                       "a GAN checkpoint or run folder")
    return DEFAULT_MODEL


def close_parts(detector, scorer, *more) -> None:
    """Close what an engine (Mustacher, DonorTransfer) made: its detector (None when it was
    lent one), its scorer and ``more`` (its person segmenter)."""
    for part in (detector, scorer, *more):
        if part is not None:
            part.close()




def shipped_scorer():
    """The shipped mustache classifier on the CPU, loaded on the first face it scores (its
    ONNX export when that matches, else :class:`mustache.learn.classify.Scorer`: see
    :class:`mustache.learn.runtime.LazyScorer`), or None when this install has no weights for it."""
    from mustache.learn.runtime import LazyScorer
    from mustache.learn.weights import CLASSIFIER

    return LazyScorer(CLASSIFIER) if CLASSIFIER.is_file() else None


class Mustacher:
    """A loaded generator and a face detector, reused across photos.

    ``model``: a "mustache-gan" checkpoint, a run folder, or None for the shipped default.
    ``min_face``: the narrowest face (photo px) the face search reaches (the default
    detector's :attr:`data_prep.landmarks.DetectorConfig.min_face`; its cost per megapixel grows
    as this shrinks). ``detector``: any :class:`data_prep.landmarks.FaceDetector` to share (one
    is made and closed otherwise).
    ``check_existing``: score each face with the shipped mustache classifier before editing
    and leave faces that already have one (unless ``ApplyOptions.force``). ``hair``: the
    :class:`mustache.strands.hair.HairConfig` of the full-resolution hair stage.
    """

    def __init__(self, model=None, device: str = "auto", detector: FaceDetector | None = None,
                 min_face: float = 40.0, check_existing: bool = True, hair=None):
        from mustache.learn.runtime import onnx_beside

        self.generator: WindowGenerator  # the ONNX export on OpenCV, or torch
        path = resolve_model(model)
        # the shipped export on OpenCV when it matches the file (no torch import: 1.3 s of a
        # 3 s run); torch for any other checkpoint, run folder or device
        exported = onnx_beside(path) if device in ("auto", "cpu") else None
        if exported is not None:
            from mustache.learn.runtime import OnnxGenerator

            self.device = "cpu"
            self.generator = OnnxGenerator(exported)
            self.prep = prep_config_of(exported.meta)
        else:
            from mustache.device import resolve_device
            from mustache.learn.checkpoint import load_generator
            from mustache.learn.runtime import TorchGenerator

            self.device = resolve_device(device)
            network, ckpt = load_generator(path, self.device)
            self.generator = TorchGenerator(network, self.device)
            self.prep = prep_config_of(ckpt)
        size = self.prep.region.window_size
        if self.generator.size != size:
            raise BadInput(f"{model}: generator size {self.generator.size} does not "
                           f"match its window size {size}")
        self._own = detector is None
        if detector is None:
            from data_prep.landmarks import DetectorConfig, MediaPipeDetector

            detector = MediaPipeDetector(DetectorConfig(min_face=min_face))
        self.detector = detector
        from mustache.strands.hair import HairConfig

        self.hair = hair or HairConfig()
        self.scorer = shipped_scorer() if check_existing else None
        from data_prep.segment import PersonSegmenter

        # the head hair, one source of the hair colour; its graph is built on first use
        self.segmenter = PersonSegmenter()

    # ------------------------------------------------------------------ landmarks
    def detect(self, image: np.ndarray) -> list[FaceLandmarks]:
        """RGB uint8 (H, W, 3) -> FaceLandmarks in photo px, largest first: the detector's
        own search (for MediaPipeDetector, faces from ``min_face`` px up)."""
        return self.detector.detect(image)

    # ------------------------------------------------------------------ pipeline
    def apply(self, image_or_path, options: ApplyOptions = ApplyOptions(), faces=None) -> ApplyResult:
        """A mustache on every face (or ``options.faces``) of an RGB uint8 (H, W, 3) image or a
        path. ``faces``: landmarks already found (skips detection). Returns the new image (same
        size) and one FaceResult per face found; no face -> the image unchanged, no results."""
        from mustache.paint.pipeline import run_faces

        image = as_rgb(image_or_path)
        if faces is None:
            faces = self.detect(image)
        return run_faces(image, faces, self, options, self.scorer, self.hair, self.segmenter)

    def paint(self, image: np.ndarray, faces, options: ApplyOptions) -> list:
        """The :class:`mustache.paint.pipeline.Painter` of the GAN: every face's window through the
        generator at once, its change warped back over the region's photo box."""
        from mustache.paint.options import Skip, Skipped
        from mustache.paint.pipeline import Painted

        out: list = [None] * len(faces)
        todo = []
        for i, f in enumerate(faces):
            try:
                todo.append((i, self.window(image, f.points)))
            except ValueError as e:  # degenerate landmarks
                out[i] = Skipped(Skip.UNALIGNED, f"cannot align the face ({e})")
        if todo:
            deltas = self.generate([w for _, w in todo], options)
            for (i, (region, _)), delta in zip(todo, deltas, strict=True):
                change, mask, box = self.unwarp_change(image.shape[:2], region, delta)
                out[i] = (Skipped(Skip.OUTSIDE, "region outside the photo") if box is None
                          else Painted(box, change, mask))
        return out

    def window(self, image: np.ndarray, points: np.ndarray):
        """-> (region, window RGB uint8 (S, S, 3)) for one face."""
        from data_prep.region import cut_window

        return cut_window(image, points, self.prep.align, self.prep.region)

    def generate(self, windows: list, options: ApplyOptions) -> list[np.ndarray]:
        """The generator on every window -> per face the change, float32 (S, S, 3) in pixel
        units (generated - original)."""
        win = np.stack([w for _, w in windows])  # (N, S, S, 3) uint8
        mask = np.stack([r.mask for r, _ in windows])[:, None].astype(np.float32)  # (N, 1, S, S)
        noise = np.stack([np.random.default_rng([options.seed, i]).standard_normal(
            self.generator.noise_dim) for i in range(len(windows))]).astype(np.float32)
        return list(self.generator.change(win, mask, options.label, noise))

    @staticmethod
    def unwarp_change(shape: tuple[int, int], region, delta: np.ndarray):
        """The window's change warped back over the region's photo box: (change float32
        (h, w, 3), soft mask float32 (h, w), box) with the box clipped to the photo; box None
        when it is empty. The mask is the region drawn on the canvas and mapped through the
        face's mesh (``data_prep.region.region_support``): nothing beyond the silhouette, on
        triangles that face away or in the open mouth; the change is cut to it."""
        from data_prep.region import region_box, window_change

        if region.landmarks is None:
            raise ValueError("the region has no photo landmarks (cut it with cut_window)")
        box = region_box(region.landmarks, shape, region.config)
        if box is None:
            return None, None, None
        # the change is already feathered by the generator's own soft-mask composite
        change, mask = window_change(delta, region, box)
        change *= (mask > 0)[..., None]
        return change, mask, box

    def close(self) -> None:
        close_parts(self.detector if self._own else None, self.scorer, self.segmenter)
        self.detector = self.scorer = None

    def __enter__(self) -> Mustacher:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def apply(image_or_path, model=None, options: ApplyOptions = ApplyOptions(),
          device: str = "auto") -> ApplyResult:
    """One call: load the model, put mustaches on one photo (array or path), close."""
    with Mustacher(model, device) as m:
        return m.apply(image_or_path, options)
