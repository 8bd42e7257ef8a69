"""Pure metric functions on arrays: ROC-AUC, accuracy, and KID (kernel inception distance,
here on the mustache classifier's features instead of Inception's)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve: P(score of a random positive > score of a random negative),
    ties counted half. labels (N,) 0/1, scores (N,) float -> float in [0, 1]; NaN when either
    class is absent."""
    labels, scores = np.asarray(labels), np.asarray(scores, dtype=np.float64)
    if labels.shape != scores.shape or labels.ndim != 1:
        raise ValueError(f"labels and scores must be equal (N,) arrays, got {labels.shape} "
                         f"and {scores.shape}")
    pos, neg = int((labels == 1).sum()), int((labels == 0).sum())
    if pos == 0 or neg == 0:
        return float("nan")
    # Mann-Whitney U from average ranks (ties share a rank)
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores), dtype=np.float64)
    sorted_scores = scores[order]
    i = 0
    while i < len(scores):
        j = i
        while j + 1 < len(scores) and sorted_scores[j + 1] == sorted_scores[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    u = ranks[labels == 1].sum() - pos * (pos + 1) / 2
    return float(u / (pos * neg))


def accuracy(labels: np.ndarray, scores: np.ndarray, threshold: float = 0.5) -> float:
    """Fraction with (score >= threshold) == label. labels (N,) 0/1, scores (N,) in [0, 1]."""
    labels, scores = np.asarray(labels), np.asarray(scores)
    if labels.shape != scores.shape:
        raise ValueError(f"labels {labels.shape} and scores {scores.shape} differ in shape")
    return float(((scores >= threshold).astype(int) == labels).mean()) if len(labels) else float("nan")


@dataclass(frozen=True)
class KID:
    mean: float  # the KID estimate (mean over subsets); ~0 when both sets share a distribution
    std: float  # spread over subsets
    subsets: int
    subset_size: int


def _poly_mmd2(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD^2 with the cubic polynomial kernel k(a,b) = (a.b / d + 1)^3."""
    d = x.shape[1]
    kxx = (x @ x.T / d + 1) ** 3
    kyy = (y @ y.T / d + 1) ** 3
    kxy = (x @ y.T / d + 1) ** 3
    m, n = len(x), len(y)
    sxx = (kxx.sum() - np.trace(kxx)) / (m * (m - 1))
    syy = (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
    return float(sxx + syy - 2 * kxy.mean())


def kid(real: np.ndarray, fake: np.ndarray, subsets: int = 50, subset_size: int = 1000,
        seed: int = 0) -> KID:
    """Kernel Inception Distance (Binkowski et al. 2018) between two feature sets.

    real (M, D) and fake (N, D) float features -> :class:`KID`. Each of ``subsets`` rounds
    draws ``min(subset_size, M, N)`` rows of each set without replacement and takes the
    unbiased polynomial-kernel MMD^2; the estimate is their mean (it can dip slightly below 0).
    """
    real, fake = np.asarray(real, np.float64), np.asarray(fake, np.float64)
    if real.ndim != 2 or fake.ndim != 2 or real.shape[1] != fake.shape[1]:
        raise ValueError(f"features must be (M, D) and (N, D), got {real.shape} and {fake.shape}")
    size = min(subset_size, len(real), len(fake))
    if size < 2:
        raise ValueError(f"KID needs at least 2 rows in each set, got {len(real)} and {len(fake)}")
    rng = np.random.default_rng(seed)
    vals = [_poly_mmd2(real[rng.choice(len(real), size, replace=False)],
                       fake[rng.choice(len(fake), size, replace=False)]) for _ in range(subsets)]
    return KID(float(np.mean(vals)), float(np.std(vals)), subsets, size)


def region_texture(windows: np.ndarray, masks: np.ndarray, sigma: float = 1.5,
                   core: float = 0.5) -> np.ndarray:
    """Fine detail inside the region: mean |grey - Gaussian blur(grey)| over the pixels where
    the mask exceeds ``core``. windows uint8 (N, S, S, 3), masks uint8 (N, S, S) 0-255 or float
    in [0, 1] -> (N,) float in grey levels (0-255). Hair is fine dark strands on skin and scores
    high; a flat painted patch scores near 0. NaN for a window with no core pixel."""
    import cv2

    windows, masks = np.asarray(windows), np.asarray(masks)
    if windows.ndim != 4 or windows.shape[3] != 3 or masks.shape != windows.shape[:3]:
        raise ValueError(f"windows must be (N, S, S, 3) and masks (N, S, S), got {windows.shape} "
                         f"and {masks.shape}")
    m = masks.astype(np.float32) / (255.0 if masks.dtype == np.uint8 else 1.0)
    out = np.full(len(windows), np.nan)
    for i, (w, mi) in enumerate(zip(windows, m, strict=True)):
        grey = w.astype(np.float32).mean(axis=2)
        detail = np.abs(grey - cv2.GaussianBlur(grey, (0, 0), sigma))
        sel = mi > core
        if sel.any():
            out[i] = float(detail[sel].mean())
    return out
