"""Time `mustache apply` on the CPU: ms per photo, split into landmarks, the existing-mustache
check (the classifier), generator, warp, the hair colour (facial hair, brows, head hair), the
hair stage, and blend.

Photos are the astronaut (one face) at 512, 1024 and 4000 px (upscaled; and a 4000 px canvas
with the 2048 px astronaut padded in), and a tiled photo with several faces. Model load and
the first (warm-up) call are excluded. Uses mustache/weights/default.pt when it exists (run by
its ONNX export on OpenCV, as `apply` runs it), else an untrained generator of the "default"
preset's size (same cost, on torch); ``--model`` another checkpoint. ``--threads`` and
``--unfolded`` are torch's: with either, the generator runs on torch.

    .venv/bin/python benchmarks/apply.py [--repeats 5] [--model CKPT] [--threads N] [--unfolded]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from benchmarks.machine import cpu_name  # noqa: E402


def _model(tmp: Path) -> tuple[Path, str]:
    from mustache.paint.gan import DEFAULT_MODEL

    if DEFAULT_MODEL.is_file():
        return DEFAULT_MODEL, "shipped default weights"
    from data_prep.build import PrepConfig
    from mustache.learn import checkpoint
    from mustache.learn.models.generator import Generator
    from mustache.learn.presets import get

    cfg, what = get("default").generator, 'untrained "default" preset generator'
    path = tmp / "g.pt"
    checkpoint.save(path, {"kind": "mustache-gan", "version": 1, "generator_config": asdict(cfg),
                           "generator_ema": Generator(cfg).state_dict(),
                           "prep_config": asdict(PrepConfig())})
    return path, what


def _photos() -> dict[str, np.ndarray]:
    import cv2
    from skimage import data

    a = data.astronaut()
    up = lambda s: cv2.resize(a, (s, s), interpolation=cv2.INTER_CUBIC)  # noqa: E731
    pad = np.zeros((4000, 4000, 3), np.uint8)
    pad[976:3024, 976:3024] = up(2048)
    return {"512 (1 face)": a, "1024 (1 face)": up(1024), "4000 (1 face, upscaled)": up(4000),
            "4000 (1 face, 2048 padded)": pad,
            "1536x1024 (5 faces, tiled)": _five(a),
            }


def _five(a: np.ndarray) -> np.ndarray:
    """A 3x2 grid of the astronaut with one tile left blank: five faces."""
    grid = np.tile(a, (2, 3, 1))
    grid[512:, 1024:] = 128
    return grid


def run(m, image: np.ndarray, options) -> dict[str, float]:
    """One photo through the pipeline's stages, timed (ms): the same steps as
    ``mustache.paint.pipeline.run_faces``, one stage at a time."""
    from mustache.paint.blend import blend_patch
    from mustache.paint.pipeline import Painted, hair_colour, paint_face

    t = {}
    s = time.perf_counter()
    faces = m.detect(image)
    t["landmarks"] = time.perf_counter() - s
    s = time.perf_counter()
    if m.scorer is not None and faces:
        m.scorer.score_faces(image, faces)
    t["check"] = time.perf_counter() - s
    s = time.perf_counter()
    wins = [m.window(image, f.points) for f in faces]
    t["warp"] = time.perf_counter() - s
    s = time.perf_counter()
    deltas = m.generate(wins, options) if wins else []
    t["generator"] = time.perf_counter() - s
    s = time.perf_counter()
    painted = [m.unwarp_change(image.shape[:2], w[0], d) for w, d in zip(wins, deltas, strict=True)]
    t["warp"] += time.perf_counter() - s
    # the hair colour (the person's facial hair, brows, head hair) timed on its own, then
    # handed to the pipeline's own per-face step (mustache.paint.pipeline.paint_face) as the
    # painter's colour, so "hair" is the hair stage alone
    s = time.perf_counter()
    colours = [hair_colour(image, f.points, Painted(box, change, support), options, m.segmenter)
               if box is not None else None
               for f, (change, support, box) in zip(faces, painted, strict=True)]
    t["colour"] = time.perf_counter() - s
    s = time.perf_counter()
    patches = []
    for i, (f, (change, support, box)) in enumerate(zip(faces, painted, strict=True)):
        if box is not None:
            patch, alpha, _, _ = paint_face(image, f.points,
                                            Painted(box, change, support, colours[i]),
                                            options, i, m.hair)
            patches.append((patch, alpha, box))
    t["hair"] = time.perf_counter() - s
    s = time.perf_counter()
    out = image.copy()
    for patch, mask, box in patches:
        out = blend_patch(out, patch, mask, box, clone=options.clone, out=out)
    t["blend"] = time.perf_counter() - s
    t = {k: v * 1000 for k, v in t.items()}
    t["total"] = sum(t.values())
    t["faces"] = len(faces)
    return t


def _timed(fn, *args) -> float:
    s = time.perf_counter()
    fn(*args)
    return 1000 * (time.perf_counter() - s)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    ap.add_argument("--unfolded", action="store_true",
                    help="also time the generator with its plain upsample + conv decoder")
    ap.add_argument("--model", type=Path, default=None,
                    help="a GAN checkpoint (default: the shipped one); a canvas window's cut "
                         "and warp back through the mesh show in the window and warp columns")
    args = ap.parse_args()
    from mustache.paint.gan import ApplyOptions, Mustacher

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores "
          f"({cpu_name()})")
    with tempfile.TemporaryDirectory() as tmp:
        path, what = (args.model, str(args.model)) if args.model else _model(Path(tmp))
        if args.threads or args.unfolded:  # torch's knobs: a copy without its ONNX export
            import shutil

            import torch

            if args.threads:
                torch.set_num_threads(args.threads)
            path = Path(shutil.copy(path, Path(tmp) / "torch.pt")) if Path(path).is_file() \
                else path
            what += f" (torch {torch.__version__}, {torch.get_num_threads()} threads)"
        print(f"model: {what}")
        from data_prep.landmarks import DetectorConfig, MediaPipeDetector

        # the face search's reach sets its cost: the default (faces from 40 px) beside the
        # quick pass alone (a reach of 160 px: at 1024 px only the mesh's own pass runs), and
        # the default search (every view of the pyramid, full-range) beside the cascade
        with Mustacher(path, "cpu") as m, MediaPipeDetector(DetectorConfig(min_face=160)) as quick, \
                MediaPipeDetector(DetectorConfig(search="cascade")) as old:
            opts = ApplyOptions(seed=0)
            print(f"generator: {type(m.generator).__name__}")
            print(f"{'photo':30s} {'faces':>5s} {'landmarks':>9s} {'check':>6s} {'generator':>9s} "
                  f"{'warp':>6s} {'colour':>6s} {'hair':>6s} {'blend':>6s} {'total':>7s}  ms (median of "
                  f"{args.repeats})")
            for name, im in _photos().items():
                run(m, im, opts)  # warm-up: graph start-up, allocator, caches
                rs = [run(m, im, opts) for _ in range(args.repeats)]
                med = {k: statistics.median(r[k] for r in rs) for k in rs[0]}
                line = (f"{name:30s} {med['faces']:5.0f} {med['landmarks']:9.1f} "
                        f"{med['check']:6.1f} {med['generator']:9.1f} {med['warp']:6.1f} "
                        f"{med['colour']:6.1f} {med['hair']:6.1f} {med['blend']:6.1f} "
                        f"{med['total']:7.1f}")
                # the same run without the stages this pipeline added (the check, the colour
                # and the hair): what `apply` cost before them, on this machine, same load
                before = med["total"] - med["hair"] - med["check"] - med["colour"]
                line += f"   x{med['total'] / before:.2f} of {before:.1f} without them"
                n_quick = len(quick.detect(im))  # also the warm-up
                q = statistics.median(_timed(quick.detect, im) for _ in range(args.repeats))
                line += (f"   landmarks with --min-face 160: {q:.1f} "
                         f"({med['landmarks'] / q:.1f}x faster, {n_quick} faces)")
                n_old = len(old.detect(im))  # also the warm-up
                new_t, old_t = [], []
                for _ in range(args.repeats):  # interleaved: load drifts hit both alike
                    new_t.append(_timed(m.detect, im))
                    old_t.append(_timed(old.detect, im))
                a, b = statistics.median(new_t), statistics.median(old_t)
                line += (f"   landmarks {a:.1f} vs the cascade search {b:.1f} ({b / a:.2f}x, "
                         f"{n_old} faces)")
                if args.unfolded:  # the same photo, interleaved, so load drifts hit both alike
                    from mustache.learn.models import generator

                    folded, plain = [], []
                    for _ in range(args.repeats):
                        folded.append(run(m, im, opts)["generator"])
                        generator.FOLD_MIN_SIDE, keep = 1 << 30, generator.FOLD_MIN_SIDE
                        plain.append(run(m, im, opts)["generator"])
                        generator.FOLD_MIN_SIDE = keep
                    f, p = statistics.median(folded), statistics.median(plain)
                    line += f"   generator plain {p:.1f} vs folded {f:.1f} ({p / f:.2f}x)"
                print(line)


if __name__ == "__main__":
    main()
