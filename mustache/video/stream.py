"""Mustaches on the faces of a video, frame by frame, that stay put.

Painting a face (the GAN, the hair stage, the Poisson blend) costs 0.2-1 s, far more than a
frame's 33 ms, and repainting every frame would redraw every hair somewhere else (flicker). So
each face is painted once, when its track (:mod:`mustache.video.track`) begins, with a seed of its
own (``options.seed`` and the track's id): the painted change (blended - original, over the
region's box) is kept with the track's mesh and smoothed mouth-area anchors of that frame: a
mustache on the face's surface. In every later frame that mesh is carried to the current
anchors (:func:`mustache.video.track.carry`: their affine, then each anchor's own motion, so it bends
with the upper lip) and the change is laid through both meshes, triangle by triangle
(:meth:`data_prep.canvas.FaceMesh.map_from`, one ``cv2.remap`` of a small box): the mustache
moves, turns, scales and foreshortens with the face and bends when the mouth opens, smiles or
talks; on a still face the anchors are held (the tracker's dead band), so the pixels are the
same frame after frame. A face
too small to paint when it appears is tried again when the mesh sees it next; a face that
leaves ends its track and its mustache; one that comes back is a new track.

    with Mustacher() as m:
        video = VideoMustacher(m, ApplyOptions(seed=3))
        for rgb in video.stream(frames):     # RGB uint8 (H, W, 3) in, the same out
            ...
        video.close()
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Protocol

import numpy as np

from mustache.paint.options import PASSING, ApplyOptions, ApplyResult, Skip, Skipped
from mustache.video.track import TrackConfig, affine, carry

if TYPE_CHECKING:
    from data_prep.landmarks import FaceDetector
    from mustache.video.track import Track



@dataclass(frozen=True)
class VideoConfig:
    track: TrackConfig = field(default_factory=TrackConfig)
    min_face_share: float = 0.1  # the face search reaches faces this share of the frame's long
    # side (or options.min_face, the larger): a 40 px search costs 0.5 s a 720p frame, 0.07 s
    # at 128 px; smaller faces are still found while the mesh follows them


class Painting(Protocol):
    """What a video needs of an engine (:class:`mustache.paint.gan.Mustacher`,
    :class:`mustache.paint.donor.DonorTransfer`): one photo's faces painted, landmarks given."""

    def apply(self, image_or_path, options: ApplyOptions = ApplyOptions(), faces=None
              ) -> ApplyResult: ...


@dataclass(frozen=True, eq=False)
class Layer:
    """One face's painted mustache, as painted in its first frame."""

    ref: np.ndarray  # (K, 2) float64: the track's anchors (photo px) when it was painted
    box: tuple[int, int, int, int]  # (x0, y0, x1, y1) photo px of the change
    change: np.ndarray  # (h, w, 3) float32: blended - original over ``box``
    hairs: int
    points: np.ndarray | None = None  # (478, 3) float64: the track's mesh when it was painted
    # (None: carried by the anchors' affine alone)
    near: np.ndarray | None = None  # (M,) the mesh's triangles about ``box`` (drawn each frame)


@dataclass
class FaceLog:
    """What happened to one track, for the report."""

    index: int
    first: int  # frame numbers, from 0
    last: int
    painted: int = 0  # frames the mustache was drawn in
    note: str | None = None
    hairs: int = 0

    def to_dict(self) -> dict:
        return {"index": self.index, "blended": self.painted > 0, "note": self.note,
                "first_frame": self.first, "last_frame": self.last,
                "frames_painted": self.painted, "hairs": self.hairs}


def track_seed(seed: int, track: int) -> int:
    """A face's own seed: the same run seed and track give the same mustache."""
    return int(np.random.SeedSequence([seed, track]).generate_state(1)[0] >> 1)


