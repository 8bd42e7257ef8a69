"""Reading and writing videos (PyAV): frames in and out, timing, rotation and audio kept.

:func:`transcode` runs a function on every frame of a video and writes the result atomically
(a temporary file renamed at the end: nothing half-written, even on an error or ^C):

- input: mp4, mov, m4v, webm, avi, mkv or animated GIF (whatever FFmpeg reads);
- output: H.264 mp4 (libx264, CRF ``crf``), or GIF (Pillow) for a GIF named .gif;
- each frame keeps its own timestamp, so the frame rate (variable rates too) and the frame
  count are the original's; the frames are handed over upright (the display matrix applied)
  and turned back on writing, with the same rotation metadata;
- the audio track is copied packet for packet (re-encoded to AAC only when its codec cannot
  go in an mp4, e.g. Vorbis from a webm);
- decoding and encoding run in threads of their own beside the frame function (FFmpeg
  releases the GIL), so on two cores they mostly hide behind it.

An unreadable, truncated or empty video raises :class:`mustache.errors.BadInput`.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from mustache.errors import BadInput

VIDEO_SUFFIXES = frozenset({".mp4", ".mov", ".m4v", ".webm", ".avi", ".mkv", ".gif"})
MP4_AUDIO = frozenset({"aac", "mp3", "opus", "alac", "flac", "ac3", "eac3"})  # copied as is


def is_video_path(path: str | os.PathLike) -> bool:
    return Path(path).suffix.lower() in VIDEO_SUFFIXES


def output_path(src: Path) -> Path:
    """Where `apply` writes a video by default: ``<stem>_mustache.mp4`` (``.gif`` for a GIF)."""
    suffix = ".gif" if src.suffix.lower() == ".gif" else ".mp4"
    return src.with_name(f"{src.stem}_mustache{suffix}")


@dataclass(frozen=True)
class VideoOut:
    crf: int = 18  # libx264 quality (lower is better; 18 looks like the source)
    preset: str = "superfast"  # libx264 speed: ultrafast .. veryslow (speed for size)


@dataclass(frozen=True)
class VideoInfo:
    width: int  # as shown (rotation applied)
    height: int
    rate: Fraction  # average frames a second
    time_base: Fraction  # of the timestamps
    frames: int  # the container's frame count; 0 when it does not say
    rotation: int  # degrees the stored frames are turned counter-clockwise to show them
    audio: str | None  # the audio codec's name, None without audio
    gif: bool


def _av_error():
    import av

    return av.FFmpegError


class VideoReader:
    """An open video: ``info`` and :meth:`items` (upright RGB frames and audio packets)."""

    def __init__(self, path: str | os.PathLike):
        import av

        self.path = Path(path)
        try:
            self.container = av.open(str(path))
        except (av.FFmpegError, OSError, UnicodeDecodeError) as e:
            raise BadInput(f"{path}: not a readable video ({_why(e)})") from None
        if not self.container.streams.video:
            self.container.close()
            raise BadInput(f"{path}: no video stream")
        v = self.video = self.container.streams.video[0]
        v.thread_type = "AUTO"  # frame threads: FFmpeg decodes ahead on its own threads
        self.audio = self.container.streams.audio[0] if self.container.streams.audio else None
        rate = v.average_rate or v.guessed_rate or v.base_rate or Fraction(25)
        self._first = self._rotation = None
        gif = v.codec_context.name == "gif"
        w, h = v.codec_context.width, v.codec_context.height
        if not w or not h:
            self.container.close()
            raise BadInput(f"{path}: the video has no frame size (corrupt?)")
        rotation = self._peek_rotation()
        if rotation % 180:
            w, h = h, w
        v = self.video  # the container was opened again: read from its stream
        self.info = VideoInfo(int(w), int(h), Fraction(rate), Fraction(v.time_base or Fraction(1, 1000)),
                              int(v.frames or 0), rotation,
                              self.audio.codec_context.name if self.audio else None, gif)

    def _peek_rotation(self) -> int:
        """The display matrix's rotation, from the first frame (0 when it has none)."""
        try:
            for frame in self.container.decode(self.video):
                self._first = frame
                break
        except _av_error() as e:
            self.container.close()
            raise BadInput(f"{self.path}: cannot decode the video ({_why(e)})") from None
        if self._first is None:
            self.container.close()
            raise BadInput(f"{self.path}: no video frames")
        r = int(round(self._first.rotation or 0))
        self._first = None
        # opened again rather than seeked back: a seek to 0 drops audio packets before it
        # (the AAC priming packet)
        import av

        self.container.close()
        self.container = av.open(str(self.path))
        self.video = self.container.streams.video[0]
        self.video.thread_type = "AUTO"
        self.audio = self.container.streams.audio[0] if self.container.streams.audio else None
        return ((r + 45) // 90 * 90) % 360

    def items(self) -> Iterator[tuple[str, object, int]]:
        """("video", RGB uint8 (H, W, 3) upright, pts) for each frame and ("audio", packet, 0)
        for each audio packet, in file order. BadInput when the file is cut short or corrupt
        (fewer frames than the container lists, or a decoding error)."""
        import av

        streams = [self.video] + ([self.audio] if self.audio is not None else [])
        n, last = 0, None
        k = self.info.rotation // 90
        try:
            for packet in self.container.demux(*streams):
                if packet.stream.type == "audio":
                    if packet.dts is not None:
                        yield "audio", packet, 0
                    continue
                for frame in packet.decode():
                    rgb = frame.to_ndarray(format="rgb24")
                    if k:
                        rgb = np.ascontiguousarray(np.rot90(rgb, k))
                    pts = frame.pts if frame.pts is not None else (0 if last is None else last + 1)
                    if last is not None and pts <= last:
                        pts = last + 1  # a repeated or missing timestamp: keep them increasing
                    last = pts
                    n += 1
                    yield "video", rgb, pts
        except av.FFmpegError as e:
            raise BadInput(f"{self.path}: corrupt or truncated video at frame {n} "
                           f"({_why(e)})") from None
        if n == 0:
            raise BadInput(f"{self.path}: no video frames")
        if self.info.frames and n < self.info.frames:
            raise BadInput(f"{self.path}: truncated video ({n} of {self.info.frames} frames)")

    def close(self) -> None:
        self.container.close()

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _why(e: BaseException) -> str:
    return (e.strerror if isinstance(e, OSError) else None) or str(e) or type(e).__name__


class VideoWriter:
    """Writes upright RGB frames to ``path`` through a temporary file: H.264 mp4, or a GIF
    when ``path`` ends in .gif. :meth:`finish` renames it into place; :meth:`abort` drops it."""

    def __init__(self, path: str | os.PathLike, info: VideoInfo, audio=None,
                 config: VideoOut = VideoOut()):
        import av

        self.path, self.info = Path(path), info
        self.tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp{self.path.suffix}")
        self.gif = self.path.suffix.lower() == ".gif"
        self._frames: list = []
        self._pts: list[int] = []
        if self.gif:
            return
        w, h = (info.height, info.width) if info.rotation % 180 else (info.width, info.height)
        try:
            self.container = av.open(str(self.tmp), "w", format="mp4")
        except (av.FFmpegError, OSError) as e:
            raise BadInput(f"{path}: cannot write ({_why(e)})") from None
        v = self.stream = self.container.add_stream("libx264", rate=info.rate)
        v.width, v.height = w, h
        # 4:2:0 needs even sides; odd ones keep their size in 4:4:4
        v.pix_fmt = "yuv420p" if w % 2 == 0 and h % 2 == 0 else "yuv444p"
        v.codec_context.time_base = info.time_base
        v.time_base = info.time_base
        v.options = {"crf": str(config.crf), "preset": config.preset}
        if info.rotation:
            v.set_display_rotation(info.rotation)
        self.audio_out = self._audio_resample = None
        if audio is not None:
            if audio.codec_context.name in MP4_AUDIO:
                self.audio_out = self.container.add_stream_from_template(audio)
            else:  # e.g. Vorbis: an mp4 cannot hold it
                self.audio_out = self.container.add_stream("aac", rate=audio.codec_context.sample_rate)
                self._audio_resample = True

    def write(self, rgb: np.ndarray, pts: int) -> None:
        """One upright RGB uint8 (H, W, 3) frame at timestamp ``pts`` (``info.time_base``)."""
        import av

        if self.gif:
            self._frames.append(rgb)
            self._pts.append(pts)
            return
        k = self.info.rotation // 90
        if k:
            rgb = np.ascontiguousarray(np.rot90(rgb, -k))
        frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
        frame.pts, frame.time_base = pts, self.info.time_base
        for p in self.stream.encode(frame):
            self.container.mux(p)

    def audio(self, packet) -> None:
        """Copy one audio packet of the source (or re-encode it to AAC, see the class)."""
        if self.gif or self.audio_out is None:
            return
        if self._audio_resample:
            for frame in packet.decode():
                for p in self.audio_out.encode(frame):
                    self.container.mux(p)
            return
        packet.stream = self.audio_out
        self.container.mux(packet)

    def finish(self) -> None:
        """Flush, close and rename into place."""
        try:
            if self.gif:
                self._save_gif()
            else:
                for p in self.stream.encode():
                    self.container.mux(p)
                if self._audio_resample:
                    for p in self.audio_out.encode():
                        self.container.mux(p)
                self.container.close()
            os.replace(self.tmp, self.path)
        except BaseException:
            self.abort()
            raise

    def _save_gif(self) -> None:
        from PIL import Image

        tb = float(self.info.time_base)
        gaps = np.diff(self._pts) * tb * 1000 if len(self._pts) > 1 else np.array([])
        last = float(np.median(gaps)) if gaps.size else 1000 / float(self.info.rate or 10)
        durations = [int(round(d)) for d in (*gaps, last)]
        images = [Image.fromarray(f) for f in self._frames]
        images[0].save(self.tmp, format="GIF", save_all=True, append_images=images[1:],
                       duration=durations, loop=0, optimize=False)

    def abort(self) -> None:
        if not self.gif:
            try:
                self.container.close()
            except Exception:  # already broken: the temporary file goes anyway
                pass
        self.tmp.unlink(missing_ok=True)


def _background(items: Iterator, size: int = 8) -> Iterator:
    """``items`` produced by a thread of its own, ``size`` ahead (errors re-raised here)."""
    q: queue.Queue = queue.Queue(size)
    done = object()
    stop = threading.Event()

    def run():
        try:
            for it in items:
                while not stop.is_set():
                    try:
                        q.put(it, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(done)
        except BaseException as e:  # noqa: BLE001 - handed to the consumer
            q.put(e)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    try:
        while True:
            it = q.get()
            if it is done:
                return
            if isinstance(it, BaseException):
                raise it
            yield it
    finally:
        stop.set()
        t.join(5)  # the reader's container must outlive its thread


class _Encoder:
    """A :class:`VideoWriter` fed from a thread of its own."""

    def __init__(self, writer: VideoWriter, size: int = 8):
        self.writer, self.q = writer, queue.Queue(size)
        self.error: BaseException | None = None
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        while True:
            it = self.q.get()
            if it is None:
                return
            if self.error is not None:
                continue  # drain: the main thread will see the error
            try:
                kind, obj, pts = it
                self.writer.write(obj, pts) if kind == "video" else self.writer.audio(obj)
            except BaseException as e:  # noqa: BLE001 - handed to the main thread
                self.error = e

    def put(self, item) -> None:
        if self.error is not None:
            raise self.error
        self.q.put(item)

    def close(self) -> None:
        self.q.put(None)
        self.t.join()
        if self.error is not None:
            raise self.error


def transcode(src: str | os.PathLike | VideoReader, dst: str | os.PathLike,
              fn: Callable[[np.ndarray], np.ndarray], config: VideoOut = VideoOut(),
              progress: bool = True) -> tuple[VideoInfo, int]:
    """Every frame of ``src`` (a path, or a VideoReader not yet read, which this closes)
    through ``fn`` (RGB uint8 (H, W, 3) upright -> the same shape) into ``dst`` (see the module
    docstring). -> (the source's info, frames written). BadInput for an unreadable, corrupt,
    truncated or empty source or an unwritable ``dst``; ``dst`` is untouched on any error."""
    from tqdm import tqdm

    with src if isinstance(src, VideoReader) else VideoReader(src) as reader:
        info = reader.info
        writer = VideoWriter(dst, info, reader.audio, config)
        n = 0
        try:
            enc = _Encoder(writer)
            try:
                with tqdm(total=info.frames or None, desc="video", unit="frame", leave=False,
                          disable=not progress) as bar:
                    for kind, obj, pts in _background(reader.items()):
                        if kind == "video":
                            obj = fn(obj)
                            n += 1
                            bar.update()
                        enc.put((kind, obj, pts))
            finally:
                enc.close()
            writer.finish()
        except OSError as e:
            writer.abort()
            raise BadInput(f"{dst}: cannot write ({_why(e)})") from None
        except BaseException:
            writer.abort()
            raise
    return info, n
