"""Face landmarks: the one module that owns MediaPipe.

``MediaPipeDetector().detect(rgb)`` returns a :class:`FaceLandmarks` for every face in a photo,
with 478 points in the photo's pixel coordinates. MediaPipe is imported lazily, on first use.

FaceMesh's own detector is short-range (selfie distance) and misses faces that are small in a
large photo, so on large photos the full-range detector runs too and the mesh runs again on an
enlarged crop of every face the first pass missed.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from data_prep.image_io import shrink
from data_prep.indices import NUM_LANDMARKS


@dataclass(frozen=True, eq=False)
class FaceLandmarks:
    points: np.ndarray  # (478, 3) float32: x, y in photo pixels, z relative depth (same scale)
    score: float  # detector confidence in [0, 1]
    box: tuple[float, float, float, float]  # (x0, y0, x1, y1) photo pixels, from the landmarks

    @property
    def xy(self) -> np.ndarray:
        """(478, 2) float32 photo pixel coordinates."""
        return self.points[:, :2]


class FaceDetector(Protocol):
    """Anything that finds faces: RGB uint8 (H, W, 3) -> landmarks, largest face first."""

    def detect(self, image: np.ndarray) -> list[FaceLandmarks]: ...


@dataclass(frozen=True)
class DetectorConfig:
    max_faces: int = 8  # faces the mesh looks for in one pass
    min_confidence: float = 0.5  # detection threshold
    full_range_above: int = 640  # photos whose long side exceeds this always get the full-range pass
    crop_size: int = 256  # side the face crop is resized to for the second mesh pass
    overlap_iou: float = 0.3  # a full-range face overlapping a found one this much is the same face
    tile: int = 960  # the full-range detector sees 192 px: larger photos also go through in tiles
    retry_angles: tuple[float, ...] = (30.0, -30.0)  # crop turns tried when the mesh finds no face


def _import_mediapipe():
    # MediaPipe logs through glog/absl at import and start-up; keep the console quiet.
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from mediapipe.python.solution_base import SolutionBase
    from mediapipe.python.solutions import face_detection, face_mesh

    try:
        from absl import logging as absl_logging

        absl_logging.set_verbosity(absl_logging.ERROR)
    except ImportError:
        pass
    return SolutionBase, face_mesh, face_detection


@contextlib.contextmanager
def _quiet_stderr():
    """MediaPipe's C++ side writes warnings straight to fd 2 at start-up; hide them there."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _iou(a, b) -> float:
    ix0, iy0 = max(a[0], b[0]), max(a[1], b[1])
    ix1, iy1 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, ix1 - ix0) * max(0.0, iy1 - iy0)
    ua = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / ua if ua > 0 else 0.0


