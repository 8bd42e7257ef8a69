"""Presets: named sets of model configs and training defaults, from test-sized to GPU-sized.

A preset is data, not code: the training loop reads its fields; the configs it holds are the
ones written into checkpoints, so a checkpoint never depends on a preset still existing.
"""

from __future__ import annotations

from dataclasses import dataclass

from mustache.learn.models.discriminator import DiscriminatorConfig
from mustache.learn.models.generator import GeneratorConfig


@dataclass(frozen=True)
class Preset:
    generator: GeneratorConfig
    discriminator: DiscriminatorConfig
    batch_size: int  # global batch (split across ranks)
    steps: int  # optimiser steps of a full run
    lr_g: float  # Adam learning rate, generator
    lr_d: float  # Adam learning rate, discriminator


PRESETS: dict[str, Preset] = {
    # unit tests: seconds on a CPU
    "tiny": Preset(GeneratorConfig(base=8, max_channels=32, depth=3, noise_dim=8, embed_dim=16),
                   DiscriminatorConfig(base=8, max_channels=32),
                   batch_size=8, steps=20, lr_g=1e-3, lr_d=1e-3),
    # a 2-core CPU: 79 img/s (benchmarks/train.py), 2,000 steps in about 15 minutes; on CelebA +
    # LFW `mustache eval` ranked steps 500-1,500 best (the shipped model is step 750, guided)
    "default": Preset(GeneratorConfig(base=16, max_channels=256),
                      DiscriminatorConfig(base=16, max_channels=128),
                      batch_size=32, steps=2000, lr_g=2e-4, lr_d=2e-4),
    # one GPU, bf16
    "large": Preset(GeneratorConfig(base=64, max_channels=512, noise_dim=32, embed_dim=128),
                    DiscriminatorConfig(base=64, max_channels=512),
                    batch_size=128, steps=40000, lr_g=2e-4, lr_d=2e-4),
}


def get(name: str) -> Preset:
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}: choose one of {', '.join(PRESETS)}")
    return PRESETS[name]
