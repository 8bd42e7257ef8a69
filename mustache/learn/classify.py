"""Training the mustache-ness classifier on a prep dataset, and scoring windows and photos.

Training draws class-balanced batches (mustache faces are rare), augments each window and its
mask with albumentations (``data_prep.dataset.default_augment``: flip, small affine, colour
jitter), holds out whole people (``holdout_split``) and reports accuracy
and ROC-AUC on them. Noisy positives (CelebA's "Mustache" includes stubble and full beards)
are handled with label smoothing and, optionally, by dropping the training positives the
warmed-up model finds least mustache-like (the small-loss trick).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from data_prep.config import from_dict, to_dict
from data_prep.pixels import mask_to_model, to_model
from mustache.learn.models.classifier import Classifier, ClassifierConfig
from mustache.learn.weights import CLASSIFIER

DEFAULT_WEIGHTS = CLASSIFIER


@dataclass(frozen=True)
class ClassifierTrainConfig:
    epochs: int = 12
    batch: int = 64
    lr: float = 2e-3
    weight_decay: float = 5e-4
    samples_per_epoch: int = 6000  # class-balanced draws per epoch (half mustache)
    holdout: float = 0.2  # fraction of people held out (a superset of the GAN's 0.1 split)
    label_smoothing: float = 0.05  # targets 0.05 / 0.95: noisy labels cost less when wrong
    drop_noisy: float = 0.0  # fraction of training positives dropped after warmup, by loss
    warmup_epochs: int = 3  # epochs before noisy positives are dropped
    # fraction of each batch whose region is painted over with random colour and noise and
    # labelled clean: a blob in the mustache's place is not a mustache (an untrained GAN's
    # output must not score as one)
    fake_negatives: float = 0.15
    seed: int = 0


@dataclass(frozen=True)
class Evaluation:
    n: int
    positives: int
    accuracy: float  # at score 0.5
    balanced_accuracy: float  # mean of per-class recall at 0.5
    roc_auc: float

    def line(self) -> str:
        return (f"n={self.n} (mustache {self.positives})  acc={self.accuracy:.3f}  "
                f"bal.acc={self.balanced_accuracy:.3f}  ROC-AUC={self.roc_auc:.3f}")


@dataclass(frozen=True)
class TrainResult:
    path: Path
    train_counts: dict[str, int]
    dropped_positives: int
    heldout: Evaluation
    subsets: dict[str, Evaluation] = field(default_factory=dict)  # extra held-out label sets
    seconds: float = 0.0


def evaluate_scores(labels: np.ndarray, scores: np.ndarray) -> Evaluation:
    """labels (N,) 0/1, scores (N,) in [0, 1] -> :class:`Evaluation`."""
    from mustache.measure.metrics import accuracy, roc_auc

    labels = np.asarray(labels)
    pred = np.asarray(scores) >= 0.5
    recalls = [float((pred[labels == c] == c).mean()) for c in (0, 1) if (labels == c).any()]
    return Evaluation(len(labels), int((labels == 1).sum()), accuracy(labels, scores),
                      float(np.mean(recalls)) if recalls else math.nan, roc_auc(labels, scores))


# -- tensors ------------------------------------------------------------------------------------

def paint_fakes(x: torch.Tensor, mask: torch.Tensor, y: torch.Tensor, fraction: float,
                gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Paint the region of a random ``fraction`` of the windows with random colour, blotches
    and noise, and label those 0. x (N, 3, S, S) in [-1, 1], mask (N, 1, S, S), y (N,)."""
    n, _, s, _ = x.shape
    pick = torch.rand(n, generator=gen) < fraction
    k = int(pick.sum())
    if k == 0:
        return x, y
    grid = int(2 ** torch.randint(1, 5, (1,), generator=gen))  # blotch scale: 2..16 cells
    mean = torch.rand(k, 3, 1, 1, generator=gen) * 2 - 1
    blotch = F.interpolate(torch.randn(k, 3, grid, grid, generator=gen), size=(s, s),
                           mode="bilinear", align_corners=False)
    grain = torch.randn(k, 3, s, s, generator=gen)
    fill = (mean + blotch * torch.rand(k, 1, 1, 1, generator=gen) * 0.6
            + grain * torch.rand(k, 1, 1, 1, generator=gen) * 0.4).clamp(-1, 1)
    x, y = x.clone(), y.clone()
    x[pick] = x[pick] * (1 - mask[pick]) + fill * mask[pick]
    y[pick] = 0
    return x, y


