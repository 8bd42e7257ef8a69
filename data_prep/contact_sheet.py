"""Contact sheets: grids of windows or faces with captions, for checking crops by eye."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np


def grid(images: Sequence[np.ndarray], cols: int, captions: Sequence[str] | None = None,
         pad: int = 2, background: int = 255) -> np.ndarray:
    """Tile same-sized RGB uint8 (H, W, 3) images into one RGB uint8 image, row by row."""
    import cv2

    if not images:
        raise ValueError("grid needs at least one image")
    h, w = images[0].shape[:2]
    rows = (len(images) + cols - 1) // cols
    cap_h = 14 if captions else 0
    out = np.full((rows * (h + pad + cap_h) + pad, cols * (w + pad) + pad, 3), background, np.uint8)
    for i, im in enumerate(images):
        if im.shape[:2] != (h, w):
            im = cv2.resize(im, (w, h), interpolation=cv2.INTER_AREA)
        if im.ndim == 2:
            im = np.repeat(im[:, :, None], 3, axis=2)
        r, c = divmod(i, cols)
        y, x = pad + r * (h + pad + cap_h), pad + c * (w + pad)
        out[y:y + h, x:x + w] = im
        if captions:
            cv2.putText(out, str(captions[i])[: max(4, w // 7)], (x + 1, y + h + 11),
                        cv2.FONT_HERSHEY_SIMPLEX, 0.35, (0, 0, 0), 1, cv2.LINE_AA)
    return out


def outline(window: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Draw the region's half-level contour on a copy of the window (green)."""
    import cv2

    m = (mask >= 128).astype(np.uint8) if mask.dtype == np.uint8 else (mask >= 0.5).astype(np.uint8)
    contours, _ = cv2.findContours(m, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    out = window.copy()
    cv2.drawContours(out, contours, -1, (0, 255, 0), 1)
    return out


def dataset_sheet(root: str | Path, per_label: int = 24, cols: int = 8, seed: int = 0) -> np.ndarray:
    """A sheet of windows from a prep output: up to ``per_label`` of each label, region outlined,
    one block of rows per label."""
    from data_prep.dataset import read_manifest
    from data_prep.image_io import read_image_fast

    root = Path(root)
    records = read_manifest(root)
    rng = np.random.default_rng(seed)
    tiles, caps = [], []
    for label in sorted({r.get("label") for r in records}, key=str):
        group = [r for r in records if r.get("label") == label]
        pick = rng.choice(len(group), size=min(per_label, len(group)), replace=False)
        pick = sorted(pick)
        # pad each label's block to whole rows so labels never share a row
        n = ((len(pick) + cols - 1) // cols) * cols
        for j in range(n):
            if j < len(pick):
                r = group[pick[j]]
                win = read_image_fast(root / r["files"]["window"])
                tiles.append(outline(win, read_image_fast(root / r["files"]["mask"])))
                caps.append(str(label))
            else:
                tiles.append(np.full_like(tiles[-1], 255))
                caps.append("")
    if not tiles:
        raise ValueError(f"{root}: dataset has no faces")
    return grid(tiles, cols, caps)
