"""Prep throughput on real photos: photos per second with 1 and 2 workers, side by side.

    python benchmarks/prep.py [--photos ../shared/data/lfw/images] [--n 2000]

Prints the machine, then one row per worker count and the ratio to 1 worker. Startup
(spawning workers, loading MediaPipe) is measured separately from steady-state throughput.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.machine import cpu_name  # noqa: E402
from data_prep.build import build_dataset, list_photos  # noqa: E402


def machine() -> str:
    return f"{cpu_name()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def run(photos: Path, n: int, workers: int) -> tuple[float, float]:
    out = Path(tempfile.mkdtemp(prefix="prep-bench-"))
    try:
        small = build_dataset(photos, out / "warm", workers=workers, limit=workers * 4)
        t0 = time.perf_counter()
        s = build_dataset(photos, out / "run", workers=workers, limit=n)
        wall = time.perf_counter() - t0
        return s.processed / wall, small.seconds
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", type=Path, default=Path(__file__).resolve().parents[2] / "shared/data/lfw/images")
    ap.add_argument("--n", type=int, default=2000)
    args = ap.parse_args()
    if not args.photos.is_dir():
        raise SystemExit(f"{args.photos}: photo folder not found")
    print(f"machine: {machine()}")
    print(f"photos:  {args.n} of {len(list_photos(args.photos))} in {args.photos}")
    rows = [(w, *run(args.photos, args.n, w)) for w in (1, 2)]
    base = rows[0][1]
    print(f"{'workers':>7} {'photos/s':>9} {'vs 1':>6} {'startup s':>10}")
    for w, rate, startup in rows:
        print(f"{w:>7} {rate:>9.1f} {rate / base:>5.2f}x {startup:>10.2f}")


if __name__ == "__main__":
    main()
