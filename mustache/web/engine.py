"""The server's one model: loaded once, used one job at a time, with a face search sized to
each photo and the crops the page shows at 100%.

The face search costs about 0.13 s a megapixel when it reaches 40 px faces (README "Finding
faces"), 1.5 s on a 12 MP photo: too slow for a page. So the narrowest face searched for grows
with the photo: ``min_face`` doubled while it stays within ``face_share`` of its long side
(5%: 160 px on a 4000 px photo, still a small face in a group photo). Detectors are kept per
power-of-two step of that width, so a few exist at most and each is built once.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from data_prep.landmarks import FaceLandmarks, MediaPipeDetector
    from mustache.paint.options import ApplyOptions, ApplyResult, Engine
    from mustache.video.stream import VideoMustacher


@dataclass(frozen=True)
class EngineConfig:
    model: str | None = None  # GAN checkpoint or run folder; None: the shipped one
    device: str = "cpu"
    min_face: float = 40.0  # the narrowest face searched for in any photo (px)
    face_share: float = 0.05  # ... doubled while within this share of the photo's long side
    crop_max: tuple[int, int] = (640, 400)  # the 100% view's largest (w, h), around the mustache

    def __post_init__(self):
        if not (self.min_face > 0 and 0 <= self.face_share < 1):
            raise ValueError(f"need min_face > 0 and 0 <= face_share < 1, got {self.min_face}, "
                             f"{self.face_share}")


def search_width(shape: tuple[int, int], config: EngineConfig) -> float:
    """The narrowest face searched for in a photo of ``shape`` (H, W): ``min_face`` doubled
    while still at most ``face_share`` of the long side (a few steps, one detector each)."""
    width = config.min_face
    while width * 2 <= config.face_share * max(shape):
        width *= 2
    return width


def crop_box(region_box, shape: tuple[int, int], most: tuple[int, int]) -> tuple[int, int, int, int]:
    """A box around a blended region, a quarter wider on each side, at most ``most`` (w, h) and
    centred on the region, inside a photo of ``shape`` (H, W)."""
    h, w = shape
    x0, y0, x1, y1 = region_box
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    bw = min(most[0], w, int((x1 - x0) * 1.5) + 8)
    bh = min(most[1], h, int((y1 - y0) * 1.5) + 8)
    left = int(min(max(round(cx - bw / 2), 0), w - bw))
    top = int(min(max(round(cy - bh / 2), 0), h - bh))
    return left, top, left + bw, top + bh


class ModelServer:
    """The generator and detectors, loaded once and shared by every request.

    MediaPipe graphs and the generator are not made for concurrent calls, and on 2 cores two
    jobs at once are no faster than one after the other: one lock serialises the work."""

    def __init__(self, config: EngineConfig = EngineConfig()):
        from mustache.paint.gan import Mustacher

        self.config = config
        self._detectors: dict[float, MediaPipeDetector] = {}
        self._lock = threading.Lock()
        # the Mustacher never searches itself (faces come from detect()), but keeps one
        # detector for the calls that do
        self.mustacher = Mustacher(config.model, config.device, detector=self._detector(config.min_face))

    def warm_up(self, shape: tuple[int, int] = (3000, 4000)) -> None:
        """Run every graph once on the astronaut, with the detector of photos of ``shape``
        ready too: the first run of a MediaPipe graph and of the generator costs about a second
        more, which should not be a user's first request."""
        from skimage import data

        from mustache.paint.options import ApplyOptions

        rgb = data.astronaut()
        self._detector(search_width(shape, self.config))
        self.apply(rgb, ApplyOptions(), self.detect(rgb))

    def _detector(self, width: float) -> MediaPipeDetector:
        if width not in self._detectors:
            from data_prep.landmarks import DetectorConfig, MediaPipeDetector

            self._detectors[width] = MediaPipeDetector(DetectorConfig(min_face=width))
        return self._detectors[width]

    def detect(self, rgb: np.ndarray) -> list[FaceLandmarks]:
        """Every face at least :func:`search_width` px wide, largest first."""
        with self._lock:
            return self._detector(search_width(rgb.shape[:2], self.config)).detect(rgb)

    def donor(self, rgb: np.ndarray) -> Engine:
        """A :class:`mustache.paint.donor.DonorTransfer` of the largest face in ``rgb`` (BadInput
        when it has none with a visible upper lip), sharing this server's detector."""
        import warnings

        from mustache.paint.donor import DonorTransfer

        with self._lock, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # its warning is in .warnings, shown on the page
            return DonorTransfer(rgb, detector=self._detector(search_width(rgb.shape[:2], self.config)))

    def apply(self, rgb: np.ndarray, options: ApplyOptions, faces: list[FaceLandmarks],
              donor: Engine | None = None) -> ApplyResult:
        """The mustaches on ``faces`` of ``rgb`` (from :meth:`detect`), by the generator or the
        donor."""
        engine = donor or self.mustacher
        with self._lock:
            return engine.apply(rgb, options, faces=faces)

    def variations(self, rgb: np.ndarray, options: ApplyOptions, faces: list[FaceLandmarks],
                   seeds: list[int], donor: Engine | None = None) -> list[tuple[int, np.ndarray]]:
        """The first changed face's 100% crop for each of ``seeds`` -> [(seed, crop)]: the same
        box for every seed, so they compare side by side."""
        out, box = [], None
        for seed in seeds:
            r = self.apply(rgb, replace(options, seed=seed), faces, donor)
            changed = [f for f in r.faces if f.blended and f.region_box is not None]
            if not changed:
                break
            if box is None:
                box = crop_box(changed[0].region_box, rgb.shape[:2], (320, 200))
            out.append((seed, r.image[box[1]:box[3], box[0]:box[2]]))
        return out

    def crops(self, before: np.ndarray, result: ApplyResult) -> list[dict]:
        """For each changed face: its crop box and the before and after pixels there (native
        pixels, nothing resized)."""
        out = []
        for f in result.faces:
            if f.blended and f.region_box is not None:
                x0, y0, x1, y1 = crop_box(f.region_box, before.shape[:2], self.config.crop_max)
                out.append({"index": f.index, "box": (x0, y0, x1, y1),
                            "before": before[y0:y1, x0:x1], "after": result.image[y0:y1, x0:x1]})
        return out

    def live(self, options: ApplyOptions, donor: Engine | None = None, rate: float = 10.0
             ) -> LiveVideo:
        """A webcam stream of its own (see :class:`LiveVideo`), painted by the generator or the
        donor; ``rate``: about the frames a second it will get (the smoothing's time scale)."""
        from mustache.video.stream import VideoMustacher

        return LiveVideo(VideoMustacher(donor or self.mustacher, options, rate=rate), self._lock)

    def close(self) -> None:
        self.mustacher.close()
        for d in self._detectors.values():
            d.close()
        self._detectors.clear()


class LiveVideo:
    """One browser's webcam: its own :class:`mustache.video.stream.VideoMustacher`, so its own face
    tracks and its own face detector (MediaPipe's mesh follows faces from call to call: shared,
    one browser's face would be looked for in another's frames).

    A frame runs under the server's lock (one job at a time, painting included); closing waits
    for a frame in progress, so a detector is never closed under a running graph."""

    def __init__(self, video: VideoMustacher, model_lock: threading.Lock):
        self._video, self._model_lock = video, model_lock
        self._lock = threading.Lock()
        self.closed = False

    def process(self, rgb: np.ndarray) -> tuple[np.ndarray, int]:
        """The next frame -> (it with its mustaches, how many faces have one); BadInput once
        closed (stopped, or replaced by a stream with other settings)."""
        from mustache.errors import BadInput

        with self._lock, self._model_lock:
            if self.closed:
                raise BadInput("the webcam was stopped; start it again")
            out = self._video.process(rgb)
            return out, sum(not isinstance(v, str) for v in self._video.layers.values())

    def close(self) -> None:
        with self._lock:
            if not self.closed:
                self.closed = True
                self._video.close()
