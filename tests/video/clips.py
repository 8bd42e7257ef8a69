"""Short composed video clips for the video and tracking tests, written with PyAV: the
astronaut portrait (scikit-image) upscaled 3x (its face about 280 px wide) and moved, turned
and zoomed by known affine transforms, with a sine tone as the audio track."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import numpy as np

FACE = (675.0, 370.0)  # the astronaut's upper lip in the 3x portrait (x, y) px, roughly
SCALE = 3


def portrait() -> np.ndarray:
    """The astronaut upscaled 3x: RGB uint8 (1536, 1536, 3)."""
    import cv2
    from skimage import data

    a = data.astronaut()
    return cv2.resize(a, None, fx=SCALE, fy=SCALE, interpolation=cv2.INTER_CUBIC)


def motion(i: int, n: int, still: bool = False) -> tuple[float, float, float, float]:
    """Frame ``i`` of ``n`` -> (dx, dy, degrees, zoom): across the clip the face moves, turns
    20 degrees each way and zooms 0.8-1.2x."""
    if still:
        return 0.0, 0.0, 0.0, 1.0
    t = i / max(n - 1, 1)
    return (60 * math.sin(2 * math.pi * t), 30 * math.sin(4 * math.pi * t),
            20 * math.sin(2 * math.pi * t), 1.0 + 0.2 * math.sin(2 * math.pi * t + 1.0))


def matrix(i: int, n: int, size: tuple[int, int], still: bool = False,
           centre=FACE) -> np.ndarray:
    """(2, 3) portrait px -> frame px of frame ``i``: the face's centre to the frame's centre,
    then the frame's motion about it."""
    import cv2

    dx, dy, deg, zoom = motion(i, n, still)
    w, h = size
    m = cv2.getRotationMatrix2D(centre, deg, zoom * 0.8)
    m[:, 2] += [w / 2 - centre[0] + dx, h / 2 - centre[1] + dy]
    return m


