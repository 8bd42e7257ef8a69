"""`mustache train`: train the mustache GAN on a prepped dataset, or continue a run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def train(
    data: Annotated[Path | None, typer.Option(help="Dataset folder from `mustache prep` [default: mustache-data].")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Run folder [default: a new runs/NNNNN-<preset>].")] = None,
    preset: Annotated[str | None, typer.Option(help="Model size: tiny, default or large [default: default].")] = None,
    steps: Annotated[int | None, typer.Option(help="Total optimiser steps [default: the preset's].")] = None,
    batch_size: Annotated[int | None, typer.Option(help="Global batch, split across ranks [default: the preset's].")] = None,
    lr_g: Annotated[float | None, typer.Option(help="Generator learning rate [default: the preset's].")] = None,
    lr_d: Annotated[float | None, typer.Option(help="Discriminator learning rate [default: the preset's].")] = None,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = "auto",
    resume: Annotated[Path | None, typer.Option(help="Checkpoint file or run folder to continue (keeps its data, preset, batch, lrs, seed).")] = None,
    guide: Annotated[Path | None, typer.Option(help="Frozen mustache classifier (`mustache train-classifier`) that also judges the generator's output.")] = None,
    guide_weight: Annotated[float, typer.Option(help="Weight of the guide's loss on the generator.")] = 1.0,
    seed: Annotated[int | None, typer.Option(help="Random seed [default: 0].")] = None,
    sample_every: Annotated[int, typer.Option(help="Steps between sample grids.")] = 500,
    checkpoint_every: Annotated[int, typer.Option(help="Steps between checkpoints.")] = 500,
    workers: Annotated[int, typer.Option(help="Threads decoding the dataset at start (0: one per core).")] = 0,
    compile: Annotated[bool, typer.Option("--compile", help="torch.compile the networks.")] = False,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Train the generator and discriminator; writes config.json, stats.jsonl, sample grids and
    checkpoints (checkpoints/latest.pt) to the run folder. Under `torchrun --nproc_per_node=N -m
    mustache train` it trains with DDP."""
    from mustache.train import training_loop

    run = training_loop(data=data, run_dir=out, preset=preset, steps=steps,
                        batch_size=batch_size, lr_g=lr_g, lr_d=lr_d, device=device,
                        resume=resume, guide=guide, guide_weight=guide_weight, seed=seed, sample_every=sample_every,
                        checkpoint_every=checkpoint_every, workers=workers, compile=compile,
                        progress=progress)
    if run is not None:
        typer.echo(f"run: {run}  (model: {run / 'checkpoints' / 'latest.pt'})")
