"""Sheets of the hair stage on the photos people have, for judging by eye at native pixels.

- ``field_hires.jpg``: 100% before|after crops of the mouth area on studio photos made into
  web and phone copies (``benchmarks.webphotos``: soft, compressed, dark), one photo a row.
- ``field_lfw_up.jpg``: 100% crops on LFW photos upscaled 2.4x with JPEG 85 (faces ~220 px:
  issue 21's reproducing case).
- ``field_scene.jpg``: the faces of a composed group scene (``benchmarks.scenes``), 48-250 px
  wide, before|after at 2x nearest-neighbour (each photo pixel a 2x2 block), labelled with the
  face's width; the whole scene shrunk above them.

All from held-out people (``benchmarks.hair_quality.split_of``), never the men with real
facial hair; each sheet credits its photos.

    python examples/field_sheet.py [--out docs/img] [--data ../shared/data] [--n 3] [--seed 0]
        [--sheets hires lfw_up scene]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
for p in (ROOT, ROOT / "examples"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

HIRES_CREDIT = ("Photos: Face Research Lab London Set (DeBruine & Jones 2017) and webmorphR.stim "
                "Canada set, CC BY 4.0")
LFW_CREDIT = "Photos: Labeled Faces in the Wild (University of Massachusetts Amherst), research use"
SCENE_WIDTHS = (48.0, 64.0, 85.0, 110.0, 150.0, 200.0, 250.0)


def _stack(top: np.ndarray, below: np.ndarray) -> np.ndarray:
    """Two RGB uint8 images one above the other, left-aligned on white."""
    w = max(top.shape[1], below.shape[1])
    out = np.full((top.shape[0] + below.shape[0], w, 3), 255, np.uint8)
    out[:top.shape[0], :top.shape[1]] = top
    out[top.shape[0]:, :below.shape[1]] = below
    return out


def face_tile(before: np.ndarray, after: np.ndarray, face, lines: list[str], zoom: int = 1
              ) -> np.ndarray:
    """before|after crop of ``face``'s mouth area at ``zoom`` x nearest-neighbour (1: the
    photo's own pixels), the caption ``lines`` below (at least 260 px wide)."""
    from hires_sheet import caption

    from mustache.measure.crops import before_after_crop

    pair = before_after_crop(before, after, face)
    if zoom > 1:
        pair = np.repeat(np.repeat(pair, zoom, 0), zoom, 1)
    return _stack(pair, caption(max(pair.shape[1], 260), lines))


def describe(scorer, before, after, face, fl) -> str:
    """'face 220 px  score 0.05 -> 0.93  412 hairs (eyebrows)' for one blended face."""
    w = face.box[2] - face.box[0]
    text = f"face {w:.0f} px"
    if scorer is not None:
        b, a = scorer.score_faces(before, [fl]), scorer.score_faces(after, [fl])
        text += f"  score {b[0]:.2f} -> {a[0]:.2f}"
    return text + f"  {face.hairs} hairs ({face.colour})"


def _save(path: Path, sheet: np.ndarray) -> None:
    """JPEG at quality 92 for the README's sheets (a tenth of the PNG's size), PNG as is."""
    from data_prep.image_io import save_image

    path.parent.mkdir(parents=True, exist_ok=True)
    save_image(path, sheet, **({"quality": 92} if path.suffix == ".jpg" else {}))
    print(f"wrote {path} ({sheet.shape[1]}x{sheet.shape[0]} px, "
          f"{path.stat().st_size / 2**20:.1f} MB)")


def hires_sheet(m, data: Path, out: Path, n: int, seed: int) -> None:
    """Held-out studio photos (from hires_sheet.pick_faces' varied order), each as a soft, a
    compressed and a dark copy: one row a photo, 100% crops."""
    from hires_sheet import layout, pick_faces

    from benchmarks import webphotos as wp
    from benchmarks.hair_quality import hires_person, split_of
    from data_prep.image_io import load_image
    from mustache.paint.gan import ApplyOptions

    photos = [p for p in pick_faces(data / "hires", 60) if split_of(hires_person(p)) == "heldout"]
    tiles = []
    for path in photos:
        if len(tiles) >= 3 * n:
            break
        rgb = load_image(path)
        row = []
        for k, kind in enumerate(("soft", "compressed", "dark")):
            img, label = wp.degrade(rgb, np.random.default_rng([seed, k, len(tiles)]), kind)
            faces = m.detect(img)
            r = m.apply(img, ApplyOptions(seed=seed, faces=(0,)), faces=faces) if faces else None
            if r is None or not r.faces[0].blended:
                break
            f = r.faces[0]
            row.append(face_tile(img, r.image, f, [f"{path.parent.name}/{path.name}  {kind}: "
                                                   f"{label}", describe(m.scorer, img, r.image,
                                                                        f, faces[0])]))
        if len(row) == 3:
            tiles += row
            print(f"{path.name}: {len(row)} copies")
    _save(out / "field_hires.jpg", layout(tiles, 3, HIRES_CREDIT))


