"""The canvas's goals on real photos (issue 23), through the shipped model and `apply`'s
pipeline: LFW faces turned 30-60 degrees (the share of the changed pixels beyond the face's
silhouette, and the mustache's far half over its near half, each measured from the philtrum),
and LFW laughing faces with open mouths (p_Smiling > 0.9, the lips apart by 4% of the face's
width or more: the share of the upper vermilion changed, and of the lower lip and of the mouth
opening). A pixel counts as changed when it moved 8 grey levels or more.

The silhouette is the union of all the mesh's triangles (the face's outline as seen); the lips
and the mouth opening are the landmarks' polygons.

    .venv/bin/python benchmarks/canvas.py [--faces 40] [--json out.json] [--model CKPT]
        [--flat-hair]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DATA = ROOT.parent / "shared" / "data" / "lfw"


def silhouette(points: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """(H, W) bool: the union of all the mesh's triangles, the face's outline as seen (from
    MediaPipe's edges alone, so it needs nothing of the canvas module: the same measure on any
    revision)."""
    import cv2
    from mediapipe.python.solutions.face_mesh_connections import FACEMESH_TESSELATION

    xy = np.asarray(points, np.float64)[:, :2]
    adj: dict[int, set] = {}
    for a, b in FACEMESH_TESSELATION:
        adj.setdefault(a, set()).add(b)
        adj.setdefault(b, set()).add(a)
    out = np.zeros(shape, np.uint8)
    tris = {tuple(sorted((a, b, c))) for a, b in FACEMESH_TESSELATION for c in adj[a] & adj[b]}
    for t in tris:
        cv2.fillConvexPoly(out, np.round(xy[list(t)] * 16).astype(np.int32), 1, shift=4)
    return out > 0


def poly(points: np.ndarray, a, b, shape) -> np.ndarray:
    from data_prep.region import polygon_mask

    xy = np.asarray(points, np.float64)[:, :2]
    return polygon_mask(np.concatenate([xy[list(a)], xy[list(b)][::-1]]), shape) > 0.5


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--faces", type=int, default=40)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--model", type=Path, default=None,
                    help="a GAN checkpoint (default: the shipped one)")
    ap.add_argument("--flat-hair", action="store_true",
                    help="hairs grown in the flat face frame (HairConfig.on_canvas=False)")
    args = ap.parse_args()
    import cv2

    from data_prep import indices as ix
    from data_prep.quality import head_pose
    from mustache.paint.gan import ApplyOptions, Mustacher
    from mustache.strands.hair import HairConfig

    rows = list(csv.DictReader(open(DATA / "manifest.csv")))
    rows.sort(key=lambda r: r["file"])
    turned, laughing = [], []
    hair = HairConfig(on_canvas=not args.flat_hair)
    with Mustacher(args.model, device="cpu", check_existing=False, hair=hair) as m:
        for r in rows:
            if len(turned) >= args.faces and len(laughing) >= args.faces:
                break
            if r["has_prediction"] != "1" or float(r["p_Mustache"]) > 0.2:
                continue
            smiling = float(r["p_Smiling"]) > 0.9
            if len(turned) >= args.faces and not smiling:
                continue
            img = cv2.cvtColor(cv2.imread(str(DATA / r["file"])), cv2.COLOR_BGR2RGB)
            faces = m.detect(img)
            if not faces:
                continue
            f = faces[0]
            p = np.asarray(f.points, np.float64)
            yaw = head_pose(p)[0]
            width = float(np.linalg.norm(p[454, :2] - p[234, :2]))
            gap = float(np.linalg.norm(p[13, :2] - p[14, :2])) / max(width, 1)
            want_turn = 30 <= abs(yaw) <= 60 and len(turned) < args.faces
            want_laugh = smiling and gap >= 0.04 and len(laughing) < args.faces
            if not (want_turn or want_laugh):
                continue
            out = m.apply(img, ApplyOptions(seed=0), faces=[f]).image
            moved = np.abs(out.astype(np.int16) - img).max(2) >= 8
            if moved.sum() < 20:
                continue
            shape = img.shape[:2]
            if want_turn:
                sil = silhouette(p, shape)
                beyond = float((moved & ~sil).sum() / moved.sum())
                # the far half: the side the face turns away from (yaw's sign), from landmark 0
                xs = np.nonzero(moved)[1] - p[0, 0]
                right_reach, left_reach = max(xs.max(), 0), max(-xs.min(), 0)
                # yaw > 0 (head_pose): the viewer's left half is the far one
                far, near = (left_reach, right_reach) if yaw > 0 else (right_reach, left_reach)
                turned.append({"file": r["file"], "yaw": round(yaw, 1), "beyond": beyond,
                               "far_over_near": float(far / max(near, 1))})
            if want_laugh:
                verm = poly(p, ix.UPPER_LIP_OUTER, ix.UPPER_LIP_INNER, shape)
                lower = poly(p, ix.LOWER_LIP_OUTER, ix.LOWER_LIP_INNER, shape)
                mouth = poly(p, ix.UPPER_LIP_INNER, ix.LOWER_LIP_INNER, shape)
                laughing.append({"file": r["file"], "width": round(width), "gap": round(gap, 3),
                                 "upper": float(moved[verm].mean()) if verm.any() else 0.0,
                                 "lower": float(moved[lower].mean()) if lower.any() else 0.0,
                                 "mouth": float(moved[mouth].mean()) if mouth.any() else 0.0})
            print(f"{len(turned)} turned, {len(laughing)} laughing: {r['file']}", flush=True)

    def stats(rows, key):
        v = np.array([x[key] for x in rows]) if rows else np.zeros(1)
        return f"mean {v.mean():.3f}  median {np.median(v):.3f}  max {v.max():.3f}"

    print(f"\nturned 30-60 deg ({len(turned)} faces): changed beyond the silhouette "
          f"{stats(turned, 'beyond')}; faces over 1%: "
          f"{sum(x['beyond'] > 0.01 for x in turned)}; far/near half {stats(turned, 'far_over_near')}")
    print(f"open mouths ({len(laughing)} faces): upper vermilion changed {stats(laughing, 'upper')}; "
          f"lower lip {stats(laughing, 'lower')}; mouth opening {stats(laughing, 'mouth')}")
    if args.json:
        args.json.write_text(json.dumps({"turned": turned, "laughing": laughing}, indent=1))


if __name__ == "__main__":
    main()
