"""Judge the hair stage where users are: web and phone copies of photos, small faces in group
scenes, women, laughing and darker-skinned faces; with real mustaches measured the same way
beside them.

Sets (each split by person, a stable hash of the person's id: ``tune`` 50%, ``heldout`` 50%;
tune the renderer on one, report the other):

- ``lfw_native``: LFW clean-shaven men and women (smiling and darker-skinned ones taken in
  turn with the rest), 250 px photos, faces ~100 px.
- ``lfw_up``: the same people upscaled 2.4x (bicubic, JPEG 85: faces ~220 px, issue 21's
  reproducing case), 1.5x and 4x, in turn.
- ``celeba_native`` / ``celeba_up``: CelebA clean-shaven men (Mustache=-1, Goatee=-1,
  No_Beard=1) as they are / upscaled 1.5-4x with JPEG 60-90. CelebA has no person ids here:
  split by photo id.
- ``hires_sharp`` / ``hires_degraded``: the studio photos (not the men with facial hair),
  shrunk so the faces are 150-850 px (log-uniform), as they are / through
  ``benchmarks.webphotos`` (soft, compressed, colour cast, dark) in turn. Split by person
  (London neutral and smiling are one person).
- ``scenes``: composed group scenes (``benchmarks.scenes``) of clean-shaven people, faces
  40-250 px.

Every blended face is measured at the photo's own resolution (``mustache.measure.photo_metrics``):
face width, detail ratio (sigma 1.5 px), texture ratio (blur 2% of the face width), band
tone (darker half's L* over the skin's) and chroma, the shipped classifier's mustache score
after (judged mustached at >= 0.5), hairs drawn, colour source, the photo's focus blur
(``mustache.strands.hair.focus_sigma`` on the mouth area before editing; soft from
``HairConfig.soft_from``), and the largest change outside the blended boxes (must be 0).

The reference: the same sets made from photos of REAL mustaches (CelebA Mustache=1 and
Goatee=-1; LFW p_Mustache > 0.5; hires REAL_HAIR and the same men smiling), measured before
any editing. By default the reference takes every person (``--reference-split``): it
describes real hair, and its people are not the painted sets' clean-shaven people.

    # real mustaches once (~2.5 min on 2 cores at 60 faces a set), then each split (~2-2.5 min
    # at 40 faces a set) with those rows beside it
    python benchmarks/hair_quality.py --reference-only --faces 60 \\
        --json out/hair_quality/reference_rows.json \\
        --reference-json out/hair_quality/reference.json
    python benchmarks/hair_quality.py --split heldout --faces 40 \\
        --real-from out/hair_quality/reference_rows.json --json out/hair_quality/heldout.json
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import math
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: the repository's packages first
    sys.path.insert(0, str(ROOT))

DATA = ROOT.parent / "shared" / "data"
SETS = ("lfw_native", "lfw_up", "celeba_native", "celeba_up", "hires_sharp", "hires_degraded",
        "scenes")
BANDS = ((40.0, 120.0), (120.0, 150.0), (150.0, 250.0), (250.0, 400.0), (400.0, math.inf))
HELDOUT = 0.5
JUDGED = 0.5  # the classifier's score from which a face counts as mustached
LFW_UP = ((2.4, 85), (1.5, 85), (4.0, 85))  # (scale, JPEG quality), taken in turn
HIRES_FACE = {"london": 480.0, "canada": 850.0}  # about (hires/README.md): for the shrink only
HIRES_WIDTHS = (150.0, 850.0)  # the shrunk studio faces' widths, log-uniform
SCENE_WIDTHS = (40.0, 250.0)
DARK_RACES = ("black", "indian")  # LFW's df_race guesses taken as darker-skinned
# the men with facial hair in hires (hires/README.md): never in a painted set
FACIAL_HAIR = ("london/022", "london/033", "london/036", "london/037", "london/092",
               "london/140", "canada/115m")


# ---------------------------------------------------------------------------- goals
@dataclass(frozen=True)
class Goal:
    """Issue 21's goals for one band of face width (None: no goal there)."""

    detail: tuple[float, float] | None = None  # detail ratio's median within [lo, hi]
    texture_min: float | None = None  # texture ratio on every face at least this
    texture_median: float | None = None  # and its median at least this
    judged: float = 0.95  # share judged mustached


