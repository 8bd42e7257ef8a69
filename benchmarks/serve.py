"""How fast `mustache serve` answers: a 12-megapixel JPEG with one face, through a real HTTP
server on 127.0.0.1 (upload, decode, face search, mustache, JPEG with EXIF, the 100% crops),
then the full-resolution download. The model is loaded once, as the server does.

    python benchmarks/serve.py [--runs 7]

Prints the machine, then per photo the median round trip and its parts (the server's own
timings), and the median of repeat requests for a small answer on one kept-alive connection.
The photos are made from scikit-image's astronaut: a portrait (face ~1,000 px wide) and a wider
shot (face ~330 px) on a 4000x3000 canvas. The server is made as `mustache serve` makes it
(its socket, worker thread and arenas).
"""

from __future__ import annotations

import argparse
import io
import re
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402


def photo_12mp(face_side: int) -> bytes:
    """A 4000x3000 JPEG with EXIF: the astronaut scaled to ``face_side`` px (its face is about
    0.18 of that wide) on a textured background."""
    import cv2
    from PIL import Image
    from skimage import data

    rng = np.random.default_rng(0)
    canvas = cv2.resize(rng.integers(40, 220, (30, 40, 3), dtype=np.uint8), (4000, 3000),
                        interpolation=cv2.INTER_CUBIC)
    side = min(face_side, 3000)
    a = cv2.resize(data.astronaut(), (side, side), interpolation=cv2.INTER_CUBIC)
    y0, x0 = (3000 - side) // 2, (4000 - side) // 2
    canvas[y0:y0 + side, x0:x0 + side] = a
    exif = Image.Exif()
    exif[0x010F] = "benchmark camera"  # Make
    buf = io.BytesIO()
    Image.fromarray(canvas).save(buf, "JPEG", quality=92, exif=exif.tobytes())
    return buf.getvalue()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()

    import httpx
    import torch
    from machine import cpu_name

    from mustache.web.app import ServeConfig, create_app
    from mustache.web.jobs import limit_arenas
    from mustache.web.server import listen
    from mustache.web.server import server as make_server

    print(f"# {cpu_name()}, {torch.get_num_threads()} torch threads, mustache serve, 12 MP JPEG")
    sock = listen("127.0.0.1", 0)
    limit_arenas(2)
    t = time.perf_counter()
    app = create_app(ServeConfig())
    app.state.model.warm_up()
    print(f"model load + warm-up: {time.perf_counter() - t:.1f} s (once per server)")
    server = make_server(app)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    port = sock.getsockname()[1]
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            page = client.get("/").text
            client.headers["X-Mustache-Token"] = re.search(r'mustache-token" content="([^"]+)"', page)[1]
            repeat = []
            for _ in range(50):
                t0 = time.perf_counter()
                client.get("/api/config").raise_for_status()
                repeat.append(time.perf_counter() - t0)
            print(f"repeat requests on one connection (GET /api/config): median "
                  f"{statistics.median(repeat) * 1000:.1f} ms of 50")
            for label, side in (("portrait, face ~1,000 px", 3000), ("wider, face ~330 px", 1800)):
                body = photo_12mp(side)
                rows = []
                for _ in range(args.runs):
                    t0 = time.perf_counter()
                    r = client.post("/api/apply?seed=1&name=bench.jpg", content=body)
                    t1 = time.perf_counter()
                    r.raise_for_status()
                    j = r.json()
                    client.get(j["url"]).raise_for_status()
                    rows.append((t1 - t0, time.perf_counter() - t0, j["seconds"]))
                    assert sum(f["blended"] for f in j["faces"]) == 1, j["faces"]
                med = lambda xs: statistics.median(xs)  # noqa: E731
                parts = {k: med([r[2][k] for r in rows]) for k in rows[0][2]}
                print(f"{label}: {len(body) / 2**20:.1f} MB upload; answer {med([r[0] for r in rows]):.3f} s, "
                      f"with the full-resolution download {med([r[1] for r in rows]):.3f} s "
                      f"(median of {args.runs}; best {min(r[0] for r in rows):.3f} s)")
                print("  server parts: " + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in parts.items()))
    finally:
        server.should_exit = True
        thread.join(10)


if __name__ == "__main__":
    main()
