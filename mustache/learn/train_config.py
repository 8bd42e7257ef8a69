"""A training run's options: :class:`TrainConfig` (written to config.json and into each
checkpoint) and how a new or resumed run resolves them (:func:`resolve_config`); the loop that
uses them is :mod:`mustache.learn.train`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from data_prep.config import from_dict
from mustache.errors import BadInput


@dataclass(frozen=True, kw_only=True)
class TrainConfig:
    """Every option of a run: written to config.json and into each checkpoint, from which a
    resumed run takes them back (:func:`resolve_config`). Fields without a default: the
    preset's."""

    data: str = "mustache-data"  # dataset folder (`mustache prep` output)
    preset: str = "default"  # model size and the defaults below it: tiny | default | large
    steps: int  # total optimiser steps
    batch_size: int  # global batch, split across ranks
    lr_g: float  # generator Adam lr
    lr_d: float  # discriminator Adam lr
    seed: int = 0  # seeds every RNG
    rec_weight: float = 10.0  # masked L1 reconstruction, when the asked label is the real one
    cls_weight: float = 1.0  # classification loss (D on real, G on fakes)
    guide: str | None = None  # frozen classifier checkpoint that also judges G's output
    guide_weight: float = 1.0  # weight of the guide's classification loss on G
    ema_beta: float = 0.999  # EMA decay of the generator, per step
    warmup: int = 100  # linear learning-rate warm-up, steps
    holdout: float = 0.1  # fraction of persons never trained on (`mustache eval` reads it)
    sample_every: int = 500  # steps between sample grids
    checkpoint_every: int = 500  # steps between checkpoints
    log_every: int = 10  # steps between stats.jsonl lines
    workers: int = 0  # threads decoding the windows at start (0: one per core)
    compile: bool = False  # torch.compile the networks
    device: str = "auto"  # auto | cpu | cuda


OPTIONS = frozenset(f.name for f in fields(TrainConfig))
# On resume these define the run (its people, model, random streams, guide, schedule already
# run): giving another value is an error. The others apply from the checkpoint's step on.
FIXED_ON_RESUME = ("data", "preset", "seed", "holdout", "guide", "warmup")
# this process's, not the run's: never taken from the checkpoint (it may come from another machine)
MACHINE = ("device", "workers", "compile")
PATHS = ("data", "guide")  # compared and stored as str(Path(...)), so "d/" and "./d" are "d"


def resolve_config(explicit: Mapping[str, Any], saved: TrainConfig | None = None) -> TrainConfig:
    """The run's options: those the user gave (``explicit``; None values count as not given),
    then, when resuming, the checkpoint's (``saved``), then the preset's and TrainConfig's
    defaults. On resume an option of FIXED_ON_RESUME with another value than the saved one
    raises BadInput naming it; the machine options (MACHINE) are never the checkpoint's."""
    unknown = set(explicit) - OPTIONS
    if unknown:
        raise TypeError(f"unknown training options: {', '.join(sorted(unknown))}")
    given = {k: str(Path(v)) if k in PATHS else v for k, v in explicit.items() if v is not None}
    if saved is None:
        pre = _preset(given.get("preset", TrainConfig.preset))
        cfg = TrainConfig(**{"steps": pre.steps, "batch_size": pre.batch_size, "lr_g": pre.lr_g,
                             "lr_d": pre.lr_d, **given})
    else:
        for name in FIXED_ON_RESUME:
            if name in given and given[name] != getattr(saved, name):
                raise BadInput(f"--{name.replace('_', '-')} {given[name]}: a resumed run keeps its "
                               f"{name} ({getattr(saved, name)}); leave the option out or start "
                               "a new run")
        machine = {f.name: f.default for f in fields(TrainConfig) if f.name in MACHINE}
        cfg = replace(saved, **{**machine, **given})
    for name in ("steps", "batch_size", "sample_every", "checkpoint_every", "log_every"):
        if getattr(cfg, name) < 1:
            raise BadInput(f"--{name.replace('_', '-')} must be at least 1, got "
                           f"{getattr(cfg, name)}")
    if not 0 <= cfg.holdout < 1:
        raise BadInput(f"--holdout must be in [0, 1), got {cfg.holdout}")
    return cfg


def saved_config(ckpt: dict, where: str | Path) -> TrainConfig | None:
    """The TrainConfig a GAN checkpoint (loaded from ``where``) was trained with; a file written
    by `export_generator` keeps it under ``source``. None when it has none (hand-made files)."""
    d = ckpt.get("train_config") or (ckpt.get("source") or {}).get("train_config")
    if not d:
        return None
    try:
        return from_dict(TrainConfig, d)
    except (TypeError, ValueError) as e:
        raise BadInput(f"{where}: its train_config does not fit ({e})") from None


def _preset(name: str):
    from mustache.learn import presets

    try:
        return presets.get(name)
    except ValueError as e:
        raise BadInput(f"--preset: {e}") from None
