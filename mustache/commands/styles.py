"""`mustache styles`: the named mustache styles, and a sheet of them all on one face."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def styles(
    sheet: Annotated[Path | None, typer.Option(help="Also write a sheet of every style on one face to this image.")] = None,
    photo: Annotated[Path | None, typer.Option(help="The face for --sheet (default: scikit-image's astronaut, upscaled 2x).")] = None,
    seed: Annotated[int, typer.Option(help="Noise seed for the sheet's mustaches.")] = 0,
    color: Annotated[str | None, typer.Option("--color", help="Hair colour for the sheet (default: the person's eyebrows).")] = None,
) -> None:
    """List the named styles (`mustache apply --style NAME`); with --sheet, draw each on one
    face, mouth crops at 100%. Exit codes: 0 done, 2 bad input, 3 no face in the photo."""
    from mustache.paint.styles import STYLES

    for s in STYLES.values():
        typer.echo(f"{s.name:<11} {s.about}")
    if sheet is None:
        return
    import numpy as np

    from data_prep.image_io import save_image
    from mustache.errors import BadInput, NoFace
    from mustache.measure.crops import mouth_crop_box
    from mustache.paint.gan import ApplyOptions, Mustacher, as_rgb

    if photo is not None:
        image = as_rgb(photo)
    else:
        import cv2
        from skimage import data

        a = data.astronaut()
        image = cv2.resize(a, (2 * a.shape[1], 2 * a.shape[0]), interpolation=cv2.INTER_CUBIC)
    try:
        options = [ApplyOptions(style=s, seed=seed, color=color, force=True) for s in STYLES.values()]
    except ValueError as e:
        raise BadInput(str(e)) from None
    with Mustacher() as m:
        faces = m.detect(image)
        if not faces:
            raise NoFace(f"{photo or 'the astronaut'}: no face found")
        results = [m.apply(image, o, faces=faces[:1]) for o in options]
    # one crop box for every style: the union of their regions (100%, nothing resized)
    boxes = [mouth_crop_box(r.faces[0], image.shape, margin=0.1) for r in results]
    x0, y0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
    x1, y1 = max(b[2] for b in boxes), max(b[3] for b in boxes)
    tiles = [_label(r.image[y0:y1, x0:x1], s) for r, s in zip(results, STYLES, strict=True)]
    cols = 4
    blank = np.full_like(tiles[0], 255)
    tiles += [blank] * (-len(tiles) % cols)
    rows = [np.hstack([np.pad(t, ((4, 4), (4, 4), (0, 0)), constant_values=255)
                       for t in tiles[i:i + cols]]) for i in range(0, len(tiles), cols)]
    try:
        save_image(sheet, np.vstack(rows), quality=92)
    except (OSError, ValueError) as e:
        raise BadInput(f"{sheet}: cannot write ({e})") from None
    typer.echo(f"wrote {sheet}")


def _label(tile, text: str):
    """The tile with ``text`` in a white strip above it (uint8 (h + 22, w, 3))."""
    import cv2
    import numpy as np

    strip = np.full((22, tile.shape[1], 3), 255, np.uint8)
    cv2.putText(strip, text, (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    return np.vstack([strip, tile])
