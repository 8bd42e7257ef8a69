"""Measure the hair colour stage on labelled photos in ../shared/data (CelebA, LFW).

    python examples/colour_check.py [N]

1. Own facial hair found: held-out CelebA men (md5('split' + file) >= 'b', the weights in
   mustache/strands/facial_hair.py were fitted on the rest) with 5_o_Clock_Shadow or Goatee vs
   clean-shaven ones; LFW men with p_Goatee or p_5_o_Clock_Shadow > 0.5 vs clean (p < 0.05).
2. Faces with own facial hair found: the chosen colour's a*b* against that hair's a*b* spread
   (the darker-than-skin pixels of the hair regions): distance to their median, in units of
   their spread (sqrt of the mean a*/b* variance), and the share within 1 and 2 spreads.
3. Faces without: chroma of the chosen colour against that of the unprojected measurement it
   came from (the issue's goal: not below it).
"""

from __future__ import annotations

import csv
import hashlib
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"


def sets(n: int) -> dict[str, list[tuple[Path, bool]]]:
    rows = list(csv.DictReader(open(DATA / "celeba" / "manifest.csv")))
    held = [r for r in rows if hashlib.md5(("split" + r["file"]).encode()).hexdigest()[0] >= "b"]
    hairy = [r for r in held if r["5_o_Clock_Shadow"] == "1" or r["Goatee"] == "1"]
    clean = [r for r in held if r["No_Beard"] == "1" and all(
        r[c] == "-1" for c in ("Mustache", "Goatee", "5_o_Clock_Shadow", "Sideburns"))]
    img = DATA / "celeba" / "images"
    out = {"celeba": [(img / r["file"], True) for r in hairy[:n]]
           + [(img / r["file"], False) for r in clean[:n]]}
    lfw = [r for r in csv.DictReader(open(DATA / "lfw" / "manifest.csv"))
           if r["has_prediction"] == "1" and float(r["p_Male"]) > 0.5]
    p = lambda r, c: float(r[c])  # noqa: E731
    hairy = [r for r in lfw if p(r, "p_Goatee") > 0.5 or p(r, "p_5_o_Clock_Shadow") > 0.5]
    clean = [r for r in lfw if p(r, "p_Mustache") < 0.05 and p(r, "p_Goatee") < 0.05
             and p(r, "p_No_Beard") > 0.9 and p(r, "p_5_o_Clock_Shadow") < 0.05]
    clean.sort(key=lambda r: hashlib.md5(r["file"].encode()).hexdigest())
    out["lfw"] = [(DATA / "lfw" / r["file"], True) for r in hairy[:n]] \
        + [(DATA / "lfw" / r["file"], False) for r in clean[:n]]
    return out


def hair_ab(image, points, fh) -> np.ndarray:
    """(K, 2) a*b* of the hair regions' pixels darker than the cheeks' skin."""
    from mustache.strands.facial_hair import _fill, region_polygons
    from mustache.strands.haircolor import rgb_to_lab

    polys = region_polygons(points[:, :2].astype(np.float64))
    m = _fill([p for r in fh.hair_regions for p in polys[r]], image.shape[:2])
    lab = rgb_to_lab(image[m])
    return lab[lab[:, 0] < fh.skin_l][:, 1:]


def main(n: int) -> None:
    import mustache.strands.haircolor as hc
    from data_prep.image_io import load_image
    from data_prep.landmarks import MediaPipeDetector
    from mustache.strands.facial_hair import facial_hair
    from mustache.strands.person_colour import person_colour

    projected = hc.natural_hair
    raw = lambda lab, gamut=None: np.asarray(lab, np.float64)  # noqa: E731
    with MediaPipeDetector() as det:
        for name, items in sets(n).items():
            right, dist, gain = {True: [], False: []}, [], []
            for path, truth in items:
                im = load_image(path)
                faces = det.detect(im)
                if not faces:
                    continue
                pts = faces[0].points
                fh = facial_hair(im, pts)
                right[truth].append(fh.has_hair == truth)
                c = person_colour(im, pts)
                lab = hc.rgb_to_lab(c.base)
                if fh.has_hair:
                    ab = hair_ab(im, pts, fh)
                    if len(ab) >= 10:
                        spread = float(np.sqrt(ab.var(0).mean()))
                        dist.append(np.linalg.norm(lab[1:] - np.median(ab, 0)) / spread)
                else:
                    hc.natural_hair = raw
                    try:
                        before = hc.rgb_to_lab(person_colour(im, pts).base)
                    finally:
                        hc.natural_hair = projected
                    gain.append((np.hypot(*lab[1:]), np.hypot(*before[1:]), c.source))
            tpr, tnr = np.mean(right[True]), np.mean(right[False])
            print(f"{name}: facial hair found on {tpr:.0%} of {len(right[True])} bearded, "
                  f"clean called clean on {tnr:.0%} of {len(right[False])}: balanced "
                  f"{(tpr + tnr) / 2:.0%}")
            d = np.array(dist)
            print(f"  own hair (n={len(d)}): colour a*b* from the hair's median, in spreads: "
                  f"median {np.median(d):.2f}, within 1: {np.mean(d <= 1):.0%}, "
                  f"within 2: {np.mean(d <= 2):.0%}")
            g = np.array([(a, b) for a, b, _ in gain])
            print(f"  no own hair (n={len(g)}): chroma chosen {np.median(g[:, 0]):.1f} vs "
                  f"source {np.median(g[:, 1]):.1f} (median); not below the source on "
                  f"{np.mean(g[:, 0] >= g[:, 1] - 0.5):.0%}; sources: "
                  + ", ".join(f"{s} {sum(x[2].startswith(s) for x in gain)}" for s in
                              ("eyebrows + head hair", "eyebrows", "head hair", "fallback")))


if __name__ == "__main__":
    if not DATA.is_dir():
        sys.exit(f"no photos at {DATA}")
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 150)