@torch.no_grad()
def predict(model: Classifier, windows: np.ndarray, masks: np.ndarray | None, batch: int = 256,
            device: torch.device | str = "cpu", what: str = "score") -> np.ndarray:
    """windows uint8 (N, S, S, 3), masks uint8 (N, S, S) or None -> scores (N,) in [0, 1]
    (``what="score"``) or features (N, D) (``what="features"``), averaged over a horizontal
    flip (mustaches are symmetric; this steadies the score)."""
    model.eval()
    out = []
    for i in range(0, len(windows), batch):
        x = to_model(windows[i:i + batch]).to(device)
        m = None if masks is None else mask_to_model(masks[i:i + batch]).to(device)
        out.append(_predict_tensor(model, x, m, what).cpu())
    if not out:
        return np.zeros((0,) if what == "score" else (0, model.config.feature_dim), np.float32)
    return torch.cat(out).numpy()


def _predict_tensor(model: Classifier, x: torch.Tensor, m: torch.Tensor | None, what: str):
    mf = None if m is None else m.flip(3)
    if what == "features":
        return (model.features(x, m) + model.features(x.flip(3), mf)) / 2
    return torch.sigmoid((model(x, m) + model(x.flip(3), mf)) / 2)


# -- training -----------------------------------------------------------------------------------

