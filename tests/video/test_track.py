"""mustache.video.track: the One Euro filter, the similarity fit, and the tracker on a textured
frame moved by known shifts, with a scripted detector (no MediaPipe): optical flow follows,
still frames give the very same anchors, a cut ends tracks, a face that leaves ends its own."""

from __future__ import annotations

import numpy as np

from data_prep.landmarks import FaceLandmarks
from mustache.video.track import ANCHORS, OneEuro, TrackConfig, Tracker, similarity


def test_one_euro_keeps_still_points_and_follows_a_move():
    f = OneEuro(30, min_cutoff=0.3, beta=1.0, d_cutoff=1.0)
    p = np.array([[10.0, 20.0], [30.0, 40.0]])
    assert np.array_equal(f(p), p) and np.array_equal(f(p), p)
    for _ in range(30):
        out = f(p + 50)
    assert np.abs(out - (p + 50)).max() < 0.5


def test_similarity_recovers_a_turn_scale_and_shift():
    rng = np.random.default_rng(0)
    src = rng.uniform(0, 100, (20, 2))
    a = np.radians(17)
    m = 1.3 * np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    dst = src @ m.T + [5, -7]
    assert np.allclose(similarity(src, dst), np.hstack([m, [[5], [-7]]]), atol=1e-9)


class Scripted:
    """A FaceDetector that 'finds' the landmarks of a texture shifted by a known offset."""

    def __init__(self, points: np.ndarray):
        self.points, self.shift, self.present = points, np.zeros(2), True
        self.searches = 0

    def _face(self):
        p = self.points.copy()
        p[:, :2] += self.shift
        return FaceLandmarks(p.astype(np.float32), 0.9, (*p[:, :2].min(0), *p[:, :2].max(0)))

    def detect(self, image):
        self.searches += 1
        return [self._face()] if self.present else []

    def detect_in_box(self, image, box, size=None, score=None):
        return self._face() if self.present else None

    def close(self):
        pass


def _scene(seed: int = 0):
    import cv2

    rng = np.random.default_rng(seed)
    tex = cv2.GaussianBlur(rng.integers(0, 255, (480, 640, 3), np.uint8), (0, 0), 2)
    pts = np.zeros((478, 3))
    pts[:, :2] = rng.uniform(220, 300, (478, 2))
    return tex, pts


def _shifted(tex, d):
    import cv2

    return cv2.warpAffine(tex, np.float32([[1, 0, d[0]], [0, 1, d[1]]]), (640, 480),
                          flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def test_flow_follows_and_a_still_face_gives_the_same_anchors():
    tex, pts = _scene()
    det = Scripted(pts)
    tr = Tracker(det, TrackConfig(mesh_every=1000, detect_every=1000, beta=100.0), rate=24)
    for i in range(12):  # 1.5 px a frame, found by optical flow alone
        det.shift = np.array([1.5 * i, 0.5 * i])
        (t,) = tr.update(_shifted(tex, det.shift))
        want = pts[list(ANCHORS), :2] + det.shift
        assert np.abs(t.anchors - want).max() < 0.5, i
    held = [tr.update(_shifted(tex, det.shift))[0].anchors.copy() for _ in range(6)]
    assert all(np.array_equal(h, held[-1]) for h in held[2:])  # the dead band holds them
    assert det.searches == 1 and t.id == 0


def test_a_cut_ends_tracks_and_a_face_that_leaves_ends_its_own():
    tex, pts = _scene()
    other, _ = _scene(1)
    det = Scripted(pts)
    tr = Tracker(det, TrackConfig(mesh_every=2, detect_every=1000), rate=24)
    assert [t.id for t in tr.update(tex)] == [0]
    assert [t.id for t in tr.update(tex)] == [0] and not tr.cut
    assert [t.id for t in tr.update(np.full_like(tex, 250))] == [1] and tr.cut  # a new scene
    det.present = False
    tr.update(np.full_like(tex, 250))
    assert tr.update(np.full_like(tex, 250)) == []  # the mesh no longer finds it: ended
    del other
