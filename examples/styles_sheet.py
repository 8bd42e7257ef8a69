"""Every mustache style on three high-resolution faces, as 100% mouth crops (never resized).

One row per style, one column per face (a clean-shaven man, a woman on a soft photo, a
smiling man, from ../shared/data/hires: the webmorphR.stim Canada set and the Face Research
Lab London Set, CC BY 4.0; see its README), with the credit line under the sheet.

    python examples/styles_sheet.py --data ../shared/data/hires --out docs/img/styles_sheet.jpg
        [--faces canada/121m.jpg ...] [--seed 0] [--quality 88]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from hires_sheet import CREDIT, MAX_BYTES, caption, layout

# a clean-shaven man (121m; london_neutral/004 has stubble), a woman with light brows on a
# soft photo (009), a smiling man (017)
DEFAULT_FACES = ("canada/121m.jpg", "london_neutral/009_03.jpg", "london_smiling/017_08.jpg")


def main() -> None:
    from data_prep.image_io import load_image, save_image
    from mustache.measure.crops import mouth_crop_box
    from mustache.paint.gan import ApplyOptions, Mustacher
    from mustache.paint.styles import STYLES

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True, help="the hires folder")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--faces", nargs="+", default=list(DEFAULT_FACES),
                    help="photos under --data, one column each")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quality", type=int, default=88, help="JPEG quality")
    args = ap.parse_args()

    columns = []
    with Mustacher() as m:
        for name in args.faces:
            before = load_image(args.data / name)
            faces = m.detect(before)[:1]  # studio portraits: one face, the largest
            if not faces:
                raise SystemExit(f"{name}: no face found")
            results = {s: m.apply(before, ApplyOptions(style=st, seed=args.seed, force=True),
                                  faces=faces) for s, st in STYLES.items()}
            # one box for the column: the union of every style's region (100%, no resizing)
            boxes = [mouth_crop_box(r.faces[0], before.shape, margin=0.06)
                     for r in results.values()]
            x0, y0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
            x1, y1 = max(b[2] for b in boxes), max(b[3] for b in boxes)
            width = faces[0].box[2] - faces[0].box[0]
            print(f"{name}: face {width:.0f} px, crop {x1 - x0}x{y1 - y0}")
            columns.append([np.vstack([caption(x1 - x0, [f"{s}  ({name})"]),
                                       r.image[y0:y1, x0:x1]]) for s, r in results.items()])
    tiles = [col[i] for i in range(len(STYLES)) for col in columns]  # a row per style
    credit = CREDIT if any(f.startswith("canada/") for f in args.faces) else \
        CREDIT.replace(" and webmorphR.stim Canada set", "")
    sheet = layout(tiles, len(columns), credit)
    save_image(args.out, sheet, quality=args.quality)
    size = args.out.stat().st_size
    print(f"wrote {args.out} ({sheet.shape[1]}x{sheet.shape[0]} px, {size / 2**20:.1f} MB)")
    if size > MAX_BYTES:
        print(f"warning: over {MAX_BYTES >> 20} MB: lower --quality (never resize crops)")


if __name__ == "__main__":
    main()
