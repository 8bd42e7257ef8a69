"""Reading a prep output for training: manifests, windows decoded once into memory, splits by
person, and a torch ``Dataset`` with albumentations applied alike to window and mask.

Items are dicts of tensors: ``window`` float32 (3, S, S) in [-1, 1], ``mask`` float32
(1, S, S) in [0, 1], ``label`` int64 (0 clean, 1 mustache, -1 unknown).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from data_prep.build import read_jsonl
from data_prep.image_io import read_image_fast
from data_prep.labels import LABELS

# what training reads of a manifest line: a whole line, with its 478 landmarks, takes ~70 kB as
# Python objects, this ~1 kB, so a rank can hold the lines of millions of faces
TRAINING_FIELDS = ("id", "source", "person", "label", "files")


def read_manifest(root: str | Path, fields: Sequence[str] | None = None) -> list[dict]:
    """Every kept face of a dataset folder (all shards), in a stable order, one per id;
    ``fields``: only these keys of each line."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: dataset folder not found")
    seen, out = set(), []
    for p in sorted(root.glob("manifest*.jsonl")):
        for r in read_jsonl(p):
            if r["id"] not in seen:
                seen.add(r["id"])
                out.append(r if fields is None else {k: r[k] for k in fields if k in r})
    out.sort(key=lambda r: r["id"])
    return out


def label_index(label: str | None) -> int:
    """'clean' -> 0, 'mustache' -> 1, None -> -1."""
    return LABELS.index(label) if label in LABELS else -1


@dataclass(frozen=True, eq=False)
class WindowSet:
    """Windows of a dataset decoded into memory."""

    windows: np.ndarray  # (N, S, S, 3) uint8 RGB
    masks: np.ndarray  # (N, S, S) uint8, 0-255
    labels: np.ndarray  # (N,) int64: 0 clean, 1 mustache, -1 unknown
    records: list[dict]  # the manifest lines, in the same order

    def __len__(self) -> int:
        return len(self.records)

    def subset(self, index: Iterable[int]) -> WindowSet:
        idx = np.fromiter(index, dtype=np.int64)
        return WindowSet(self.windows[idx], self.masks[idx], self.labels[idx],
                         [self.records[i] for i in idx])

    def counts(self) -> dict[str, int]:
        return {name: int((self.labels == i).sum()) for i, name in enumerate(LABELS)}


def load_windows(root: str | Path, records: list[dict] | None = None,
                 progress: Callable[[Iterable, int], Iterable] | None = None) -> WindowSet:
    """Decode every window and mask of ``records`` (default: the whole manifest) once."""
    root = Path(root)
    records = read_manifest(root) if records is None else records
    if not records:
        raise ValueError(f"{root}: dataset has no faces (no manifest*.jsonl lines)")
    it = progress(records, len(records)) if progress else records
    wins, masks = [], []
    for r in it:
        wins.append(read_image_fast(root / r["files"]["window"]))
        masks.append(read_image_fast(root / r["files"]["mask"]))
    labels = np.array([label_index(r.get("label")) for r in records], dtype=np.int64)
    return WindowSet(np.stack(wins), np.stack(masks), labels, list(records))


def holdout_split(records: list[dict], fraction: float, salt: str = "holdout"
                  ) -> tuple[list[int], list[int]]:
    """Indices (train, held out) split by person, stable across runs and machines: a person's
    photos all land on the same side."""
    train, held = [], []
    for i, r in enumerate(records):
        key = f"{salt}:{r.get('person', r['source'])}".encode()
        u = int.from_bytes(hashlib.sha1(key).digest()[:8], "big") / 2**64
        (held if u < fraction else train).append(i)
    return train, held


def rank_share(train_idx: Sequence[int], labels: np.ndarray, rank: int, world: int
               ) -> list[list[int]]:
    """The training indices one rank of ``world`` decodes and trains on, as [clean, mustache]:
    every world-th of each label from ``rank`` on. The ranks' shares are disjoint and together
    the training set, each keeps the label balance, and one rank takes it all."""
    return [[i for i in train_idx if labels[i] == k][rank::world] for k in (0, 1)]


def default_augment(seed: int | None = None):
    """Mild geometric and photometric augmentation (albumentations), applied alike to the window
    and its mask; ``seed`` makes its draws repeatable. Flips are safe: the region is symmetric.
    The classifier trains through it; the GAN has its own on the device (mustache.learn.train)."""
    import os

    os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")  # its import would ask PyPI
    import albumentations as A
    import cv2

    return A.Compose([
        A.HorizontalFlip(p=0.5),
        A.Affine(scale=(0.93, 1.07), translate_percent=(-0.03, 0.03), rotate=(-6, 6),
                 border_mode=cv2.BORDER_REFLECT_101, p=0.7),
        A.ColorJitter(brightness=0.15, contrast=0.15, saturation=0.15, hue=0.02, p=0.7),
    ], seed=seed)


class WindowDataset:
    """A map-style torch Dataset over a :class:`WindowSet`.

    ``augment`` is an albumentations transform (``default_augment(seed)``) or None.
    """

    def __init__(self, data: WindowSet, augment=None):
        self.data = data
        self.augment = augment

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, i: int) -> dict:
        import torch

        from data_prep.pixels import mask_to_model, to_model

        win, mask = self.data.windows[i], self.data.masks[i]
        if self.augment is not None:
            r = self.augment(image=win, mask=mask)
            win, mask = r["image"], r["mask"]
        return {"window": to_model(win[None])[0], "mask": mask_to_model(mask[None])[0],
                "label": torch.tensor(int(self.data.labels[i]))}
