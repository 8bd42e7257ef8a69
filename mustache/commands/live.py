"""`mustache live`: a webcam (or stream) preview with mustaches that stay put."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def live(
    source: Annotated[str, typer.Argument(help="Camera index (0 = the first camera) or a stream URL / file.")] = "0",
    model: Annotated[Path | None, typer.Option(help="GAN checkpoint or run folder (default: the shipped model).")] = None,
    seed: Annotated[int, typer.Option(help="Noise seed: each face gets its own from it.")] = 0,
    style: Annotated[str, typer.Option(help="Mustache style (`mustache styles` lists them).")] = "natural",
    color: Annotated[str | None, typer.Option("--color", help="Hair colour name or #rrggbb (default: the person's eyebrows).")] = None,
    min_face: Annotated[float, typer.Option(help="Paint faces at least this wide (px).")] = 40.0,
    device: Annotated[str, typer.Option(help="auto | cpu | cuda.")] = "auto",
) -> None:
    """Show a camera's picture with a mustache on every face, live (q or Esc quits). Faces are
    followed from frame to frame (README "Video"). Needs a display: without one (no $DISPLAY,
    or an OpenCV without windows) it says so and exits 2."""
    import os
    import sys

    from mustache.errors import BadInput

    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY")
                                                 or os.environ.get("WAYLAND_DISPLAY")):
        raise BadInput("no display to show the preview on ($DISPLAY is not set); "
                       "`mustache apply clip.mp4` works without one")
    import cv2

    from mustache.paint.gan import ApplyOptions, Mustacher
    from mustache.paint.styles import style_named
    from mustache.video.stream import VideoMustacher

    try:
        options = ApplyOptions(seed=seed, color=color, min_face=min_face, style=style_named(style))
    except ValueError as e:
        raise BadInput(str(e)) from None
    cap = cv2.VideoCapture(int(source) if source.isdigit() else source)
    if not cap.isOpened():
        raise BadInput(f"{source}: cannot open this camera or stream")
    title = "mustache (q quits)"
    try:
        with Mustacher(model, device, min_face=min_face) as engine:
            video = VideoMustacher(engine, options, rate=cap.get(cv2.CAP_PROP_FPS) or 30.0)
            try:
                while True:
                    ok, bgr = cap.read()
                    if not ok:
                        break  # the stream ended
                    rgb = video.process(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
                    try:
                        cv2.imshow(title, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
                        key = cv2.waitKey(1) & 0xFF
                    except cv2.error:  # OpenCV built without windows (the headless wheel)
                        raise BadInput("cannot open a preview window: this OpenCV has no GUI "
                                       "(install opencv-python instead of the headless "
                                       "wheel)") from None
                    if key in (ord("q"), 27):
                        break
            finally:
                video.close()
    finally:
        cap.release()
        try:
            cv2.destroyAllWindows()
        except cv2.error:
            pass