GOALS = {(40.0, 120.0): Goal(None, 0.8, 1.2), (120.0, 150.0): Goal(None, 0.8, 1.2),
         (150.0, 250.0): Goal((1.3, 1.8), 0.8, 1.2), (250.0, 400.0): Goal((1.4, 1.9)),
         (400.0, math.inf): Goal((1.5, 2.1))}


def band_of(width: float) -> tuple[float, float] | None:
    for lo, hi in BANDS:
        if lo <= width < hi:
            return lo, hi
    return None


def band_name(band: tuple[float, float]) -> str:
    lo, hi = band
    return f"{lo:.0f}+" if math.isinf(hi) else f"{lo:.0f}-{hi:.0f}"


# ---------------------------------------------------------------------------- people
def unit_hash(key: str) -> float:
    """A stable number in [0, 1) for a key (sha1): the same on every run and machine."""
    return int.from_bytes(hashlib.sha1(key.encode()).digest()[:8], "big") / 2.0 ** 64


def split_of(person: str, heldout: float = HELDOUT) -> str:
    """"heldout" or "tune" for a person id (the same hash as ``benchmarks.scenes.split_of``, so
    that its 30% held-out people are among these 50%)."""
    return "heldout" if unit_hash(person) < heldout else "tune"


def in_split(person: str, split: str) -> bool:
    return split == "all" or split_of(person) == split


def _float(v: str) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


@dataclass(frozen=True)
class Photo:
    path: Path
    person: str  # "lfw/<Name>", "celeba/<id>", "london/NNN", "canada/NNNx"
    kind: str  # "man", "woman", "man smiling", "woman dark", ... or "real"


def lfw_photos(data: Path, real: bool, split: str = "all") -> list[Photo]:
    """LFW photos in a stable order (by hash of the file name). ``real``: p_Mustache > 0.5
    (at most 3 photos a person); else clean-shaven men (p_Male > 0.5, p_Mustache < 0.05,
    p_Goatee < 0.05, p_No_Beard > 0.9) and women (p_Male < 0.2), one photo a person, taken in
    turn from strata (sex x plain/smiling (p_Smiling > 0.7)/darker-skinned) so that any N
    covers them all. Only ``split``'s people."""
    from mustache.judge.fairness import lfw_races, lfw_sex

    root = data / "lfw"
    race = lfw_races(root)
    rows = sorted((r for r in csv.DictReader(open(root / "manifest.csv"))
                   if in_split("lfw/" + Path(r["file"]).parent.name, split)),
                  key=lambda r: unit_hash(r["file"]))
    out: list[Photo] = []
    if real:
        per: dict[str, int] = {}
        for r in rows:
            person = "lfw/" + Path(r["file"]).parent.name
            if _float(r["p_Mustache"]) > 0.5 and per.get(person, 0) < 3:
                per[person] = per.get(person, 0) + 1
                out.append(Photo(root / r["file"], person, "real"))
        return out
    strata: dict[str, list[Photo]] = {}
    seen: set[str] = set()
    for r in rows:
        person = "lfw/" + Path(r["file"]).parent.name
        if person in seen:
            continue
        sex = lfw_sex(r)
        if sex is None:
            continue
        if race.get(Path(r["file"]).name) in DARK_RACES:
            kind = f"{sex} dark"
        elif _float(r["p_Smiling"]) > 0.7:
            kind = f"{sex} smiling"
        else:
            kind = sex
        seen.add(person)
        strata.setdefault(kind, []).append(Photo(root / r["file"], person, kind))
    # in turn: men twice as often as women (the painted mustache's main users), every stratum
    order = ["man", "woman", "man smiling", "man dark", "man", "woman smiling", "woman dark",
             "man smiling"]
    queues = {k: iter(v) for k, v in strata.items()}
    while queues:
        for k in order:
            if k in queues:
                p = next(queues[k], None)
                if p is None:
                    del queues[k]
                else:
                    out.append(p)
        if not any(k in queues for k in order):
            break
    return out


