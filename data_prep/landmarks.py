"""Face landmarks: the one module that owns MediaPipe.

``MediaPipeDetector().detect(rgb)`` returns a :class:`FaceLandmarks` for every face in a photo,
with 478 points in the photo's pixel coordinates. MediaPipe is imported lazily, on first use.

Two searches, each with its own reach. FaceMesh's own detector is short-range (it sees 128 px)
and finds faces at least 0.12 of the photo's long side (``mesh_reach``: 0.15). Smaller faces, down to
``DetectorConfig.min_face``, are left to the full-range detector (it sees 192 px) over a
pyramid of overlapping tiles of the full-resolution photo (:func:`search_views`); each face it
finds gets the mesh on its own crop. Prep, apply, score and donor all find faces this way.
"""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from queue import SimpleQueue
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
    """What prep, apply, score and donor need of a face finder."""

    def detect(self, image: np.ndarray) -> list[FaceLandmarks]:
        """RGB uint8 (H, W, 3) -> every face, largest first."""
        ...

    def detect_in_box(self, image: np.ndarray, box: tuple[float, float, float, float],
                      size: int | None = None, score: float | None = None) -> FaceLandmarks | None:
        """The one face around ``box`` (photo px) of RGB uint8 (H, W, 3), or None."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class DetectorConfig:
    max_faces: int = 8  # faces the mesh looks for in one pass
    min_confidence: float = 0.5  # detection threshold
    crop_confidence: float = 0.7  # the mesh on one face's crop (which confirms what the
    # full-range search found) must be this sure: at 0.5 a blurred badge passed as a face
    min_face: float = 40.0  # narrowest face (photo px) the search must reach: sets its finest views
    mesh_size: int = 640  # the mesh's own pass looks at a copy at most this long
    mesh_reach: float = 0.15  # ... and finds faces at least this share of its long side (all of
    # them from 0.12 up in benchmarks/detect.py's scenes); smaller ones: the full-range search
    view_reach: float = 0.1  # the full-range detector finds faces this share of its view or more
    # (measured on scenes: 100% at 0.1, 90% at 0.08, 47% at 0.05)
    level_ratio: float = 2.0  # each coarser level's views are this much larger
    overlap: float = 0.3  # share of a view its neighbours overlap (a face of its level fits whole)
    refine_below: float = 96.0  # mesh faces narrower than this on the mesh's copy: landmarks again
    # from a full-resolution crop
    crop_size: int = 384  # side a face crop is resized to for the mesh (its model sees 192)
    overlap_iou: float = 0.3  # a detection overlapping a found face this much is the same face
    search_threads: int = 2  # full-range graphs run side by side (each uses one core); prep's
    # worker processes use 1
    retry_angles: tuple[float, ...] = (30.0, -30.0)  # crop turns tried when the mesh finds no face

    def __post_init__(self):
        if not self.min_face > 0:
            raise ValueError(f"min_face must be > 0 px, got {self.min_face}")
        if self.search_threads < 1:
            raise ValueError(f"search_threads must be >= 1, got {self.search_threads}")
        if not (0 < self.view_reach < 1 and self.level_ratio > 1 and 0 <= self.overlap < 1):
            raise ValueError(f"need 0 < view_reach < 1, level_ratio > 1 and 0 <= overlap < 1, got "
                             f"{self.view_reach}, {self.level_ratio}, {self.overlap}")


View = tuple[int, int, int, int]  # (x0, y0, x1, y1) photo px; may reach past the photo's edge
FULL_RANGE_INPUT = 192  # the full-range detector's input side: views are shrunk to it first


def search_views(shape: tuple[int, int], config: DetectorConfig = DetectorConfig()) -> list[View]:
    """The views the full-range detector looks at in a photo of ``shape`` (H, W) so that every
    face from ``config.min_face`` px wide up to the mesh's reach fills at least
    ``config.view_reach`` of one view's side: a pyramid of overlapping square tiles, finest
    first, then the whole photo. Views reach past the photo's edge by half their overlap
    (edge pixels repeated there), so no photo edge is a view's edge and faces cut by it are
    still seen.
    Their number grows with the photo's area over ``min_face`` squared: the cost is per
    megapixel. Empty when the mesh's own pass reaches every face of interest."""
    h, w = shape
    long = max(h, w)
    if config.min_face >= config.mesh_reach * long:
        return []
    views: list[View] = []
    pad = int(round(config.overlap / 2 * long))
    t = config.min_face / config.view_reach
    while t < long + 2 * pad:  # larger faces: the whole photo's view
        side = int(round(t))
        tpad = int(round(config.overlap / 2 * side))
        step = (1 - config.overlap) * side
        views += [(x, y, x + side, y + side) for y in _starts(h, side, tpad, step)
                  for x in _starts(w, side, tpad, step)]
        t *= config.level_ratio
    return views + [(-pad, -pad, w + pad, h + pad)]


