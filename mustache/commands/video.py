"""`mustache apply` on a video: every frame through :class:`mustache.video.VideoMustacher`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mustache.apply import ApplyOptions
    from mustache.video import Painting


def apply_video(engine: Painting, src: Path, dst: Path, options: ApplyOptions,
                progress: bool = True) -> dict:
    """One video -> ``dst`` (H.264 mp4, or GIF for a .gif) and its report dict: one entry a
    face (track) in "faces". With no face in any frame the video is written unchanged (the
    very same file when the format is the same) and "faces" is empty; the caller raises
    NoFace. BadInput for an unreadable, corrupt, truncated or empty video or an unwritable
    ``dst``."""
    from data_prep.image_io import atomic_write_bytes
    from mustache.errors import BadInput
    from mustache.video import VideoMustacher
    from mustache.videoio import VideoReader, transcode

    if options.faces is not None:
        raise BadInput("--face picks faces of a photo; a video's faces come and go (leave it out)")
    with VideoReader(src) as r:  # BadInput before anything is written
        rate = float(r.info.rate)
    video = VideoMustacher(engine, options, rate=rate)
    try:
        info, n = transcode(src, dst, video.process, progress=progress)
    finally:
        video.close()
    faces = video.report()
    if not faces and dst.suffix.lower() == src.suffix.lower():
        try:
            atomic_write_bytes(dst, src.read_bytes())  # no face: the very same file
        except OSError as e:
            raise BadInput(f"{dst}: cannot write ({e.strerror})") from None
    return {"video": str(src), "out": str(dst), "frames": n, "fps": round(float(info.rate), 3),
            "size": [info.width, info.height], "rotation": info.rotation, "audio": info.audio,
            "faces": faces, "warnings": []}
