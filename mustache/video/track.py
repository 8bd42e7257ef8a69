"""Faces followed across the frames of a video, with steady landmarks.

A full face search costs 70-500 ms a 720p frame and the mesh on one face's crop 20-30 ms, more
than a frame's 33 ms; the mustache only needs the mouth area to move right. So per frame:

- a scene cut (the frame's thumbnail differs from the last one by ``cut`` grey levels) ends
  every track and searches the frame;
- every ``detect_every`` frames (and on cuts) the full search finds faces that entered; a new
  face starts a track, one overlapping a track (box IoU) refreshes it;
- every ``mesh_every`` frames each track's mesh runs on its previous box
  (``FaceDetector.detect_in_box``): no face there, the track ends (the face left);
- between meshes, pyramidal Lucas-Kanade optical flow carries the track's mouth-area
  ``ANCHORS`` from the last frame (about 1 ms);
- a One Euro filter smooths the anchors (still faces stay still, fast moves keep up), and a
  dead band holds them while they move less than ``hold_px``, so a still face gives the very
  same anchors frame after frame.

    tracker = Tracker(detector, TrackConfig())
    for rgb in frames:
        for t in tracker.update(rgb):
            t.id, t.anchors, t.points        # (K, 2) smoothed, (478, 2) photo px
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from data_prep import indices as ix
from data_prep.landmarks import box_iou

if TYPE_CHECKING:
    from data_prep.landmarks import FaceDetector, FaceLandmarks

# mouth-area points that carry the mustache: the upper lip, the line under the nose, the nose
# base and the cheeks beside the mouth (textured, so optical flow holds on them)
ANCHORS: tuple[int, ...] = tuple(dict.fromkeys(
    ix.UPPER_LIP_OUTER + ix.UNDER_NOSE + (ix.SUBNASALE, *ix.ALAR_BASES, ix.NOSE_TIP)
    + (205, 425, 50, 280, 207, 427)))


@dataclass(frozen=True)
class TrackConfig:
    detect_every: int = 30  # frames between full face searches (and on every scene cut)
    mesh_every: int = 6  # frames between meshes on each track's box; optical flow between
    cut: float = 30.0  # mean absolute grey change of a 64x36 thumbnail that means a scene cut
    match_iou: float = 0.3  # a detection overlapping a track's box this much is that face
    min_cutoff: float = 0.3  # One Euro: cutoff (Hz) for a still face: lower is steadier
    beta: float = 1.0  # One Euro: how fast the cutoff opens with speed (per px/s); 0.05 lagged
    # 2-3% of the face width behind a face turning 3 degrees a frame, 1.0 under 0.5%
    d_cutoff: float = 1.0  # One Euro: cutoff (Hz) of the speed estimate
    hold_px: float = 0.15  # anchors that move less than this (max over them) stay where they are
    flow_error: float = 30.0  # LK error above which a point counts as lost (a mesh re-anchors)

    def __post_init__(self):
        if self.detect_every < 1 or self.mesh_every < 1:
            raise ValueError(f"detect_every and mesh_every must be >= 1, got "
                             f"{self.detect_every}, {self.mesh_every}")


class OneEuro:
    """The One Euro filter (Casiez et al. 2012) on (N, 2) points sampled at ``rate`` Hz: a low
    pass whose cutoff rises with speed, so jitter goes and motion stays."""

    def __init__(self, rate: float, min_cutoff: float, beta: float, d_cutoff: float):
        self.dt = 1.0 / rate
        self.min_cutoff, self.beta, self.d_cutoff = min_cutoff, beta, d_cutoff
        self.x: np.ndarray | None = None
        self.dx: np.ndarray | None = None

    def _alpha(self, cutoff) -> np.ndarray:
        tau = 1.0 / (2 * np.pi * cutoff)
        return 1.0 / (1.0 + tau / self.dt)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, np.float64)
        if self.x is None:
            self.x, self.dx = x.copy(), np.zeros_like(x)
            return self.x.copy()
        dx = (x - self.x) / self.dt
        self.dx = self.dx + self._alpha(self.d_cutoff) * (dx - self.dx)
        # one speed per point (its 2-D speed), so x and y are smoothed alike
        speed = np.linalg.norm(self.dx, axis=-1, keepdims=True)
        a = self._alpha(self.min_cutoff + self.beta * speed)
        self.x = self.x + a * (x - self.x)
        return self.x.copy()


class Track:
    """One face followed over frames. ``id`` counts from 0 in order of appearance;
    ``anchors`` (K, 2) are the smoothed ``ANCHORS`` (photo px); ``points`` (478, 3) the last
    mesh moved with the anchors; ``fresh`` the mesh's own landmarks of this frame or None."""

    def __init__(self, id: int, face: FaceLandmarks, rate: float, config: TrackConfig):
        self.id = id
        self.config = config
        self.mesh = np.asarray(face.points, np.float64)  # (478, 3) the last mesh's landmarks
        self.raw = self.mesh[list(ANCHORS), :2].copy()  # (K, 2) measured anchors
        self.filter = OneEuro(rate, config.min_cutoff, config.beta, config.d_cutoff)
        self.anchors = self.filter(self.raw)
        self.fresh: FaceLandmarks | None = face
        self.score = float(face.score)

    def measure(self, raw: np.ndarray) -> None:
        """New measured anchors (K, 2) -> smoothed ``anchors`` (held in the dead band)."""
        self.raw = np.asarray(raw, np.float64)
        smooth = self.filter(self.raw)
        if np.abs(smooth - self.anchors).max() >= self.config.hold_px:
            self.anchors = smooth

    def remesh(self, face: FaceLandmarks) -> None:
        self.mesh = np.asarray(face.points, np.float64)
        self.fresh = face
        self.measure(self.mesh[list(ANCHORS), :2])

    @property
    def points(self) -> np.ndarray:
        """(478, 3) the last mesh's landmarks moved by the similarity that takes its anchors to
        the smoothed ones (photo px)."""
        m = similarity(self.mesh[list(ANCHORS), :2], self.anchors)
        p = self.mesh.copy()
        p[:, :2] = p[:, :2] @ m[:, :2].T + m[:, 2]
        p[:, 2] *= float(np.sqrt(abs(np.linalg.det(m[:, :2]))))
        return p

    @property
    def box(self) -> tuple[float, float, float, float]:
        p = self.points[:, :2]
        return (*map(float, p.min(0)), *map(float, p.max(0)))


