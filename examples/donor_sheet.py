"""A before/after sheet for mustache transfer from donor photos (docs/img/donor_sheet.jpg).

Donors: real mustaches from LFW (p_Mustache > 0.5, one photo a person). Targets: the
astronaut and a few clean-shaven CelebA faces. Top row: the targets as they are; then one row
a donor: the donor's face, then his mustache on every target. Needs ../shared/data.

    python examples/donor_sheet.py [--out docs/img/donor_sheet.jpg] [--donors 5] [--targets 4]
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np

from data_prep.contact_sheet import grid
from data_prep.image_io import load_image, save_image
from data_prep.landmarks import MediaPipeDetector
from mustache.paint.donor import DonorTransfer

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
TILE = 144  # px a side in the sheet


def lfw_donors(n: int) -> list[Path]:
    """The first ``n`` LFW people (by name) with a confident mustache prediction."""
    rows = csv.DictReader(open(DATA / "lfw" / "manifest.csv"))
    seen, out = set(), []
    for r in rows:
        person = r["file"].split("/")[1]
        if r["p_Mustache"] and float(r["p_Mustache"]) > 0.5 and person not in seen:
            seen.add(person)
            out.append(DATA / "lfw" / r["file"])
    step = max(1, len(out) // n)  # spread over the alphabet rather than the first few names
    return out[::step][:n]


def celeba_clean(n: int, seed: int = 3) -> list[Path]:
    rows = [r for r in csv.DictReader(open(DATA / "celeba" / "manifest.csv"))
            if r["Mustache"] == "-1" and r["Goatee"] == "-1" and r["No_Beard"] == "1"
            and r["Eyeglasses"] == "-1" and r["Wearing_Hat"] == "-1" and r["Blurry"] == "-1"]
    pick = np.random.default_rng(seed).choice(len(rows), size=n, replace=False)
    return [DATA / "celeba" / "images" / rows[i]["file"] for i in sorted(pick)]


def face_tile(image: np.ndarray, box, size: int = TILE) -> np.ndarray:
    """A square crop around a face's lower two thirds, resized to ``size``."""
    import cv2

    x0, y0, x1, y1 = box
    side = 1.15 * max(x1 - x0, y1 - y0)
    cx, cy = (x0 + x1) / 2, y0 + 0.6 * (y1 - y0)
    m = np.array([[size / side, 0, size / 2 - cx * size / side],
                  [0, size / side, size / 2 - cy * size / side]])
    return cv2.warpAffine(image, m, (size, size), flags=cv2.INTER_AREA,
                          borderMode=cv2.BORDER_REPLICATE)


def main() -> None:
    from skimage import data

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="docs/img/donor_sheet.jpg")
    ap.add_argument("--donors", type=int, default=5)
    ap.add_argument("--targets", type=int, default=4)
    args = ap.parse_args()

    targets = [("astronaut", data.astronaut())]
    targets += [(p.stem, load_image(p)) for p in celeba_clean(args.targets - 1)]
    with MediaPipeDetector() as det:
        boxes = [det.detect(im)[0].box for _, im in targets]
        tiles = [np.full((TILE, TILE, 3), 255, np.uint8)]
        caps = ["donor / target"]
        tiles += [face_tile(im, b) for (_, im), b in zip(targets, boxes, strict=True)]
        caps += [name for name, _ in targets]
        for path in lfw_donors(args.donors):
            with DonorTransfer(path, detector=det) as t:
                tiles.append(face_tile(t.face.image, t.face.box))
                caps.append(path.stem.rsplit("_", 1)[0].replace("_", " "))
                for (_, im), b in zip(targets, boxes, strict=True):
                    tiles.append(face_tile(t.apply(im).image, b))
                    caps.append("")
    sheet = grid(tiles, cols=len(targets) + 1, captions=caps)
    out = Path(args.out)
    # JPEG: a 256-colour PNG of these faces tints skin and hair green; full-colour PNG is ~1 MB
    save_image(out, sheet, quality=88)
    print(f"wrote {out} ({out.stat().st_size // 1024} KB, {sheet.shape[1]}x{sheet.shape[0]})")


if __name__ == "__main__":
    main()
