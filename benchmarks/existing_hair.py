"""The existing-hair check (mustache.strands.existing_hair) on held-out people: false skips of
clean-shaven faces by skin-lightness band and by LFW's predicted ethnicity, and the real
mustaches still recognised, with the classifier alone (score >= 0.5) beside it.

The faces are ``mustache.judge.fairness.shared_cases`` (chosen as ``benchmarks/hair_quality.py``
chooses them, people split by the same stable hash: ``tune`` 50% / ``heldout`` 50%). Step 1
measures every face's evidence once into a JSONL file (slow: ~0.3 s a face on a busy 2-core
CPU; resumable, and ``--part I N`` splits it over N processes); step 2 decides and tabulates
(a second), so thresholds can be tuned on the ``tune`` rows and reported on ``heldout``:

    python benchmarks/existing_hair.py measure --out out/existing_hair/rows0.jsonl --part 0 2 &
    python benchmarks/existing_hair.py measure --out out/existing_hair/rows1.jsonl --part 1 2 &
    python benchmarks/existing_hair.py report out/existing_hair/rows*.jsonl --split heldout
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: the repository's packages first
    sys.path.insert(0, str(ROOT))

DATA = ROOT.parent / "shared" / "data"


def interleaved(cases: list) -> list:
    """The cases taken in turn from each (set, real) group, so any prefix covers them all."""
    groups: dict[tuple, list] = {}
    for c in cases:
        groups.setdefault((c.set, c.real), []).append(c)
    return [c for tup in itertools.zip_longest(*groups.values()) for c in tup if c is not None]


def measure(data: Path, out: Path, per_set: int | None, part: tuple[int, int]) -> None:
    """Evidence rows of the ``part[0]``-th of every ``part[1]`` case appended to ``out``,
    resuming where it stopped."""
    from data_prep.landmarks import MediaPipeDetector
    from mustache.judge.fairness import measure_cases, shared_cases
    from mustache.learn.classify import Scorer

    done = set()
    if out.is_file():
        done = {json.loads(line)["path"] for line in out.read_text().splitlines() if line}
    out.parent.mkdir(parents=True, exist_ok=True)
    todo = [c for i, c in enumerate(interleaved(shared_cases(data, "all", per_set)))
            if i % part[1] == part[0] and str(c.path) not in done]
    t0 = time.time()
    with MediaPipeDetector() as det, Scorer() as scorer, open(out, "a") as f:
        for n, case in enumerate(todo):
            f.write(json.dumps(measure_cases([case], det, scorer)[0]) + "\n")
            if n % 100 == 0:
                f.flush()
                print(f"{n}/{len(todo)}  {time.time() - t0:.0f} s", flush=True)


def load_rows(files: list[Path], data: Path) -> list[dict]:
    """The rows of ``files``, one a photo (the last measured), keeping only current cases
    (their sex, set and ethnicity from ``shared_cases``)."""
    from mustache.judge.fairness import shared_cases

    cases = {os.path.realpath(c.path): c for c in shared_cases(data, "all")}
    rows = {}
    for f in files:
        for line in f.read_text().splitlines():
            if line.strip():
                r = json.loads(line)
                rows[os.path.realpath(r["path"])] = r
    return [dict(r, sex=cases[p].sex, set=cases[p].set, race=cases[p].race, real=cases[p].real)
            for p, r in rows.items() if p in cases]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("measure")
    m.add_argument("--data", type=Path, default=DATA)
    m.add_argument("--out", type=Path, default=ROOT / "out" / "existing_hair" / "rows.jsonl")
    m.add_argument("--per-set", type=int, default=None, help="faces per (set, class)")
    m.add_argument("--part", type=int, nargs=2, default=(0, 1), metavar=("I", "N"))
    r = sub.add_parser("report")
    r.add_argument("rows", type=Path, nargs="+")
    r.add_argument("--data", type=Path, default=DATA)
    r.add_argument("--split", default="heldout", choices=("tune", "heldout", "all"))
    r.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    if args.cmd == "measure":
        measure(args.data, args.out, args.per_set, tuple(args.part))
        return 0
    from mustache.judge.fairness import fairness_table, rows_report, to_dict

    rep = rows_report(load_rows(args.rows, args.data), args.split)
    print(f"{args.split} people:\n{fairness_table(rep)}")
    if args.json:
        args.json.write_text(json.dumps(to_dict(rep), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
