"""`mustache train-classifier`: train the mustache-ness classifier on a prep dataset."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def train_classifier(
    dataset: Annotated[Path, typer.Argument(help="Dataset folder written by `mustache prep`.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Checkpoint file to write.")] = Path("classifier.pt"),
    epochs: Annotated[int, typer.Option(help="Epochs (each a class-balanced draw).")] = 12,
    samples: Annotated[int, typer.Option(help="Training windows drawn per epoch.")] = 6000,
    batch: Annotated[int, typer.Option(help="Batch size.")] = 64,
    lr: Annotated[float, typer.Option(help="Peak learning rate (one-cycle).")] = 2e-3,
    holdout: Annotated[float, typer.Option(help="Fraction of people held out for evaluation.")] = 0.2,
    drop_noisy: Annotated[float, typer.Option(help="Drop this fraction of training positives the model finds least mustache-like after warm-up (noisy labels).")] = 0.0,
    fake_negatives: Annotated[float, typer.Option(help="Fraction of each batch with the region painted over by random colour/noise, labelled clean.")] = 0.15,
    use_mask: Annotated[bool, typer.Option(help="Feed the region mask as a 4th channel.")] = False,
    eval_labels: Annotated[list[Path] | None, typer.Option(help="Extra CSV (file,label) to evaluate on the held-out people; repeatable.")] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda, cuda:1.")] = "auto",
    threads: Annotated[int, typer.Option(help="CPU threads for torch (0: torch's default).")] = 0,
) -> None:
    """Train a small CNN on the labelled mustache windows (class-balanced, augmented), report
    accuracy and ROC-AUC on held-out people, and save a "mustache-classifier" checkpoint."""
    from mustache.errors import BadInput

    if not dataset.is_dir():
        raise BadInput(f"{dataset}: dataset folder not found")
    for f in eval_labels or []:
        if not f.is_file():
            raise BadInput(f"{f}: label file not found")
    if (not (0 < holdout < 1) or not (0 <= drop_noisy < 1) or not (0 <= fake_negatives < 1)
            or epochs < 1 or batch < 2):
        raise BadInput("need 0 < --holdout < 1, 0 <= --drop-noisy < 1, "
                       "0 <= --fake-negatives < 1, --epochs >= 1, --batch >= 2")

    import torch

    from data_prep.labels import from_csv
    from mustache.learn.classify import ClassifierTrainConfig
    from mustache.learn.classify import train_classifier as train
    from mustache.learn.models.classifier import ClassifierConfig

    if threads:
        torch.set_num_threads(threads)
    try:
        sets = {f.stem: from_csv(f) for f in eval_labels or []}
    except ValueError as e:  # a malformed label file, named in the message
        raise BadInput(str(e)) from None
    r = train(dataset, out,
              ClassifierTrainConfig(epochs=epochs, batch=batch, lr=lr, samples_per_epoch=samples,
                                    holdout=holdout, drop_noisy=drop_noisy,
                                    fake_negatives=fake_negatives, seed=seed),
              ClassifierConfig(use_mask=use_mask), device=device, eval_labels=sets,
              log=typer.echo)
    typer.echo(f"held-out people: {r.heldout.line()}")
    for name, ev in r.subsets.items():
        typer.echo(f"held-out {name}: {ev.line()}")
    typer.echo(f"{r.seconds:.0f} s -> {r.path}")
