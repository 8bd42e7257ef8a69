"""Face landmarks: the one module that owns MediaPipe.

``MediaPipeDetector().detect(rgb)`` returns a :class:`FaceLandmarks` for every face in a photo,
with 478 points in the photo's pixel coordinates. MediaPipe is imported lazily, on first use.

Two searches, each with its own reach. FaceMesh's own detector is short-range (it sees 128 px)
and finds faces at least 0.12 of the photo's long side (``mesh_reach``: 0.15). Smaller faces, down to
``DetectorConfig.min_face``, are left to the full-range detector (it sees 192 px) over a
pyramid of overlapping views of the full-resolution photo (:mod:`data_prep.views`); each face
it finds gets the mesh on its own crop, which confirms it (``crop_confidence``). The default
search (``DetectorConfig.search`` "pyramid") runs every view with the full-range detector;
"cascade" skips views inside a face already found and runs the finest level's views away from
the edge with the cheaper short-range detector: measured, it does not pay (see the field).
Prep, apply, score and donor all find faces this way.
"""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from queue import SimpleQueue
from typing import Protocol

import numpy as np

from data_prep import views as _views
from data_prep.image_io import shrink
from data_prep.indices import NUM_LANDMARKS
from data_prep.mp_load import import_mediapipe, quiet_stderr
from data_prep.views import (  # noqa: F401  (views_pixels, box_iou: this module's API)
    FULL_RANGE_INPUT,
    Pyramid,
    View,
    box_iou,
    inside,
    reach_of,
    views_pixels,
)

SEARCHES = ("cascade", "pyramid")
# the search's detectors: model_selection of mp.solutions.face_detection, and its input side
SEARCH_MODELS = {"full-range": (1, FULL_RANGE_INPUT), "short-range": (0, 128)}
# a view's cost in full-range views (measured 0.22-0.5 on 2 cores, interleaved)
VIEW_COST = {"full-range": 1.0, "short-range": 0.35}


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
    fine_model: str = "short-range"  # cascade: the finest level's detector (SEARCH_MODELS) away
    # from the photo's edge: 3-4x cheaper a view than the full-range one, 1.44x more views
    fine_reach: float = 0.12  # ... which finds faces this share of its view or more (tune
    # scenes: 100% of faces 48-100 px at 0.12, 97% at 0.1)
    search: str = "pyramid"  # "pyramid": every view by the full-range model (release 0.1's);
    # "cascade": views inside a found face skipped, the finest level by fine_model where that
    # costs less. Measured interleaved on 2 cores: 0.79-0.91x the time on the held-out scenes,
    # 0.93-1.07x on the named 1-12 MP photos, recall 98.8% vs 99.4%: it does not pay
    # (benchmarks/detect.py)

    def __post_init__(self):
        if not self.min_face > 0:
            raise ValueError(f"min_face must be > 0 px, got {self.min_face}")
        if self.search_threads < 1:
            raise ValueError(f"search_threads must be >= 1, got {self.search_threads}")
        if self.fine_model not in SEARCH_MODELS:
            raise ValueError(f"fine_model must be one of {tuple(SEARCH_MODELS)}, got "
                             f"{self.fine_model!r}")
        if not 0 < self.fine_reach < 1:
            raise ValueError(f"need 0 < fine_reach < 1, got {self.fine_reach}")
        if self.search not in SEARCHES:
            raise ValueError(f"search must be one of {SEARCHES}, got {self.search!r}")
        if not (0 < self.view_reach < 1 and self.level_ratio > 1 and 0 <= self.overlap < 1):
            raise ValueError(f"need 0 < view_reach < 1, level_ratio > 1 and 0 <= overlap < 1, got "
                             f"{self.view_reach}, {self.level_ratio}, {self.overlap}")


def search_levels(shape: tuple[int, int], config: DetectorConfig = DetectorConfig()
                  ) -> list[list[View]]:
    """:func:`data_prep.views.search_levels` under ``config`` (one list a level, finest first,
    then the whole photo's view)."""
    return _views.search_levels(shape, config)


def search_views(shape: tuple[int, int], config: DetectorConfig = DetectorConfig()) -> list[View]:
    """Every view of :func:`search_levels`, finest first, then the whole photo."""
    return _views.search_views(shape, config)


