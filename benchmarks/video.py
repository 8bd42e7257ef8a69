"""Time `mustache apply` on videos: frames a second by resolution and number of faces, decoding
and encoding included (the same `transcode` the command runs).

Clips are the astronaut (tests/video/clips.py: upscaled, moving, turning and zooming) at 480p, 720p
and 1080p, one face or two side by side, 96 frames at 24 fps. Each face is painted once, when
its track begins (0.3-1 s): the table gives the steady rate (the painting left out) and the
whole run's. Model load is excluded.

    .venv/bin/python benchmarks/video.py [--frames 96] [--threads N] [--sizes 720p] [--faces 1]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "video"))  # clips.py: the composed test clips

import numpy as np  # noqa: E402

from benchmarks.machine import cpu_name  # noqa: E402

SIZES = {"480p": (854, 480), "720p": (1280, 720), "1080p": (1920, 1080)}


class Timed:
    """An engine that counts the seconds spent painting."""

    def __init__(self, engine):
        self.engine, self.seconds = engine, 0.0

    def apply(self, image, options, faces=None):
        t = time.perf_counter()
        try:
            return self.engine.apply(image, options, faces=faces)
        finally:
            self.seconds += time.perf_counter() - t


def clip(path: Path, size: tuple[int, int], faces: int, n: int) -> Path:
    import cv2
    from clips import frames_of, portrait, write_clip

    src = portrait()
    w, h = size
    if faces == 1:
        # the face about 40% of the frame's height, as in a video call
        k = 0.4 * h / (0.8 * 3 * 93 * 1.3)
        frames = frames_of(cv2.resize(src, None, fx=k, fy=k), n, size,
                           centre=(675 * k, 370 * k))
    else:
        half = (w // 2, h)
        k = 0.3 * h / (0.8 * 3 * 93)
        small = cv2.resize(src, None, fx=k, fy=k)
        frames = (np.hstack([a, b[:, ::-1]]) for a, b in zip(
            frames_of(small, n, half, centre=(675 * k, 370 * k)),
            frames_of(small, n, half, centre=(675 * k, 370 * k), still=True), strict=True))
    return write_clip(path, frames, crf=20)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--frames", type=int, default=96)
    ap.add_argument("--threads", type=int, default=None, help="torch threads")
    ap.add_argument("--sizes", nargs="+", default=list(SIZES), choices=list(SIZES))
    ap.add_argument("--faces", nargs="+", type=int, default=[1, 2], choices=[1, 2])
    args = ap.parse_args()
    import torch

    from mustache.paint.gan import ApplyOptions, Mustacher
    from mustache.video.codec import transcode
    from mustache.video.stream import VideoMustacher

    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"# {cpu_name()} ({os.cpu_count()} cores), Python {platform.python_version()}, "
          f"{args.frames} frames a clip, decoding and encoding included")
    print(f"{'clip':>8} {'faces':>5} {'steady f/s':>10} {'whole f/s':>9} {'painting s':>10}")
    with Mustacher(device="cpu") as m, tempfile.TemporaryDirectory() as tmp:
        for name in args.sizes:
            size = SIZES[name]
            for faces in args.faces:
                src = clip(Path(tmp) / f"{name}-{faces}.mp4", size, faces, args.frames)
                engine = Timed(m)
                video = VideoMustacher(engine, ApplyOptions(), rate=24.0)
                t = time.perf_counter()
                _, n = transcode(src, Path(tmp) / "out.mp4", video.process, progress=False)
                wall = time.perf_counter() - t
                video.close()
                painted = sum(f["blended"] for f in video.report())
                steady = n / max(wall - engine.seconds, 1e-9)
                print(f"{name:>8} {painted:>2}/{faces:<2} {steady:>10.1f} {n / wall:>9.1f} "
                      f"{engine.seconds:>10.2f}", flush=True)


if __name__ == "__main__":
    main()
