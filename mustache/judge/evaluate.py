"""Measuring a GAN checkpoint on the held-out clean faces of a dataset.

Window metrics (no photos needed): the generator paints a mustache into each stored held-out
clean window; the classifier scores them (mustache rate) and embeds them (KID against real
mustache windows). Photo metrics (need the source photos and ``mustache.paint.gan``): the whole
pipeline runs on each photo; we measure the mean absolute change outside the dilated mustache
regions and how far the re-detected landmarks (lips excepted) move.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np
import torch

from data_prep import indices as ix

if TYPE_CHECKING:
    from mustache.paint.options import ApplyResult

# Lip landmarks (MediaPipe FACEMESH_LIPS): a mustache may cover or reshape them.
LIPS = frozenset(ix.UPPER_LIP_OUTER + ix.UPPER_LIP_INNER + ix.LOWER_LIP_OUTER
                 + (95, 88, 178, 87, 14, 317, 402, 318, 324))

class ApplyFn(Protocol):
    """A mustache pipeline as evaluation runs it: ``mustache.paint.gan`` or a stand-in in tests."""

    def __call__(self, rgb: np.ndarray, seed: int) -> ApplyResult:
        """RGB uint8 (H, W, 3) and a seed -> the edited photo and its faces."""
        ...

    def close(self) -> None: ...




@dataclass(frozen=True)
class EvalConfig:
    holdout: float | None = None  # fraction of people held out; None: the checkpoint's own
    max_faces: int = 512  # held-out clean windows run through the generator
    max_photos: int = 64  # of which full photos run through the apply pipeline
    max_real: int = 2000  # real mustache windows for KID
    kid_subsets: int = 50
    kid_subset_size: int = 500
    dilate: float = 0.08  # region dilation for "outside", fraction of the face box width
    sheet_pairs: int = 24  # before/after pairs on the contact sheet
    batch: int = 32
    seed: int = 0


@dataclass(frozen=True)
class EvalReport:
    model: str
    dataset: str
    classifier: str
    faces: int  # held-out clean windows generated
    mustache_rate: float  # fraction of generated windows scored > 0.5
    mean_score: float  # mean classifier score of generated windows
    clean_rate: float  # the same windows before generation (should be ~0)
    kid: float  # KID on the classifier's features vs real mustache windows (lower is better)
    kid_std: float
    kid_before: float  # KID of the same windows before generation: the do-nothing baseline
    real_windows: int  # real mustache windows KID compares against
    # fine detail inside the region (metrics.region_texture), generated over real mustache
    # windows': about 1 is as detailed as real hair, near 0 a flat painted patch
    texture: float = math.nan
    texture_before: float = math.nan  # the same ratio for the clean windows before generation
    photos: int = 0  # full photos measured (0: no photos or no apply pipeline)
    outside_change: float | None = None  # mean |after - before| outside dilated regions, 0-255
    landmark_drift: float | None = None  # mean non-lip landmark shift, % of face width
    sheet: str | None = None  # contact sheet PNG path
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["notes"] = list(self.notes)
        return d


@torch.no_grad()
def generate_windows(generator, windows: np.ndarray, masks: np.ndarray, seed: int = 0,
                     batch: int = 32, device: torch.device | str = "cpu") -> np.ndarray:
    """Paint a mustache (label 1, seeded noise) into windows uint8 (N, S, S, 3) with masks uint8
    (N, S, S) -> uint8 (N, S, S, 3)."""
    from data_prep.pixels import mask_to_model, to_model, to_uint8

    gen = torch.Generator().manual_seed(seed)
    out = []
    for i in range(0, len(windows), batch):
        x, m = to_model(windows[i:i + batch]), mask_to_model(masks[i:i + batch])
        noise = torch.randn(len(x), generator.config.noise_dim, generator=gen)
        label = torch.ones(len(x), dtype=torch.long)
        y = generator(x.to(device), m.to(device), label.to(device), noise.to(device))
        out.append(to_uint8(y).cpu().numpy())
    return np.concatenate(out) if out else windows[:0]


def holdout_of(ckpt: dict, where: str | Path) -> float:
    """The share of people the run behind a GAN checkpoint (loaded from ``where``) held out, as
    its train config records (a hand-made file without one: the trainer's default)."""
    from mustache.learn.train_config import TrainConfig, saved_config

    saved = saved_config(ckpt, where)
    return TrainConfig.holdout if saved is None else saved.holdout


def heldout_clean(records: list[dict], fraction: float) -> list[dict]:
    """The held-out people's clean faces (the same split the GAN trainer holds out)."""
    from data_prep.dataset import holdout_split

    _, held = holdout_split(records, fraction)
    return [records[i] for i in held if records[i].get("label") == "clean"]


def find_photo(source: str, photo_dirs: Sequence[Path]) -> Path | None:
    """The first ``dir/source`` that exists (a dataset may be prepped from several folders)."""
    for d in photo_dirs:
        p = Path(d) / source
        if p.is_file():
            return p
    return None


def recorded_photo_dirs(dataset: str | Path) -> list[Path]:
    """The photo folders a dataset records having been prepped from (``photos`` or ``root`` in
    prep_config.json or summary*.json), those that exist; [] when none are recorded."""
    import json

    found = []
    root = Path(dataset)
    for f in [root / "prep_config.json", *sorted(root.glob("summary*.json"))]:
        try:
            d = json.loads(f.read_text())
        except (OSError, ValueError):
            continue
        for key in ("photos", "root"):
            v = d.get(key) if isinstance(d, dict) else None
            for p in [v] if isinstance(v, str) else v if isinstance(v, list) else []:
                p = Path(p) if Path(p).is_absolute() else root / p
                if p.is_dir() and p not in found:
                    found.append(p)
    return found


def outside_mask(regions: Sequence[tuple[np.ndarray, np.ndarray, float]], shape: tuple[int, int],
                 dilate: float) -> np.ndarray:
    """bool (H, W): True outside every mustache region of a photo, each dilated by ``dilate`` x
    its face width. ``regions``: (window matrix (2, 3) photo->window, mask uint8 (S, S) in
    window coords, face box width in photo px) per face."""
    import cv2

    h, w = shape
    inside = np.zeros((h, w), np.uint8)
    for matrix, mask, face_width in regions:
        photo = cv2.warpAffine(mask, np.asarray(matrix, np.float64), (w, h),
                               flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)
        k = max(1, int(round(dilate * face_width)))
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * k + 1, 2 * k + 1))
        inside |= cv2.dilate((photo > 0).astype(np.uint8), kernel)
    return inside == 0