class MediaPipeDetector:
    """MediaPipe FaceMesh (refined, 478 points) plus the full-range detector for small faces.

    Not thread-safe; make one per worker process. Use as a context manager or call
    :meth:`close`.
    """

    def __init__(self, config: DetectorConfig = DetectorConfig()):
        self.config = config
        self._mesh = self._crop_mesh = None
        self._graphs: dict[str, list] = {}  # search model -> one graph a thread

    def _graph(self, num_faces: int, confidence: float):
        SolutionBase, face_mesh, _ = import_mediapipe()
        # FaceMesh's own class drops the detector's scores; the same graph exposes them.
        with quiet_stderr():
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
        with quiet_stderr():  # a few microseconds; MediaPipe warns on fd 2 on early frames
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
        :func:`search_levels` pyramid for every face from ``config.min_face`` px up; each face
        it finds that the mesh did not gets the mesh on its own crop (:meth:`detect_in_box`:
        padded past the border, turned where it is tilted), which confirms it. When neither
        finds anything, the whole photo's full-range view is still tried."""
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
        levels = search_levels(image.shape[:2], self.config)
        cascade = self.config.search == "cascade" and len(levels) > 1
        if cascade:  # where the edge views (full-range) are most of the finest level, as in
            # photos up to about 2 MP, release 0.1's geometry costs less: keep it there
            fine = _views.search_levels(image.shape[:2], self.config, self.config.fine_reach)
            cascade = _cascade_cost(fine, image.shape[:2], self.config) < _cascade_cost(
                levels, image.shape[:2], self.config, mixed=False)
            levels = fine if cascade else levels
        if not levels and not faces:  # a turned or cut face the mesh missed
            h, w = image.shape[:2]
            pad = int(round(self.config.overlap / 2 * max(h, w)))
            levels = [[(-pad, -pad, w + pad, h + pad)]]
        if levels:
            pyramid = Pyramid(image, reach_of([v for lv in levels for v in lv], image.shape[:2]))
            search = self._cascade if cascade else self._pyramid
            faces += search(pyramid, levels, [f.box for f in faces])
        faces.sort(key=lambda f: -(f.box[2] - f.box[0]) * (f.box[3] - f.box[1]))
        return faces

    @staticmethod
    def _box(p: np.ndarray) -> tuple[float, float, float, float]:
        x0, y0 = p[:, :2].min(0)
        x1, y1 = p[:, :2].max(0)
        return float(x0), float(y0), float(x1), float(y1)

    def _pyramid(self, pyramid: Pyramid, levels: list[list[View]], known: list
                 ) -> list[FaceLandmarks]:
        """Release 0.1's search: every view of every level, answers from ``min_confidence``."""
        views = [v for level in levels for v in level]
        return self._confirm(pyramid.image, self.full_range_boxes(pyramid, views), known)

    def _cascade(self, pyramid: Pyramid, levels: list[list[View]], known: list
                 ) -> list[FaceLandmarks]:
        """Every level at once (both threads busy), less the views inside a face the mesh
        found, the finest level's views away from the photo's edge by ``fine_model``; the
        answers of each model merged, best first, each confirmed by the crop mesh. (Coarse to
        fine cannot choose the finer views: a face under 0.1 of a view gets no answer at all,
        not even at 0.02 (tune scenes: 8 of 8 such faces); and the short-range model misses
        faces cut by the edge: held-out scenes, 2 of 57 at 48-100 px when it ran there.)"""
        fine = self.config.fine_model
        h, w = pyramid.image.shape[:2]
        todo = [[v for v in level if not any(inside(v, k) for k in known)] for level in levels]
        runs: dict[str, list[View]] = {"full-range": [v for level in todo[1:] for v in level]}
        if len(levels) > 1:
            edge = [v for v in todo[0] if v[0] < 0 or v[1] < 0 or v[2] > w or v[3] > h]
            runs["full-range"] = edge + runs["full-range"]
            runs[fine] = [v for v in todo[0] if v not in edge]
            side = levels[0][0][2] - levels[0][0][0]
            for model in ("full-range", fine):  # the finest scales first: coarser copies are
                pyramid.scaled(min(1.0, SEARCH_MODELS[model][1] / side))  # made from them
        else:
            runs["full-range"] = todo[0]
        boxes = [b for model, views in runs.items()
                 for b in self.full_range_boxes(pyramid, views, model=model)]
        boxes.sort(key=lambda bs: -bs[1])
        return self._confirm(pyramid.image, boxes, list(known))

    def _confirm(self, image: np.ndarray, boxes: list[tuple[tuple, float]], known: list
                 ) -> list[FaceLandmarks]:
        """The faces among full-range ``boxes`` [((x0, y0, x1, y1), score)] of RGB uint8
        (H, W, 3): each not overlapping a ``known`` box (a list, extended here) meshed on its
        own full-resolution crop; those the crop mesh does not find are dropped. Turned crops
        are tried only for answers from ``min_confidence`` (a low-score answer is seldom a
        face, and three mesh runs would triple its cost). A box overlapping by half one the crop
        mesh did not confirm is not tried."""
        faces = []
        tried: list = []
        for box, score in boxes:
            if any(box_iou(box, b) > self.config.overlap_iou for b in known) or any(
                    box_iou(box, b) > 0.5 for b in tried):
                continue
            face = self.detect_in_box(image, box, score=score,
                                      turns=score >= self.config.min_confidence)
            # a loose box (a neck, a shoulder) can lead the mesh to a face already found
            if face is None:
                tried.append(box)
            elif all(box_iou(face.box, b) <= self.config.overlap_iou for b in known):
                faces.append(face)
                known.append(face.box)
        return faces

    def full_range_boxes(self, pyramid: Pyramid, views: list[View],
                         model: str = "full-range") -> list[tuple[tuple, float]]:
        """Detections of ``model`` (SEARCH_MODELS) from ``config.min_confidence`` (the graphs'
        own threshold) in ``views`` of the pyramid's photo, merged across views by non-maximum
        suppression, best first: [((x0, y0, x1, y1) photo px, score)]. Detections centred
        outside the photo (in a view's padding) are dropped."""
        if not views:
            return []
        graphs = self._search_graphs(model)
        floor = self.config.min_confidence
        h, w = pyramid.image.shape[:2]
        free: SimpleQueue = SimpleQueue()  # each graph serves one thread at a time
        for graph in graphs:
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
                if (d.score[0] >= floor and 0 <= (box[0] + box[2]) / 2 < w
                        and 0 <= (box[1] + box[3]) / 2 < h):
                    out.append((box, float(d.score[0])))
            return out

        boxes = []
        pending = pyramid.pixels(views, SEARCH_MODELS[model][1])
        # the model runs on one core and releases the GIL: one graph a thread (measured 1.95x
        # on 2 cores); views go in chunks so a 50 MP photo's are not all in memory at once
        with quiet_stderr(), ThreadPoolExecutor(len(graphs)) as pool:
            while chunk := list(itertools.islice(pending, 64)):
                for found in pool.map(run, chunk):
                    boxes += found
        boxes.sort(key=lambda bs: -bs[1])
        kept: list = []
        for b, s in boxes:
            if all(box_iou(b, k) <= self.config.overlap_iou for k, _ in kept):
                kept.append((b, s))
        return kept

    def _search_graphs(self, model: str) -> list:
        """One ``model`` graph a search thread, made on first use."""
        if model not in self._graphs:
            _, _, face_detection = import_mediapipe()
            c = self.config
            graphs = []
            with quiet_stderr():
                for _ in range(c.search_threads):
                    graph = face_detection.FaceDetection(
                        model_selection=SEARCH_MODELS[model][0],
                        min_detection_confidence=c.min_confidence)
                    graph.process(np.zeros((64, 64, 3), np.uint8))
                    graphs.append(graph)
            self._graphs[model] = graphs
        return self._graphs[model]

    def detect_in_box(self, image: np.ndarray, box, size: int | None = None,
                      score: float | None = None, turns: bool = True) -> FaceLandmarks | None:
        """The mesh on one face's square crop (twice the box's size, resized to ``size`` px,
        default ``config.crop_size``) of RGB uint8 (H, W, 3), in photo pixels; None when the
        mesh finds no face there. For faces that are small in the photo or in a downscaled copy.

        Where the crop runs past the photo's edge it is padded (edge pixels repeated), so a
        face cut by the border still sits in the middle of the mesh's view; where the mesh
        finds nothing, the crop is tried again turned by each of ``config.retry_angles``
        (the mesh's detector misses faces tilted much past 30 degrees) unless ``turns`` is off."""
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
        for angle in (0.0, *(self.config.retry_angles if turns else ())):
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
        for g in (self._mesh, self._crop_mesh, *(g for gs in self._graphs.values() for g in gs)):
            if g is not None:
                g.close()
        self._mesh = self._crop_mesh = None
        self._graphs = {}

    def __enter__(self) -> MediaPipeDetector:
        return self

    def __exit__(self, *exc) -> None:
        self.close()



def _cascade_cost(levels: list[list[View]], shape: tuple[int, int], config: DetectorConfig,
                  mixed: bool = True) -> float:
    """The search's cost in full-range views: with ``mixed``, the finest level's views away
    from the photo's edge cost a ``config.fine_model`` view each."""
    h, w = shape
    n = sum(len(level) for level in levels)
    if not mixed or len(levels) < 2:
        return float(n)
    inner = sum(1 for v in levels[0] if v[0] >= 0 and v[1] >= 0 and v[2] <= w and v[3] <= h)
    return n - inner * (1 - VIEW_COST[config.fine_model])
