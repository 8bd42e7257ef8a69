"""`mustache apply`: a mustache on every face of a photo, or of every photo in a folder."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from mustache.paint.options import ApplyOptions, Engine


def apply(
    src: Annotated[Path, typer.Argument(help="A photo, or a folder of photos (searched recursively).")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Output photo (or folder for a folder). Default: <name>_mustache.<ext> beside the input (<folder>_mustache for a folder).")] = None,
    model: Annotated[Path | None, typer.Option(help="GAN checkpoint or run folder (default: the shipped mustache/weights/default.pt).")] = None,
    seed: Annotated[int, typer.Option(help="Noise seed: the same seed gives the same mustache.")] = 0,
    strength: Annotated[float, typer.Option(help="0 leaves the photo as it is, 1 the full mustache.")] = 1.0,
    clone: Annotated[str, typer.Option(help="Blending: normal | mixed | alpha.")] = "normal",
    face: Annotated[list[int] | None, typer.Option(help="Only this face (0 = largest); repeat for several.")] = None,
    compare: Annotated[bool, typer.Option(help="Also write <out>_compare.<ext>: before | after.")] = False,
    json_out: Annotated[str | None, typer.Option("--json", help="Write per-face results as JSON to this file ('-': stdout).")] = None,
    donor: Annotated[Path | None, typer.Option(help="Take a real mustache from this donor photo instead of the generator.")] = None,
    donor_face: Annotated[int | None, typer.Option(help="Which face of the donor photo (0 = largest).")] = None,
    color: Annotated[str | None, typer.Option("--color", help="Hair colour: black, dark-brown, brown, auburn, blonde, grey, white or #rrggbb (default: the person's eyebrows).")] = None,
    style: Annotated[str, typer.Option(help="Mustache style: natural (the model's own), chevron, pencil, handlebar, walrus, horseshoe, toothbrush, english, fu_manchu, dali, imperial (`mustache styles` lists them).")] = "natural",
    style_from: Annotated[Path | None, typer.Option(help="Take the mustache's shape from the real mustache in this photo (its largest face); the hair is drawn fresh, in this face's colour.")] = None,
    length: Annotated[float, typer.Option(help="Hair length, x the style's (0-4].")] = 1.0,
    thickness: Annotated[float, typer.Option(help="Hair density, x the style's [0-4].")] = 1.0,
    curl: Annotated[float, typer.Option(help="Curl, x the style's [0-4].")] = 1.0,
    force: Annotated[bool, typer.Option(help="Also paint faces that already have a mustache or beard (left unchanged by default).")] = False,
    hair: Annotated[bool, typer.Option("--hair/--no-hair", help="Draw single hairs at the photo's resolution (--no-hair: the model's window-sized change only).")] = True,
    min_face: Annotated[float, typer.Option(help="Find and paint faces at least this wide (px). Finding small faces in a large photo costs time: about 0.1 s a megapixel for 40 px on 2 cores; at 0.15 of the photo's long side or more only the quick pass runs.")] = 40.0,
    device: Annotated[str, typer.Option(help="auto | cpu | cuda. With the shipped model, auto and cpu run its ONNX export on OpenCV (no torch to load); cuda runs torch.")] = "auto",
    cluster: Annotated[str | None, typer.Option(help="A folder on Dask: 'local' (one worker a core here) or a scheduler address, tcp://host:8786 (workers must see the same paths). Needs mustache[cluster].")] = None,
) -> None:
    """Put a mustache on every face: the model (or --donor) says where and how dense, single
    hairs are drawn at the photo's own resolution in the colour of the person's eyebrows. Faces
    that already have a mustache are left as they are (see --force). Exit codes: 0 done, 1 some
    photos of a folder failed, 2 bad input (unreadable photo, unwritable output, no model,
    unknown colour), 3 no face in the photo (it is written back unchanged)."""
    import json
    import sys

    from mustache.batch.files import make_engine, paint_file
    from mustache.errors import BadInput, NoFace, WorkFailed

    if not src.exists():
        raise BadInput(f"{src}: not found")
    if clone not in ("normal", "mixed", "alpha"):
        raise BadInput(f"--clone must be normal, mixed or alpha, got {clone!r}")
    if donor is not None and not donor.is_file():
        raise BadInput(f"{donor}: donor photo not found")
    if cluster is not None and not src.is_dir():
        raise BadInput("--cluster is for a folder of photos")
    say = (lambda s: typer.echo(s, err=True)) if json_out == "-" else typer.echo

    from mustache.paint.options import ApplyOptions
    from mustache.paint.styles import style_named

    chosen = style_named(style)  # BadInput listing the choices
    if style_from is not None:
        from mustache.paint.donor import style_from_photo

        if chosen.name != "natural":
            raise BadInput("--style and --style-from: give one of them")
        if not style_from.is_file():
            raise BadInput(f"{style_from}: --style-from photo not found")
        chosen = style_from_photo(style_from)  # BadInput: no face, no mustache
    try:
        options = ApplyOptions(seed=seed, strength=strength, clone=clone,
                               faces=tuple(face) if face else None, color=color, force=force,
                               hair=hair, min_face=min_face, style=chosen, length=length,
                               thickness=thickness, curl=curl)
    except ValueError as e:  # the options' own checks: each names the option and its value
        raise BadInput(str(e)) from None
    engine = make_engine(model, device, donor, donor_face, min_face)
    try:
        if src.is_dir():
            dst = out or src.with_name(src.name + "_mustache")
            try:
                dst.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise BadInput(f"{dst}: cannot create the output folder ({e.strerror})") from None
            if cluster is None:
                report = _folder(engine, src, dst, options, compare, say)
            else:  # one engine a worker; this process only collects the reports
                import os
                from functools import partial

                from mustache.batch.cluster import EngineSpec, FolderWorker, open_cluster

                spec = EngineSpec(model, device, donor, donor_face, min_face)
                with open_cluster(cluster, os.cpu_count() or 1) as c:
                    remote = partial(c.map, partial(FolderWorker, spec, options, compare))
                    report = _folder(engine, src, dst, options, compare, say, remote)
            failed, total, no_face = report["summary"]["failed"], len(report["photos"]), False
        else:
            dst = out or _default_out(src)
            report = paint_file(engine, src, dst, options, compare)
            n = sum(f["blended"] for f in report["faces"])
            failed, total, no_face = 0, 1, not report["faces"]
            if report["faces"]:
                say(f"wrote {dst} ({n} of {len(report['faces'])} face{'s' * (len(report['faces']) != 1)} changed)")
                for f in report["faces"]:
                    if not f["blended"] and f["note"] != "not selected":
                        say(f"  face {f['index']} left as it is: {f['note']}")
    finally:
        engine.close()
    if json_out is not None:
        text = json.dumps(report, indent=2)
        if json_out == "-":
            sys.stdout.write(text + "\n")
        else:
            from data_prep.image_io import atomic_write_bytes

            try:
                atomic_write_bytes(json_out, text.encode())
            except OSError as e:
                raise BadInput(f"{json_out}: cannot write ({e.strerror})") from None
    if failed:  # each photo's reason is already on stderr
        raise WorkFailed(f"{failed} of {total} photos under {src} failed")
    if no_face:
        raise NoFace(f"{src}: no face found; wrote it unchanged to {dst}")


def _default_out(src: Path) -> Path:
    """``<stem>_mustache<suffix>`` beside ``src``; a video's is an mp4 (a GIF's a GIF)."""
    from mustache.video.codec import is_video_path, output_path

    return output_path(src) if is_video_path(src) else src.with_name(f"{src.stem}_mustache{src.suffix}")


def _folder(engine: Engine, src: Path, dst: Path, options: ApplyOptions, compare: bool,
            say, remote=None) -> dict:
    """Every photo under ``src`` -> the same relative path under ``dst``; a photo that cannot
    be read or written is reported in one line and counted (``summary.failed``), the rest still
    go through. ``remote(jobs)`` (a cluster's map) paints them elsewhere, in any order."""
    import sys

    from tqdm import tqdm

    from data_prep.image_io import is_image_path
    from mustache.batch.files import paint_file_report
    from mustache.video.codec import is_video_path

    dst_res = dst.resolve()
    photos = sorted(p for p in src.rglob("*") if p.is_file()
                    and (is_image_path(p) or is_video_path(p))
                    and dst_res not in p.resolve().parents)
    done = faces = no_face = 0
    failed: list[str] = []
    reports = []
    jobs = [(p, dst / _default_out(p.relative_to(src))) for p in photos]
    results = (remote(jobs) if remote is not None else
               (paint_file_report(engine, p, target, options, compare)
                for p, target in jobs))
    for r in tqdm(results, total=len(jobs), desc="apply", unit="photo", leave=False):
        reports.append(r)
        if "error" in r:
            failed.append(r["photo"])
            tqdm.write(f"error: {r['error']}", file=sys.stderr)
            continue
        done += 1
        faces += sum(f["blended"] for f in r["faces"])
        no_face += not r["faces"]
    order = {str(p): i for i, p in enumerate(photos)}
    reports.sort(key=lambda r: order[r.get("photo") or r["video"]])  # a cluster's: as they finish
    say(f"processed {done} photo{'s' * (done != 1)}: {faces} face{'s' * (faces != 1)} changed, "
        f"{no_face} without a face, {len(failed)} failed -> {dst}")
    summary = {"processed": done, "faces": faces, "no_face": no_face, "failed": len(failed)}
    return {"summary": summary, "photos": reports}