def celeba_photos(data: Path, real: bool) -> list[Photo]:
    """CelebA men by hash of the file name: ``real`` Mustache=1 and Goatee=-1; else
    clean-shaven (Mustache=-1, Goatee=-1, No_Beard=1). No person ids: the photo id stands in."""
    root = data / "celeba"
    rows = sorted(csv.DictReader(open(root / "manifest.csv")), key=lambda r: unit_hash(r["file"]))
    out = []
    for r in rows:
        if real:
            ok = r["Mustache"] == "1" and r["Goatee"] == "-1"
        else:
            ok = r["Mustache"] == "-1" and r["Goatee"] == "-1" and r["No_Beard"] == "1"
        if ok:
            kind = "real" if real else ("man smiling" if r["Smiling"] == "1" else "man")
            out.append(Photo(root / "images" / r["file"], f"celeba/{Path(r['file']).stem}", kind))
    return out


def hires_person(path: Path) -> str:
    folder = "london" if path.parent.name.startswith("london") else path.parent.name
    return f"{folder}/{path.stem.split('_')[0]}"


def hires_photos(data: Path, real: bool) -> list[Photo]:
    """The studio photos by hash of the file: ``real`` the men with facial hair (REAL_HAIR and
    the same men smiling), else everyone else."""
    root = data / "hires"
    out = []
    for p in sorted(root.glob("*/*.jpg"), key=lambda p: unit_hash(p.name + p.parent.name)):
        person = hires_person(p)
        if (person in FACIAL_HAIR) == real:
            out.append(Photo(p, person, "real" if real else person.split("/")[0]))
    return out


# ---------------------------------------------------------------------------- cases
@dataclass(frozen=True)
class Case:
    """One photo to run: ``make()`` -> (RGB uint8 (H, W, 3), a label of what was done to it);
    ``all_faces``: measure every face (scenes), else the largest only."""

    set: str
    person: str
    source: str
    group: str  # what was done, coarsely: "native", "up2.4", "soft", "dark", ...
    kind: str
    make: Callable[[], tuple[np.ndarray, str]]
    all_faces: bool = False


def _load(path: Path) -> np.ndarray:
    from data_prep.image_io import load_image

    return load_image(path)


def _rng(seed: int, *keys) -> np.random.Generator:
    return np.random.default_rng([seed, *(int(unit_hash(str(k)) * 2 ** 32) for k in keys)])


def photo_cases(name: str, photos: list[Photo], seed: int, rounds: int = 1) -> Iterator[Case]:
    """The cases of a single-face set from its photos, in order; ``rounds`` > 1 goes through
    the photos again with other sizes and degradations (the few real-hair studio photos)."""
    from benchmarks import webphotos as wp

    degrade = sorted(wp.DEGRADE)
    for rnd in range(rounds):
        for i, p in enumerate(photos):
            j = i + rnd  # each round takes the next degradation for the same photo
            src = p.path.relative_to(p.path.parents[2]).as_posix() if name.startswith("lfw") \
                else f"{p.path.parent.name}/{p.path.name}"
            if name in ("lfw_native", "celeba_native"):
                group = "native"
            elif name == "lfw_up":
                group = f"up{LFW_UP[j % len(LFW_UP)][0]}"
            elif name == "celeba_up":
                group = "up1.5-4"
            elif name == "hires_sharp":
                group = "shrunk"
            else:
                group = degrade[j % len(degrade)]

            def make(p=p, j=j, rnd=rnd):
                rgb = _load(p.path)
                rng = _rng(seed, name, p.path.name, *([rnd] if rnd else []))
                if name in ("lfw_native", "celeba_native"):
                    return rgb, "native"
                if name == "lfw_up":
                    s, q = LFW_UP[j % len(LFW_UP)]
                    return wp.upscale_jpeg(rgb, rng, s, q)
                if name == "celeba_up":
                    return wp.upscale_jpeg(rgb, rng)
                # hires: shrink to a face width log-uniform in HIRES_WIDTHS, then degrade
                face = HIRES_FACE.get(p.person.split("/")[0], 480.0)
                want = float(np.exp(rng.uniform(*np.log(HIRES_WIDTHS))))
                k = min(1.0, want / face)
                rgb = wp.resize(rgb, k)
                label = f"x{k:.2f}"
                if name == "hires_degraded":
                    rgb, more = wp.degrade(rgb, rng, degrade[j % len(degrade)])
                    label += " " + more
                return rgb, label

            yield Case(name, p.person, src, group, p.kind, make)


