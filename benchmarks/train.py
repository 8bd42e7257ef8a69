"""Training throughput (img/s) of each preset, through the real training loop, on a synthetic
in-memory dataset (random windows, an elliptical region mask): CPU always, CUDA when present.

    .venv/bin/python benchmarks/train.py [--presets tiny default large] [--steps 12]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402


def fake_dataset(root: Path, n: int = 64, size: int = 128) -> Path:
    """A dataset folder in `mustache prep`'s format: half clean, half mustache, one person each."""
    import cv2

    rng = np.random.default_rng(0)
    (root / "windows").mkdir(parents=True)
    (root / "masks").mkdir()
    mask = np.zeros((size, size), np.uint8)
    cv2.ellipse(mask, (size // 2, size // 2), (size * 3 // 8, size // 6), 0, 0, 360, 255, -1)
    lines = []
    for i in range(n):
        win = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
        cv2.imwrite(str(root / "windows" / f"{i:05d}.png"), win)
        cv2.imwrite(str(root / "masks" / f"{i:05d}.png"), mask)
        lines.append(json.dumps({"id": f"{i:05d}", "source": f"p{i}.jpg", "person": f"p{i}",
                                 "label": ("clean", "mustache")[i % 2],
                                 "files": {"window": f"windows/{i:05d}.png",
                                           "mask": f"masks/{i:05d}.png"}}))
    (root / "manifest.jsonl").write_text("\n".join(lines) + "\n")
    return root


def measure(data: Path, runs: Path, preset: str, device: str, steps: int) -> float:
    from mustache.learn.train import training_loop

    run = training_loop(data=data, run_dir=runs / f"{preset}-{device}", preset=preset,
                        steps=steps, device=device, sample_every=10**9, checkpoint_every=10**9,
                        log_every=max(1, steps // 3), progress=False)
    lines = [json.loads(s) for s in (run / "stats.jsonl").read_text().splitlines()]
    speeds = [s["img_per_s"] for s in lines if "img_per_s" in s]
    return speeds[-1]  # the first interval holds warm-up (allocator, oneDNN/cuDNN autotune)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--presets", nargs="+", default=["tiny", "default", "large"])
    ap.add_argument("--steps", type=int, default=12, help="steps per measurement (CPU)")
    ap.add_argument("--cpu-large", action="store_true", help="also time 'large' on the CPU (slow)")
    ap.add_argument("--unfolded", action="store_true",
                    help="also time the generator's plain upsample + conv decoder, for the ratio")
    args = ap.parse_args()

    import torch

    from benchmarks.machine import cpu_name

    print(f"CPU: {cpu_name()}, {os.cpu_count()} cores, torch {torch.__version__}, "
          f"threads {torch.get_num_threads()}, load {os.getloadavg()[0]:.1f}")
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    if "cuda" in devices:
        print(f"CUDA: {torch.cuda.get_device_name()}")
    with tempfile.TemporaryDirectory() as tmp:
        data = fake_dataset(Path(tmp) / "data")
        for dev in devices:
            for preset in args.presets:
                if dev == "cpu" and preset == "large" and not args.cpu_large:
                    continue
                steps = args.steps if dev == "cpu" else 60
                ips = measure(data, Path(tmp) / "runs", preset, dev, steps)
                line = f"{dev:5s} {preset:8s} {ips:8.1f} img/s"
                if args.unfolded:
                    from mustache.learn.models import generator

                    folded, generator.FOLD_MIN_SIDE = generator.FOLD_MIN_SIDE, 1 << 30
                    plain = measure(data, Path(tmp) / "runs-plain", preset, dev, steps)
                    generator.FOLD_MIN_SIDE = folded
                    line += f"   plain decoder {plain:8.1f} img/s   folded/plain {ips / plain:.2f}x"
                print(line, flush=True)


if __name__ == "__main__":
    main()
