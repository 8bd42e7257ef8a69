"""`mustache score`: the mustache-ness of every face in one or more photos."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def score(
    photos: Annotated[list[Path], typer.Argument(help="Photos to score.")],
    model: Annotated[Path | None, typer.Option("--model", "-m", help="Classifier checkpoint (default: the shipped one).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object a photo instead of text.")] = False,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda, cuda:1.")] = "cpu",
) -> None:
    """Print a score in [0, 1] per face (largest first): >= 0.5 reads as a mustache.

    Exit codes: 2 for an unreadable photo or a bad model, 3 when a single photo holds no face.
    With several photos, failures are reported per photo and the run exits 1 if any failed."""
    import json

    from data_prep.image_io import ImageLoadError, load_image
    from mustache.errors import BadInput, NoFace, WorkFailed
    from mustache.learn.classify import Scorer

    single = len(photos) == 1
    failed = 0
    with Scorer(model, device=device) as scorer:
        for p in photos:
            try:
                rgb = load_image(p)
            except (ImageLoadError, OSError) as e:
                if single:
                    raise BadInput(f"{p}: {e}") from None
                typer.echo(f"error: {p}: {e}", err=True)
                failed += 1
                continue
            faces = scorer.score_image(rgb)
            if as_json:
                typer.echo(json.dumps({"photo": str(p), "faces": [
                    {"index": f.index, "box": list(f.box), "score": round(f.score, 4)}
                    for f in faces]}))
            elif faces:
                for f in faces:
                    typer.echo(f"{p}\tface {f.index}\t{f.score:.3f}\t"
                               f"{'mustache' if f.score >= 0.5 else 'clean'}")
            elif not single:
                typer.echo(f"{p}: no face found")
            if not faces and single:  # a single photo: said once, on stderr, with exit 3
                raise NoFace(f"{p}: no face found")
    if failed:  # each photo's reason is already on stderr
        raise WorkFailed(f"{failed} of {len(photos)} photos could not be read")