def scene_cases(photos: list[Photo], seed: int, detector) -> Iterator[Case]:
    """Composed group scenes (800-2400 px) of the given people, 2-6 faces each 40-250 px,
    never cut by the border: one case a scene, every face measured."""
    from benchmarks.scenes import Sources, compose_scene

    sources = Sources(split="all", detector=detector)
    keep = {str(p.path.resolve()) for p in photos}
    sources.items = [s for s in sources.items if str((sources.root / s.path).resolve()) in keep]
    sources.kinds = {k: [s for s in sources.items if s.kind == k] for k in ("lfw", "hires")}
    try:
        for i in range(10 ** 6):
            def make(i=i):
                rng = _rng(seed, "scene", i)
                scene = compose_scene(rng, sources, size_range=(800, 2400), n_faces=(2, 6),
                                      width_range=SCENE_WIDTHS, max_rotation=15.0,
                                      border_cut_fraction=0.0)
                sources.save()
                return scene.image, f"scene {scene.image.shape[1]}x{scene.image.shape[0]} " \
                                    f"{len(scene.faces)} faces"
            yield Case("scenes", f"scene/{i}", f"scene {i}", "scene", "scene", make,
                       all_faces=True)
    finally:
        sources.save()


def set_photos(name: str, data: Path, split: str, real: bool) -> list[Photo]:
    if name.startswith("lfw"):
        photos = lfw_photos(data, real, split)
    elif name.startswith("celeba"):
        photos = celeba_photos(data, real)
    elif name.startswith("hires"):
        photos = hires_photos(data, real)
    else:  # scenes: small faces come from LFW mostly, big ones from hires
        photos = lfw_photos(data, real, split) + hires_photos(data, real)
    return [p for p in photos if in_split(p.person, split)]


# ---------------------------------------------------------------------------- measuring
def soft_from() -> float:
    """Focus blur (px) from which the hair stage treats a photo as soft."""
    try:
        from mustache.strands.hair import HairConfig

        return float(HairConfig().soft_from)
    except (ImportError, AttributeError):
        return 0.9


def focus_of(before: np.ndarray, masks) -> float:
    """The photo's focus blur (px, ``mustache.strands.hair.focus_sigma``) over the mouth area (the
    mustache area and the skin ring), before editing; NaN if the hair module has none."""
    try:
        from mustache.strands.hair import focus_sigma
    except ImportError:
        return math.nan
    from mustache.measure.photo_metrics import _grey

    return float(focus_sigma(_grey(masks.crop(before)), masks.mustache | masks.skin))


def measure(before: np.ndarray, after: np.ndarray, landmarks: np.ndarray) -> dict:
    """Every figure of one face, before and after (the same photo twice for real ones)."""
    from mustache.measure.photo_metrics import (
        band_tone,
        detail_ratio,
        face_width,
        mouth_masks,
        texture_ratio,
    )

    masks = mouth_masks(landmarks, before.shape)
    width = face_width(landmarks)
    row = {"width": width, "focus": focus_of(before, masks)}
    for tag, im in (("before", before), ("after", after)):
        tone = band_tone(im, masks)
        row.update({f"detail_{tag}": detail_ratio(im, masks, 1.5),
                    f"texture_{tag}": texture_ratio(im, masks, width),
                    f"tone_{tag}": tone.ratio, f"chroma_{tag}": tone.chroma,
                    f"a_{tag}": tone.a, f"b_{tag}": tone.b})
        if after is before:
            break
    return row


def outside_change(before: np.ndarray, after: np.ndarray, boxes) -> float:
    """The largest |after - before| (0-255) outside the blended boxes (x0, y0, x1, y1)."""
    inside = np.zeros(before.shape[:2], bool)
    for x0, y0, x1, y1 in boxes:
        inside[y0:y1, x0:x1] = True
    d = np.abs(before.astype(np.int16) - after.astype(np.int16)).max(-1)
    return float(d[~inside].max()) if (~inside).any() else 0.0


