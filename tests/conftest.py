"""Shared fixtures: the astronaut portrait and variants of it, a synthetic mustache dataset, and
the real-photo folder (tests that need it skip with a reason when it is absent)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
requires_data = pytest.mark.skipif(
    not (SHARED / "celeba").is_dir(),
    reason=f"real photos not found at {SHARED} (a fresh clone has none; CI does)")


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Test-sized models gain nothing from more threads, and on a shared CPU extra OpenMP
    threads spin and slow everything down (seen: 2 s -> 100 s)."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    """scikit-image's public-domain astronaut portrait, RGB uint8 (512, 512, 3)."""
    from skimage import data

    return data.astronaut()


@pytest.fixture(scope="session")
def detector():
    from data_prep.landmarks import MediaPipeDetector

    with MediaPipeDetector() as d:
        yield d


def rotate(image: np.ndarray, degrees: float, scale: float = 1.0) -> np.ndarray:
    """Rotate (counter-clockwise) and scale about the centre, same size, reflected border."""
    import cv2

    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, scale)
    return cv2.warpAffine(image, m, (w, h), borderMode=cv2.BORDER_REFLECT101)


def paint_mustache(image: np.ndarray, landmarks: np.ndarray, seed: int = 0) -> np.ndarray:
    """Draw a dark, stranded synthetic mustache between the nose and the upper lip."""
    import cv2

    from data_prep import indices as ix

    rng = np.random.default_rng(seed)
    lm = landmarks[:, :2].astype(np.float64)
    top = lm[list(ix.UNDER_NOSE)]
    bottom = lm[list(ix.UPPER_LIP_OUTER)]
    poly = np.concatenate([top, bottom[::-1]])
    out = image.copy()
    mask = np.zeros(image.shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(poly).astype(np.int32)], 255)
    hair = np.zeros_like(image)
    hair[:] = (45, 32, 25)
    ys, xs = np.nonzero(mask)
    for _ in range(max(50, len(xs) // 6)):  # strands: short slanted darker lines
        i = rng.integers(len(xs))
        x, y = int(xs[i]), int(ys[i])
        dx = 3 if x > lm[ix.SUBNASALE, 0] else -3
        cv2.line(hair, (x, y), (x + dx, y + 4), (20, 14, 10), 1)
    a = cv2.GaussianBlur(mask, (0, 0), 1.2).astype(np.float32)[:, :, None] / 255.0
    return (out * (1 - a) + hair * a).astype(np.uint8)


@pytest.fixture(scope="session")
def synthetic_photos(tmp_path_factory, astronaut, detector) -> Path:
    """A folder with clean/ and mustache/ subfolders: 8 variants of the astronaut each
    (rotated, scaled, flipped, brighter, darker), the mustache ones with a painted mustache."""
    from data_prep.image_io import save_image

    root = tmp_path_factory.mktemp("synthetic_photos")
    variants = [(0, 1.0, False, 1.0), (8, 1.0, False, 1.0), (-10, 0.9, False, 1.1),
                (5, 0.8, True, 0.9), (0, 1.1, True, 1.0), (-4, 1.0, False, 0.8),
                (12, 0.95, True, 1.2), (-8, 0.85, False, 1.0)]
    for i, (deg, scale, flip, gain) in enumerate(variants):
        im = rotate(astronaut, deg, scale)
        if flip:
            im = np.ascontiguousarray(im[:, ::-1])
        im = np.clip(im.astype(np.float32) * gain, 0, 255).astype(np.uint8)
        face = detector.detect(im)[0]
        save_image(root / "clean" / f"clean_{i}.png", im)
        save_image(root / "mustache" / f"mustache_{i}.png", paint_mustache(im, face.points, seed=i))
    return root


@pytest.fixture(scope="session")
def synthetic_dataset(tmp_path_factory, synthetic_photos) -> Path:
    """The synthetic photos prepped into a dataset (labels from folder names)."""
    from data_prep.build import build_dataset
    from data_prep.labels import from_folders

    out = tmp_path_factory.mktemp("synthetic_dataset")
    s = build_dataset(synthetic_photos, out, from_folders, workers=1)
    assert s.kept == 16, s.to_dict()
    return out


class FixedScorer:
    """A classifier stand-in that gives every face the same score (one fooled by a darker lip,
    or one sure of a beard)."""

    def __init__(self, score):
        self.score = score

    def score_faces(self, image, faces):
        return np.full(len(faces), self.score)


@pytest.fixture(scope="module")
def big_head(astronaut, detector):
    """The astronaut's head upscaled so the face is about 600 px wide (hair resolved), and the
    faces found on it."""
    import cv2

    big = cv2.resize(astronaut[40:260, 120:340], (1320, 1320), interpolation=cv2.INTER_CUBIC)
    return big, detector.detect(big)


def seconds_each(fn, repeats: int) -> float:
    """``fn()``'s mean wall time over ``repeats`` calls, after one call to warm it."""
    import time

    fn()
    t = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - t) / repeats


@pytest.fixture(scope="module")
def model():
    """The web page's loaded model (tests/web), one a test module."""
    pytest.importorskip("fastapi")
    from mustache.web.engine import EngineConfig, ModelServer

    m = ModelServer(EngineConfig())
    yield m
    m.close()
