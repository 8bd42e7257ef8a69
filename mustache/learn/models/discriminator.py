"""The discriminator: a conditional PatchGAN over the mustache window.

It sees the window (float NCHW in [-1, 1]) with the region mask as a 4th channel, so it knows
where to look, and answers two questions:

- per patch (~70 px receptive field, pix2pix's 3-layer PatchGAN): is this real for the label?
  A projection term (Miyato & Koyama 2018) makes the patch logits label-conditional: a clean
  lip asked to be a mustache is fake even if it looks like a real clean lip.
- for the whole region: mustache or clean? An auxiliary classifier head (AC-GAN) over the
  mask-weighted mean of the last features, trained on real windows only; the generator is
  trained to make its fakes land on the requested side.

Every weight layer has spectral norm, which keeps the hinge-loss game stable without tuning.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm


@dataclass(frozen=True)
class DiscriminatorConfig:
    size: int = 128  # window side, pixels
    base: int = 32  # channels of the first layer; doubled each layer
    max_channels: int = 256  # channel cap
    layers: int = 3  # stride-2 layers; 3 + two stride-1 layers = 70 px receptive field


def _ch(config: DiscriminatorConfig, i: int) -> int:
    return min(config.base * 2 ** i, config.max_channels)


def receptive_field(config: DiscriminatorConfig) -> int:
    """Side, in pixels, of the input patch one output logit sees."""
    rf = 1
    for _ in range(2):  # the two stride-1 4x4 convs at the end
        rf += 3
    for _ in range(config.layers):
        rf = 2 * rf + 2  # a 4x4 stride-2 conv
    return rf


class Discriminator(nn.Module):
    def __init__(self, config: DiscriminatorConfig = DiscriminatorConfig()):
        super().__init__()
        self.config = c = config
        convs, cin = [], 4  # window (3) + mask (1)
        for i in range(c.layers):
            convs.append(spectral_norm(nn.Conv2d(cin, _ch(c, i), 4, 2, 1)))
            cin = _ch(c, i)
        convs.append(spectral_norm(nn.Conv2d(cin, _ch(c, c.layers), 4, 1, 1)))
        self.convs = nn.ModuleList(convs)
        feat = _ch(c, c.layers)
        self.patch = spectral_norm(nn.Conv2d(feat, 1, 4, 1, 1))
        self.embed = spectral_norm(nn.Embedding(2, feat))
        self.classify = spectral_norm(nn.Linear(feat, 1))

    def forward(self, window: torch.Tensor, mask: torch.Tensor, label: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """window (N, 3, S, S) in [-1, 1]; mask (N, 1, S, S) in [0, 1]; label (N,) int64, the
        label the window claims -> (patch logits (N, 1, P, P), class logits (N,), > 0 for
        mustache). P = S / 2**layers - 2 (14 for 128 px)."""
        n = window.shape[0]
        c = self.config
        if window.shape[1:] != (3, c.size, c.size):
            raise ValueError(f"window must be (N, 3, {c.size}, {c.size}), got {tuple(window.shape)}")
        if mask.shape != (n, 1, c.size, c.size):
            raise ValueError(f"mask must be ({n}, 1, {c.size}, {c.size}), got {tuple(mask.shape)}")
        if label.shape != (n,):
            raise ValueError(f"label must be ({n},), got {tuple(label.shape)}")
        x = torch.cat([window, mask.to(window.dtype)], dim=1)
        for conv in self.convs:
            x = F.leaky_relu(conv(x), 0.2)
        e = self.embed(label.long())[:, :, None, None].to(x.dtype)
        # projection: features . embedding(label), pooled 2x2 to land on the patch grid
        patch = self.patch(x) + F.avg_pool2d((x * e).sum(dim=1, keepdim=True), 2, 1)
        # classify the region only: the mask, shrunk to the feature grid, weights the mean
        w = F.adaptive_avg_pool2d(mask.to(x.dtype), x.shape[-2:])
        pooled = (x * w).sum(dim=(2, 3)) / w.sum(dim=(2, 3)).clamp_min(1e-6)
        return patch, self.classify(pooled).squeeze(1)

    def patch_weight(self, mask: torch.Tensor, grid: int) -> torch.Tensor:
        """(N, 1, S, S) mask -> (N, 1, grid, grid) weights: patches that see part of the region.
        Patches far from it see identical pixels in real and fake windows and teach nothing."""
        return F.adaptive_max_pool2d(mask, grid)