def outside_change(before: np.ndarray, after: np.ndarray, outside: np.ndarray) -> float:
    """Mean absolute change (0-255) over pixels where ``outside`` (bool (H, W)) is True.
    before, after: uint8 (H, W, 3)."""
    if before.shape != after.shape or before.shape[:2] != outside.shape:
        raise ValueError(f"shapes differ: before {before.shape}, after {after.shape}, "
                         f"outside {outside.shape}")
    if not outside.any():
        return 0.0
    d = np.abs(before.astype(np.int16) - after.astype(np.int16))
    return float(d[outside].mean())


def landmark_drift(before, after) -> float:
    """Mean distance between two detections of one face (``FaceLandmarks``), lips excepted, as a
    percentage of the face box width."""
    keep = np.array([i for i in range(len(before.xy)) if i not in LIPS])
    d = np.linalg.norm(before.xy[keep] - after.xy[keep], axis=1).mean()
    x0, _, x1, _ = before.box
    return float(100 * d / max(x1 - x0, 1e-6))


def _match(face, faces) -> object | None:
    """The face in ``faces`` whose box centre is nearest ``face``'s, within half its width."""
    cx, cy = (face.box[0] + face.box[2]) / 2, (face.box[1] + face.box[3]) / 2
    best, dist = None, 0.5 * (face.box[2] - face.box[0])
    for f in faces:
        d = math.hypot((f.box[0] + f.box[2]) / 2 - cx, (f.box[1] + f.box[3]) / 2 - cy)
        if d < dist:
            best, dist = f, d
    return best


