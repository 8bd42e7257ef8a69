"""The generator: a U-Net that paints the mustache region of a window for a requested label.

Inputs (float, NCHW): the window in [-1, 1] (its region is masked out here, so the generator
never sees what was there), the soft region mask in [0, 1], the label (0 clean, 1 mustache)
and a noise vector, so one face can get different mustaches. The label and noise reach every
decoder level through FiLM (a per-channel scale and shift), so the decoder cannot ignore them.
The output is composited with the mask: only the region changes.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class GeneratorConfig:
    size: int = 128  # window side, pixels; a multiple of 2**depth
    base: int = 32  # channels of the first level; doubled each level
    max_channels: int = 256  # channel cap
    depth: int = 5  # downsamplings (128 -> 4)
    noise_dim: int = 16  # length of the noise vector
    embed_dim: int = 64  # label + noise embedding fed to FiLM
    dropout: float = 0.0  # decoder dropout (pix2pix's noise source; off: we have noise)

    def __post_init__(self):
        if self.size % (2 ** self.depth):
            raise ValueError(f"size {self.size} is not a multiple of 2**depth = {2 ** self.depth}")


def _ch(config: GeneratorConfig, level: int) -> int:
    return min(config.base * 2 ** level, config.max_channels)


class _Down(nn.Module):
    def __init__(self, cin: int, cout: int, norm: bool = True):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 4, 2, 1)
        self.norm = nn.GroupNorm(min(8, cout // 4), cout) if norm else nn.Identity()

    def forward(self, x):
        return F.leaky_relu(self.norm(self.conv(x)), 0.2)


class _Up(nn.Module):
    """Nearest upsampling + 3x3 conv (no checkerboard), then FiLM from the embedding."""

    def __init__(self, cin: int, cout: int, embed_dim: int, dropout: float, double: bool = True):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, 1, 1)
        # at full resolution one conv is enough and a second would cost half of the network
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1) if double else nn.Identity()
        self.norm = nn.GroupNorm(min(8, cout // 4), cout, affine=False)
        self.film = nn.Linear(embed_dim, 2 * cout)
        self.drop = nn.Dropout(dropout) if dropout > 0 else nn.Identity()

    def forward(self, x, e):
        x = F.interpolate(x, scale_factor=2.0, mode="nearest")
        x = F.leaky_relu(self.conv(x), 0.2)
        gamma, beta = self.film(e)[:, :, None, None].chunk(2, dim=1)
        x = self.norm(self.conv2(x)) * (1 + gamma) + beta
        return self.drop(F.leaky_relu(x, 0.2))


class Generator(nn.Module):
    def __init__(self, config: GeneratorConfig = GeneratorConfig()):
        super().__init__()
        self.config = c = config
        self.label_embed = nn.Embedding(2, c.embed_dim)
        self.mix = nn.Sequential(nn.Linear(c.embed_dim + c.noise_dim, c.embed_dim), nn.SiLU(),
                                 nn.Linear(c.embed_dim, c.embed_dim))
        # input: masked window (3) + mask (1) + label plane (1)
        self.downs = nn.ModuleList(
            [_Down(5, _ch(c, 0), norm=False)]
            + [_Down(_ch(c, i - 1), _ch(c, i)) for i in range(1, c.depth)])
        self.ups = nn.ModuleList()
        for i in reversed(range(c.depth)):
            cin = _ch(c, i) if i == c.depth - 1 else 2 * _ch(c, i)  # skip concatenated
            cout = _ch(c, i - 1) if i > 0 else c.base // 2
            self.ups.append(_Up(cin, cout, c.embed_dim, c.dropout if i >= c.depth - 3 else 0.0,
                                double=i > 0))
        self.out = nn.Conv2d(c.base // 2 + 5, 3, 3, 1, 1)
        _init_weights(self)

    def embed(self, label: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        return self.mix(torch.cat([self.label_embed(label), noise], dim=1))

    def forward(self, window: torch.Tensor, mask: torch.Tensor, label: torch.Tensor,
                noise: torch.Tensor | None = None) -> torch.Tensor:
        """window (N, 3, S, S) in [-1, 1]; mask (N, 1, S, S) in [0, 1]; label (N,) int64;
        noise (N, noise_dim) or None (zeros: the mean mustache) -> (N, 3, S, S) in [-1, 1],
        equal to ``window`` wherever ``mask`` is 0."""
        n, _, s, _ = window.shape
        c = self.config
        if window.shape[1:] != (3, c.size, c.size):
            raise ValueError(f"window must be (N, 3, {c.size}, {c.size}), got {tuple(window.shape)}")
        if mask.shape != (n, 1, s, s):
            raise ValueError(f"mask must be ({n}, 1, {s}, {s}), got {tuple(mask.shape)}")
        if label.shape != (n,):
            raise ValueError(f"label must be ({n},), got {tuple(label.shape)}")
        if noise is None:
            noise = window.new_zeros(n, c.noise_dim)
        e = self.embed(label.long(), noise.to(window.dtype))
        plane = (label.to(window.dtype) * 2 - 1)[:, None, None, None].expand(n, 1, s, s)
        x0 = torch.cat([window * (1 - mask), mask, plane], dim=1)
        skips, x = [], x0
        for down in self.downs:
            x = down(x)
            skips.append(x)
        skips.pop()
        for up in self.ups:
            x = up(x, e)
            if skips:
                x = torch.cat([x, skips.pop()], dim=1)
        painted = torch.tanh(self.out(torch.cat([x, x0], dim=1)))
        return window * (1 - mask) + painted * mask


def _init_weights(module: nn.Module) -> None:
    """pix2pix's N(0, 0.02) for convolutions; FiLM starts as the identity."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.normal_(m.weight, 0.0, 0.02)
            nn.init.zeros_(m.bias)
    for m in module.modules():
        if isinstance(m, _Up):
            nn.init.zeros_(m.film.weight)
            nn.init.zeros_(m.film.bias)