class Runner:
    """The model (``Mustacher``: the shipped one, or ``model``) and the shipped classifier,
    shared by every case."""

    def __init__(self, seed: int = 0, hair: dict | None = None, model: Path | None = None):
        from dataclasses import fields

        from mustache.paint.gan import Mustacher, shipped_scorer
        from mustache.strands.hair import HairConfig

        types = {f.name: f.type for f in fields(HairConfig)}
        # --hair name=value: a variation of the hair stage to compare (tune split only)
        def value(k: str, v: str):
            kind = type(getattr(HairConfig(), k))
            if kind is bool:  # (bool("False") is True)
                if v.lower() not in ("true", "false", "1", "0"):
                    raise SystemExit(f"--hair {k}={v}: true or false")
                return v.lower() in ("true", "1")
            return kind(v)

        over = {k: value(k, v) for k, v in (hair or {}).items() if k in types}
        if len(over) != len(hair or {}):
            raise SystemExit(f"--hair: unknown HairConfig fields in {sorted(hair)}")
        self.m = Mustacher(model, hair=HairConfig(**over))
        self.scorer = self.m.scorer or shipped_scorer()
        self.seed = seed
        self.soft_from = soft_from()

    def close(self) -> None:
        self.m.close()

    def run(self, case: Case, index: int, real: bool, split: str) -> list[dict]:
        """Rows for one case: the blended faces (painted) or the faces as they are (real)."""
        from mustache.paint.gan import ApplyOptions

        rgb, variant = case.make()
        faces = self.m.detect(rgb)
        if not faces:
            return [self._row(case, variant, real, split, note="no face found")]
        chosen = range(len(faces)) if case.all_faces else [0]
        rows = []
        if real:
            scores = self.scorer.score_faces(rgb, [faces[i] for i in chosen])
            for i, s in zip(chosen, scores, strict=True):
                lm = np.asarray(faces[i].points, np.float64)[:, :2]
                if _too_small(lm):
                    continue
                r = measure(rgb, rgb, lm)
                rows.append(self._row(case, variant, real, split, face=i, score=float(s),
                                      judged=bool(s >= JUDGED), **r))
            return rows
        opts = ApplyOptions(seed=self.seed + index, faces=None if case.all_faces else (0,))
        result = self.m.apply(rgb, opts, faces=faces)
        boxes = [f.region_box for f in result.faces if f.blended and f.region_box]
        change = outside_change(rgb, result.image, boxes)
        done = [f for f in result.faces if f.blended]
        after = self.scorer.score_faces(result.image, [faces[f.index] for f in done]) \
            if done else []
        for f in result.faces:
            if case.all_faces or f.index == 0:
                if not f.blended:
                    if (f.note or "").startswith("not selected"):
                        continue
                    rows.append(self._row(case, variant, real, split, face=f.index,
                                          note=f.note, score_before=f.mustache_before,
                                          width=_width(f.landmarks)))
        for f, s in zip(done, after, strict=True):
            r = measure(rgb, result.image, np.asarray(f.landmarks, np.float64))
            rows.append(self._row(case, variant, real, split, face=f.index, score=float(s),
                                  judged=bool(s >= JUDGED), score_before=f.mustache_before,
                                  hairs=int(f.hairs), colour=f.colour, outside=change, **r))
        return rows

    def _row(self, case: Case, variant: str, real: bool, split: str, **kw) -> dict:
        row = {"set": case.set, "split": split, "real": real, "person": case.person,
               "source": case.source, "group": case.group, "variant": variant,
               "kind": case.kind}
        row.update(kw)
        if row.get("width") is not None and np.isfinite(row["width"]):
            b = band_of(row["width"])
            row["band"] = band_name(b) if b else "<40"
        if "focus" in row:
            row["soft"] = bool(row["focus"] >= self.soft_from)
        return {k: (None if isinstance(v, float) and not math.isfinite(v)
                    else round(v, 4) if isinstance(v, float) else v) for k, v in row.items()}


def _width(landmarks) -> float | None:
    if landmarks is None:
        return None
    from mustache.measure.photo_metrics import face_width

    return face_width(np.asarray(landmarks, np.float64))


def _too_small(lm: np.ndarray) -> bool:
    from mustache.measure.photo_metrics import face_width

    return face_width(lm) < BANDS[0][0]


