"""The mustache-ness classifier: a small CNN over the mustache window -> one logit.

Input: the window, float NCHW in [-1, 1], (N, 3, S, S); with ``use_mask`` the soft region mask
(N, 1, S, S) in [0, 1] rides along as a 4th channel. Output: (N,) logits, mustache > 0.
``features`` is the pooled embedding before the last layer, used for KID.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class ClassifierConfig:
    size: int = 128  # window side, pixels
    downsample: int = 2  # average-pool the input first: windows hold ~2x the photo's detail
    widths: tuple[int, ...] = (24, 48, 96, 128)  # channels per stage; each halves the side
    use_mask: bool = False  # feed the region mask as a 4th input channel
    dropout: float = 0.2  # before the last layer

    def __post_init__(self):
        step = self.downsample * 2 ** len(self.widths)
        if self.size % step:
            raise ValueError(f"size {self.size} is not a multiple of {step} (downsample * 2**stages)")

    @property
    def feature_dim(self) -> int:
        return self.widths[-1]


def _stage(cin: int, cout: int) -> nn.Sequential:
    # a strided conv then a plain one: cheap enough to train on a CPU in minutes
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, 2, 1, bias=False), nn.BatchNorm2d(cout), nn.SiLU(inplace=True),
        nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout), nn.SiLU(inplace=True))


class Classifier(nn.Module):
    def __init__(self, config: ClassifierConfig = ClassifierConfig()):
        super().__init__()
        self.config = c = config
        cin = 4 if c.use_mask else 3
        stages = []
        for w in c.widths:
            stages.append(_stage(cin, w))
            cin = w
        self.body = nn.Sequential(*stages)
        self.head = nn.Sequential(nn.Dropout(c.dropout), nn.Linear(c.feature_dim, 1))

    def _input(self, window: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        c = self.config
        if window.ndim != 4 or window.shape[1:] != (3, c.size, c.size):
            raise ValueError(f"window must be (N, 3, {c.size}, {c.size}), got {tuple(window.shape)}")
        if not c.use_mask:
            return window
        n = window.shape[0]
        if mask is None or mask.shape != (n, 1, c.size, c.size):
            got = None if mask is None else tuple(mask.shape)
            raise ValueError(f"this classifier needs mask (N, 1, {c.size}, {c.size}), got {got}")
        return torch.cat([window, mask * 2 - 1], dim=1)

    def features(self, window: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """window (N, 3, S, S) in [-1, 1], mask (N, 1, S, S) or None -> (N, feature_dim)."""
        x = self._input(window, mask)
        if self.config.downsample > 1:
            x = F.avg_pool2d(x, self.config.downsample)
        x = self.body(x)
        return F.adaptive_avg_pool2d(x, 1).flatten(1)

    def forward(self, window: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """window (N, 3, S, S) in [-1, 1], mask (N, 1, S, S) or None -> (N,) logits."""
        return self.head(self.features(window, mask)).squeeze(1)
