"""`mustache apply photo.jpg` wall time, start-up included: this tree beside a git revision's,
run alternately (A, B, A, B, ...) so that other jobs on the machine slow both alike.

The photo is skimage's astronaut at 1024x1024 (1 MP, one face), written as a JPEG. The revision
is unpacked with ``git archive`` into a temporary folder and run from there with the same
Python (its own mustache/ and data_prep/ shadow this tree's).

    .venv/bin/python benchmarks/startup.py [--against bffb809] [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.machine import cpu_name  # noqa: E402


def _photo(path: Path) -> None:
    import cv2
    from skimage import data

    a = cv2.resize(data.astronaut(), (1024, 1024), interpolation=cv2.INTER_CUBIC)
    cv2.imwrite(str(path), cv2.cvtColor(a, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 92])


def _unpack(rev: str, dst: Path) -> None:
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "mustache", "data_prep"],
                             check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dst)], input=archive, check=True)


def _wall(tree: Path, photo: Path, out: Path) -> float:
    t = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "mustache.cli", "apply", str(photo), "-o", str(out)],
                       cwd=tree, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if r.returncode != 0:
        raise SystemExit(f"{tree}: mustache apply failed:\n{r.stderr[-2000:]}")
    return wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--against", default="bffb809", help="git revision to compare with")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores "
          f"({cpu_name()}), load {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        photo = tmp / "photo.jpg"
        _photo(photo)
        old = tmp / "old"
        old.mkdir()
        _unpack(args.against, old)
        trees = {"this tree": ROOT, args.against: old}
        times: dict[str, list[float]] = {k: [] for k in trees}
        for tree in trees.values():  # warm the file cache; not counted
            _wall(tree, photo, tmp / "out.jpg")
        for _ in range(args.repeats):
            for name, tree in trees.items():
                times[name].append(_wall(tree, photo, tmp / "out.jpg"))
    print(f"`mustache apply photo.jpg`, 1024x1024 JPEG, one face; wall s, median of "
          f"{args.repeats} (min-max)")
    base = statistics.median(times[args.against])
    for name, ts in times.items():
        m = statistics.median(ts)
        print(f"  {name:12s} {m:5.2f} s  ({min(ts):.2f}-{max(ts):.2f})  {m / base:.2f}x of "
              f"{args.against}")


if __name__ == "__main__":
    main()
