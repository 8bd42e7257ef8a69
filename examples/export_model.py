"""Export a training run's latest checkpoint as a small apply-only model file.

    python examples/export_model.py runs/00001-default mustache/weights/default.pt
"""

import sys
from pathlib import Path

from mustache.learn.checkpoint import export_generator

src, dst = sys.argv[1], Path(sys.argv[2])
payload = export_generator(src, dst)
print(f"{dst}: step {payload.get('step')}, {dst.stat().st_size / 1e6:.1f} MB")
