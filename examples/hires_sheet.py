"""Before|after mouth crops at 100% (native pixels) on high-resolution studio photos.

Users judge the tool on 100% crops of their own photos, so this sheet never resizes a crop.
Faces come from ../shared/data/hires (see its README): women and men, London neutral and
smiling (faces ~480 px wide) and Canada (~850 px), taken in turn so any N covers every group;
the men with real facial hair listed in the README are left out (they are measured elsewhere),
and so is any face the pipeline leaves unchanged (its lip already scores as a mustache).

    python examples/hires_sheet.py --data ../shared/data/hires --out docs/img/hires_sheet.jpg
        [--n 20] [--donor PATH] [--seed 0] [--cols 2] [--quality 90]
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np

CREDIT = ("Photos: Face Research Lab London Set (DeBruine & Jones 2017) and webmorphR.stim "
          "Canada set, CC BY 4.0")
# real mustaches and beards (hires/README.md): not clean-shaven, so not for this sheet
FACIAL_HAIR = {"022", "033", "036", "037", "092", "140", "115m"}
MAX_BYTES = 4 << 20
FONT_SCALE, LINE_H = 0.6, 22  # cv2 Hershey simplex: ~11 px a character at this scale


def pick_faces(data: Path, n: int) -> list[Path]:
    """``n`` photos, the same every run: one from each group in turn (women and men x London
    neutral, London smiling, Canada), spread evenly over each group's ids. A London person
    appears either neutral or smiling, never both; the facial-hair men never."""
    def genders(name: str) -> dict[str, str]:
        return {r["face_id"]: r["face_gender"] for r in csv.DictReader(open(data / name))}

    def london_photos(folder: str, ids: list[str]) -> list[Path]:
        # the file's pose suffix differs by folder (neutral _03, smiling _08)
        return [p for i in ids for p in sorted((data / folder).glob(f"{i}_*.jpg"))[:1]]

    london, canada = genders("london_info.csv"), genders("canada_info.csv")
    by_sex = {}
    for sex in ("female", "male"):
        people = sorted(i for i, g in london.items() if g == sex and i not in FACIAL_HAIR)
        by_sex[sex] = (london_photos("london_neutral", people[0::2]),
                       london_photos("london_smiling", people[1::2]),
                       [data / "canada" / f"{i}.jpg" for i in sorted(canada)
                        if canada[i] == sex and i not in FACIAL_HAIR])
    (fn, fs, fc), (mn, ms, mc) = by_sex["female"], by_sex["male"]
    # interleaved so that the first 2 cover both sexes and the first 3 every set
    groups = [fn, ms, fc, mn, fs, mc]
    groups = [[p for p in g if p.is_file()] for g in groups]
    groups = [g for g in groups if g]
    if not groups:
        raise SystemExit(f"{data}: no hires photos found (see ../shared/data/hires/README.md)")
    per = -(-n // len(groups))  # faces wanted from each group
    # the middle of each of ``m`` equal strides through the group's sorted ids
    spread = [[g[(2 * k + 1) * len(g) // (2 * m)] for k in range(m)]
              for g in groups for m in [min(per, len(g))]]
    order = [g[k] for k in range(per) for g in spread if k < len(g)]
    return order[:n]


def wrap(text: str, width: int) -> list[str]:
    """Split ``text`` at spaces into lines that fit ``width`` px at the caption font."""
    import cv2

    lines, line = [], ""
    for word in text.split():
        t = f"{line} {word}".strip()
        if line and cv2.getTextSize(t, cv2.FONT_HERSHEY_SIMPLEX, FONT_SCALE, 1)[0][0] > width - 8:
            lines.append(line)
            t = word
        line = t
    return lines + [line] if line else lines


def caption(width: int, lines: list[str]) -> np.ndarray:
    """A white strip ``width`` px wide with the lines (wrapped to fit) in black."""
    import cv2

    lines = [x for t in lines for x in wrap(t, width)]
    strip = np.full((LINE_H * len(lines) + 6, width, 3), 255, np.uint8)
    for k, t in enumerate(lines):
        cv2.putText(strip, t, (4, LINE_H * (k + 1) - 4), cv2.FONT_HERSHEY_SIMPLEX, FONT_SCALE,
                    (0, 0, 0), 1, cv2.LINE_AA)
    return strip


def layout(tiles: list[np.ndarray], cols: int, footer: str, pad: int = 12) -> np.ndarray:
    """Tiles (any sizes) in rows of ``cols``, each row as tall as its tallest tile, on white;
    tiles are pasted as they are (no resizing), then ``footer`` below."""
    rows = [tiles[i:i + cols] for i in range(0, len(tiles), cols)]
    width = max(sum(t.shape[1] for t in r) + pad * (len(r) + 1) for r in rows)
    bands = []
    for r in rows:
        band = np.full((max(t.shape[0] for t in r) + pad, width, 3), 255, np.uint8)
        x = pad
        for t in r:
            band[pad:pad + t.shape[0], x:x + t.shape[1]] = t
            x += t.shape[1] + pad
        bands.append(band)
    return np.vstack(bands + [caption(width, [footer])])


def scorer_or_none():
    """The shipped mustache classifier, or None when it is missing (the score is optional)."""
    from mustache.learn.classify import DEFAULT_WEIGHTS, Scorer

    return Scorer() if Path(DEFAULT_WEIGHTS).is_file() else None


def score(scorer, image: np.ndarray, face) -> float | None:
    """The classifier's mustache score for one face's window (cut as the classifier's data was)."""
    if scorer is None or face.landmarks is None:
        return None
    from data_prep.region import cut_window

    region, win = cut_window(image, face.landmarks, scorer.prep.align, scorer.prep.region)
    mask = np.round(region.mask * 255).astype(np.uint8)[None]
    return float(scorer.score_windows(win[None], mask if scorer.config.use_mask else None)[0])


def main() -> None:
    from data_prep.image_io import load_image, save_image
    from mustache.measure.crops import before_after_crop
    from mustache.paint.gan import ApplyOptions

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True, help="the hires folder")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--n", type=int, default=20, help="faces on the sheet")
    ap.add_argument("--donor", default=None, help="a donor photo: transfer its mustache instead")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cols", type=int, default=2, help="before|after pairs a row")
    ap.add_argument("--quality", type=int, default=90, help="JPEG quality")
    args = ap.parse_args()

    photos = pick_faces(args.data, 2 * args.n)  # faces left unchanged are replaced by the next
    if args.donor:
        from mustache.paint.donor import DonorTransfer

        engine = DonorTransfer(args.donor)
    else:
        from mustache.paint.gan import Mustacher

        engine = Mustacher()
    scorer = scorer_or_none()
    tiles = []
    with engine:
        for path in photos:
            if len(tiles) == args.n:
                break
            name = f"{path.parent.name}/{path.name}"
            before = load_image(path)
            result = engine.apply(before, ApplyOptions(seed=args.seed))
            if not result.faces:
                print(f"{name}: no face found")
                continue
            f = result.faces[0]  # studio portraits: one face, the largest
            width = f.box[2] - f.box[0]
            if f.blended:
                b, a = score(scorer, before, f), score(scorer, result.image, f)
                state = "" if a is None else f"mustache score {b:.2f} -> {a:.2f}"
            else:
                state = f"not blended: {f.note}"
            print(f"{name}  face {width:.0f} px  blended {f.blended}  {state}".rstrip())
            if not f.blended:  # e.g. a real mustache or beard, left as it is: not drawn
                continue
            pair = before_after_crop(before, result.image, f)
            tiles.append(np.vstack([pair, caption(pair.shape[1], [f"{name}  face {width:.0f} px", state])]))
    if scorer is not None:
        scorer.close()
    if not tiles:
        raise SystemExit("no faces to show")
    sheet = layout(tiles, args.cols, CREDIT)
    save_image(args.out, sheet, quality=args.quality)
    size = args.out.stat().st_size
    print(f"wrote {args.out} ({len(tiles)} faces, {sheet.shape[1]}x{sheet.shape[0]} px, "
          f"{size / 2**20:.1f} MB)")
    if size > MAX_BYTES:
        print(f"warning: over {MAX_BYTES >> 20} MB: lower --n or --quality (never resize crops)")


if __name__ == "__main__":
    main()