def run_set(runner: Runner, name: str, data: Path, split: str, n_faces: int, real: bool,
            seed: int, log: Callable[[str], None]) -> list[dict]:
    """Up to ``n_faces`` measured faces (rows with a "width" and a score) of one set."""
    photos = set_photos(name, data, split, real)
    rounds = 4 if real and name.startswith("hires") else 1  # 13 real-hair studio photos
    cases = scene_cases(photos, seed, runner.m.detector) if name == "scenes" \
        else photo_cases(name, photos, seed, rounds)
    rows, measured, t0 = [], 0, time.time()
    tag = "real" if real else "painted"
    for i, case in enumerate(cases):
        if measured >= n_faces or i >= 20 * max(n_faces, 1) + 20:
            break
        try:
            got = runner.run(case, i, real, split)
        except Exception as e:  # one bad photo must not end a long run: it is reported
            got = [runner._row(case, "", real, split, note=f"error: {type(e).__name__}: {e}")]
        rows += got
        measured += sum(1 for r in got if "score" in r)
        log(f"[{tag} {name} {split}] {measured}/{n_faces} faces ({i + 1} photos, "
            f"{time.time() - t0:.0f} s) {case.source} {got[0].get('variant', '') if got else ''}")
    return rows


# ---------------------------------------------------------------------------- summaries
def _vals(rows: list[dict], key: str) -> np.ndarray:
    v = np.array([r[key] for r in rows if r.get(key) is not None], np.float64)
    return v[np.isfinite(v)]


def stats(v: np.ndarray) -> dict:
    if not len(v):
        return {"n": 0, "median": None, "p10": None, "p90": None}
    return {"n": int(len(v)), "median": round(float(np.median(v)), 3),
            "p10": round(float(np.percentile(v, 10)), 3),
            "p90": round(float(np.percentile(v, 90)), 3)}


def summarise(rows: list[dict], real: bool) -> dict:
    """Figures of a group of measured rows: medians, 10th percentiles, counts."""
    tag = "before" if real else "after"
    m = [r for r in rows if "score" in r]
    out = {"faces": len(m), "skipped": sum(1 for r in rows if "score" not in r)}
    for key in ("detail", "texture", "tone", "chroma"):
        out[key] = stats(_vals(m, f"{key}_{tag}"))
    tex = _vals(m, f"texture_{tag}")
    out["texture_below_0.8"] = int((tex < 0.8).sum())
    out["judged"] = round(100 * float(np.mean([r["judged"] for r in m])), 1) if m else None
    out["hairs"] = stats(_vals(m, "hairs"))
    out["focus"] = stats(_vals(m, "focus"))
    out["soft_share"] = round(float(np.mean([r["soft"] for r in m])), 3) if m else None
    if not real:
        out["detail_before"] = stats(_vals(m, "detail_before"))
        out["texture_before"] = stats(_vals(m, "texture_before"))
        out["outside_change_max"] = float(_vals(m, "outside").max()) if m else None
        colours: dict[str, int] = {}
        for r in m:
            c = str(r.get("colour")).split(" ")[0]
            colours[c] = colours.get(c, 0) + 1
        out["colour"] = colours
    return out


def _f(s: dict, key: str, width: int = 5) -> str:
    v = s.get(key)
    return f"{'-':>{width}s}" if v is None else f"{v:{width}.2f}"


def goal_text(band: tuple[float, float] | None) -> str:
    g = GOALS.get(band) if band else None
    if g is None:
        return ""
    parts = []
    if g.detail:
        parts.append(f"detail {g.detail[0]}-{g.detail[1]}")
    if g.texture_min is not None:
        parts.append(f"texture>={g.texture_min} all, med>={g.texture_median}")
    parts.append(f"judged>={100 * g.judged:.0f}%")
    return "; ".join(parts)


HEAD = (f"{'':15s} {'':12s} {'n':>3s} {'skip':>4s} | {'detail':>11s} | {'texture':>11s} "
        f"{'<0.8':>4s} | {'tone':>15s} {'chroma':>6s} | {'judged':>6s} {'hairs':>5s} "
        f"{'soft':>4s} || {'real n':>6s} {'detail':>11s} {'texture':>11s} {'tone':>15s} "
        f"{'judged':>6s}")
NOTE = ("(painted: after the pipeline; real: real mustaches before any editing. detail and "
        "texture: median / 10th pct; tone: median [10th-90th pct]; soft: share of photos "
        "with focus blur >= soft_from)")