def affine(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares affine (2, 3) float64 taking (N, 2) ``src`` to ``dst``."""
    a = np.hstack([src, np.ones((len(src), 1))])
    m, *_ = np.linalg.lstsq(a, dst, rcond=None)
    return m.T


def carry(points: np.ndarray, ref: np.ndarray, anchors: np.ndarray,
          reach: float = 0.06) -> np.ndarray:
    """The mesh ``points`` (478, 2+) of a frame whose anchors were ``ref`` (K, 2), carried to a
    frame whose anchors are ``anchors`` (K, 2): the least-squares affine of the anchors, then
    each anchor's own leftover motion spread to the points near it (Gaussian weights over
    ``reach`` x the anchors' spread, normalised), so the mesh bends with the upper lip (on a
    composed talking clip the lip's edge drifted 0.9% of the face's width at 0.06, 1.6% at
    0.12, 2.2% with the affine alone).
    Anchors equal to ``ref`` give ``points`` back unchanged (a still face stays bit-identical).
    -> (478, 2+) float64 (depth scaled with the affine)."""
    p = np.asarray(points, np.float64)
    ref = np.asarray(ref, np.float64)
    anchors = np.asarray(anchors, np.float64)
    if ref.shape != anchors.shape or ref.ndim != 2 or ref.shape[1] != 2 or len(ref) < 3:
        raise ValueError(f"ref and anchors must both be (K>=3, 2), got {ref.shape} and "
                         f"{anchors.shape}")
    if np.array_equal(ref, anchors):
        return p.copy()
    m = affine(ref, anchors)
    out = p.copy()
    out[:, :2] = p[:, :2] @ m[:, :2].T + m[:, 2]
    if p.shape[1] > 2:
        out[:, 2:] *= float(np.sqrt(abs(np.linalg.det(m[:, :2]))))
    left = anchors - (ref @ m[:, :2].T + m[:, 2])  # (K, 2) what the affine leaves
    sigma = reach * float((ref.max(0) - ref.min(0)).max())
    xy = p[:, :2]
    d2 = (xy * xy).sum(1)[:, None] + (ref * ref).sum(1)[None] - 2 * xy @ ref.T  # (478, K)
    w = np.exp(-d2 / (2 * sigma * sigma))
    # near an anchor its own motion; far from all of them, none (the affine alone)
    total = w.sum(1, keepdims=True)
    out[:, :2] += (w / np.maximum(total, 1.0)) @ left
    return out


def similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity (Umeyama) taking (N, 2) ``src`` to ``dst``: (2, 3) float64."""
    ms, md = src.mean(0), dst.mean(0)
    s, d = src - ms, dst - md
    a = (s * d).sum()
    b = (s[:, 0] * d[:, 1] - s[:, 1] * d[:, 0]).sum()
    k = (s * s).sum()
    if k <= 1e-12:
        return np.array([[1.0, 0, md[0] - ms[0]], [0, 1.0, md[1] - ms[1]]])
    c, sn = a / k, b / k
    r = np.array([[c, -sn], [sn, c]])
    return np.hstack([r, (md - r @ ms)[:, None]])


