"""Judging the hair stage at 100% on high-resolution photos (``mustache eval --hires``): the
photos chosen (:func:`hires_photos`), the pipeline run on them and the hair measured
(:func:`hires_metrics`), beside men with real facial hair (``REAL_HAIR``)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from data_prep import indices as ix

if TYPE_CHECKING:
    from mustache.judge.evaluate import ApplyFn

# Photos of men with real facial hair in ../shared/data/hires (see its README): measured
# before editing, they are the reference beside which painted hair is judged.
REAL_HAIR = ("london_neutral/022_03.jpg", "london_neutral/033_03.jpg",
             "london_neutral/036_03.jpg", "london_neutral/037_03.jpg",
             "london_neutral/092_03.jpg", "london_neutral/140_03.jpg", "canada/115m.jpg")


def _photo_key(path: Path) -> str:
    """'folder/name': how REAL_HAIR names a photo."""
    return f"{path.parent.name}/{path.name}"


def hires_photos(sources: Sequence[Path], max_photos: int = 60, seed: int = 0) -> list[Path]:
    """Photos from files or folders (searched recursively): the REAL_HAIR ones found first,
    then the others taken in turn from each subfolder (in a seeded order within each), so a
    small ``max_photos`` still spans every subfolder. Deterministic."""
    from data_prep.image_io import is_image_path

    found: list[Path] = []
    for s in sources:
        s = Path(s)
        found += [s] if s.is_file() else sorted(p for p in s.rglob("*") if p.is_file()
                                                 and is_image_path(p))
    found = list(dict.fromkeys(found))
    real = [p for p in found if _photo_key(p) in REAL_HAIR]
    groups: dict[Path, list[Path]] = {}
    for p in found:
        if p not in real:
            groups.setdefault(p.parent, []).append(p)
    rng = np.random.default_rng(seed)
    queues = [[g[i] for i in rng.permutation(len(g))] for _, g in sorted(groups.items())]
    out = list(real)
    for i in range(max((len(q) for q in queues), default=0)):
        out += [q[i] for q in queues if i < len(q)]
    return out[:max_photos]


@dataclass(frozen=True)
class HiresReport:
    """Native-resolution figures (``mustache.measure.photo_metrics``) over high-resolution photos:
    medians over the edited faces (vermilion change: mean), and the real-hair reference."""

    photos: int  # photos run through the pipeline
    faces: int  # edited faces measured (blended, wide enough, not REAL_HAIR)
    detail_after: float  # detail ratio (mustache area over the skin around it)
    detail_before: float
    coherence: float  # line coherence in the mustache area, after
    coherence_before: float
    brow_distance: float  # Lab ΔE, the mustache area's darker half vs the brows', after
    brow_distance_before: float
    vermilion_change: float  # mean Lab ΔE over the upper vermilion
    real_faces: int  # REAL_HAIR faces measured, before editing
    real_detail: float
    real_coherence: float
    real_brow_distance: float
    min_face: int
    rows: tuple[dict, ...] = ()  # one a face: photo, face, real_hair, FaceMetrics fields
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        d = asdict(self)
        d["rows"], d["notes"] = list(self.rows), list(self.notes)
        return d


def _median(rows: list[dict], key: str) -> float:
    v = [r[key] for r in rows if np.isfinite(r[key])]
    return float(np.median(v)) if v else math.nan


def hires_metrics(apply_fn: ApplyFn, photos: Sequence[Path], min_face: int = 400, seed: int = 0,
                  log: Callable[[str], None] = lambda s: None) -> HiresReport:
    """Run ``apply_fn(rgb, seed)`` (an ApplyResult: ``.image``, ``.faces`` with ``.blended``,
    ``.landmarks`` (478, 2) photo px) on each photo and measure every blended face at least
    ``min_face`` px wide (between FACE_SIDES) at the photo's own resolution. Faces of REAL_HAIR
    photos (any width, blended or not) are measured before editing only, as the reference;
    they are left out of the edited figures."""
    from data_prep.image_io import ImageLoadError, load_image
    from mustache.measure.photo_metrics import measure_face

    rows, notes, n = [], [], 0
    for i, path in enumerate(photos):
        path = Path(path)
        try:
            before = load_image(path)
        except ImageLoadError as e:
            notes.append(f"{path}: {e}")
            continue
        result = apply_fn(before, seed + i)
        after = result.image
        real = _photo_key(path) in REAL_HAIR
        n += 1
        for f in result.faces:
            lm = None if f.landmarks is None else np.asarray(f.landmarks, np.float64)
            if lm is None or not (f.blended or real):
                continue
            sides = lm[list(ix.FACE_SIDES), :2]
            if not real and np.linalg.norm(sides[1] - sides[0]) < min_face:
                continue  # (the reference faces are chosen by hand; one is 390 px wide)
            m = measure_face(before, after, lm)
            rows.append({"photo": _photo_key(path), "face": int(f.index), "real_hair": real,
                         **m.to_dict()})
            log(f"{_photo_key(path)} face {f.index}: detail {m.detail_before:.2f} -> "
                f"{m.detail_after:.2f}, coherence {m.coherence_before:.3f} -> "
                f"{m.coherence_after:.3f}")
    edited = [r for r in rows if not r["real_hair"]]
    real_rows = [r for r in rows if r["real_hair"]]
    if not edited:
        notes.append(f"no edited face >= {min_face} px wide among {n} photos")
    lip = [r["vermilion_change"] for r in edited if np.isfinite(r["vermilion_change"])]
    return HiresReport(
        photos=n, faces=len(edited),
        detail_after=_median(edited, "detail_after"), detail_before=_median(edited, "detail_before"),
        coherence=_median(edited, "coherence_after"),
        coherence_before=_median(edited, "coherence_before"),
        brow_distance=_median(edited, "brow_distance_after"),
        brow_distance_before=_median(edited, "brow_distance_before"),
        vermilion_change=float(np.mean(lip)) if lip else math.nan,
        real_faces=len(real_rows), real_detail=_median(real_rows, "detail_before"),
        real_coherence=_median(real_rows, "coherence_before"),
        real_brow_distance=_median(real_rows, "brow_distance_before"),
        min_face=min_face, rows=tuple(rows), notes=tuple(notes))