def _starts(n: int, side: int, pad: int, step: float) -> list[int]:
    """Evenly spaced starts of views ``side`` long over [-pad, n + pad], at most ``step`` apart."""
    lo, hi = -pad, n + pad - side
    if hi <= lo:  # one view holds it all: centred
        return [int(round((n - side) / 2))]
    k = int(np.ceil((hi - lo) / step))
    return [int(round(lo + i * (hi - lo) / k)) for i in range(k + 1)]


def views_pixels(image: np.ndarray, views: list[View], size: int
                 ) -> Iterator[tuple[np.ndarray, tuple[float, float, float, float]]]:
    """The pixels of each of ``views`` of RGB uint8 (H, W, 3), edge pixels repeated where a
    view runs past the photo's edge, shrunk (area interpolation) so its long side is at most
    ``size``, in order: ((h, w, 3) uint8, the (x0, y0, x1, y1) photo px those pixels span exactly). Views
    of one size are cut from one shrunk, padded copy of the photo: one resize a level. (A
    mirrored border turns a face cut by the edge into a double face the detector misses; a
    repeated edge does not: 2 of 2 such misses found.)"""
    import cv2

    h, w = image.shape[:2]
    reach = max([0, *(-v[0] for v in views), *(-v[1] for v in views),
                 *(v[2] - w for v in views), *(v[3] - h for v in views)])
    copies: dict[int, tuple[float, int, np.ndarray]] = {}
    src_k, src = 1.0, image  # the finest copy made so far: coarser levels shrink it, not the photo
    for view in views:
        x0, y0, x1, y1 = view
        side = max(x1 - x0, y1 - y0)
        if side not in copies:
            k = min(1.0, size / side)
            if src_k < k:  # a finer view after coarser ones
                src_k, src = 1.0, image
            small = src if k == src_k else cv2.resize(
                src, (max(1, round(w * k)), max(1, round(h * k))), interpolation=cv2.INTER_AREA)
            if k < src_k:
                src_k, src = k, small
            pad = int(np.ceil(reach * k)) + 1
            copies = {side: (k, pad, cv2.copyMakeBorder(small, pad, pad, pad, pad,
                                                        cv2.BORDER_REPLICATE))}
        k, pad, padded = copies[side]
        (a0, b0), (a1, b1) = ((round(x0 * k), round(y0 * k)), (round(x1 * k), round(y1 * k)))
        yield (np.ascontiguousarray(padded[b0 + pad:b1 + pad, a0 + pad:a1 + pad]),
               (a0 / k, b0 / k, a1 / k, b1 / k))


def _import_mediapipe():
    # MediaPipe logs through glog/absl at import and start-up; keep the console quiet.
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from absl import logging as absl_logging  # MediaPipe's own dependency
    from mediapipe.python.solution_base import SolutionBase
    from mediapipe.python.solutions import face_detection, face_mesh

    absl_logging.set_verbosity(absl_logging.ERROR)
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