def paste(frame: np.ndarray, layer: Layer, m: np.ndarray) -> np.ndarray:
    """``layer``'s change moved by ``m`` (2, 3: its frame's photo px -> this frame's) and added
    to ``frame`` RGB uint8 (H, W, 3), in place; returns ``frame``."""
    import cv2

    h, w = frame.shape[:2]
    x0, y0, x1, y1 = layer.box
    c = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float64) @ m[:, :2].T + m[:, 2]
    dx0, dy0 = np.floor(c.min(0)).astype(int)
    dx1, dy1 = np.ceil(c.max(0)).astype(int) + 1
    dx0, dy0, dx1, dy1 = max(dx0, 0), max(dy0, 0), min(dx1, w), min(dy1, h)
    if dx1 - dx0 < 2 or dy1 - dy0 < 2:
        return frame
    # layer box px -> photo -> this box's px
    local = m.copy()
    local[:, 2] += m[:, :2] @ [x0, y0] - [dx0, dy0]
    if np.allclose(local, [[1, 0, 0], [0, 1, 0]], atol=1e-9):
        moved = layer.change[:dy1 - dy0, :dx1 - dx0]  # the identity: not even resampled
    else:
        moved = cv2.warpAffine(layer.change, local, (dx1 - dx0, dy1 - dy0), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    region = frame[dy0:dy0 + moved.shape[0], dx0:dx0 + moved.shape[1]]
    region[...] = np.clip(region + moved + 0.5, 0, 255)  # + 0.5: the uint8 store rounds down
    return frame


def paste_on_mesh(frame: np.ndarray, layer: Layer, points: np.ndarray) -> np.ndarray:
    """``layer``'s change laid on the face whose mesh is now ``points`` (478, 2+) photo px,
    triangle by triangle from its mesh when painted, and added to ``frame`` RGB uint8
    (H, W, 3), in place; returns ``frame``. The same mesh: pasted as it is (not resampled)."""
    import cv2

    from data_prep.canvas import FaceMesh

    if layer.points is None:
        raise ValueError("the layer has no mesh")
    h, w = frame.shape[:2]
    if np.array_equal(np.asarray(points)[:, :2], layer.points[:, :2]):
        return paste(frame, layer, np.array([[1.0, 0, 0], [0, 1.0, 0]]))
    x0, y0, x1, y1 = layer.box
    # the box's corners carried by the meshes' affine, padded by the bend
    src, dst = layer.points[:, :2], np.asarray(points, np.float64)[:, :2]
    m = affine(src, dst)
    c = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float64) @ m[:, :2].T + m[:, 2]
    bend = float(np.abs(dst - (src @ m[:, :2].T + m[:, 2])).max()) + 2
    dx0, dy0 = np.floor(c.min(0) - bend).astype(int)
    dx1, dy1 = np.ceil(c.max(0) + bend).astype(int) + 1
    dx0, dy0, dx1, dy1 = max(dx0, 0), max(dy0, 0), min(dx1, w), min(dy1, h)
    if dx1 - dx0 < 2 or dy1 - dy0 < 2:
        return frame
    where, _ = FaceMesh(points).map_from(FaceMesh(layer.points), (dx0, dy0, dx1, dy1),
                                         layer.near)
    where -= np.array([x0, y0], np.float32)
    moved = cv2.remap(layer.change, where[..., 0], where[..., 1], cv2.INTER_LINEAR,
                      borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    region = frame[dy0:dy1, dx0:dx1]
    region[...] = np.clip(region + moved + 0.5, 0, 255)  # + 0.5: the uint8 store rounds down
    return frame


class VideoMustacher:
    """Frames in, frames with mustaches out (see the module docstring). ``engine`` paints
    (a :class:`Painting`); ``detector``: any :class:`data_prep.landmarks.FaceDetector` to
    follow faces with (one is made on the first frame, sized to it, and closed otherwise);
    ``rate``: the video's frames a second (the smoothing's time scale)."""

    def __init__(self, engine: Painting, options: ApplyOptions = ApplyOptions(),
                 config: VideoConfig = VideoConfig(), detector: FaceDetector | None = None,
                 rate: float = 30.0):
        self.engine, self.options, self.config, self.rate = engine, options, config, rate
        self._detector, self._own = detector, detector is None
        self._tracker = None
        self.layers: dict[int, Layer | Skipped] = {}
        self.log: dict[int, FaceLog] = {}
        self.frames = 0

    def stream(self, frames: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        """RGB uint8 (H, W, 3) frames -> the same frames with mustaches, one by one."""
        for rgb in frames:
            yield self.process(rgb)

    def process(self, rgb: np.ndarray) -> np.ndarray:
        """One RGB uint8 (H, W, 3) frame (the next one) -> a new frame with its mustaches."""
        from mustache.video.track import Tracker

        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"frame must be RGB uint8 (H, W, 3), got {rgb.dtype} {rgb.shape}")
        if self._tracker is None:
            self._tracker = Tracker(self._detector or self._make_detector(rgb.shape[:2]),
                                    self.config.track, self.rate)
        tracks = self._tracker.update(rgb)
        alive = {t.id for t in tracks}
        self.layers = {k: v for k, v in self.layers.items() if k in alive}
        out = rgb.copy()
        for t in tracks:
            layer = self.layers.get(t.id)
            if layer is None or (isinstance(layer, Skipped) and t.fresh is not None
                                 and layer.reason in PASSING):
                layer = self.layers[t.id] = self._paint(rgb, t)
            log = self.log.setdefault(t.id, FaceLog(t.id, self.frames, self.frames))
            log.last = self.frames
            if isinstance(layer, Skipped):
                log.note = layer.note
                continue
            log.note, log.hairs = None, layer.hairs
            log.painted += 1
            if layer.points is None:
                paste(out, layer, affine(layer.ref, t.anchors))
            else:
                paste_on_mesh(out, layer, carry(layer.points, layer.ref, t.anchors))
        self.frames += 1
        return out

    def _paint(self, rgb: np.ndarray, t: Track) -> Layer | Skipped:
        """Paint track ``t``'s face in this frame -> its Layer, or why not."""
        from data_prep.landmarks import FaceLandmarks

        points = t.points.astype(np.float32)
        box = t.box
        face = FaceLandmarks(points, t.score, box)
        r = self.engine.apply(rgb, replace(self.options, seed=track_seed(self.options.seed, t.id),
                                           faces=None), faces=[face])
        f = r.faces[0]
        if not f.blended or f.region_box is None:
            return Skipped(f.reason or Skip.PAINTER, f.note or "not painted")
        x0, y0, x1, y1 = f.region_box
        change = r.image[y0:y1, x0:x1].astype(np.float32) - rgb[y0:y1, x0:x1]
        from data_prep.canvas import triangles_near

        pts = points.astype(np.float64)
        near = triangles_near(pts, (x0, y0, x1, y1), 0.03 * float(np.ptp(pts[:, 0])))
        return Layer(t.anchors.copy(), (x0, y0, x1, y1), change, f.hairs, pts, near)

    def _make_detector(self, shape: tuple[int, int]) -> FaceDetector:
        from data_prep.landmarks import DetectorConfig, MediaPipeDetector

        reach = max(self.options.min_face, self.config.min_face_share * max(shape))
        self._detector = MediaPipeDetector(DetectorConfig(min_face=reach))
        return self._detector

    def report(self) -> list[dict]:
        """One dict a face (track), in order of appearance."""
        return [self.log[k].to_dict() for k in sorted(self.log)]

    def close(self) -> None:
        if self._own and self._detector is not None:
            self._detector.close()
        self._detector = None
