"""Before/after sheet and figures on held-out faces that no training step saw.

Picks held-out people (the trainer's `holdout_split(records, 0.1)`) from a prepped
CelebA + LFW dataset: clean-shaven men and women, main face of each photo. Runs `mustache apply`
(the library) on each full photo, and
- scores the blended result's window with the shipped classifier (mustache rate after blending),
- writes a sheet of aligned before/after face crops.
`mustache eval` gives the other figures (KID, change outside the region, landmark drift).

    python examples/heldout_sheet.py --data out/data --out docs/img/heldout_sheet.jpg [--model M]
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
from mustache.apply import ApplyOptions, Mustacher
from mustache.classify import Scorer


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
    args = ap.parse_args()

    records = read_manifest(args.data)
    _, held = holdout_split(records, 0.1)
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

    tiles, caps, scores, women_scores = [], [], [], []
    scorer = Scorer()
    with Mustacher(args.model) as m:
        for r in chosen:
            src = next((d / r["source"] for d in photos if (d / r["source"]).is_file()), None)
            if src is None:
                continue
            before = load_image(src)
            res = m.apply(before, ApplyOptions(seed=0, clone=args.clone))
            after = res.image
            win_a = Alignment.from_dict(r["window"])
            w_after = warp(after, win_a)
            scores.append(float(scorer.score_windows(w_after[None])[0]))
            if r in picked[True]:
                women_scores.append(scores[-1])
            if id(r) not in drawn:
                continue
            face_a = Alignment.from_dict(r["face"])
            pair = [cv2.resize(warp(x, face_a), (160, 160), interpolation=cv2.INTER_AREA)
                    for x in (before, after)]
            tiles += pair
            caps += ["before", f"after {scores[-1]:.2f}"]
    save_image(args.out, grid(tiles, 10, caps), quality=85)
    rate = float(np.mean(np.array(scores) > 0.5))
    print(json.dumps({"faces": len(scores), "women": len(picked[True]), "men": len(picked[False]),
                      "mustache_rate_after_blend": round(rate, 3),
                      "rate_women": round(float(np.mean(np.array(women_scores) > 0.5)), 3),
                      "rate_men": round(float(np.mean(np.array(scores[len(women_scores):]) > 0.5)), 3),
                      "mean_score": round(float(np.mean(scores)), 3),
                      "sheet": str(args.out)}, indent=2))


if __name__ == "__main__":
    main()
