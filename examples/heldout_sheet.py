"""Before/after sheet and figures on held-out faces that no training step saw.

Picks held-out people (the share the model's run held out, read from its checkpoint) from a
prepped CelebA + LFW dataset: clean-shaven men and women, main face of each photo. Runs `mustache apply`
(the library) on each full photo, and
- scores the blended result's window with the shipped classifier (mustache rate after blending),
- writes a sheet of aligned before/after face crops.
`mustache eval` gives the other figures (KID, change outside the region, landmark drift).

    python examples/heldout_sheet.py --data out/data --out docs/img/heldout_sheet.jpg [--model M]
        [--n 120 --sheet 40] [--baseline OTHER_MODEL]
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import cv2
import numpy as np

from data_prep.align import Alignment, warp
from data_prep.contact_sheet import grid
from data_prep.dataset import holdout_split, read_manifest
from data_prep.image_io import load_image, save_image
from mustache.learn.classify import Scorer
from mustache.paint.gan import ApplyOptions, Mustacher


def women_of_lfw(shared: Path) -> set[str]:
    rows = csv.DictReader(open(shared / "lfw" / "manifest.csv"))
    return {Path(r["file"]).name for r in rows if r["p_Male"] and float(r["p_Male"]) < 0.1}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--model", default=None)
    ap.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    ap.add_argument("--n", type=int, default=40, help="faces measured (half women, half men)")
    ap.add_argument("--sheet", type=int, default=40, help="of those, faces drawn (half women)")
    ap.add_argument("--clone", default="normal")
    ap.add_argument("--baseline", default=None, help="a second model, drawn beside the first")
    args = ap.parse_args()

    records = read_manifest(args.data)
    from mustache.judge.evaluate import holdout_of
    from mustache.learn.checkpoint import load
    from mustache.paint.gan import resolve_model

    model = resolve_model(args.model)
    _, held = holdout_split(records, holdout_of(load(model), model))
    photos = [Path(p) for p in json.loads((args.data / "prep_config.json").read_text())["photos"]]
    women = women_of_lfw(args.shared)
    pool = [records[i] for i in held if records[i]["label"] == "clean" and records[i]["face_index"] == 0]
    is_woman = [Path(r["source"]).name in women for r in pool]
    people: set[str] = set()
    picked = {True: [], False: []}
    for r, w in zip(pool, is_woman, strict=True):  # one photo per person, half women
        if r["person"] not in people and len(picked[w]) < args.n // 2:
            people.add(r["person"])
            picked[w].append(r)
    chosen = picked[True] + picked[False]
    drawn = {id(r) for r in picked[True][:args.sheet // 2] + picked[False][:args.sheet // 2]}

    models = [args.model] + ([args.baseline] if args.baseline else [])
    scorer = Scorer()
    sources = {}
    for r in chosen:
        src = next((d / r["source"] for d in photos if (d / r["source"]).is_file()), None)
        if src is not None:
            sources[id(r)] = src
    chosen = [r for r in chosen if id(r) in sources]
    women_ids = {id(r) for r in picked[True]}
    n_women = sum(1 for r in chosen if id(r) in women_ids)  # women come first in ``chosen``
    afters, scores = [], []  # per model: drawn faces' crops; every face's score
    for model in models:
        crops, sc = [], []
        with Mustacher(model) as m:
            for r in chosen:
                after = m.apply(load_image(sources[id(r)]), ApplyOptions(seed=0, clone=args.clone)).image
                sc.append(float(scorer.score_windows(warp(after, Alignment.from_dict(r["window"]))[None])[0]))
                if id(r) in drawn:
                    crops.append(_crop(after, r))
        afters.append(crops)
        scores.append(np.array(sc))
    tiles, caps = [], []
    drawn_idx = [i for i, r in enumerate(chosen) if id(r) in drawn]
    for j, i in enumerate(drawn_idx):
        tiles.append(_crop(load_image(sources[id(chosen[i])]), chosen[i]))
        caps.append("before")
        for k in reversed(range(len(models))):  # the baseline first, then the model
            tiles.append(afters[k][j])
            caps.append(f"{'baseline' if k else 'after'} {scores[k][i]:.2f}")
    cols = 10 if len(models) == 1 else 12
    save_image(args.out, grid(tiles, cols, caps), quality=85)

    def figures(sc):
        return {"mustache_rate_after_blend": round(float(np.mean(sc > 0.5)), 3),
                "rate_women": round(float(np.mean(sc[:n_women] > 0.5)), 3),
                "rate_men": round(float(np.mean(sc[n_women:] > 0.5)), 3),
                "mean_score": round(float(np.mean(sc)), 3)}

    report = {"faces": len(chosen), "women": n_women, "men": len(chosen) - n_women,
              **figures(scores[0]), "sheet": str(args.out)}
    if args.baseline:
        report["baseline"] = figures(scores[1])
    print(json.dumps(report, indent=2))


def _crop(image: np.ndarray, record: dict) -> np.ndarray:
    """The aligned face of a dataset record, cut from a photo, 160 px."""
    return cv2.resize(warp(image, Alignment.from_dict(record["face"])), (160, 160),
                      interpolation=cv2.INTER_AREA)

if __name__ == "__main__":
    main()
