"""`mustache apply`: a mustache on every face of a photo, or of every photo in a folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def apply(
    src: Annotated[Path, typer.Argument(help="A photo, or a folder of photos (searched recursively).")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Output photo (or folder for a folder). Default: <name>_mustache.<ext> beside the input (<folder>_mustache for a folder).")] = None,
    model: Annotated[Path | None, typer.Option(help="GAN checkpoint or run folder (default: the shipped mustache/weights/default.pt).")] = None,
    seed: Annotated[int, typer.Option(help="Noise seed: the same seed gives the same mustache.")] = 0,
    strength: Annotated[float, typer.Option(min=0.0, max=1.0, help="0 leaves the photo as it is, 1 the full mustache.")] = 1.0,
    clone: Annotated[str, typer.Option(help="Blending: normal | mixed | alpha.")] = "normal",
    face: Annotated[list[int] | None, typer.Option(help="Only this face (0 = largest); repeat for several.")] = None,
    compare: Annotated[bool, typer.Option(help="Also write <out>_compare.<ext>: before | after.")] = False,
    json_out: Annotated[str | None, typer.Option("--json", help="Write per-face results as JSON to this file ('-': stdout).")] = None,
    donor: Annotated[Path | None, typer.Option(help="Take a real mustache from this donor photo instead of the generator.")] = None,
    donor_face: Annotated[int | None, typer.Option(help="Which face of the donor photo (0 = largest).")] = None,
    color: Annotated[str | None, typer.Option("--color", help="Hair colour: black, dark-brown, brown, auburn, blonde, grey, white or #rrggbb (default: the person's eyebrows).")] = None,
    force: Annotated[bool, typer.Option(help="Also paint faces that already have a mustache or beard (left unchanged by default).")] = False,
    hair: Annotated[bool, typer.Option("--hair/--no-hair", help="Draw single hairs at the photo's resolution (--no-hair: the model's window-sized change only).")] = True,
    device: Annotated[str, typer.Option(help="auto | cpu | cuda.")] = "auto",
) -> None:
    """Put a mustache on every face: the model (or --donor) says where and how dense, single
    hairs are drawn at the photo's own resolution in the colour of the person's eyebrows. Faces
    that already have a mustache are left as they are (see --force). Exit codes: 0 done, 1 some
    photos of a folder failed, 2 bad input (unreadable photo, unwritable output, no model,
    unknown colour), 3 no face in the photo (it is written back unchanged)."""
    import json
    import sys

    from mustache.errors import EXIT_NO_FACE, EXIT_USAGE, MustacheError

    if not src.exists():
        raise MustacheError(f"{src}: not found")
    if clone not in ("normal", "mixed", "alpha"):
        raise MustacheError(f"--clone must be normal, mixed or alpha, got {clone!r}")
    if donor is not None and not donor.is_file():
        raise MustacheError(f"{donor}: donor photo not found")
    say = (lambda s: typer.echo(s, err=True)) if json_out == "-" else typer.echo

    from mustache.apply import ApplyOptions

    try:
        options = ApplyOptions(seed=seed, strength=strength, clone=clone,
                               faces=tuple(face) if face else None, color=color, force=force,
                               hair=hair)
    except ValueError as e:
        raise MustacheError(f"--color: {e}" if color else str(e)) from None
    engine = _engine(model, device, donor, donor_face)
    try:
        if src.is_dir():
            dst = out or src.with_name(src.name + "_mustache")
            try:
                dst.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise MustacheError(f"{dst}: cannot create the output folder ({e.strerror})") from None
            report, code = _folder(engine, src, dst, options, compare, say)
        else:
            dst = out or src.with_name(f"{src.stem}_mustache{src.suffix}")
            report = _one(engine, src, dst, options, compare)
            n = sum(f["blended"] for f in report["faces"])
            if not report["faces"]:
                say(f"{src}: no face found; wrote it unchanged to {dst}")
                code = EXIT_NO_FACE
            else:
                say(f"wrote {dst} ({n} of {len(report['faces'])} face{'s' * (len(report['faces']) != 1)} changed)")
                for f in report["faces"]:
                    if not f["blended"] and f["note"] != "not selected":
                        say(f"  face {f['index']} left as it is: {f['note']}")
                code = 0
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
                raise MustacheError(f"{json_out}: cannot write ({e.strerror})", EXIT_USAGE) from None
    if code:
        raise typer.Exit(code)


def _engine(model, device, donor, donor_face):
    """The generator pipeline, or the donor transfer when a donor photo is given."""
    if donor is not None:
        try:
            from mustache.donor import DonorTransfer
        except ImportError:
            from mustache.errors import MustacheError

            raise MustacheError("--donor needs mustache.donor, which this install lacks") from None
        return DonorTransfer(donor, donor_face)
    from mustache.apply import Mustacher

    return Mustacher(model, device)


def _one(engine, src: Path, dst: Path, options, compare: bool) -> dict:
    """One photo -> its report dict; MustacheError (exit 2) naming the file when it cannot be
    read or written."""
    import numpy as np

    from data_prep.image_io import atomic_write_bytes, save_image
    from mustache.apply import as_rgb
    from mustache.errors import EXIT_USAGE, MustacheError

    image = as_rgb(src)
    result = engine.apply(image, options)
    faces = [f.to_dict() if hasattr(f, "to_dict") else vars(f) for f in result.faces]
    try:
        if not faces and dst.suffix.lower() == src.suffix.lower():
            atomic_write_bytes(dst, src.read_bytes())  # no face: the very same file
        else:
            save_image(dst, result.image, quality=95)
        if compare:
            save_image(dst.with_name(f"{dst.stem}_compare{dst.suffix}"),
                       np.hstack([image, result.image]), quality=95)
    except (OSError, ValueError) as e:
        why = getattr(e, "strerror", None) or str(e)
        raise MustacheError(f"{dst}: cannot write ({why})", EXIT_USAGE) from None
    return {"photo": str(src), "out": str(dst), "faces": faces,
            "warnings": list(getattr(result, "warnings", ()))}


def _folder(engine, src: Path, dst: Path, options, compare: bool, say) -> tuple[dict, int]:
    """Every photo under ``src`` -> the same relative path under ``dst``; failures are counted
    and reported one line each, the rest still go through."""
    import sys

    from tqdm import tqdm

    from data_prep.image_io import is_image_path
    from mustache.errors import EXIT_FAILURE, MustacheError

    dst_res = dst.resolve()
    photos = sorted(p for p in src.rglob("*") if p.is_file() and is_image_path(p)
                    and dst_res not in p.resolve().parents)
    done = faces = no_face = 0
    failed: list[str] = []
    reports = []
    for p in tqdm(photos, desc="apply", unit="photo", leave=False):
        target = dst / p.relative_to(src).with_name(f"{p.stem}_mustache{p.suffix}")
        try:
            r = _one(engine, p, target, options, compare)
        except MustacheError as e:
            failed.append(str(p))
            tqdm.write(f"error: {e}", file=sys.stderr)
            reports.append({"photo": str(p), "error": str(e)})
            continue
        done += 1
        faces += sum(f["blended"] for f in r["faces"])
        no_face += not r["faces"]
        reports.append(r)
    say(f"processed {done} photo{'s' * (done != 1)}: {faces} face{'s' * (faces != 1)} changed, "
        f"{no_face} without a face, {len(failed)} failed -> {dst}")
    summary = {"processed": done, "faces": faces, "no_face": no_face, "failed": len(failed)}
    return {"summary": summary, "photos": reports}, EXIT_FAILURE if failed else 0
