"""Exponential moving average of a network's weights, the copy used for samples and shipped."""

from __future__ import annotations

import copy

import torch
from torch import nn


def make_ema(net: nn.Module) -> nn.Module:
    """A frozen eval-mode copy of ``net`` (unwrap DDP / torch.compile first)."""
    return copy.deepcopy(net).eval().requires_grad_(False)


@torch.no_grad()
def update_ema(ema: nn.Module, net: nn.Module, step: int, beta: float) -> None:
    """ema <- beta * ema + (1 - beta) * net. Early on the average is shorter (beta ramps up as
    (1 + step) / (10 + step)), so the first samples do not show the random init."""
    beta = min(beta, (1 + step) / (10 + step))
    for e, p in zip(ema.parameters(), net.parameters(), strict=True):
        e.lerp_(p.detach().to(e.dtype), 1 - beta)
    for e, b in zip(ema.buffers(), net.buffers(), strict=True):
        e.copy_(b)