class Tracker:
    """Faces of consecutive RGB uint8 (H, W, 3) frames as :class:`Track` s (see the module
    docstring). ``rate``: frames a second (sets the smoothing's time scale)."""

    def __init__(self, detector: FaceDetector, config: TrackConfig = TrackConfig(),
                 rate: float = 30.0):
        self.detector, self.config, self.rate = detector, config, float(rate)
        self.tracks: list[Track] = []
        self.frame = -1
        self.cut = False  # whether the last frame began a new scene
        self._next_id = 0
        self._prev: np.ndarray | None = None  # the last frame (RGB), for the optical flow
        self._thumb: np.ndarray | None = None

    def update(self, rgb: np.ndarray) -> list[Track]:
        """The next frame -> the tracks in it (new ones included, ended ones gone)."""
        import cv2

        c = self.config
        self.frame += 1
        # every 8th pixel is plenty for a 64x36 thumbnail (a full-frame grey cost 4 ms at 720p)
        step = max(1, min(rgb.shape[:2]) // 144)
        thumb = cv2.resize(cv2.cvtColor(np.ascontiguousarray(rgb[::step, ::step]),
                                        cv2.COLOR_RGB2GRAY), (64, 36),
                           interpolation=cv2.INTER_AREA).astype(np.float32)
        self.cut = self._thumb is not None and float(np.abs(thumb - self._thumb).mean()) > c.cut
        if self.cut:
            self.tracks = []  # another scene: its faces are other faces
        for t in self.tracks:
            t.fresh = None
        search = self.cut or self.frame % c.detect_every == 0
        remesh = self.frame % c.mesh_every == 0
        lost: set[int] = set()
        if self._prev is not None and self.tracks and not self.cut:
            lost = self._flow(self._prev, rgb)
        if search:  # first, so the faces it finds need no mesh of their own
            self._search(rgb)
        if remesh or lost:
            kept = []
            for t in self.tracks:
                if t.fresh is None and (remesh or t.id in lost):
                    face = self.detector.detect_in_box(rgb, t.box, score=t.score)
                    if face is None:
                        continue  # the face left (or turned away): its track ends
                    t.remesh(face)
                kept.append(t)
            self.tracks = kept
        self._prev, self._thumb = rgb, thumb
        return list(self.tracks)

    def _flow(self, prev: np.ndarray, rgb: np.ndarray) -> set[int]:
        """Carry every track's measured anchors from frame ``prev`` to ``rgb`` (optical flow on
        the grey crop around them: the whole 720p frame's pyramid cost 18 ms) -> the ids of
        tracks that lost many points (to be meshed in this frame)."""
        import cv2

        pts = np.concatenate([t.raw for t in self.tracks])
        h, w = rgb.shape[:2]
        pad = 0.5 * float(np.ptp(pts, 0).max()) + 48  # room for the motion of a frame
        x0, y0 = np.maximum(np.floor(pts.min(0) - pad), 0).astype(int)
        x1, y1 = np.minimum(np.ceil(pts.max(0) + pad), [w, h]).astype(int)
        a, b = (cv2.cvtColor(np.ascontiguousarray(f[y0:y1, x0:x1]), cv2.COLOR_RGB2GRAY)
                for f in (prev, rgb))
        off = np.array([x0, y0], np.float64)
        new, ok, err = cv2.calcOpticalFlowPyrLK(a, b, (pts - off).astype(np.float32)[:, None],
                                               None, winSize=(21, 21), maxLevel=3)
        new = new[:, 0].astype(np.float64) + off
        ok = ok[:, 0].astype(bool) & (err[:, 0] < self.config.flow_error)
        k = len(ANCHORS)
        lost = set()
        for j, t in enumerate(self.tracks):
            good = ok[j * k:(j + 1) * k]
            moved = new[j * k:(j + 1) * k]
            if good.sum() < 0.7 * k:  # lost: the mesh finds the face again (or ends the track)
                lost.add(t.id)
                continue
            # lost points follow the similarity of the good ones
            m = similarity(t.raw[good], moved[good])
            moved[~good] = t.raw[~good] @ m[:, :2].T + m[:, 2]
            t.measure(moved)
        return lost

    def _search(self, rgb: np.ndarray) -> None:
        """The full face search: new faces start tracks; known ones refresh theirs."""
        found = self.detector.detect(rgb)
        for face in found:
            best = max(self.tracks, key=lambda t: box_iou(t.box, face.box), default=None)
            if best is not None and box_iou(best.box, face.box) > self.config.match_iou:
                if best.fresh is None:
                    best.remesh(face)
                continue
            self.tracks.append(Track(self._next_id, face, self.rate, self.config))
            self._next_id += 1