def train_classifier(dataset_dir: str | Path, out_path: str | Path,
                     config: ClassifierTrainConfig = ClassifierTrainConfig(),
                     model_config: ClassifierConfig = ClassifierConfig(),
                     device: str = "auto", eval_labels: dict[str, Callable] | None = None,
                     log: Callable[[str], None] = print) -> TrainResult:
    """Train on the labelled faces of a prep dataset; save a "mustache-classifier" checkpoint.

    ``eval_labels`` maps a name to a label function (photo path -> label or None, as in
    ``data_prep.labels``): each is also evaluated on the held-out people, with its own labels
    (e.g. LFW clean-shaven men vs mustached men).
    """
    from torch.utils.data import default_collate

    from data_prep.build import read_prep_config
    from data_prep.dataset import (
        WindowDataset,
        default_augment,
        holdout_split,
        label_index,
        load_windows,
        read_manifest,
    )
    from mustache.device import resolve_device
    from mustache.errors import BadInput
    from mustache.learn import checkpoint

    t0 = time.time()
    dev = resolve_device(device)
    torch.manual_seed(config.seed)
    gen = torch.Generator().manual_seed(config.seed)
    records = read_manifest(dataset_dir)
    train_idx, held_idx = holdout_split(records, config.holdout)
    held_set = set(held_idx)
    # a photo's label names its main face only (as in prep)
    extra = {name: [(i, label_index(fn(records[i]["source"]))) for i in held_idx
                    if records[i].get("face_index", 0) == 0]
             for name, fn in (eval_labels or {}).items()}
    keep = sorted({i for i in train_idx if records[i].get("label")}
                  | {i for i in held_idx if records[i].get("label")}
                  | {i for pairs in extra.values() for i, lab in pairs if lab >= 0})
    if not keep:
        raise BadInput(f"{dataset_dir}: training needs labelled faces of both classes")
    log(f"loading {len(keep)} windows ...")
    data = load_windows(dataset_dir, [records[i] for i in keep])
    pos_of = {r: j for j, r in enumerate(keep)}
    tr = np.array([pos_of[i] for i in train_idx if i in pos_of and records[i].get("label")])
    tr = tr[data.labels[tr] >= 0]
    he = np.array([pos_of[i] for i in keep if i in held_set and data.labels[pos_of[i]] >= 0])
    if len(tr) == 0 or len(set(data.labels[tr].tolist())) < 2:
        raise BadInput(f"{dataset_dir}: training needs labelled faces of both classes")
    masks = data.masks if model_config.use_mask else None
    model = Classifier(model_config).to(dev)
    opt = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    steps = config.epochs * max(1, config.samples_per_epoch // config.batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, config.lr, total_steps=steps, pct_start=0.15)
    pos, neg = tr[data.labels[tr] == 1], tr[data.labels[tr] == 0]
    log(f"train: {len(neg)} clean, {len(pos)} mustache; held out: {len(he)} faces")
    # each window and its mask augmented alike, on the CPU, repeatably from the seed
    train_set = WindowDataset(data, default_augment(config.seed))
    dropped = 0
    for epoch in range(config.epochs):
        if config.drop_noisy > 0 and epoch == config.warmup_epochs:
            pos, dropped = _drop_noisy(model, data.windows, masks, pos, config.drop_noisy, dev)
            log(f"dropped {dropped} training positives the model finds least mustache-like")
        model.train()
        n_half = config.samples_per_epoch // config.batch * config.batch // 2
        pick = np.concatenate([pos[torch.randint(len(pos), (n_half,), generator=gen).numpy()],
                               neg[torch.randint(len(neg), (n_half,), generator=gen).numpy()]])
        pick = pick[torch.randperm(len(pick), generator=gen).numpy()]
        total = 0.0
        for b in range(0, len(pick), config.batch):
            idx = np.sort(pick[b:b + config.batch])
            batch = default_collate([train_set[i] for i in idx])
            x, m, y = batch["window"], batch["mask"], batch["label"].float()
            x, y = paint_fakes(x, m, y, config.fake_negatives, gen)
            m = m if model_config.use_mask else None
            y = y * (1 - 2 * config.label_smoothing) + config.label_smoothing
            loss = F.binary_cross_entropy_with_logits(model(x.to(dev), None if m is None else
                                                            m.to(dev)), y.to(dev))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        ev = _evaluate(model, data, masks, he, dev)
        log(f"epoch {epoch + 1}/{config.epochs}  loss {total / len(pick):.4f}  held-out {ev.line()}"
            f"  ({time.time() - t0:.0f} s)")
    heldout = _evaluate(model, data, masks, he, dev)
    subsets = {}
    for name, pairs in extra.items():
        idx = np.array([pos_of[i] for i, lab in pairs if lab >= 0])
        labs = np.array([lab for _, lab in pairs if lab >= 0])
        scores = predict(model, data.windows[idx], None if masks is None else masks[idx],
                         device=dev) if len(idx) else np.zeros(0)
        subsets[name] = evaluate_scores(labs, scores)
    result = TrainResult(Path(out_path), {"clean": len(neg), "mustache": len(pos)}, dropped,
                         heldout, subsets, time.time() - t0)
    checkpoint.save(out_path, {
        "kind": checkpoint.CLASSIFIER_KIND, "version": 1,
        "classifier_config": to_dict(model_config),
        "classifier": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "prep_config": to_dict(read_prep_config(dataset_dir)),
        "train_config": to_dict(config),
        "metrics": {"heldout": asdict(heldout), **{k: asdict(v) for k, v in subsets.items()}},
    })
    return result


def _evaluate(model, data, masks, idx, dev) -> Evaluation:
    if len(idx) == 0:
        return Evaluation(0, 0, math.nan, math.nan, math.nan)
    scores = predict(model, data.windows[idx], None if masks is None else masks[idx], device=dev)
    return evaluate_scores(data.labels[idx], scores)


def _drop_noisy(model, windows, masks, pos, fraction, dev) -> tuple[np.ndarray, int]:
    """Keep the training positives except the ``fraction`` the model scores lowest: with noisy
    labels, the examples a warmed-up model cannot fit are mostly the mislabelled ones."""
    scores = predict(model, windows[pos], None if masks is None else masks[pos], device=dev)
    n_drop = int(len(pos) * fraction)
    keep = np.sort(pos[np.argsort(scores)[n_drop:]])
    return keep, n_drop


# -- scoring ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FaceScore:
    index: int  # face order in the photo, largest first
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 in photo pixels
    score: float  # mustache-ness in [0, 1]


def load_classifier(path: str | Path) -> tuple[Classifier, dict]:
    """A classifier checkpoint -> (the model on the CPU, in eval mode, frozen; the checkpoint).
    Raises BadInput when the file is not a classifier or does not match its config."""
    from mustache.learn import checkpoint

    return checkpoint.load_network(path, checkpoint.CLASSIFIER_KIND,
                                   lambda d: Classifier(from_dict(ClassifierConfig, d)),
                                   "classifier_config", "classifier")


class Scorer:
    """A trained classifier ready to score windows, tensors or photos.

    ``Scorer(path=None)`` loads the shipped default (``mustache/weights/classifier.pt``). Photos
    are cut into windows with the geometry of the dataset the classifier was trained on.
    Use as a context manager (or call ``close``) to free the face detector.
    """

    def __init__(self, path: str | Path | None = None, device: str = "cpu"):
        from data_prep.build import PrepConfig
        from mustache.device import resolve_device
        from mustache.errors import BadInput

        path = DEFAULT_WEIGHTS if path is None else Path(path)
        model, ckpt = load_classifier(path)
        self.config = model.config
        try:
            self.prep = from_dict(PrepConfig, ckpt.get("prep_config") or {})
        except (KeyError, TypeError, ValueError) as e:
            raise BadInput(f"{path}: checkpoint does not match the classifier "
                           f"({type(e).__name__})") from None
        self.path = path
        self.device = resolve_device(device)
        self.model = model.to(self.device)
        self.metrics = ckpt.get("metrics", {})
        self._detector = None

    @property
    def size(self) -> int:
        return self.config.size

    def _check(self, windows: np.ndarray) -> None:
        s = self.size
        if windows.ndim != 4 or windows.shape[1:] != (s, s, 3):
            raise ValueError(f"windows must be (N, {s}, {s}, 3) uint8, got {windows.shape}")

    def score_windows(self, windows: np.ndarray, masks: np.ndarray | None = None) -> np.ndarray:
        """windows uint8 (N, S, S, 3) (masks uint8 (N, S, S) if the model uses them) -> (N,)
        float mustache-ness in [0, 1]."""
        self._check(windows)
        return predict(self.model, windows, masks, device=self.device).astype(np.float64)

    def features_windows(self, windows: np.ndarray, masks: np.ndarray | None = None) -> np.ndarray:
        """windows uint8 (N, S, S, 3) -> (N, D) float pooled features (for KID)."""
        self._check(windows)
        return predict(self.model, windows, masks, device=self.device, what="features")

    @torch.no_grad()
    def score_tensor(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """x float (N, 3, S, S) in [-1, 1] (mask (N, 1, S, S) in [0, 1]) -> (N,) in [0, 1]."""
        return _predict_tensor(self.model, x.to(self.device),
                               None if mask is None else mask.to(self.device), "score")

    def cut(self, rgb: np.ndarray, faces) -> tuple[np.ndarray, np.ndarray]:
        """The windows and masks of ``faces`` (``FaceLandmarks``) in ``rgb``, cut exactly as prep
        cuts them -> uint8 (N, S, S, 3), uint8 (N, S, S)."""
        from data_prep.region import cut_windows

        return cut_windows(rgb, faces, self.prep.align, self.prep.region)

    def score_faces(self, rgb: np.ndarray, faces) -> np.ndarray:
        """The mustache score of each of ``faces`` (``FaceLandmarks``) in ``rgb`` -> (N,)."""
        wins, masks = self.cut(rgb, faces)
        if not len(wins):
            return np.zeros(0)
        return self.score_windows(wins, masks if self.config.use_mask else None)

    def score_image(self, rgb: np.ndarray) -> list[FaceScore]:
        """rgb uint8 (H, W, 3) -> one :class:`FaceScore` per face found (largest first)."""
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"image must be uint8 (H, W, 3), got {rgb.dtype} {rgb.shape}")
        if self._detector is None:
            from data_prep.landmarks import MediaPipeDetector

            self._detector = MediaPipeDetector(self.prep.detector)
        faces = self._detector.detect(rgb)
        if not faces:
            return []
        scores = self.score_faces(rgb, faces)
        return [FaceScore(i, tuple(round(float(v), 1) for v in f.box), float(s))
                for i, (f, s) in enumerate(zip(faces, scores, strict=True))]

    def close(self) -> None:
        if self._detector is not None:
            self._detector.close()
            self._detector = None

    def __enter__(self) -> Scorer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
