"""Measure a face detector on synthetic scenes with known faces: every face in every photo.

Builds the held-out scene set of ``benchmarks/scenes.py`` (real faces of people no tuning saw,
pasted at 48-700 px wide, rotated up to 25 degrees, some cut by the border, into face-free
backgrounds 800-6000 px long), runs the detector on each, matches found boxes to true faces
(IoU >= 0.3, or the found box's centre inside the true box with a size within 2x; one to one,
greedy by IoU) and prints recall by face width, for border-cut and rotated faces, false faces
per scene, the time per megapixel and per scene, and three named cases (tiled astronauts, one
small face in a 4000 px photo, a crowd of 12). Scene building and model loading are not timed.

    .venv/bin/python benchmarks/detect.py [--scenes 50] [--seed 0] [--detector mediapipe|apply]
        [--min-face 40 [160 ...]] [--stress] [--split heldout|tune] [--misses] [--save DIR]

``--detector apply``: ``mustache.paint.gan.Mustacher().detect``; ``mediapipe``:
``data_prep.landmarks.MediaPipeDetector().detect`` (the same search since both share it).
``--min-face``: the search's reach; several values run side by side on the same scenes. Any object with
``detect(rgb) -> [thing with .box (x0, y0, x1, y1)]`` can be measured with :func:`measure`.
``--stress``: rotations up to 45 degrees, widths 40-900 px.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from benchmarks.machine import cpu_name  # noqa: E402
from benchmarks.scenes import Box, Scene, clip_box  # noqa: E402

BANDS = ((40, 48), (48, 100), (100, 250), (250, 700), (700, float("inf")))
MIN_IOU = 0.3
MAX_SIZE_RATIO = 2.0


# ---------------------------------------------------------------------------- matching
def iou(a: Box, b: Box) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = _area(a) + _area(b) - inter
    return inter / union if union > 0 else 0.0


def _area(b: Box) -> float:
    return max(0.0, b[2] - b[0]) * max(0.0, b[3] - b[1])


def same_face(found: Box, true: Box) -> bool:
    """IoU >= 0.3, or ``found``'s centre inside ``true`` and sizes (sqrt of areas) within 2x:
    a box drawn around the whole head, or only the inner face, still counts."""
    if iou(found, true) >= MIN_IOU:
        return True
    cx, cy = (found[0] + found[2]) / 2, (found[1] + found[3]) / 2
    if not (true[0] <= cx <= true[2] and true[1] <= cy <= true[3]):
        return False
    at, af = _area(true), _area(found)
    return at > 0 and af > 0 and 1 / MAX_SIZE_RATIO <= (af / at) ** 0.5 <= MAX_SIZE_RATIO


def match(found: list[Box], true: list[Box], shape: tuple[int, int]) -> list[int | None]:
    """For each true box, the index of the found box matched to it (or None): one to one,
    greedily by IoU. Both sides are clipped to the photo of shape (H, W) first, so a face cut
    by the border is judged by its visible part."""
    f = [clip_box(b, shape) for b in found]
    t = [clip_box(b, shape) for b in true]
    pairs = sorted(((iou(fb, tb), i, j) for i, fb in enumerate(f) for j, tb in enumerate(t)
                    if same_face(fb, tb)), reverse=True)
    out: list[int | None] = [None] * len(t)
    used = set()
    for _, i, j in pairs:
        if out[j] is None and i not in used:
            out[j] = i
            used.add(i)
    return out


# ---------------------------------------------------------------------------- running
@dataclass
class Result:
    scene: Scene
    found: list[Box]
    matched: list[int | None]  # per true face
    seconds: float

    @property
    def false(self) -> int:
        return len(self.found) - sum(m is not None for m in self.matched)


def run_scene(detector, scene: Scene) -> Result:
    """Detect on one scene (timed) and match."""
    t = time.perf_counter()
    found = [tuple(float(v) for v in f.box) for f in detector.detect(scene.image)]
    seconds = time.perf_counter() - t
    matched = match(found, [f.box for f in scene.faces], scene.image.shape[:2])
    return Result(scene, found, matched, seconds)


@dataclass
class Tally:
    hits: int = 0
    total: int = 0

    def add(self, hit: bool) -> None:
        self.hits += int(hit)
        self.total += 1

    def __str__(self) -> str:
        if not self.total:
            return f"{'-':>6s}  (no faces)"
        return f"{self.hits / self.total:6.1%}  ({self.hits}/{self.total})"


@dataclass
class Summary:
    bands: dict = field(default_factory=lambda: {b: Tally() for b in BANDS})
    all: Tally = field(default_factory=Tally)
    cut: Tally = field(default_factory=Tally)
    rot15: Tally = field(default_factory=Tally)
    rot25: Tally = field(default_factory=Tally)
    false: int = 0
    scenes: int = 0
    seconds: list = field(default_factory=list)
    megapixels: float = 0.0

    def add(self, r: Result) -> None:
        for face, m in zip(r.scene.faces, r.matched, strict=True):
            hit = m is not None
            self.all.add(hit)
            for b in BANDS:
                if b[0] <= face.width < b[1]:
                    self.bands[b].add(hit)
            if face.cut:
                self.cut.add(hit)
            if abs(face.rotation) > 15:
                self.rot15.add(hit)
            if abs(face.rotation) > 25:
                self.rot25.add(hit)
        self.false += r.false
        self.scenes += 1
        self.seconds.append(r.seconds)
        self.megapixels += r.scene.image.shape[0] * r.scene.image.shape[1] / 1e6

    def lines(self) -> list[str]:
        out = ["recall by face width (px):"]
        for (lo, hi), t in self.bands.items():
            name = f"{lo}+" if hi == float("inf") else f"{lo}-{hi}"
            out.append(f"  {name:12s} {t}")
        out += [f"  {'all':12s} {self.all}",
                f"recall, cut by the border   {self.cut}",
                f"recall, rotated > 15 deg    {self.rot15}",
                f"recall, rotated > 25 deg    {self.rot25}",
                f"false faces per scene       {self.false / max(self.scenes, 1):.2f} "
                f"({self.false} in {self.scenes} scenes)"]
        total = sum(self.seconds)
        out.append(f"time                        {1000 * total / max(self.megapixels, 1e-9):.1f} "
                   f"ms per megapixel, {1000 * total / max(self.scenes, 1):.0f} ms per scene "
                   f"(median {1000 * statistics.median(self.seconds or [0]):.0f}; "
                   f"{self.megapixels:.0f} MP in all)")
        return out


def measure(detectors: list, scenes, on_result=None) -> list[Summary]:
    """Run each of ``detectors`` (``detect(rgb) -> [.box]``) over the same ``scenes``, one
    scene at a time, so they share the machine's state (interleaved: load drifts hit all
    alike); ``on_result(i, Result)`` sees the last detector's result of each scene (the new
    search, to print misses or save pictures)."""
    out = [Summary() for _ in detectors]
    for i, scene in enumerate(scenes):
        for k, (det, s) in enumerate(zip(detectors, out, strict=True)):
            r = run_scene(det, scene)
            s.add(r)
            if on_result is not None and k == len(detectors) - 1:
                on_result(i, r)
    return out


def named_cases(detectors: list, sources) -> list[list[str]]:
    """The fixed cases (photos with 0, 1, 4 and 12 faces), one line each, per detector; each
    case runs on every detector in turn (interleaved, as the scenes are)."""
    from benchmarks.scenes import astronaut_in_canvas, crowd, empty_canvas, tiled_astronauts

    out: list[list[str]] = [[] for _ in detectors]
    for scene in (empty_canvas(), tiled_astronauts(), astronaut_in_canvas(), crowd(0, sources)):
        h, w = scene.image.shape[:2]
        n = len(scene.faces)
        for lines, detector in zip(out, detectors, strict=True):
            r = run_scene(detector, scene)
            k = sum(m is not None for m in r.matched)
            what = ("found" if k else "missed") if n == 1 else f"{k} of {n}"
            lines.append(f"  {scene.name + f' ({w}x{h})':34s} {what:8s} false {r.false}, "
                         f"{1000 * r.seconds:.0f} ms, {1000 * r.seconds / (w * h / 1e6):.0f} "
                         f"ms/MP")
    return out


# ---------------------------------------------------------------------------- output helpers


def _print_misses(i: int, r: Result) -> None:
    for face, m in zip(r.scene.faces, r.matched, strict=True):
        if m is None:
            print(f"  miss: scene {i} ({r.scene.image.shape[1]}x{r.scene.image.shape[0]}) "
                  f"width {face.width:.0f} rot {face.rotation:+.0f} "
                  f"{'cut ' if face.cut else ''}{face.source}")
    hit = {m for m in r.matched if m is not None}
    for j, b in enumerate(r.found):
        if j not in hit:
            print(f"  false: scene {i} ({r.scene.image.shape[1]}x{r.scene.image.shape[0]}) "
                  f"box {tuple(round(v) for v in b)} width {b[2] - b[0]:.0f}")


def _saver(folder: Path):
    """on_result that writes each scene (long side 1600 px) with true faces green when found,
    red when missed, false faces blue."""
    import cv2

    from data_prep.image_io import save_image

    folder.mkdir(parents=True, exist_ok=True)

    def save(i: int, r: Result) -> None:
        h, w = r.scene.image.shape[:2]
        k = min(1.0, 1600 / max(h, w))
        im = cv2.resize(r.scene.image, (round(w * k), round(h * k)), interpolation=cv2.INTER_AREA)
        hit = {m for m in r.matched if m is not None}
        boxes = [(f.box, (0, 200, 0) if m is not None else (255, 0, 0))
                 for f, m in zip(r.scene.faces, r.matched, strict=True)]
        boxes += [(b, (0, 80, 255)) for j, b in enumerate(r.found) if j not in hit]
        for b, colour in boxes:
            p = [int(round(v * k)) for v in b]
            cv2.rectangle(im, (p[0], p[1]), (p[2], p[3]), colour, 2)
        save_image(folder / f"scene_{i:03d}.jpg", im, quality=85)

    return save


def _detector(name: str, min_face: float, search: str):
    """``search``: "pyramid" or "cascade", or "cascade:short-range:0.12" (the finest level's
    model and reach)."""
    from data_prep.landmarks import DetectorConfig, MediaPipeDetector

    kind, *more = search.split(":")
    extra = {"fine_model": more[0]} if more else {}
    if len(more) > 1:
        extra["fine_reach"] = float(more[1])
    detector = MediaPipeDetector(DetectorConfig(min_face=min_face, search=kind, **extra))
    if name == "apply":
        from mustache.paint.gan import Mustacher

        return Mustacher(device="cpu", check_existing=False, detector=detector)
    return detector


def _warm_up(detector) -> None:
    """One call on a 2048 px photo with a small face: starts every graph the detector has (the
    mesh, the full-range pass, the crop mesh) so start-up is not timed."""
    from benchmarks.scenes import _astronaut

    canvas = np.full((2048, 2048, 3), 128, np.uint8)
    canvas[768:1280, 768:1280] = _astronaut()
    detector.detect(canvas)
    detector.detect(_astronaut())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenes", type=int, default=50)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--detector", choices=("mediapipe", "apply"), default="mediapipe")
    ap.add_argument("--min-face", type=float, nargs="+", default=[40.0],
                    help="the detector's reach (px); several: each on the same scenes, side by side")
    ap.add_argument("--search", nargs="+", default=["pyramid", "cascade"],
                    help="the searches to compare (DetectorConfig.search), side by side")
    ap.add_argument("--stress", action="store_true",
                    help="rotations up to 45 degrees, face widths 40-900 px")
    ap.add_argument("--split", choices=("heldout", "tune"), default="heldout",
                    help="whose faces: report on heldout; tune on tune")
    ap.add_argument("--misses", action="store_true", help="list every missed face")
    ap.add_argument("--save", type=Path, help="write each scene with its boxes drawn here")
    args = ap.parse_args()
    from benchmarks.scenes import DATA, Sources, iter_scenes

    if not (DATA / "lfw").is_dir():
        sys.exit(f"no face photos at {DATA} (needs ../shared/data with lfw/ and hires/)")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores "
          f"({cpu_name()})")
    with Sources(split=args.split) as sources:
        people = len({s.person for s in sources.items})
        print(f"detector: {args.detector}; {args.scenes} {args.split} scenes (seed {args.seed}"
              f"{', stress' if args.stress else ''}) from {len(sources.items)} photos of "
              f"{people} people")
        runs = [(m, s) for m in args.min_face for s in args.search]
        dets = [_detector(args.detector, m, s) for m, s in runs]
        try:
            for det in dets:
                _warm_up(det)
            hooks = [h for h in (_print_misses if args.misses else None,
                                 _saver(args.save) if args.save else None) if h]
            summaries = measure(dets, iter_scenes(args.scenes, args.seed, args.split, args.stress,
                                                  sources),
                                lambda i, r: [h(i, r) for h in hooks])
            print(f"faces: {summaries[0].all.total} in {summaries[0].scenes} scenes")
            base = sum(summaries[0].seconds)
            cases = named_cases(dets, sources)
            for (m, search), summary, lines in zip(runs, summaries, cases, strict=True):
                print(f"\n== {search}, min_face {m:g} px: time {sum(summary.seconds) / base:.2f}x "
                      f"the first")
                print("\n".join(summary.lines()))
                print("named cases:")
                print("\n".join(lines))
        finally:
            for det in dets:
                det.close()


if __name__ == "__main__":
    main()
