"""Two GAN checkpoints side by side at native pixels, on the faces the canvas is for: LFW faces
turned 30-60 degrees and laughing with open mouths (the faces ``benchmarks/canvas.py`` picked:
pass its ``--json``), each row before | model A | model B, at 3x nearest-neighbour (each photo
pixel a 3x3 block: LFW faces are ~100 px wide), with the shipped classifier's score under each;
faces it already scores as mustached (>= 0.5: LFW's predicted p_Mustache misses some) are passed over.

    python benchmarks/canvas.py --faces 12 --json out/canvas_faces.json
    python examples/canvas_sheet.py out/canvas_faces.json --a mustache/weights/default.pt \\
        --b out/canvas_default.pt --out docs/img/canvas_model.jpg [--n 6]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
for p in (ROOT, ROOT / "examples"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

ZOOM = 3


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("faces", type=Path, help="benchmarks/canvas.py --json output")
    ap.add_argument("--a", type=Path, required=True, help="GAN checkpoint A")
    ap.add_argument("--b", type=Path, required=True, help="GAN checkpoint B")
    ap.add_argument("--label-a", default="A")
    ap.add_argument("--label-b", default="B")
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "lfw")
    ap.add_argument("--n", type=int, default=6, help="faces of each kind")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "img" / "canvas_model.jpg")
    args = ap.parse_args()

    from field_sheet import LFW_CREDIT, _save
    from hires_sheet import caption, layout

    from data_prep.image_io import load_image
    from data_prep.landmarks import FaceLandmarks
    from mustache.measure.crops import mouth_crop_box
    from mustache.paint.gan import ApplyOptions, Mustacher, shipped_scorer

    picked = json.loads(args.faces.read_text())
    scorer = shipped_scorer()
    todo, photos, found = [], [], []
    with Mustacher(args.a, device="cpu", check_existing=False) as m:
        # clean-shaven faces only: LFW's predicted p_Mustache misses some real mustaches
        for kind in ("turned", "laughing"):
            kept = 0
            for r in picked[kind]:
                if kept == args.n:
                    break
                photo = load_image(args.data / r["file"])
                f = m.detect(photo)[0]
                if scorer is not None and scorer.score_faces(photo, [f])[0] >= 0.5:
                    continue
                todo.append((kind, r))
                photos.append(photo)
                found.append(f)
                kept += 1
    outs = []
    for path in (args.a, args.b):
        with Mustacher(path, device="cpu", check_existing=False) as m:
            outs.append([m.apply(p, ApplyOptions(seed=args.seed), faces=[f])
                         for p, f in zip(photos, found, strict=True)])
    tiles = []
    for i, ((kind, r), photo, f) in enumerate(zip(todo, photos, found, strict=True)):
        x0, y0, x1, y1 = mouth_crop_box(outs[0][i].faces[0], photo.shape, 0.25)
        fl = FaceLandmarks(f.points, f.score, f.box)
        crops, scores = [], []
        for im in (photo, outs[0][i].image, outs[1][i].image):
            c = im[y0:y1, x0:x1]
            crops.append(np.repeat(np.repeat(c, ZOOM, 0), ZOOM, 1))
            scores.append(scorer.score_faces(im, [fl])[0] if scorer is not None else float("nan"))
        gap = np.full((crops[0].shape[0], 6, 3), 255, np.uint8)
        row = np.concatenate([crops[0], gap, crops[1], gap, crops[2]], 1)
        name = Path(r["file"]).stem
        what = f"yaw {r['yaw']:+.0f}" if kind == "turned" else f"mouth open {r['gap']:.2f}"
        tiles.append(np.concatenate([row, caption(row.shape[1], [
            f"{name} ({kind}, {what})",
            f"before {scores[0]:.2f} | {args.label_a} {scores[1]:.2f} | {args.label_b} "
            f"{scores[2]:.2f}"])], 0))
    if scorer is not None:
        scorer.close()
    _save(args.out, layout(tiles, 2, f"before | {args.label_a} | {args.label_b}, {ZOOM}x "
                                     f"nearest-neighbour; scores: the shipped classifier. "
                                     f"{LFW_CREDIT}"))


if __name__ == "__main__":
    main()