class _Pipeline:
    """``mustache.paint.gan`` as an :data:`ApplyFn` that also closes its detector."""

    def __init__(self, model: str | Path, device: str):
        from mustache.paint.gan import ApplyOptions, Mustacher

        self._options = ApplyOptions
        self._m = Mustacher(model=str(model), device=device)

    def __call__(self, rgb: np.ndarray, seed: int):
        return self._m.apply(rgb, self._options(seed=seed))

    def close(self) -> None:
        self._m.close()


def default_apply_fn(model: str | Path, device: str = "auto") -> ApplyFn:
    """The `apply` pipeline of ``model`` as an :class:`ApplyFn`."""
    return _Pipeline(model, device)


def _changed_elsewhere(result, records: list[dict]) -> list[tuple[int, int, int, int]]:
    """Photo boxes ``apply`` blended for faces prep did not keep (no manifest record near)."""
    boxes = []
    for f in result.faces:
        if not f.blended or f.region_box is None:
            continue
        if _match(_Box(tuple(f.box)), [_Box(tuple(r["box"])) for r in records]) is None:
            boxes.append(tuple(f.region_box))
    return boxes


def evaluate(model: str | Path, dataset: str | Path, scorer, photo_dirs: Sequence[Path] = (),
             out_dir: str | Path | None = None, config: EvalConfig = EvalConfig(),
             device: str = "cpu", apply_fn: ApplyFn | None = None,
             log: Callable[[str], None] = lambda s: None) -> EvalReport:
    """Evaluate the GAN checkpoint ``model`` on ``dataset``'s held-out clean faces.

    ``scorer`` is a :class:`mustache.learn.classify.Scorer`. With ``photo_dirs`` (folders the dataset
    was prepped from) and an apply pipeline (``apply_fn``, default ``mustache.paint.gan``), photo
    metrics are measured too. ``out_dir`` receives ``report.json`` and ``contact_sheet.png``.
    """
    import json

    from data_prep.contact_sheet import grid
    from data_prep.dataset import load_windows, read_manifest
    from data_prep.image_io import atomic_write_bytes, save_image
    from mustache.device import resolve_device
    from mustache.errors import BadInput
    from mustache.learn.checkpoint import load_generator
    from mustache.measure.metrics import kid, region_texture

    dev = resolve_device(device)
    notes: list[str] = []
    generator, ckpt = load_generator(model, dev)
    from data_prep.build import PrepConfig, read_prep_config
    from data_prep.config import from_dict
    theirs = ckpt.get("prep_config")
    if theirs and from_dict(PrepConfig, theirs).region != read_prep_config(dataset).region:
        notes.append("the model was trained on another window geometry than this dataset's")
    holdout = config.holdout if config.holdout is not None else holdout_of(ckpt, model)
    records = read_manifest(dataset)
    held = heldout_clean(records, holdout)[: config.max_faces]
    if not held:
        why = " (the run held nobody out: pass --holdout)" if holdout == 0 else ""
        raise BadInput(f"{dataset}: no held-out clean faces (holdout {holdout}){why}")
    data = load_windows(dataset, held)
    s = generator.config.size
    if data.windows.shape[1] != s or scorer.size != s:
        raise BadInput(f"window sizes differ: dataset {data.windows.shape[1]}, generator {s}, "
                       f"classifier {scorer.size}")
    log(f"generating {len(held)} held-out clean windows ...")
    fake = generate_windows(generator, data.windows, data.masks, config.seed, config.batch, dev)
    use_mask = scorer.config.use_mask
    before_scores = scorer.score_windows(data.windows, data.masks if use_mask else None)
    scores = scorer.score_windows(fake, data.masks if use_mask else None)
    real_recs = [r for r in records if r.get("label") == "mustache"]
    rng = np.random.default_rng(config.seed)
    if len(real_recs) > config.max_real:
        real_recs = [real_recs[i] for i in sorted(rng.choice(len(real_recs), config.max_real,
                                                             replace=False))]
    if len(real_recs) >= 2 and len(fake) >= 2:
        real = load_windows(dataset, real_recs)
        real_f = scorer.features_windows(real.windows, real.masks if use_mask else None)
        m = data.masks if use_mask else None
        k = kid(real_f, scorer.features_windows(fake, m), config.kid_subsets,
                config.kid_subset_size, config.seed)
        kid_mean, kid_std = k.mean, k.std
        kid_before = kid(real_f, scorer.features_windows(data.windows, m), config.kid_subsets,
                         config.kid_subset_size, config.seed).mean
        real_t = np.nanmean(region_texture(real.windows, real.masks))
        texture = float(np.nanmean(region_texture(fake, data.masks)) / real_t)
        texture_before = float(np.nanmean(region_texture(data.windows, data.masks)) / real_t)
    else:
        kid_mean = kid_std = kid_before = texture = texture_before = math.nan
        notes.append("KID skipped: fewer than 2 real mustache or generated windows")

    photos, change, drift = _photo_metrics(model, dataset, records, held, photo_dirs, config,
                                           device, apply_fn, notes, log)
    sheet = None
    if out_dir is not None:
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        n = min(config.sheet_pairs, len(fake))
        ims, caps = [], []
        for i in range(n):
            ims += [data.windows[i], fake[i]]
            caps += [f"{before_scores[i]:.2f}", f"-> {scores[i]:.2f}"]
        sheet = str(out_dir / "contact_sheet.png")
        save_image(sheet, grid(ims, cols=8, captions=caps))
    report = EvalReport(
        model=str(model), dataset=str(dataset), classifier=str(scorer.path), faces=len(fake),
        mustache_rate=float((scores > 0.5).mean()), mean_score=float(scores.mean()),
        clean_rate=float((before_scores > 0.5).mean()), kid=kid_mean, kid_std=kid_std, kid_before=kid_before,
        real_windows=len(real_recs), texture=texture, texture_before=texture_before,
        photos=photos, outside_change=change, landmark_drift=drift, sheet=sheet,
        notes=tuple(notes))
    if out_dir is not None:
        atomic_write_bytes(out_dir / "report.json",
                           json.dumps(report.to_dict(), indent=2).encode())
    return report


