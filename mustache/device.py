"""Resolve the compute device once, and the CUDA-only speed settings that go with it."""

from __future__ import annotations

import contextlib

import torch


def resolve_device(name: str = "auto") -> torch.device:
    """'auto' -> cuda when available, else cpu; 'cpu', 'cuda', 'cuda:1' as given. Raises
    :class:`mustache.errors.BadInput` naming the device when it is unknown or absent."""
    from mustache.errors import BadInput

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(name)
    except RuntimeError:  # torch's message lists every backend it knows; ours, the useful ones
        raise BadInput(f"--device {name}: unknown device (use auto, cpu, cuda or cuda:N)") from None
    if dev.type not in ("cpu", "cuda"):
        raise BadInput(f"--device {name}: not supported (use auto, cpu, cuda or cuda:N)")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise BadInput(f"--device {name}: no CUDA GPU is available")
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        raise BadInput(f"--device {name}: there are only {torch.cuda.device_count()} CUDA GPUs")
    return dev


def autocast(device: torch.device):
    """bf16 autocast on CUDA; nothing on the CPU (bf16 there is slower and less exact)."""
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def memory_format(device: torch.device) -> torch.memory_format:
    """channels_last on CUDA (tensor cores want NHWC); contiguous on the CPU."""
    return torch.channels_last if device.type == "cuda" else torch.contiguous_format
