"""`mustache train`: train the mustache GAN on a prepped dataset, or continue a run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

# The defaults shown in --help, as TrainConfig has them (a test checks they agree): the
# options default to None so that an option given on --resume can be told from one left out.
PRESETS = "the preset's"


def train(
    data: Annotated[Path | None, typer.Argument(help="Dataset folder from `mustache prep` (or --data).", show_default="mustache-data")] = None,
    data_option: Annotated[Path | None, typer.Option("--data", help="The dataset folder, as an option.", show_default=False)] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Run folder.", show_default="a new runs/NNNNN-<preset>")] = None,
    preset: Annotated[str | None, typer.Option(help="Model size: tiny, default or large.", show_default="default")] = None,
    steps: Annotated[int | None, typer.Option(help="Total optimiser steps.", show_default=PRESETS)] = None,
    batch_size: Annotated[int | None, typer.Option(help="Global batch, split across ranks.", show_default=PRESETS)] = None,
    lr_g: Annotated[float | None, typer.Option(help="Generator learning rate.", show_default=PRESETS)] = None,
    lr_d: Annotated[float | None, typer.Option(help="Discriminator learning rate.", show_default=PRESETS)] = None,
    device: Annotated[str | None, typer.Option(help="auto, cpu or cuda.", show_default="auto")] = None,
    resume: Annotated[Path | None, typer.Option(help="Checkpoint file or run folder to continue: options left out are the run's; --steps, learning rates, batch size, guide weight and the intervals may change, another data, preset, seed or guide is an error.")] = None,
    guide: Annotated[Path | None, typer.Option(help="Frozen mustache classifier (`mustache train-classifier`) that also judges the generator's output.", show_default="none")] = None,
    guide_weight: Annotated[float | None, typer.Option(help="Weight of the guide's loss on the generator.", show_default="1.0")] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed.", show_default="0")] = None,
    sample_every: Annotated[int | None, typer.Option(help="Steps between sample grids.", show_default="500")] = None,
    checkpoint_every: Annotated[int | None, typer.Option(help="Steps between checkpoints.", show_default="500")] = None,
    workers: Annotated[int | None, typer.Option(help="Threads decoding the dataset at start (0: one per core).", show_default="0")] = None,
    compile: Annotated[bool | None, typer.Option("--compile/--no-compile", help="torch.compile the networks.", show_default="no-compile")] = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Train the generator and discriminator; writes config.json, stats.jsonl, sample grids and
    checkpoints (checkpoints/latest.pt) to the run folder. Under `torchrun --nproc_per_node=N -m
    mustache train` it trains with DDP."""
    from mustache.errors import BadInput
    from mustache.learn.train import training_loop

    if data is not None and data_option is not None and data != data_option:
        raise BadInput(f"two datasets given ({data} and --data {data_option}): give one")
    run = training_loop(data=data or data_option, run_dir=out, preset=preset, steps=steps,
                        batch_size=batch_size, lr_g=lr_g, lr_d=lr_d, device=device,
                        resume=resume, guide=guide, guide_weight=guide_weight, seed=seed,
                        sample_every=sample_every, checkpoint_every=checkpoint_every,
                        workers=workers, compile=compile, progress=progress)
    if run is not None:
        typer.echo(f"run: {run}  (model: {run / 'checkpoints' / 'latest.pt'})")
