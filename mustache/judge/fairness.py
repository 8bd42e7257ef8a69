"""Is the existing-hair check fair? False skips of clean-shaven held-out faces by skin-lightness
band (dark, medium, light from the cheeks' L*) and by LFW's predicted ethnicity, and the real
mustaches still recognised; the classifier alone (score >= 0.5) beside the check.

The photos are the shared data folder's (``../shared/data``: ``celeba/``, ``lfw/``, ``hires/``),
chosen as ``benchmarks/hair_quality.py`` chooses them and split by the same stable hash of the
person (``tune`` / ``heldout``, half each; CelebA's photo id stands in for the person):

- clean: LFW clean-shaven men (p_Male > 0.5, p_Mustache < 0.05, p_Goatee < 0.05, p_No_Beard >
  0.9) and women (p_Male < 0.2), one photo a person; CelebA clean-shaven men (Mustache=-1,
  Goatee=-1, No_Beard=1); the studio photos without facial hair (hires/, 118 women);
- real: LFW p_Mustache > 0.5 (at most 3 photos a person); CelebA Mustache=1, Goatee=-1; the 7
  studio photos of ``mustache.judge.hires.REAL_HAIR`` (in every split: they are the goal's 7).

    cases = shared_cases(Path("../shared/data"), "heldout", per_set=400)
    rows = measure_cases(cases, detector, scorer)        # one dict a face (HairEvidence fields)
    print(fairness_table(rows_report(rows, "heldout")))
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from pathlib import Path

from mustache.strands.existing_hair import ExistingHairConfig, HairEvidence, decide, lightness_band

BANDS = ("dark", "medium", "light")
SKIP_AT = 0.5  # the classifier alone: the old rule


@dataclass(frozen=True)
class Case:
    path: Path
    person: str  # "lfw/<Name>", "celeba/<id>", "london/NNN", "canada/NNNx"
    set: str  # "lfw", "celeba", "hires"
    sex: str  # "man" or "woman"
    real: bool  # a real mustache (else clean-shaven)
    race: str | None = None  # LFW's predicted ethnicity (df_race), else None


def unit_hash(key: str) -> float:
    """A stable number in [0, 1) for a key (sha1): as ``benchmarks.hair_quality.unit_hash``."""
    return int.from_bytes(hashlib.sha1(key.encode()).digest()[:8], "big") / 2.0 ** 64


def split_of(person: str) -> str:
    return "heldout" if unit_hash(person) < 0.5 else "tune"


def lfw_sex(row: dict) -> str | None:
    """"man" (clean-shaven), "woman", or None (unsure, or some facial hair) by LFW's predicted
    attributes (manifest.csv's p_*): the bars the fairness report and
    ``benchmarks/hair_quality.py`` both split people by."""
    male = _f(row["p_Male"])
    if male > 0.5 and _f(row["p_Mustache"]) < 0.05 and _f(row["p_Goatee"]) < 0.05 \
            and _f(row["p_No_Beard"]) > 0.9:
        return "man"
    return "woman" if male < 0.2 else None


def _f(v) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def lfw_races(root: Path) -> dict[str, str | None]:
    """LFW's predicted race by file name (``attribute_predictions.jsonl.gz``, DeepFace's
    ``df_race``): the fairness report's and ``benchmarks/hair_quality.py``'s strata."""
    race = {}
    with gzip.open(root / "attribute_predictions.jsonl.gz", "rt") as f:
        for line in f:
            d = json.loads(line)
            race[d["name"]] = d.get("df_race")
    return race


def _lfw(data: Path) -> list[Case]:
    root = data / "lfw"
    race = lfw_races(root)
    with open(root / "manifest.csv", newline="") as f:
        rows = sorted(csv.DictReader(f), key=lambda r: unit_hash(r["file"]))
    out, per, seen = [], {}, set()
    for r in rows:
        person = "lfw/" + Path(r["file"]).parent.name
        name = Path(r["file"]).name
        if _f(r["p_Mustache"]) > 0.5 and per.get(person, 0) < 3:
            per[person] = per.get(person, 0) + 1
            out.append(Case(root / r["file"], person, "lfw", "man", True, race.get(name)))
            continue
        if person in seen:
            continue
        sex = lfw_sex(r)
        if sex is None:
            continue
        seen.add(person)
        out.append(Case(root / r["file"], person, "lfw", sex, False, race.get(name)))
    return out


def _celeba(data: Path) -> list[Case]:
    root = data / "celeba"
    with open(root / "manifest.csv", newline="") as f:
        rows = sorted(csv.DictReader(f), key=lambda r: unit_hash(r["file"]))
    out = []
    for r in rows:
        real = r["Mustache"] == "1" and r["Goatee"] == "-1"
        clean = r["Mustache"] == "-1" and r["Goatee"] == "-1" and r["No_Beard"] == "1"
        if real or clean:
            out.append(Case(root / "images" / r["file"], f"celeba/{Path(r['file']).stem}",
                            "celeba", "man", real))
    return out


def _hires(data: Path) -> list[Case]:
    """The studio photos: the women (london_info.csv, canada's "f" files) as clean-shaven, the 7
    REAL_HAIR photos as real; the other men are left out (several have stubble)."""
    from mustache.judge.hires import REAL_HAIR

    root = data / "hires"
    women = set()
    info = root / "london_info.csv"
    if info.is_file():
        with open(info, newline="") as f:
            women = {f"london/{r['face_id']}" for r in csv.DictReader(f)
                     if r.get("face_gender") == "female"}
    out = []
    for p in sorted(root.glob("*/*.jpg"), key=lambda p: unit_hash(p.name + p.parent.name)):
        folder = "london" if p.parent.name.startswith("london") else p.parent.name
        person = f"{folder}/{p.stem.split('_')[0]}"
        if f"{p.parent.name}/{p.name}" in REAL_HAIR:
            out.append(Case(p, person, "hires", "man", True))
        elif person in women or (folder == "canada" and p.stem.endswith("f")):
            out.append(Case(p, person, "hires", "woman", False))
    return out


def shared_cases(data: Path, split: str = "heldout", per_set: int | None = None
                 ) -> list[Case]:
    """The shared data folder's clean-shaven and real-mustache faces of ``split``'s people
    ("tune", "heldout" or "all"; the 7 REAL_HAIR studio photos are in every split), at most
    ``per_set`` of each (set, clean/real) by hash. Folders that are missing give no cases."""
    out = []
    for name, load in (("lfw", _lfw), ("celeba", _celeba), ("hires", _hires)):
        if not (data / name).is_dir():
            continue
        cases = load(data)
        for real in (False, True):
            keep = [c for c in cases if c.real == real and (
                split == "all" or split_of(c.person) == split or (name == "hires" and real))]
            out += keep[:per_set]
    return out


def measure_cases(cases: Sequence[Case], detector, scorer,
                  config: ExistingHairConfig = ExistingHairConfig(),
                  log: Callable[[str], None] = lambda s: None) -> list[dict]:
    """One row a case: the case's fields, its split, and the largest face's
    :class:`HairEvidence` fields (none when no face was found). ``detector`` a
    ``data_prep.landmarks.FaceDetector``, ``scorer`` a ``mustache.learn.classify.Scorer``."""
    from data_prep.image_io import load_image
    from mustache.strands.existing_hair import hair_evidence

    rows = []
    for i, c in enumerate(cases):
        row = {"set": c.set, "path": str(c.path), "person": c.person, "sex": c.sex,
               "real": c.real, "race": c.race, "split": split_of(c.person)}
        rgb = load_image(c.path)
        faces = detector.detect(rgb)
        if faces:
            row.update(hair_evidence(rgb, faces[0].points, scorer, config).to_dict())
        rows.append(row)
        if i % 100 == 99:
            log(f"existing hair: {i + 1}/{len(cases)} faces")
    return rows


def evidence_of(row: dict) -> HairEvidence | None:
    """The :class:`HairEvidence` in a row (None when no face was found)."""
    if "score" not in row:
        return None
    return HairEvidence(**{f.name: row[f.name] for f in fields(HairEvidence)})


@dataclass(frozen=True)
class Group:
    """One group's counts: clean faces skipped (false skips) or real mustaches kept."""

    n: int
    check: int  # skipped by the check (clean: false skips; real: recognised)
    classifier: int  # skipped by the classifier alone (score >= 0.5)

    def to_dict(self) -> dict:
        return {"n": self.n, "check": self.check, "classifier": self.classifier}


def _count(rows: list[dict], config: ExistingHairConfig) -> Group:
    ev = [e for e in map(evidence_of, rows) if e is not None]
    return Group(len(ev), sum(decide(e, config).skip for e in ev),
                 sum(e.score >= SKIP_AT for e in ev))


def _sex(row: dict) -> str:
    return row.get("sex") or ("woman" if str(row.get("kind", "")).startswith("woman")
                              or row.get("set") == "hires" else "man")


def rows_report(rows: Sequence[dict], split: str = "heldout",
                config: ExistingHairConfig = ExistingHairConfig()) -> dict[str, dict[str, Group]]:
    """Measured rows -> {"clean by lightness": {band: Group}, "clean women by lightness",
    "clean by ethnicity (LFW)": {race: Group}, "real mustaches": {set: Group},
    "no face found": {"clean"/"real": Group(n, 0, 0)}}. Only ``split``'s people (the 7
    REAL_HAIR studio photos always)."""
    rows = [r for r in rows if split == "all" or r["split"] == split
            or (r["set"] == "hires" and r["real"])]
    clean = [r for r in rows if not r["real"]]
    real = [r for r in rows if r["real"]]

    def band(r):
        return lightness_band(r["skin_l"]) if "score" in r else "unknown"

    out: dict[str, dict[str, Group]] = {
        "clean by lightness": {b: _count([r for r in clean if band(r) == b], config)
                               for b in BANDS},
        "clean women by lightness": {b: _count([r for r in clean if band(r) == b
                                                and _sex(r) == "woman"], config) for b in BANDS},
        "clean by ethnicity (LFW)": {
            race: _count([r for r in clean if r.get("race") == race], config)
            for race in sorted({r["race"] for r in clean if r.get("race")})},
        "real mustaches": {s: _count([r for r in real if r["set"] == s], config)
                           for s in ("lfw", "celeba", "hires")},
        "no face found": {k: Group(sum("score" not in r for r in v), 0, 0)
                          for k, v in (("clean", clean), ("real", real))},
    }
    return out


def to_dict(report: dict[str, dict[str, Group]]) -> dict:
    return {k: {g: v.to_dict() for g, v in groups.items()} for k, groups in report.items()}


def _pct(k: int, n: int) -> str:
    return f"{k}/{n} ({100 * k / n:.1f}%)" if n else "-"


def fairness_table(report: dict[str, dict[str, Group]]) -> str:
    """The report as text: per group, faces, then the check's and the classifier alone's
    skips (clean faces: false skips, lower is better; real mustaches: kept, higher)."""
    lines = []
    for title, groups in report.items():
        if title == "no face found":
            lines.append(f"no face found: {groups['clean'].n} clean, {groups['real'].n} real")
            continue
        what = "recognised (left alone)" if title.startswith("real") else "false skips"
        lines.append(f"{title}: {what}, the check | the classifier alone (>= {SKIP_AT})")
        width = max((len(g) for g in groups), default=0)
        for g, v in groups.items():
            lines.append(f"  {g.ljust(width)}  {_pct(v.check, v.n):>16}  |  "
                         f"{_pct(v.classifier, v.n):>16}")
    return "\n".join(lines)