def lfw_up_sheet(m, data: Path, out: Path, n: int, seed: int) -> None:
    """Held-out LFW people (the harness's strata: men, women, smiling, darker-skinned) at 2.4x
    with JPEG 85, 100% crops."""
    from hires_sheet import layout

    from benchmarks import webphotos as wp
    from benchmarks.hair_quality import lfw_photos
    from data_prep.image_io import load_image
    from mustache.paint.gan import ApplyOptions

    tiles = []
    for p in lfw_photos(data, real=False, split="heldout"):
        if len(tiles) >= 2 * n:
            break
        img, label = wp.upscale_jpeg(load_image(p.path), np.random.default_rng(seed), 2.4, 85)
        faces = m.detect(img)
        if not faces:
            continue
        r = m.apply(img, ApplyOptions(seed=seed, faces=(0,)), faces=faces)
        f = r.faces[0]
        if not f.blended:
            continue
        tiles.append(face_tile(img, r.image, f, [f"{p.path.stem} ({p.kind})  {label}",
                                                 describe(m.scorer, img, r.image, f, faces[0])]))
    _save(out / "field_lfw_up.jpg", layout(tiles, 3, LFW_CREDIT))


def scene_sheet(m, data: Path, out: Path, seed: int) -> None:
    """A 2400x1600 scene of held-out clean-shaven people, faces SCENE_WIDTHS px wide: the
    scene shrunk to 1200 px, then each blended face's mouth area at 2x nearest-neighbour."""
    import cv2
    from hires_sheet import caption, layout

    from benchmarks.hair_quality import hires_photos, lfw_photos, split_of
    from benchmarks.scenes import FacePlan, Sources, background, paste_faces
    from mustache.paint.gan import ApplyOptions

    keep = {str(p.path.resolve()) for p in lfw_photos(data, False, "heldout")
            + hires_photos(data, False) if split_of(p.person) == "heldout"}
    sources = Sources(split="all", detector=m.detector)
    sources.items = [s for s in sources.items if str((sources.root / s.path).resolve()) in keep]
    sources.kinds = {k: [s for s in sources.items if s.kind == k] for k in ("lfw", "hires")}
    try:
        rng = np.random.default_rng([seed, 2400])
        image, _ = background(rng, (1600, 2400), sources)
        plan = [FacePlan(w, float(rng.uniform(-10, 10)), False) for w in SCENE_WIDTHS[::-1]]
        paste_faces(rng, image, plan, sources, tries=400)
    finally:
        sources.close()
    faces = m.detect(image)
    r = m.apply(image, ApplyOptions(seed=seed), faces=faces)
    overview = cv2.resize(r.image, (1200, 800), interpolation=cv2.INTER_AREA)
    tiles = []
    for f in sorted(r.faces, key=lambda f: f.box[2] - f.box[0]):
        if f.blended:
            tiles.append(face_tile(image, r.image, f, [describe(m.scorer, image, r.image, f,
                                                                faces[f.index])], zoom=2))
        else:
            print(f"face {f.index} ({f.box[2] - f.box[0]:.0f} px) not blended: {f.note}")
    head = np.vstack([overview, caption(1200, ["the scene after, shrunk to half; below: each "
                                               "face's mouth area before|after at 2x "
                                               "nearest-neighbour"])])
    credit = f"{LFW_CREDIT}; {HIRES_CREDIT}"
    _save(out / "field_scene.jpg", _stack(head, layout(tiles, 4, credit)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "img")
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--n", type=int, default=3, help="studio photos (rows) on field_hires.jpg; "
                    "twice as many LFW faces on field_lfw_up.jpg")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--sheets", nargs="+", default=["hires", "lfw_up", "scene"],
                    choices=["hires", "lfw_up", "scene"])
    args = ap.parse_args()
    if not args.data.is_dir():
        raise SystemExit(f"no photos at {args.data} (see ../shared/data/README.md)")
    from mustache.paint.gan import Mustacher

    with Mustacher() as m:
        if "hires" in args.sheets:
            hires_sheet(m, args.data, args.out, args.n, args.seed)
        if "lfw_up" in args.sheets:
            lfw_up_sheet(m, args.data, args.out, args.n, args.seed)
        if "scene" in args.sheets:
            scene_sheet(m, args.data, args.out, args.seed)


if __name__ == "__main__":
    main()