def line(label: str, sub: str, p: list[dict], q: list[dict], goal: str = "") -> dict:
    """One table line: painted rows ``p`` beside real rows ``q``; returns both summaries."""
    sp, sq = summarise(p, False), summarise(q, True)

    def pct(v):
        return f"{'-':>6s}" if v is None else f"{v:5.1f}%"

    def tone(s):
        return f"{_f(s, 'median', 4)} [{_f(s, 'p10', 4)}-{_f(s, 'p90', 4)}]"

    hairs, soft = sp["hairs"]["median"], sp["soft_share"]
    print(f"{label:15s} {sub:12s} {sp['faces']:3d} {sp['skipped']:4d} | "
          f"{_f(sp['detail'], 'median')} /{_f(sp['detail'], 'p10')} | "
          f"{_f(sp['texture'], 'median')} /{_f(sp['texture'], 'p10')} "
          f"{sp['texture_below_0.8']:4d} | {tone(sp['tone'])} {_f(sp['chroma'], 'median', 6)} | "
          f"{pct(sp['judged'])} {'-' if hairs is None else int(hairs):>5} "
          f"{'-' if soft is None else f'{100 * soft:3.0f}%':>4s} || {sq['faces']:6d} "
          f"{_f(sq['detail'], 'median')} /{_f(sq['detail'], 'p10')} "
          f"{_f(sq['texture'], 'median')} /{_f(sq['texture'], 'p10')} {tone(sq['tone'])} "
          f"{pct(sq['judged'])}{'  goal: ' + goal if goal else ''}")
    return {"painted": sp, "real": sq}


def print_table(painted: list[dict], real: list[dict]) -> dict:
    """Per set and face-width band, then per set and what was done to the photo (group) and
    the kind of person: the painted figures, the real ones beside them, the goals. Returns
    the same figures as a dict keyed "set/band", "set/group:...", "set/kind:..."."""
    table = {}
    sets = list(dict.fromkeys([r["set"] for r in painted] + [r["set"] for r in real]))
    print("by face width (px)  " + NOTE)
    print(HEAD)
    for name in sets + ["ALL"]:
        def of(rows, name=name):
            return [r for r in rows if name == "ALL" or r["set"] == name]
        p, q = of(painted), of(real)
        table[f"{name}/all"] = line(name, "all", p, q)
        for band in BANDS:
            b = band_name(band)
            pb, qb = [r for r in p if r.get("band") == b], [r for r in q if r.get("band") == b]
            if pb or qb:
                table[f"{name}/{b}"] = line(name, b, pb, qb, goal_text(band))
        print()
    print("by what was done to the photo, and by person (LFW strata; real: all real faces of "
          "the set)")
    print(HEAD)
    for name in sets:
        p, q = [r for r in painted if r["set"] == name], [r for r in real if r["set"] == name]
        groups = list(dict.fromkeys(r["group"] for r in p + q))
        for g in groups if len(groups) > 1 else []:
            table[f"{name}/group:{g}"] = line(name, g, [r for r in p if r["group"] == g],
                                              [r for r in q if r["group"] == g])
        kinds = list(dict.fromkeys(r["kind"] for r in p))
        for k in kinds if len(kinds) > 1 else []:
            table[f"{name}/kind:{k}"] = line(name, k, [r for r in p if r["kind"] == k], [])
    return table


def reference_table(real: list[dict]) -> dict:
    """Per face-width band and sharp/soft: median and 10th/90th percentiles of real
    mustaches' band tone ratio, texture ratio and detail ratio (all their sets together)."""
    out = {}
    m = [r for r in real if "score" in r]
    for band in BANDS:
        name = band_name(band)
        out[name] = {}
        for focus in ("sharp", "soft", "all"):
            rows = [r for r in m if r.get("band") == name
                    and (focus == "all" or r["soft"] == (focus == "soft"))]
            out[name][focus] = {"faces": len(rows),
                                "tone": stats(_vals(rows, "tone_before")),
                                "texture": stats(_vals(rows, "texture_before")),
                                "detail": stats(_vals(rows, "detail_before")),
                                "chroma": stats(_vals(rows, "chroma_before")),
                                "judged": round(100 * float(np.mean([r["judged"] for r in rows])),
                                                1) if rows else None,
                                "sets": sorted({r["set"] for r in rows})}
    return out


