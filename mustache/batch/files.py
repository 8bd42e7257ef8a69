"""Files in, files out: the engine `mustache apply` builds (:func:`make_engine`), one photo or
video file painted into another (:func:`paint_file`, :func:`paint_video`) with its report dict.
Library code shared by the `apply` command and the cluster's workers (:mod:`mustache.batch.cluster`),
so that neither reaches into the other; it never imports :mod:`mustache.commands`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mustache.paint.options import ApplyOptions, Engine
    from mustache.video.stream import Painting


def make_engine(model, device, donor, donor_face, min_face: float) -> Engine:
    """The generator pipeline, or the donor transfer when a donor photo is given."""
    if donor is not None:
        from mustache.paint.donor import DonorTransfer

        return DonorTransfer(donor, donor_face, min_face=min_face)
    from mustache.paint.gan import Mustacher

    return Mustacher(model, device, min_face=min_face)


def paint_file(engine: Engine, src: Path, dst: Path, options: ApplyOptions, compare: bool) -> dict:
    """One photo -> its report dict; BadInput naming the file when it cannot be read or
    written."""
    import numpy as np

    from data_prep.image_io import atomic_write_bytes, save_image
    from mustache.errors import BadInput
    from mustache.paint.gan import as_rgb
    from mustache.video.codec import is_video_path

    if is_video_path(src):  # README "Video": tracked faces, the mustache painted once a face
        return paint_video(engine, src, dst, options)
    image = as_rgb(src)
    result = engine.apply(image, options)
    faces = [f.to_dict() for f in result.faces]
    try:
        if not faces and dst.suffix.lower() == src.suffix.lower():
            atomic_write_bytes(dst, src.read_bytes())  # no face: the very same file
        else:
            save_image(dst, result.image, quality=95)
        if compare:
            save_image(dst.with_name(f"{dst.stem}_compare{dst.suffix}"),
                       np.hstack([image, result.image]), quality=95)
    except (OSError, ValueError) as e:
        why = (e.strerror if isinstance(e, OSError) else None) or str(e)
        raise BadInput(f"{dst}: cannot write ({why})") from None
    return {"photo": str(src), "out": str(dst), "faces": faces,
            "warnings": list(result.warnings)}


def paint_file_report(engine: Engine, src: Path, dst: Path, options: ApplyOptions, compare: bool) -> dict:
    """:func:`paint_file`, with a photo that cannot be read or written as ``{"photo", "error"}``."""
    from mustache.errors import MustacheError

    try:
        return paint_file(engine, src, dst, options, compare)
    except MustacheError as e:
        return {"photo": str(src), "error": str(e)}


def paint_video(engine: Painting, src: Path, dst: Path, options: ApplyOptions,
                progress: bool = True) -> dict:
    """One video -> ``dst`` (H.264 mp4, or GIF for a .gif) and its report dict: one entry a
    face (track) in "faces". With no face in any frame the video is written unchanged (the
    very same file when the format is the same) and "faces" is empty; the caller raises
    NoFace. BadInput for an unreadable, corrupt, truncated or empty video or an unwritable
    ``dst``."""
    from data_prep.image_io import atomic_write_bytes
    from mustache.errors import BadInput
    from mustache.video.codec import VideoReader, transcode
    from mustache.video.stream import VideoMustacher

    if options.faces is not None:
        raise BadInput("--face picks faces of a photo; a video's faces come and go (leave it out)")
    reader = VideoReader(src)  # BadInput before anything is written; transcode reads and closes it
    try:
        video = VideoMustacher(engine, options, rate=float(reader.info.rate))
    except BaseException:
        reader.close()
        raise
    try:
        info, n = transcode(reader, dst, video.process, progress=progress)
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
