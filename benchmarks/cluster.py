"""Prep on Dask against plain prep: photos per second with 2 worker processes each, side by side.

    python benchmarks/cluster.py [--photos ../shared/data/lfw/images] [--n 300] [--workers 2]

Prints the machine, then one row for `build_dataset(workers=N)` (a process pool) and one for
the same photos through a LocalCluster of N workers (`mustache prep --cluster local`), and the
ratio. Each run writes a fresh dataset; "start" is the pool's or cluster's own start-up
(spawning processes, loading MediaPipe; for Dask the cluster too), which photos/s leaves out.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.machine import cpu_name  # noqa: E402
from data_prep.build import build_dataset, list_photos  # noqa: E402


def steady(warm, run) -> float:
    """Photos/s past start-up: the run less the warm-up run (start-up and one photo a worker)."""
    return (run.processed - warm.processed) / (run.seconds - warm.seconds)


def plain(photos: Path, out: Path, n: int, workers: int) -> tuple[float, float]:
    """(photos/s, start-up s); each run starts its own pool and detectors."""
    warm = build_dataset(photos, out / "warm", workers=workers, limit=workers)
    s = build_dataset(photos, out / "run", workers=workers, limit=n)
    return steady(warm, s), warm.seconds


def cluster(photos: Path, out: Path, n: int, workers: int) -> tuple[float, float]:
    from data_prep.cluster import Cluster, ClusterConfig

    t0 = time.perf_counter()
    with Cluster(ClusterConfig("local", workers)) as c:
        start = time.perf_counter() - t0
        # each run's plugin loads its detectors, as each plain run's pool does
        warm = build_dataset(photos, out / "warm", limit=workers, runner=c.prep)
        s = build_dataset(photos, out / "run", limit=n, runner=c.prep)
    return steady(warm, s), start + warm.seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", type=Path,
                    default=Path(__file__).resolve().parents[2] / "shared/data/lfw/images")
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    if not args.photos.is_dir():
        raise SystemExit(f"{args.photos}: photo folder not found")
    print(f"machine: {cpu_name()}, {os.cpu_count()} cores; load average "
          f"{os.getloadavg()[0]:.1f} at the start")
    print(f"photos:  {args.n} of {len(list_photos(args.photos))} in {args.photos}, "
          f"{args.workers} workers each")
    rows = []
    for name, fn in (("plain (process pool)", plain), ("Dask LocalCluster", cluster)):
        out = Path(tempfile.mkdtemp(prefix="cluster-bench-"))
        try:
            rows.append((name, *fn(args.photos, out, args.n, args.workers)))
        finally:
            shutil.rmtree(out, ignore_errors=True)
    print(f"{'engine':<22} {'photos/s':>9} {'vs plain':>9} {'start s':>8}")
    for name, rate, start in rows:
        print(f"{name:<22} {rate:>9.1f} {rate / rows[0][1]:>8.2f}x {start:>8.2f}")


if __name__ == "__main__":
    main()