# ---------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", choices=("tune", "heldout", "all"), default="heldout",
                    help="people of the painted sets (default: heldout)")
    ap.add_argument("--reference-split", choices=("tune", "heldout", "all"), default="all",
                    help="people of the real-mustache reference (default: all)")
    ap.add_argument("--faces", type=int, default=24, help="faces measured per set")
    ap.add_argument("--reference-faces", type=int, default=None,
                    help="faces per reference set (default: --faces)")
    ap.add_argument("--sets", nargs="+", default=list(SETS), choices=SETS)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--hair", nargs="*", default=[], metavar="NAME=VALUE",
                    help="HairConfig fields to change (numbers), to compare variations")
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--model", type=Path, default=None,
                    help="a GAN checkpoint or run folder (default: the shipped model)")
    ap.add_argument("--json", type=Path, default=None, help="write every row and the table")
    ap.add_argument("--reference-json", type=Path, default=None,
                    help="write the real mustaches' figures by band and sharp/soft")
    ap.add_argument("--reference-only", action="store_true", help="measure real mustaches only")
    ap.add_argument("--no-reference", action="store_true", help="painted sets only")
    ap.add_argument("--real-from", type=Path, default=None,
                    help="take the real mustaches' rows from an earlier --json (of a "
                         "--reference-only run) instead of measuring them again")
    args = ap.parse_args(argv)

    import torch

    from benchmarks.machine import cpu_name

    if not args.data.is_dir():
        print(f"no photos at {args.data} (see ../shared/data/README.md)", file=sys.stderr)
        return 2
    torch.set_num_threads(max(1, min(2, torch.get_num_threads())))

    def log(s: str) -> None:
        print(s, file=sys.stderr, flush=True)

    t0 = time.time()
    runner = Runner(args.seed, dict(kv.split("=", 1) for kv in args.hair), args.model)
    painted, real = [], []
    if args.real_from is not None:
        real = [r for r in json.loads(args.real_from.read_text())["real"] if r["set"] in args.sets]
        args.no_reference = True
    try:
        for name in args.sets:
            if not args.reference_only:
                painted += run_set(runner, name, args.data, args.split, args.faces, False,
                                   args.seed, log)
            if not args.no_reference:
                real += run_set(runner, name, args.data, args.reference_split,
                                args.reference_faces or args.faces, True, args.seed, log)
    finally:
        runner.close()
    secs = time.time() - t0
    ref = f"{args.reference_split}" if args.real_from is None else f"from {args.real_from}"
    what = "real mustaches only" if args.reference_only else f"split {args.split}"
    print(f"hair quality: {what} (reference: {ref}), "
          f"{args.faces} faces a set, seed {args.seed}; {cpu_name()}, {secs:.0f} s; "
          f"soft from focus blur {runner.soft_from} px")
    table = print_table(painted, real)
    errors = [r for r in painted + real if str(r.get("note", "")).startswith("error")]
    for r in errors[:10]:
        print(f"error on {r['set']} {r['source']}: {r['note']}")
    outside = [r for r in painted if r.get("outside", 0) > 0]
    print(f"faces with any change outside their blended box: {len(outside)}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"split": args.split, "seed": args.seed,
                                         "faces": args.faces, "machine": cpu_name(),
                                         "seconds": round(secs), "table": table,
                                         "painted": painted, "real": real}, indent=1))
        print(f"wrote {args.json}")
    if args.reference_json and real:
        args.reference_json.parent.mkdir(parents=True, exist_ok=True)
        ref = {"what": "real mustaches before editing (CelebA Mustache=1 & Goatee=-1; LFW "
                       "p_Mustache>0.5; hires REAL_HAIR and the same men smiling), as they "
                       "are and as web copies; by face width (px, FACE_SIDES) and focus blur "
                       "(soft: mustache.strands.hair.focus_sigma on the mouth area >= soft_from)",
               "measures": {"tone": "photo_metrics.band_tone().ratio",
                            "texture": "photo_metrics.texture_ratio",
                            "detail": "photo_metrics.detail_ratio, sigma 1.5",
                            "chroma": "photo_metrics.band_tone().chroma"},
               "soft_from": runner.soft_from, "split": args.reference_split,
               "seed": args.seed, "sets": args.sets,
               "faces": sum(1 for r in real if "score" in r),
               "bands": reference_table(real)}
        args.reference_json.write_text(json.dumps(ref, indent=1))
        print(f"wrote {args.reference_json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
