"""`mustache prep`: build a dataset of aligned faces, mustache windows and masks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

DEFAULT_DATA = Path("mustache-data")  # `mustache train` reads this by default


def prep(
    photos: Annotated[Path, typer.Argument(help="Folder of photos (searched recursively).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Dataset folder to write.")] = DEFAULT_DATA,
    workers: Annotated[int, typer.Option(help="Worker processes (0: one per CPU core).")] = 0,
    labels_csv: Annotated[Path | None, typer.Option("--labels", help="CSV with file,label columns.")] = None,
    celeba_attrs: Annotated[Path | None, typer.Option(help="CelebA attribute file (list_attr_celeba.txt).")] = None,
    folder_labels: Annotated[bool, typer.Option(help="Label from folder names (mustache/, clean/).")] = True,
    face_size: Annotated[int, typer.Option(help="Aligned face crop side, px.")] = 256,
    window_size: Annotated[int, typer.Option(help="Mustache window side, px.")] = 128,
    max_faces: Annotated[int, typer.Option(help="Faces kept per photo, largest first.")] = 8,
    min_face: Annotated[float, typer.Option(help="Minimum face width, px.")] = 48.0,
    max_yaw: Annotated[float, typer.Option(help="Maximum head yaw, degrees.")] = 35.0,
    min_sharpness: Annotated[float, typer.Option(help="Minimum Laplacian variance (0: off).")] = 0.0,
    shard: Annotated[str, typer.Option(help="K/N: process the K-th of N shards (0-based).")] = "0/1",
    limit: Annotated[int | None, typer.Option(help="Process at most this many photos.")] = None,
    cluster: Annotated[str | None, typer.Option(help="Run on Dask: 'local' (--workers processes here) or a scheduler address, tcp://host:8786 (workers must see the same paths). Needs mustache[cluster].")] = None,
    contact_sheet: Annotated[bool, typer.Option(help="Also write contact_sheet.png (windows by label).")] = True,
    auto_label: Annotated[Path | None, typer.Option(help="Classifier checkpoint: label unlabelled faces by its score (and record every face's mustache_score).")] = None,
    auto_label_margin: Annotated[float, typer.Option(help="With --auto-label: leave faces scoring within this of 0.5 unlabelled.")] = 0.0,
) -> None:
    """Find every face with MediaPipe, align it, and write face crops, mustache windows, masks,
    manifest.jsonl, rejected.jsonl and summary.json. A second run skips finished photos."""
    import os
    from dataclasses import replace

    from mustache.errors import BadInput

    if not photos.is_dir():
        raise BadInput(f"{photos}: input folder not found")
    scorer = None
    if auto_label is not None:  # a bad classifier fails now, not after the whole prep; loaded
        from mustache.learn.classify import Scorer  # once (its face detector is made only on use)

        scorer = Scorer(auto_label)
    if not 0 <= auto_label_margin < 0.5:
        raise BadInput(f"--auto-label-margin must be in [0, 0.5), got {auto_label_margin}")
    if face_size < 32 or window_size < 16 or max_faces < 1 or workers < 0 or (limit or 0) < 0 \
            or not min_face > 0:
        raise BadInput("need --face-size >= 32, --window-size >= 16, --max-faces >= 1, "
                       "--workers >= 0, --limit >= 0, --min-face > 0")
    for f in (labels_csv, celeba_attrs):
        if f is not None and not f.is_file():
            raise BadInput(f"{f}: label file not found")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as e:
        raise BadInput(f"{out}: output folder is not writable ({e.strerror})") from None

    from tqdm import tqdm

    from data_prep import labels as L
    from data_prep.align import AlignConfig
    from data_prep.build import ConfigMismatch, PrepConfig, Shard, build_dataset
    from data_prep.landmarks import DetectorConfig
    from data_prep.quality import QualityConfig

    try:
        shard_ = Shard.parse(shard)
        if labels_csv is not None:
            label_fn = L.from_csv(labels_csv)
        elif celeba_attrs is not None:
            label_fn = L.from_celeba(celeba_attrs)
        elif folder_labels:
            label_fn = L.from_folders
        else:
            label_fn = L.no_labels
    except ValueError as e:  # a bad --shard or label file, named in the message
        raise BadInput(str(e)) from None

    config = PrepConfig(
        align=AlignConfig(size=face_size),
        region=replace(PrepConfig().region, window_size=window_size),
        quality=QualityConfig(min_face_width=min_face, max_yaw=max_yaw, min_blur=min_sharpness),
        # the search reaches the faces prep keeps; its workers are the parallelism
        detector=DetectorConfig(min_face=min_face, search_threads=1),
        max_faces=max_faces,
    )
    n = workers or os.cpu_count() or 1

    def bar(it, total):
        return tqdm(it, total=total, unit="photo", desc="prep", dynamic_ncols=True)

    try:
        if cluster is None:
            s = build_dataset(photos, out, label_fn, config, workers=n, shard=shard_,
                              limit=limit, progress=bar)
        else:  # one detector a Dask worker; this process writes the manifest
            from mustache.batch.cluster import open_cluster

            with open_cluster(cluster, n) as c:
                s = build_dataset(photos, out, label_fn, config, shard=shard_, limit=limit,
                                  progress=bar, runner=c.prep)
    except ConfigMismatch as e:
        raise BadInput(str(e)) from None
    _print_summary(s, out)
    if auto_label is not None:
        with scorer:
            _auto_label(out, scorer, auto_label_margin)
    if contact_sheet and s.kept + s.skipped > 0:
        from data_prep.contact_sheet import dataset_sheet
        from data_prep.image_io import save_image

        try:
            save_image(out / "contact_sheet.png", dataset_sheet(out))
            typer.echo(f"contact sheet: {out / 'contact_sheet.png'}")
        except ValueError:
            pass


def _print_summary(s, out: Path) -> None:
    d = s.to_dict()
    rows = [("photos", d["photos"]), ("  skipped (done before, duplicate)", d["skipped"]),
            ("  processed", d["processed"]), ("faces found", d["faces_found"]),
            ("faces kept", d["kept"])]
    rows += [(f"  label {k}", v) for k, v in d["by_label"].items()]
    rows += [("rejected", sum(d["rejected"].values()))]
    rows += [(f"  {k}", v) for k, v in d["rejected"].items()]
    w = max(len(k) for k, _ in rows)
    for k, v in rows:
        typer.echo(f"{k:<{w}}  {v:>8}")
    if d["photos_per_second"]:
        typer.echo(f"{d['seconds']:.1f} s, {d['photos_per_second']:.0f} photos/s -> {out}")


def _auto_label(out: Path, scorer, margin: float) -> None:
    """Score every face's window with ``scorer`` (a :class:`mustache.learn.classify.Scorer`); label
    the unlabelled ones (score >= 0.5 + margin: mustache, < 0.5 - margin: clean). Each manifest file is rewritten atomically; labels given by the
    label source are kept, labels from an earlier --auto-label are redone."""
    import json

    import numpy as np

    from data_prep.build import read_jsonl
    from data_prep.image_io import atomic_write_bytes, read_image_fast

    counts = {"mustache": 0, "clean": 0, "unsure": 0}
    for path in sorted(out.glob("manifest*.jsonl")):
        records = list(read_jsonl(path))
        for i in range(0, len(records), 256):
            chunk = records[i:i + 256]
            wins = np.stack([read_image_fast(out / r["files"]["window"]) for r in chunk])
            masks = (np.stack([read_image_fast(out / r["files"]["mask"]) for r in chunk])
                     if scorer.config.use_mask else None)
            for r, s in zip(chunk, scorer.score_windows(wins, masks), strict=True):
                r["mustache_score"] = round(float(s), 4)
                if r.get("label") is not None and r.get("label_source") != "classifier":
                    continue
                label = ("mustache" if s >= 0.5 + margin else
                         "clean" if s < 0.5 - margin else None)
                r["label"], r["label_source"] = label, "classifier" if label else None
                counts[label or "unsure"] += 1
        text = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records)
        atomic_write_bytes(path, text.encode())
    typer.echo(f"auto-label: {counts['mustache']} mustache, {counts['clean']} clean, "
               f"{counts['unsure']} left unlabelled")