@dataclass(frozen=True)
class _Box:
    box: tuple[float, float, float, float]


def _photo_metrics(model, dataset, records, held, photo_dirs, config, device, apply_fn, notes, log):
    """-> (photos measured, mean outside change or None, mean landmark drift or None)."""
    if not photo_dirs:
        notes.append("photo metrics skipped: no --photos folder given")
        return 0, None, None
    if apply_fn is None:
        apply_fn = default_apply_fn(model, device)
    by_source: dict[str, list[dict]] = {}
    for r in records:
        by_source.setdefault(r["source"], []).append(r)
    try:
        return _measure_photos(dataset, by_source, held, photo_dirs, config, apply_fn, notes, log)
    finally:
        apply_fn.close()


def _measure_photos(dataset, by_source, held, photo_dirs, config, apply_fn, notes, log):
    from data_prep.image_io import ImageLoadError, load_image, read_image_fast
    from data_prep.landmarks import MediaPipeDetector

    changes, drifts, missing, n = [], [], 0, 0
    with MediaPipeDetector() as detector:
        for i, rec in enumerate(held[: config.max_photos]):
            path = find_photo(rec["source"], photo_dirs)
            try:
                before = None if path is None else load_image(path)
            except ImageLoadError:
                before = None
            if before is None:
                missing += 1
                continue
            result = apply_fn(before, config.seed + i)
            after = result.image
            # every kept face of the photo may get a mustache: all their regions are "inside",
            # and so are the boxes apply blended for faces prep rejected
            faces = by_source[rec["source"]]
            regions = [(f["window"]["matrix"], read_image_fast(Path(dataset) / f["files"]["mask"]),
                        f["box"][2] - f["box"][0]) for f in faces]
            outside = outside_mask(regions, before.shape[:2], config.dilate)
            for x0, y0, x1, y1 in _changed_elsewhere(result, faces):
                outside[y0:y1, x0:x1] = False
            changes.append(outside_change(before, after, outside))
            ref = _match(_Box(tuple(rec["box"])), detector.detect(before))
            again = _match(ref, detector.detect(after)) if ref is not None else None
            if again is not None:
                drifts.append(landmark_drift(ref, again))
            n += 1
    if missing:
        notes.append(f"{missing} held-out photos not found under --photos")
    log(f"measured {n} photos")
    return (n, float(np.mean(changes)) if changes else None,
            float(np.mean(drifts)) if drifts else None)