def frames_of(source: np.ndarray, n: int, size=(640, 480), still=False, centre=FACE):
    import cv2

    for i in range(n):
        yield cv2.warpAffine(source, matrix(i, n, size, still, centre), size,
                             flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def write_clip(path: Path, frames, fps: int = 24, audio: bool = True, rotation: int = 0,
               crf: int = 14) -> Path:
    """RGB frames -> an H.264 mp4 (with a 440 Hz AAC tone as long as the video)."""
    import av

    frames = list(frames)
    h, w = frames[0].shape[:2]
    with av.open(str(path), "w") as c:
        v = c.add_stream("libx264", rate=fps)
        v.width, v.height, v.pix_fmt = w, h, "yuv420p"
        v.options = {"crf": str(crf), "preset": "ultrafast"}
        if rotation:
            v.set_display_rotation(rotation)
        a = None
        if audio:
            a = c.add_stream("aac", rate=48000)
            a.layout = "mono"
        for f in frames:
            for p in v.encode(av.VideoFrame.from_ndarray(f, format="rgb24")):
                c.mux(p)
        for p in v.encode():
            c.mux(p)
        if a is not None:
            sr, total = 48000, int(48000 * len(frames) / fps)
            t = np.arange(total) / sr
            tone = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
            for k in range(0, total, 1024):
                chunk = tone[k:k + 1024]
                fr = av.AudioFrame.from_ndarray(chunk[None], format="flt", layout="mono")
                fr.sample_rate, fr.pts, fr.time_base = sr, k, Fraction(1, sr)
                for p in a.encode(fr):
                    c.mux(p)
            for p in a.encode():
                c.mux(p)
    return path


def read_clip(path: Path) -> tuple[list[np.ndarray], dict]:
    """-> (upright RGB frames, {"fps", "frames", "audio", "rotation", "audio_packets"})."""
    import av

    with av.open(str(path)) as c:
        v = c.streams.video[0]
        out, rot = [], 0
        for f in c.decode(v):
            rot = int(round(f.rotation or 0)) % 360
            out.append(f.to_ndarray(format="rgb24"))
        info = {"fps": v.average_rate, "frames": len(out), "rotation": rot,
                "audio": c.streams.audio[0].codec_context.name if c.streams.audio else None}
    if info["audio"]:
        with av.open(str(path)) as c:
            info["audio_packets"] = sum(1 for p in c.demux(c.streams.audio[0]) if p.size)
    return out, info


def talking(points: np.ndarray, i: int, n: int, open_share: float = 0.12) -> np.ndarray:
    """A face's (478, 2+) landmarks in frame ``i`` of ``n`` of a talking clip: the mouth opens
    and closes twice (the lower lip and jaw drop by up to ``open_share`` x the face's width, the
    middle most, the corners not at all), and the upper lip rises by a quarter of that and
    widens a little, as when speaking. -> (478, 2+) float64."""
    from data_prep import indices as ix

    p = np.asarray(points, np.float64).copy()
    width = float(np.linalg.norm(p[ix.FACE_SIDES[1], :2] - p[ix.FACE_SIDES[0], :2]))
    t = 0.5 - 0.5 * math.cos(4 * math.pi * i / max(n - 1, 1))  # 0 closed, 1 open
    drop = open_share * width * t
    inner = p[list(ix.UPPER_LIP_INNER), :2]
    order = np.argsort(inner[:, 0])
    centre = 0.5 * (p[78, 0] + p[308, 0])
    half = 0.5 * abs(p[308, 0] - p[78, 0])
    across = np.clip(1 - ((p[:, 0] - centre) / half) ** 2, 0, 1)  # 1 in the middle, 0 at corners
    below = p[:, 1] > np.interp(p[:, 0], inner[order, 0], inner[order, 1]) + 0.5
    p[:, 1] += drop * below * across
    # the upper lip (outer and inner edges) lifts and the philtrum with it, fading upward
    lip_y = float(p[list(ix.UPPER_LIP_OUTER), 1].mean())
    nose_y = float(p[ix.SUBNASALE, 1])
    up = np.clip((p[:, 1] - nose_y) / max(lip_y - nose_y, 1.0), 0, 1) * ~below
    p[:, 1] -= 0.25 * drop * up * across
    return p


def talking_frames(source: np.ndarray, points: np.ndarray, n: int, size=(640, 480)):
    """Frames of a talking clip made from one portrait and its (478, 3) landmarks by warping
    its mesh (:func:`talking`), cropped about the face to ``size``. -> (frames RGB uint8,
    landmarks (478, 3) per frame in frame px)."""
    import cv2

    from data_prep.canvas import FaceMesh

    src = FaceMesh(points)
    p = np.asarray(points, np.float64)
    w, h = size
    cx, cy = p[:, :2].mean(0)
    x0, y0 = int(cx - w / 2), int(cy - h / 2)
    box = (x0, y0, x0 + w, y0 + h)
    ys, xs = np.mgrid[y0:y0 + h, x0:x0 + w].astype(np.float32)
    frames, marks = [], []
    for i in range(n):
        q = talking(p, i, n)
        where, on = FaceMesh(q).map_from(src, box)
        mx = np.where(on, where[..., 0], xs)
        my = np.where(on, where[..., 1], ys)
        f = cv2.remap(source, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        # the open mouth (the mesh's hole inside the lips): its dark inside
        from data_prep.region import polygon_mask

        lower = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308)
        hole = polygon_mask(np.concatenate([q[[78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308], :2],
                                            q[list(lower), :2][::-1]]) - [x0, y0], (h, w))
        f = (f * (1 - hole[..., None]) + np.array([70, 25, 30]) * hole[..., None]).astype(np.uint8)
        frames.append(f)
        q = q.copy()
        q[:, :2] -= [x0, y0]
        marks.append(q)
    return frames, marks
