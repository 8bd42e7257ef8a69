"""Time the hair stage alone (``mustache.strands.hair.render``), this tree's beside a git revision's,
on the same faces in one run: the astronaut at 1024 and 4000 px (upscaled) and smaller faces,
the GAN-like guide of ``tests/strands/test_hair.py``. Prints ms (median) and the ratio.
Only ``hair.py`` is taken from the revision; the modules it imports are this tree's, so an old
revision runs only while their signatures still fit it. ``--against flat`` times this tree's
stage with hairs grown in the flat face frame (``HairConfig(on_canvas=False)``) instead.

    .venv/bin/python benchmarks/hair.py [--against 21401da | --against flat] [--repeats 7]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from benchmarks.machine import cpu_name  # noqa: E402


def _module_at(rev: str, tmp: Path):
    """The hair stage's module as it was at ``rev`` (``mustache/strands/hair.py``, before the
    rooms ``mustache/hair.py``), imported as its own module."""
    for where in ("mustache/strands/hair.py", "mustache/hair.py"):
        shown = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:{where}"],
                               capture_output=True, text=True)
        if shown.returncode == 0:
            break
    shown.check_returncode()
    src = shown.stdout
    path = tmp / f"hair_{rev}.py"
    path.write_text(src)
    spec = importlib.util.spec_from_file_location(f"hair_{rev}", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up there
    # stages from before the rooms import the colour module by its old name
    sys.modules.setdefault("mustache.haircolor",
                           importlib.import_module("mustache.strands.haircolor"))
    spec.loader.exec_module(mod)
    return mod


def _faces() -> dict[str, tuple]:
    """name -> (photo box, change, support, landmarks in box px) of the astronaut's face."""
    import cv2
    from skimage import data

    from data_prep.landmarks import MediaPipeDetector
    from data_prep.region import polygon_mask, region_polygon

    a = data.astronaut()
    with MediaPipeDetector() as d:
        xy = d.detect(a)[0].points[:, :2].astype(np.float64)
    out = {}
    for name, side in (("512 (face 92 px)", 512), ("1024 (face 185 px)", 1024),
                       ("4000 (face 720 px)", 4000)):
        k = side / 512
        img = cv2.resize(a, (side, side), interpolation=cv2.INTER_CUBIC) if k != 1 else a
        p = xy * k
        poly = region_polygon(p)
        e = np.linalg.norm(p[263] - p[33])
        x0, y0 = np.floor(poly.min(0) - 0.1 * e).astype(int)
        x1, y1 = np.ceil(poly.max(0) + 0.1 * e).astype(int)
        support = polygon_mask(poly - [x0, y0], (y1 - y0, x1 - x0), feather=0.03 * e)
        core = cv2.GaussianBlur(support, (0, 0), 0.05 * e)
        change = np.repeat(-40 * core[..., None], 3, axis=2).astype(np.float32)
        out[name] = (img[y0:y1, x0:x1], change, support, p - [x0, y0])
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--against", default="flat",
                    help="git revision to compare with, or 'flat' (this tree, flat growth)")
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    from mustache.strands import hair
    from mustache.strands.haircolor import named_colour

    colour = named_colour("brown")
    print(f"machine: {os.cpu_count()} cores ({cpu_name()}); hair stage, ms (median of "
          f"{args.repeats}), this tree vs {args.against}")
    with tempfile.TemporaryDirectory() as tmp:
        if args.against == "flat":
            import functools
            import types

            flat = hair.HairConfig(on_canvas=False)
            old = types.SimpleNamespace(render=functools.partial(hair.render, config=flat))
        else:
            old = _module_at(args.against, Path(tmp))
        for name, (photo, change, support, lm) in _faces().items():
            times = {}
            for mod in (hair, old):
                mod.render(photo, change, support, lm, colour, seed=0)  # warm-up
            runs = {"now": [], args.against: []}
            for i in range(args.repeats):  # interleaved: load drifts hit both alike
                for label, mod in (("now", hair), (args.against, old)):
                    s = time.perf_counter()
                    r = mod.render(photo, change, support, lm, colour, seed=i)
                    runs[label].append(1000 * (time.perf_counter() - s))
                    times[label] = r.strands
            now, was = (statistics.median(runs[k]) for k in ("now", args.against))
            print(f"{name:20s} now {now:6.1f} ms ({times['now']} hairs)   {args.against} "
                  f"{was:6.1f} ms ({times[args.against]} hairs)   x{now / was:.2f}")


if __name__ == "__main__":
    main()
