"""Make ``data_prep/canvas_face.npz``: the canvas's canonical face and the mesh's triangles.

The canonical face is the mean of prep-aligned (``data_prep.align``, FFHQ template) MediaPipe
landmarks of frontal, neutral LFW faces (|yaw| small by the nose tip between the face sides,
p_Smiling < 0.2, mouth closed), in the aligned crop's unit coordinates (0-1). The triangles
are ``FACEMESH_TESSELATION``'s (a frozenset of edges, so the triangles are its 3-cliques,
less those that hold another vertex: the mesh's faces, not loops around them), wound
counter-clockwise on the canonical face (image coordinates, y down).

    .venv/bin/python examples/canvas_face.py [--faces 400]
"""

from __future__ import annotations

import argparse
import collections
import csv
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DATA = ROOT.parent / "shared" / "data" / "lfw"


def triangles(canon: np.ndarray) -> np.ndarray:
    """(468+, 2) canonical points -> (T, 3) int16 faces of the tessellation, wound alike
    across shared edges (a consistent orientation of the surface), counter-clockwise on the
    canonical face for nearly all (the few that are not are folded in the frontal view)."""
    from mediapipe.python.solutions.face_mesh_connections import FACEMESH_TESSELATION

    adj = collections.defaultdict(set)
    for a, b in FACEMESH_TESSELATION:
        adj[a].add(b)
        adj[b].add(a)
    tris = sorted({tuple(sorted((a, b, c))) for a, b in FACEMESH_TESSELATION
                   for c in adj[a] & adj[b]})
    keep = []
    p = canon[:468]
    for t in tris:
        a, b, c = p[list(t)]
        m = np.array([[b[0] - a[0], c[0] - a[0]], [b[1] - a[1], c[1] - a[1]]])
        if abs(np.linalg.det(m)) < 1e-12:
            continue
        # barycentric test of every other vertex: a loop of three edges around other faces
        uv = (p - a) @ np.linalg.inv(m).T
        inside = (uv[:, 0] > 1e-6) & (uv[:, 1] > 1e-6) & (uv.sum(1) < 1 - 1e-6)
        inside[list(t)] = False
        if not inside.any():
            keep.append(list(t))
    # one orientation for the surface: a neighbour runs a shared edge the other way
    by_edge = collections.defaultdict(list)
    for k, t in enumerate(keep):
        for e in ((t[0], t[1]), (t[1], t[2]), (t[2], t[0])):
            by_edge[frozenset(e)].append(k)
    done, todo = {0}, collections.deque([0])
    while todo:
        k = todo.popleft()
        t = keep[k]
        for e in ((t[0], t[1]), (t[1], t[2]), (t[2], t[0])):
            for n in by_edge[frozenset(e)]:
                if n in done:
                    continue
                u = keep[n]
                if e in ((u[0], u[1]), (u[1], u[2]), (u[2], u[0])):
                    keep[n] = [u[0], u[2], u[1]]
                done.add(n)
                todo.append(n)
    tri = np.asarray(keep, np.int64)
    a, b, c = p[tri[:, 0]], p[tri[:, 1]], p[tri[:, 2]]
    area = (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])
    if (area > 0).sum() < (area < 0).sum():
        tri = tri[:, [0, 2, 1]]
    return tri.astype(np.int16)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--faces", type=int, default=400)
    ap.add_argument("--out", type=Path, default=ROOT / "data_prep" / "canvas_face.npz")
    ap.add_argument("--triangles-only", action="store_true",
                    help="keep the stored canonical face, make its triangles again")
    args = ap.parse_args()
    if args.triangles_only:
        d = dict(np.load(args.out))
        d["triangles"] = triangles(d["canon"].astype(np.float64))
        np.savez_compressed(args.out, **d)
        print(f"{len(d['triangles'])} triangles -> {args.out}")
        return
    import cv2

    from data_prep import indices as ix
    from data_prep.align import AlignConfig, estimate_alignment
    from data_prep.landmarks import DetectorConfig, MediaPipeDetector

    rows = [r for r in csv.DictReader(open(DATA / "manifest.csv"))
            if r["has_prediction"] == "1" and float(r["p_Smiling"]) < 0.2]
    rows.sort(key=lambda r: r["file"])
    size = AlignConfig().size
    got = []
    with MediaPipeDetector(DetectorConfig(min_face=60)) as det:
        for r in rows:
            if len(got) >= args.faces:
                break
            img = cv2.cvtColor(cv2.imread(str(DATA / r["file"])), cv2.COLOR_BGR2RGB)
            faces = det.detect(img)
            if not faces:
                continue
            p = np.asarray(faces[0].points, np.float64)
            xy = p[:, :2]
            sides = xy[list(ix.FACE_SIDES)]
            w = float(np.linalg.norm(sides[1] - sides[0]))
            # frontal: the nose tip within 4% of the face width of the sides' middle
            if abs(xy[ix.NOSE_TIP, 0] - sides.mean(0)[0]) > 0.04 * w:
                continue
            # closed mouth: the inner lips within 1.5% of the face width
            if np.linalg.norm(xy[13] - xy[14]) > 0.015 * w:
                continue
            a = estimate_alignment(xy)
            got.append(np.hstack([a.to_crop(xy) / size, p[:, 2:3] * a.scale / size]))
    canon = np.mean(got, 0)
    # symmetric about the crop's midline: each point's mirror partner is the nearest point
    # to its reflection; averaged with it when the pairing is an involution
    ref = canon[:, :2] * [-1, 1] + [1, 0]
    pair = np.argmin(((ref[:, None] - canon[None, :, :2]) ** 2).sum(2), 1)
    if (pair[pair] == np.arange(len(pair))).all():
        mirrored = canon[pair] * [-1, 1, 1] + [1, 0, 0]
        canon = 0.5 * (canon + mirrored)
    else:
        print(f"no clean mirror pairing ({(pair[pair] != np.arange(len(pair))).sum()} off): "
              "kept as measured")
    tri = triangles(canon[:, :2])
    np.savez_compressed(args.out, canon=canon[:, :2].astype(np.float32),
                        depth=canon[:, 2].astype(np.float32), triangles=tri,
                        faces=np.int32(len(got)))
    print(f"{len(got)} faces, {len(tri)} triangles -> {args.out}")


if __name__ == "__main__":
    main()
