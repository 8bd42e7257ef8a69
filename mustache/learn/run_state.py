"""A training run's state on disk and in its random streams: run folders, the stats log cut
back on resume, state dicts moved to the CPU for a device-free checkpoint, and every RNG's
state saved, restored and gathered across ranks (a resumed run draws what the run would
have)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import torch


def new_run_dir(root: Path, preset: str) -> Path:
    """runs/00001-default, runs/00002-default, ...: one more than the largest number there."""
    nums = [int(p.name[:5]) for p in root.glob("[0-9][0-9][0-9][0-9][0-9]-*") if p.is_dir()]
    return root / f"{max(nums, default=0) + 1:05d}-{preset}"


def truncate_stats(path: Path, step: int) -> None:
    if not path.exists():
        return
    keep = [ln for ln in path.read_text().splitlines()
            if ln.strip() and json.loads(ln).get("step", 0) <= step]
    path.write_text("".join(ln + "\n" for ln in keep))


def cpu_state(obj):
    """A state dict (nested) with every tensor on the CPU, for a device-free checkpoint."""
    if torch.is_tensor(obj):
        return obj.detach().cpu()
    if isinstance(obj, dict):
        return {k: cpu_state(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return type(obj)(cpu_state(v) for v in obj)
    return obj


def get_rng(sampler: np.random.Generator, dev: torch.device) -> dict:
    """Every RNG state as plain lists/ints/tensors (loadable with weights_only=True)."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    version, pstate, pgauss = random.getstate()
    out = {"torch": torch.get_rng_state(),
           "numpy": [kind, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, gauss],
           "python": [version, list(pstate), pgauss],
           "sampler": json.dumps(sampler.bit_generator.state)}  # 128-bit ints: as text
    if dev.type == "cuda":
        out["cuda"] = torch.cuda.get_rng_state(dev)
    return out


def set_rng(state: dict, sampler: np.random.Generator, dev: torch.device) -> None:
    torch.set_rng_state(state["torch"])
    kind, keys, pos, has_gauss, gauss = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, gauss))
    version, pstate, pgauss = state["python"]
    random.setstate((version, tuple(pstate), pgauss))
    sampler.bit_generator.state = json.loads(state["sampler"])
    if dev.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], dev)


def gather_rng(state: dict, dist) -> list[dict]:
    """Every rank's RNG states, on rank 0 (others get [])."""
    if dist.world == 1:
        return [state]
    import torch.distributed as tdist

    out = [None] * dist.world if dist.main else None
    tdist.gather_object(cpu_state(state), out, dst=0)
    return out or []
