"""Write a `file,label` CSV for LFW from its machine-predicted attributes (../shared/data/lfw).

mustache: p_Mustache > 0.5 (checked by eye: right, many repeats of a few people).
clean:    men with p_Mustache < 0.05, p_Goatee < 0.05, p_No_Beard > 0.9, and women
          (p_Male < 0.1): both have a bare upper lip, and women keep "mustache" from meaning "man".
Everything else (0.05-0.5, beards, no prediction) is left unlabelled.

    python examples/lfw_labels.py ../shared/data/lfw/manifest.csv lfw_labels.csv
"""

import csv
import sys


def label(row: dict) -> str:
    try:
        male, must = float(row["p_Male"]), float(row["p_Mustache"])
        goatee, no_beard = float(row["p_Goatee"]), float(row["p_No_Beard"])
    except (KeyError, ValueError):
        return ""
    if must > 0.5:
        return "mustache"
    if male > 0.5 and must < 0.05 and goatee < 0.05 and no_beard > 0.9:
        return "clean"
    if male < 0.1 and must < 0.05:
        return "clean"
    return ""


def main(src: str, dst: str) -> None:
    with open(src, newline="") as f, open(dst, "w", newline="") as g:
        w = csv.writer(g)
        w.writerow(["file", "label"])
        for row in csv.DictReader(f):
            w.writerow([row["file"], label(row)])


if __name__ == "__main__":
    main(*sys.argv[1:3])
