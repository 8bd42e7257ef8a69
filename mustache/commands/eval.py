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
# report["hires"]: native-resolution figures on high-resolution photos (mustache.measure.photo_metrics)
HIRES_COLUMNS = (("detail_after", "detail", "{:.2f}"), ("detail_before", "detail0", "{:.2f}"),
                 ("coherence", "coh", "{:.3f}"), ("coherence_before", "coh0", "{:.3f}"),
                 ("brow_distance", "browdE", "{:.1f}"), ("brow_distance_before", "browdE0", "{:.1f}"),
                 ("vermilion_change", "lipdE", "{:.2f}"), ("faces", "faces", "{}"))


def eval(  # noqa: A001 - the command is called `eval`
    models: Annotated[list[Path] | None, typer.Argument(help="GAN checkpoints or run folders (none: only --existing-hair).")] = None,
    data: Annotated[Path, typer.Option("--data", "-d", help="Dataset folder (`mustache prep` output).")] = Path("mustache-data"),
    photos: Annotated[list[Path] | None, typer.Option(help="Folder the dataset was prepped from (repeatable; default: as recorded in the dataset); needed for photo metrics.")] = None,
    classifier: Annotated[Path | None, typer.Option("--classifier", help="Classifier checkpoint (default: the shipped one).")] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for report.json and contact_sheet.png (one subfolder a model when several).")] = Path("eval"),
    compare: Annotated[list[Path] | None, typer.Option(help="Earlier report.json files to add to the table (repeatable).")] = None,
    max_faces: Annotated[int, typer.Option(help="Held-out clean windows to generate.")] = 512,
    max_photos: Annotated[int, typer.Option(help="Photos to run through `apply`.")] = 64,
    holdout: Annotated[float | None, typer.Option(help="Held-out fraction of people, to override the one each checkpoint's run held out.", show_default="the checkpoint's")] = None,
    seed: Annotated[int, typer.Option(help="Noise seed.")] = 0,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda, cuda:1.")] = "auto",
    hires: Annotated[list[Path] | None, typer.Option(help="High-resolution photos (a folder, searched recursively, or a file; repeatable): hair detail, line coherence, colour beside the brows and lip change, measured at the photos' own resolution. Without a dataset folder, only these.")] = None,
    hires_max: Annotated[int, typer.Option(help="High-resolution photos to run, spread over their subfolders.")] = 60,
    hires_min_face: Annotated[int, typer.Option(help="Measure faces at least this wide (px, between the face's sides).")] = 400,
    existing_hair: Annotated[Path | None, typer.Option("--existing-hair", help="The shared photo folder (celeba/, lfw/, hires/): false skips of the existing-hair check on clean-shaven held-out faces by skin-lightness band and by LFW's predicted ethnicity, and the real mustaches still recognised.")] = None,
    existing_hair_max: Annotated[int, typer.Option(help="Faces per set (LFW, CelebA, hires) and class (clean, mustache) for --existing-hair.")] = 400,
    existing_hair_split: Annotated[str, typer.Option(help="People to measure for --existing-hair: heldout, tune or all.")] = "heldout",
) -> None:
    """Report, per checkpoint: mustache rate (classifier score > 0.5 on generated windows),
    KID against real mustache windows (KID0: the same windows unedited, the do-nothing
    baseline), texture (fine detail in the region over real mustaches'), mean change outside
    the dilated region (0-255) and
    landmark drift (% of face width); write report.json and a before/after contact sheet.
    With --hires, a second table: detail (fine detail in the mustache area over the skin
    around it), coh (line coherence there), browdE (Lab distance of its darker half to the
    brows), lipdE (upper-lip change); '0' columns before editing, and a real-hair row.
    With --existing-hair, the existing-hair check's false skips by skin-lightness band and
    ethnicity, and the real mustaches it still leaves alone (existing_hair.json)."""
    from mustache.errors import BadInput

    models = models or []
    if existing_hair is not None and not existing_hair.is_dir():
        raise BadInput(f"{existing_hair}: photo folder not found")
    if existing_hair_split not in ("heldout", "tune", "all") or existing_hair_max < 1:
        raise BadInput("need --existing-hair-split heldout|tune|all and --existing-hair-max >= 1")
    if not models and existing_hair is None:
        raise BadInput("name a GAN checkpoint to evaluate, or --existing-hair")

    for p in hires or []:
        if not p.exists():
            raise BadInput(f"{p}: high-resolution photos not found")
    if hires_max < 1:
        raise BadInput("need --hires-max >= 1")
    windows = data.is_dir() and bool(models)
    if models and not windows and not hires and existing_hair is None:
        raise BadInput(f"{data}: dataset folder not found")
    for p in photos or []:
        if not p.is_dir():
            raise BadInput(f"{p}: photo folder not found")
    for p in compare or []:
        if not p.is_file():
            raise BadInput(f"{p}: report not found")
    # unlike training's, eval's hold-out cannot be 0: it measures the faces the model never
    # saw, and a hold-out of 0 has none (a run trained with 0 is measured with --holdout > 0,
    # knowing those faces were trained on)
    if holdout == 0:
        raise BadInput("--holdout 0 holds nobody out, and eval measures the held-out faces: "
                       "give 0 < --holdout < 1")
    if (holdout is not None and not 0 < holdout < 1) or max_faces < 1 or max_photos < 0:
        raise BadInput("need 0 < --holdout < 1, --max-faces >= 1, --max-photos >= 0")
    rows: list[dict] = [_read_report(p) for p in compare or []]
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise BadInput(f"{out}: cannot create the output folder ({e.strerror})") from None

    from mustache.judge.evaluate import EvalConfig, evaluate, recorded_photo_dirs
    from mustache.learn.classify import Scorer

    photos = (photos or recorded_photo_dirs(data)) if windows else []

    config = EvalConfig(holdout=holdout, max_faces=max_faces, max_photos=max_photos, seed=seed)
    with Scorer(classifier, device="cpu" if device == "auto" else device) as scorer:
        if existing_hair is not None:
            _existing_hair(existing_hair, scorer, out, existing_hair_split, existing_hair_max)
        for m in models:
            where = out / _name(m) if len(models) > 1 else out
            if windows:
                r = evaluate(m, data, scorer, photos or [], where, config, device=device,
                             log=typer.echo).to_dict()
            else:
                r = {"model": str(m), "notes": [f"window metrics skipped: {data} not found"]}
            if hires:
                r["hires"] = _hires(m, hires, hires_max, hires_min_face, seed, device,
                                    r["notes"])
            for note in r["notes"]:
                typer.echo(f"note: {note}")
            _write_report(where, r)
            sheet = f"  sheet: {r['sheet']}" if r.get("sheet") else ""
            typer.echo(f"report: {where / 'report.json'}{sheet}")
            rows.append(r)
    if windows or compare:
        typer.echo(table(rows))
    hires_rows = _hires_rows(rows)
    if hires_rows:
        typer.echo("high-resolution photos, at their own resolution:")
        typer.echo(table(hires_rows, HIRES_COLUMNS))