def box_iou(a, b) -> float:
    """Intersection over union of two (x0, y0, x1, y1) boxes."""
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

    def _graph(self, num_faces: int, confidence: float):
        SolutionBase, face_mesh, _ = _import_mediapipe()
        # FaceMesh's own class drops the detector's scores; the same graph exposes them.
        with _quiet_stderr():
            graph = SolutionBase(
                binary_graph_path=face_mesh._BINARYPB_FILE_PATH,
                side_inputs={"num_faces": num_faces, "with_attention": True,
                             "use_prev_landmarks": False},
                calculator_params={
                    "facedetectionshortrangecpu__facedetectionshortrange__facedetection__"
                    "TensorsToDetectionsCalculator.min_score_thresh": confidence,
                    "facelandmarkcpu__ThresholdingCalculator.threshold": confidence,
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
            score = max((s for db, s in dets if box_iou(db, box) > 0.1), default=self.config.min_confidence)
            out.append((p, score))
        return out

    def detect(self, image: np.ndarray) -> list[FaceLandmarks]:
        """RGB uint8 (H, W, 3) -> every face found, largest first.

        Two passes whose reach does not depend on each other. The mesh looks at a copy at most
        ``config.mesh_size`` long and finds the larger faces (those small on the copy get their
        landmarks again from a full-resolution crop). The full-range detector looks at the
        :func:`search_views` pyramid for every face from ``config.min_face`` px up; each face
        it finds that the mesh did not gets the mesh on its own crop (:meth:`detect_in_box`:
        padded past the border, turned where it is tilted). When neither finds anything, the
        whole photo's full-range view is still tried."""
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f"image must be RGB uint8 (H, W, 3), got {image.dtype} {image.shape}")
        image = np.ascontiguousarray(image)
        if self._mesh is None:
            self._mesh = self._graph(self.config.max_faces, self.config.min_confidence)
        small, k = shrink(image, self.config.mesh_size)
        faces = []
        for p, s in self._run_mesh(self._mesh, small):
            p[:, :3] /= k
            face = FaceLandmarks(p, s, self._box(p))
            if k < 1 and (face.box[2] - face.box[0]) * k < self.config.refine_below:
                face = self.detect_in_box(image, face.box, score=s) or face
            faces.append(face)
        views = search_views(image.shape[:2], self.config)
        if not views and not faces:  # a turned or cut face the mesh missed
            h, w = image.shape[:2]
            pad = int(round(self.config.overlap / 2 * max(h, w)))
            views = [(-pad, -pad, w + pad, h + pad)]
        faces += self.search(image, views, [f.box for f in faces])
        faces.sort(key=lambda f: -(f.box[2] - f.box[0]) * (f.box[3] - f.box[1]))
        return faces

    @staticmethod
    def _box(p: np.ndarray) -> tuple[float, float, float, float]:
        x0, y0 = p[:, :2].min(0)
        x1, y1 = p[:, :2].max(0)
        return float(x0), float(y0), float(x1), float(y1)

    def search(self, image: np.ndarray, views: list[View], known: list) -> list[FaceLandmarks]:
        """Faces of RGB uint8 (H, W, 3) that the full-range detector finds in ``views`` and that
        do not overlap the ``known`` (x0, y0, x1, y1) boxes, each meshed on its own
        full-resolution crop."""
        known, faces = list(known), []
        for box, score in self.full_range_boxes(image, views):
            if any(box_iou(box, b) > self.config.overlap_iou for b in known):
                continue
            face = self.detect_in_box(image, box, score=score)
            # a loose box (a neck, a shoulder) can lead the mesh to a face already found
            if face is not None and all(box_iou(face.box, b) <= self.config.overlap_iou for b in known):
                faces.append(face)
                known.append(face.box)
        return faces

    def full_range_boxes(self, image: np.ndarray, views: list[View]) -> list[tuple[tuple, float]]:
        """Full-range detections in ``views`` of RGB uint8 (H, W, 3), merged across views by
        non-maximum suppression, best first: [((x0, y0, x1, y1) photo px, score)]. Detections
        centred outside the photo (in a view's padding) are dropped."""
        if not views:
            return []
        self._ensure_full_range()
        h, w = image.shape[:2]
        free: SimpleQueue = SimpleQueue()  # each graph serves one thread at a time
        for graph in self._full:
            free.put(graph)

        def run(item):
            pixels, (x0, y0, x1, y1) = item
            graph = free.get()
            try:
                dets = graph.process(pixels).detections or []
            finally:
                free.put(graph)
            out = []
            for d in dets:
                b = d.location_data.relative_bounding_box
                box = (x0 + b.xmin * (x1 - x0), y0 + b.ymin * (y1 - y0),
                       x0 + (b.xmin + b.width) * (x1 - x0), y0 + (b.ymin + b.height) * (y1 - y0))
                if 0 <= (box[0] + box[2]) / 2 < w and 0 <= (box[1] + box[3]) / 2 < h:
                    out.append((box, float(d.score[0])))
            return out

        boxes = []
        pending = views_pixels(image, views, FULL_RANGE_INPUT)
        # the model runs on one core and releases the GIL: one graph a thread (measured 1.95x
        # on 2 cores); views go in chunks so a 50 MP photo's are not all in memory at once
        with _quiet_stderr(), ThreadPoolExecutor(len(self._full)) as pool:
            while chunk := list(itertools.islice(pending, 64)):
                for found in pool.map(run, chunk):
                    boxes += found
        boxes.sort(key=lambda bs: -bs[1])
        kept: list = []
        for b, s in boxes:
            if all(box_iou(b, k) <= self.config.overlap_iou for k, _ in kept):
                kept.append((b, s))
        return kept

    def _ensure_full_range(self) -> None:
        if self._full is None:
            _, _, face_detection = _import_mediapipe()
            self._full = []
            with _quiet_stderr():
                for _ in range(self.config.search_threads):
                    graph = face_detection.FaceDetection(
                        model_selection=1, min_detection_confidence=self.config.min_confidence)
                    graph.process(np.zeros((64, 64, 3), np.uint8))
                    self._full.append(graph)

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
            self._crop_mesh = self._graph(1, self.config.crop_confidence)
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

    def close(self) -> None:
        for g in (self._mesh, self._crop_mesh, *(self._full or ())):
            if g is not None:
                g.close()
        self._mesh = self._crop_mesh = self._full = None

    def __enter__(self) -> MediaPipeDetector:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
