"""`mustache eval`: measure GAN checkpoints on a dataset's held-out clean faces."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

COLUMNS = (("mustache_rate", "rate", "{:.3f}"), ("mean_score", "score", "{:.3f}"),
           ("kid", "KID", "{:.4f}"), ("kid_before", "KID0", "{:.4f}"), ("texture", "texture", "{:.2f}"),
           ("outside_change", "outside", "{:.2f}"),
           ("landmark_drift", "drift%", "{:.2f}"), ("faces", "faces", "{}"),
           ("photos", "photos", "{}"))


def eval(  # noqa: A001 - the command is called `eval`
    models: Annotated[list[Path], typer.Argument(help="GAN checkpoints or run folders.")],
    data: Annotated[Path, typer.Option("--data", "-d", help="Dataset folder (`mustache prep` output).")] = Path("mustache-data"),
    photos: Annotated[list[Path] | None, typer.Option(help="Folder the dataset was prepped from (repeatable; default: as recorded in the dataset); needed for photo metrics.")] = None,
    classifier: Annotated[Path | None, typer.Option("--classifier", help="Classifier checkpoint (default: the shipped one).")] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for report.json and contact_sheet.png (one subfolder a model when several).")] = Path("eval"),
    compare: Annotated[list[Path] | None, typer.Option(help="Earlier report.json files to add to the table (repeatable).")] = None,
    max_faces: Annotated[int, typer.Option(help="Held-out clean windows to generate.")] = 512,
    max_photos: Annotated[int, typer.Option(help="Photos to run through `apply`.")] = 64,
    holdout: Annotated[float, typer.Option(help="Held-out fraction of people (as in training).")] = 0.1,
    seed: Annotated[int, typer.Option(help="Noise seed.")] = 0,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda, cuda:1.")] = "auto",
) -> None:
    """Report, per checkpoint: mustache rate (classifier score > 0.5 on generated windows),
    KID against real mustache windows (KID0: the same windows unedited, the do-nothing
    baseline), texture (fine detail in the region over real mustaches'), mean change outside
    the dilated region (0-255) and
    landmark drift (% of face width); write report.json and a before/after contact sheet."""
    import json

    from mustache.errors import MustacheError

    if not data.is_dir():
        raise MustacheError(f"{data}: dataset folder not found")
    for p in photos or []:
        if not p.is_dir():
            raise MustacheError(f"{p}: photo folder not found")
    for p in compare or []:
        if not p.is_file():
            raise MustacheError(f"{p}: report not found")
    if not (0 < holdout < 1) or max_faces < 1 or max_photos < 0:
        raise MustacheError("need 0 < --holdout < 1, --max-faces >= 1, --max-photos >= 0")

    from mustache.classify import Scorer
    from mustache.evaluate import EvalConfig, evaluate, recorded_photo_dirs

    photos = photos or recorded_photo_dirs(data)

    rows: list[dict] = [json.loads(p.read_text()) for p in compare or []]
    config = EvalConfig(holdout=holdout, max_faces=max_faces, max_photos=max_photos, seed=seed)
    with Scorer(classifier, device="cpu" if device == "auto" else device) as scorer:
        for m in models:
            where = out / _name(m) if len(models) > 1 else out
            try:
                r = evaluate(m, data, scorer, photos or [], where, config, device=device,
                             log=typer.echo)
            except ValueError as e:
                raise MustacheError(str(e)) from None
            for note in r.notes:
                typer.echo(f"note: {note}")
            typer.echo(f"report: {where / 'report.json'}  sheet: {r.sheet}")
            rows.append(r.to_dict())
    typer.echo(table(rows))


def _name(path: Path) -> str:
    p = path.resolve()
    return p.name if p.is_dir() else f"{p.parent.name}-{p.stem}"


def table(rows: list[dict]) -> str:
    """One line a report: model and the metrics of COLUMNS ('-' where not measured)."""
    head = ["model"] + [h for _, h, _ in COLUMNS]
    body = [[str(r.get("model", "?"))] + [
        "-" if r.get(k) is None or r.get(k) != r.get(k) else fmt.format(r[k])
        for k, _, fmt in COLUMNS] for r in rows]
    widths = [max(len(x) for x in col) for col in zip(head, *body, strict=True)]
    lines = ["  ".join(x.ljust(w) if i == 0 else x.rjust(w)
                       for i, (x, w) in enumerate(zip(line, widths, strict=True)))
             for line in [head, *body]]
    return "\n".join(lines)