def _hires(model: Path, sources: list[Path], max_photos: int, min_face: int, seed: int,
           device: str, notes: list[str]) -> dict | None:
    """hires_metrics of ``model``'s apply pipeline on up to ``max_photos`` photos, as a dict;
    None (with a note) when the pipeline is not available."""
    from mustache.judge.evaluate import default_apply_fn
    from mustache.judge.hires import hires_metrics, hires_photos

    chosen = hires_photos(sources, max_photos, seed)
    if not chosen:
        notes.append("hires metrics skipped: no photos found under --hires")
        return None
    apply_fn = default_apply_fn(model, device)
    typer.echo(f"hires: {len(chosen)} photos ...")
    try:
        rep = hires_metrics(apply_fn, chosen, min_face, seed)
    finally:
        apply_fn.close()
    notes.extend(f"hires: {n}" for n in rep.notes)
    return rep.to_dict()


def _existing_hair(data: Path, scorer, out: Path, split: str, per_set: int) -> None:
    """The existing-hair check's fairness on ``data``'s photos: a table, and
    ``out/existing_hair.json`` (the counts and one row a face)."""
    import json

    from data_prep.image_io import atomic_write_bytes
    from data_prep.landmarks import MediaPipeDetector
    from mustache.errors import BadInput
    from mustache.judge.fairness import (
        fairness_table,
        measure_cases,
        rows_report,
        shared_cases,
        to_dict,
    )

    cases = shared_cases(data, split, per_set)
    if not cases:
        raise BadInput(f"{data}: no celeba/, lfw/ or hires/ photos found")
    typer.echo(f"existing hair: {len(cases)} {split} faces ...")
    with MediaPipeDetector() as detector:
        rows = measure_cases(cases, detector, scorer, log=typer.echo)
    report = rows_report(rows, split)
    atomic_write_bytes(out / "existing_hair.json", json.dumps(
        {"split": split, "report": to_dict(report), "rows": rows}, indent=1).encode())
    typer.echo(fairness_table(report))
    typer.echo(f"report: {out / 'existing_hair.json'}")


def _write_report(where: Path, report: dict) -> None:
    import json

    from data_prep.image_io import atomic_write_bytes

    where.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(where / "report.json", json.dumps(report, indent=2).encode())


def _read_report(path: Path) -> dict:
    """An earlier report.json (``--compare``); BadInput naming the file when it is not one."""
    import json

    from mustache.errors import BadInput

    try:
        report = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise BadInput(f"{path}: not a report.json ({type(e).__name__})") from None
    if not isinstance(report, dict):
        raise BadInput(f"{path}: not a report.json (no JSON object)")
    return report


def _hires_rows(rows: list[dict]) -> list[dict]:
    """One table row a report with hires figures, then the real-hair reference (before
    editing) of the first report that has one."""
    out, ref = [], None
    for r in rows:
        h = r.get("hires")
        if not h:
            continue
        out.append({"model": r.get("model", "?"), **h})
        if ref is None and h.get("real_faces"):
            ref = {"model": "real hair (reference)", "detail_after": h["real_detail"],
                   "coherence": h["real_coherence"], "brow_distance": h["real_brow_distance"],
                   "faces": h["real_faces"]}
    return out + ([ref] if ref else [])


def _name(path: Path) -> str:
    p = path.resolve()
    return p.name if p.is_dir() else f"{p.parent.name}-{p.stem}"


def table(rows: list[dict], columns=COLUMNS) -> str:
    """One line a report: model and the metrics of ``columns`` ('-' where not measured)."""
    head = ["model"] + [h for _, h, _ in columns]
    body = [[str(r.get("model", "?"))] + [
        "-" if r.get(k) is None or r.get(k) != r.get(k) else fmt.format(r[k])
        for k, _, fmt in columns] for r in rows]
    widths = [max(len(x) for x in col) for col in zip(head, *body, strict=True)]
    lines = ["  ".join(x.ljust(w) if i == 0 else x.rjust(w)
                       for i, (x, w) in enumerate(zip(line, widths, strict=True)))
             for line in [head, *body]]
    return "\n".join(lines)
