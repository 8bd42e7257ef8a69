"""torchrun support: who am I, and the few collectives the training loop needs.

Without torchrun (no WORLD_SIZE in the environment) everything is a no-op for one process.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class Dist:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        """Only the main process writes files and prints."""
        return self.rank == 0


def init(device_name: str) -> Dist:
    """Join the torchrun process group (NCCL for CUDA, gloo for the CPU) when there is one."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Dist()
    local = int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = device_name != "cpu" and torch.cuda.is_available()
    if use_cuda:
        torch.cuda.set_device(local)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if use_cuda else "gloo")
    return Dist(dist.get_rank(), dist.get_world_size(), local)


def close(d: Dist) -> None:
    if d.world > 1 and dist.is_initialized():
        # every rank done before any tears gloo down: a rank that destroyed its group while a
        # peer's last collective was in flight aborted that peer ("terminate called without
        # an active exception", seen once in 3 runs under load)
        dist.barrier()
        dist.destroy_process_group()


def mean(x: torch.Tensor, d: Dist) -> torch.Tensor:
    """The mean of a tensor over ranks (for logging)."""
    if d.world > 1:
        x = x.clone()
        dist.all_reduce(x)
        x /= d.world
    return x


def gather_floats(values: list[float], d: Dist, device: torch.device) -> list[list[float]]:
    """Every rank's list of floats, on every rank."""
    t = torch.tensor(values, dtype=torch.float64, device=device)
    if d.world == 1:
        return [t.tolist()]
    out = [torch.empty_like(t) for _ in range(d.world)]
    dist.all_gather(out, t)
    return [o.tolist() for o in out]


def any_flag(flag: bool, d: Dist, device: torch.device) -> bool:
    """True on every rank when ``flag`` is true on any (so all ranks stop together)."""
    if d.world == 1:
        return flag
    t = torch.tensor([float(flag)], device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())