class MediaPipeDetector:
    """MediaPipe FaceMesh (refined, 478 points) plus the full-range detector for small faces.

    Not thread-safe; make one per worker process. Use as a context manager or call
    :meth:`close`.
    """

    def __init__(self, config: DetectorConfig = DetectorConfig()):
        self.config = config
        self._mesh = self._crop_mesh = self._full = None

    def _graph(self, num_faces: int):
        SolutionBase, face_mesh, _ = _import_mediapipe()
        # FaceMesh's own class drops the detector's scores; the same graph exposes them.
        with _quiet_stderr():
            graph = SolutionBase(
                binary_graph_path=face_mesh._BINARYPB_FILE_PATH,
                side_inputs={"num_faces": num_faces, "with_attention": True,
                             "use_prev_landmarks": False},
                calculator_params={
                    "facedetectionshortrangecpu__facedetectionshortrange__facedetection__"
                    "TensorsToDetectionsCalculator.min_score_thresh": self.config.min_confidence,
                    "facelandmarkcpu__ThresholdingCalculator.threshold": self.config.min_confidence,
                },
                outputs=["multi_face_landmarks", "face_detections"],
            )
            # the first frame logs its own start-up warnings
            graph.process(np.zeros((64, 64, 3), np.uint8))
        return graph

    def _run_mesh(self, graph, image: np.ndarray) -> list[tuple[np.ndarray, float]]:
        """-> [(points (478, 3) in image pixels, score)]"""
        h, w = image.shape[:2]
        with _quiet_stderr():  # a few microseconds; MediaPipe warns on fd 2 on early frames
            r = graph.process(image)
        if not r.multi_face_landmarks:
            return []
        dets = []
        for d in r.face_detections or []:
            b = d.location_data.relative_bounding_box
            dets.append(((b.xmin * w, b.ymin * h, (b.xmin + b.width) * w,
                          (b.ymin + b.height) * h), float(d.score[0])))
        out = []
        for lms in r.multi_face_landmarks:
            p = np.array([(q.x * w, q.y * h, q.z * w) for q in lms.landmark], dtype=np.float32)
            if p.shape[0] != NUM_LANDMARKS:
                continue
            box = (*p[:, :2].min(0), *p[:, :2].max(0))
            score = max((s for db, s in dets if _iou(db, box) > 0.1), default=self.config.min_confidence)
            out.append((p, score))
        return out

    def detect(self, image: np.ndarray) -> list[FaceLandmarks]:
        """RGB uint8 (H, W, 3) -> every face found, largest first."""
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f"image must be RGB uint8 (H, W, 3), got {image.dtype} {image.shape}")
        image = np.ascontiguousarray(image)
        if self._mesh is None:
            self._mesh = self._graph(self.config.max_faces)
        found = self._run_mesh(self._mesh, image)
        # the full-range pass costs a few ms: run it on large photos, and when the mesh found
        # nothing (a small or turned face in a small photo)
        if not found or max(image.shape[:2]) > self.config.full_range_above:
            found += [(f.points, f.score) for f in
                      self.more_faces(image, [self._box(p) for p, _ in found])]
        faces = [FaceLandmarks(p, s, self._box(p)) for p, s in found]
        faces.sort(key=lambda f: -(f.box[2] - f.box[0]) * (f.box[3] - f.box[1]))
        return faces

    @staticmethod
    def _box(p: np.ndarray) -> tuple[float, float, float, float]:
        x0, y0 = p[:, :2].min(0)
        x1, y1 = p[:, :2].max(0)
        return float(x0), float(y0), float(x1), float(y1)

    def more_faces(self, image: np.ndarray, known: list, search_size: int | None = None
                   ) -> list[FaceLandmarks]:
        """Faces of RGB uint8 (H, W, 3) that the full-range detector finds (over the photo and
        its tiles) and that do not overlap the ``known`` (x0, y0, x1, y1) boxes, meshed on
        full-resolution crops; largest first. ``search_size``: the detector looks at a copy at
        most this long (its tiles then cover more of the photo each). For photos where the
        mesh found only some of many small faces."""
        self._ensure_full_range()
        image = np.ascontiguousarray(image)
        view, k = (image, 1.0) if search_size is None else shrink(image, search_size)
        known, faces = list(known), []
        for box, score in self._full_range_boxes(view):
            box = tuple(v / k for v in box)
            if any(_iou(box, b) > self.config.overlap_iou for b in known):
                continue
            face = self.detect_in_box(image, box, score=score)
            if face is not None:
                faces.append(face)
                known.append(face.box)
        faces.sort(key=lambda f: -(f.box[2] - f.box[0]) * (f.box[3] - f.box[1]))
        return faces

    def _ensure_full_range(self) -> None:
        if self._full is None:
            _, _, face_detection = _import_mediapipe()
            with _quiet_stderr():
                self._full = face_detection.FaceDetection(
                    model_selection=1, min_detection_confidence=self.config.min_confidence)
                self._full.process(np.zeros((64, 64, 3), np.uint8))

    def detect_in_box(self, image: np.ndarray, box, size: int | None = None,
                      score: float | None = None) -> FaceLandmarks | None:
        """The mesh on one face's square crop (twice the box's size, resized to ``size`` px,
        default ``config.crop_size``) of RGB uint8 (H, W, 3), in photo pixels; None when the
        mesh finds no face there. For faces that are small in the photo or in a downscaled copy.

        Where the crop runs past the photo's edge it is padded (edge pixels repeated), so a
        face cut by the border still sits in the middle of the mesh's view; where the mesh
        finds nothing, the crop is tried again turned by each of ``config.retry_angles``
        (the mesh's detector misses faces tilted much past 30 degrees)."""
        import cv2

        if self._crop_mesh is None:
            self._crop_mesh = self._graph(1)
        h, w = image.shape[:2]
        cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        half = max(box[2] - box[0], box[3] - box[1])
        x0, y0 = int(round(cx - half)), int(round(cy - half))
        x1, y1 = int(round(cx + half)), int(round(cy + half))
        if min(x1, w) - max(x0, 0) < 8 or min(y1, h) - max(y0, 0) < 8:
            return None
        crop = image[max(y0, 0):min(y1, h), max(x0, 0):min(x1, w)]
        if (x0, y0, x1, y1) != (max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)):
            crop = cv2.copyMakeBorder(crop, max(-y0, 0), max(y1 - h, 0), max(-x0, 0),
                                      max(x1 - w, 0), cv2.BORDER_REPLICATE)
        k = (size or self.config.crop_size) / max(crop.shape[:2])
        crop = np.ascontiguousarray(cv2.resize(
            crop, None, fx=k, fy=k, interpolation=cv2.INTER_CUBIC if k > 1 else cv2.INTER_AREA))
        ch, cw = crop.shape[:2]
        for angle in (0.0, *self.config.retry_angles):
            view, back = crop, None
            if angle:
                m = cv2.getRotationMatrix2D((cw / 2, ch / 2), angle, 1.0)
                view = cv2.warpAffine(crop, m, (cw, ch), borderMode=cv2.BORDER_REPLICATE)
                back = cv2.invertAffineTransform(m)
            found = self._run_mesh(self._crop_mesh, view)
            if found:
                break
        else:
            return None
        p, s = found[0]
        p = p.copy()
        if back is not None:  # the turned view's points back into the crop
            p[:, :2] = p[:, :2] @ back[:, :2].T + back[:, 2]
        p[:, 0] = p[:, 0] * (x1 - x0) / cw + x0
        p[:, 1] = p[:, 1] * (y1 - y0) / ch + y0
        p[:, 2] = p[:, 2] * (x1 - x0) / cw
        return FaceLandmarks(p, s if score is None else score, self._box(p))

    def _full_range_boxes(self, image: np.ndarray) -> list[tuple[tuple, float]]:
        """Full-range detections over the whole photo and over overlapping tiles, best first.

        The tiles run over the photo with a mirrored border (a sixth of a tile): the detector
        misses faces cut by the photo's edge, and finds them once that edge is not the view's.
        Detections whose centre lies in the border (mirror images) are dropped."""
        import cv2

        ph, pw = image.shape[:2]
        pad = self.config.tile // 6
        image = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_REFLECT_101)
        h, w = image.shape[:2]
        t = self.config.tile
        views = [(pad, pad, pad + pw, pad + ph)]  # the whole photo, without the border
        if max(ph, pw) > 1.5 * t:
            step = t * 3 // 4

            def starts(n):  # the photo's tile grid, its first and last tiles pushed out into
                # the border so that no photo edge is a view's edge
                inner = list(range(step, max(n - t, 0), step))
                return sorted({0, *[x + pad for x in inner], max(n + 2 * pad - t, 0)})

            views += [(x, y, min(x + t, w), min(y + t, h)) for y in starts(ph) for x in starts(pw)]
        boxes = []
        for x0, y0, x1, y1 in views:
            view = np.ascontiguousarray(image[y0:y1, x0:x1])
            vw, vh = x1 - x0, y1 - y0
            with _quiet_stderr():
                dets = self._full.process(view).detections or []
            for d in dets:
                b = d.location_data.relative_bounding_box
                box = (x0 + b.xmin * vw - pad, y0 + b.ymin * vh - pad,
                       x0 + (b.xmin + b.width) * vw - pad, y0 + (b.ymin + b.height) * vh - pad)
                if 0 <= (box[0] + box[2]) / 2 < pw and 0 <= (box[1] + box[3]) / 2 < ph:
                    boxes.append((box, float(d.score[0])))
        boxes.sort(key=lambda bs: -bs[1])
        kept: list = []
        for b, s in boxes:  # non-maximum suppression across views
            if all(_iou(b, k) <= self.config.overlap_iou for k, _ in kept):
                kept.append((b, s))
        return kept

    def close(self) -> None:
        for g in (self._mesh, self._crop_mesh, self._full):
            if g is not None:
                g.close()
        self._mesh = self._crop_mesh = self._full = None

    def __enter__(self) -> MediaPipeDetector:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
