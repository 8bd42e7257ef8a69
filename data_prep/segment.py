"""Which pixels of a photo are a person: MediaPipe's selfie segmentation.

    with PersonSegmenter() as seg:
        p = seg.mask(rgb, box=(x0, y0, x1, y1))   # float32 (y1 - y0, x1 - x0), 0..1

The model (``selfie_segmentation.tflite``, 256x256 input, in the mediapipe wheel: no download)
marks hair, face, body and clothes as person; backgrounds, and things held away from the body,
as not. It looks at its input at 256 px, so a box around one head costs what the whole photo
does and sees the head larger: pass a box for heads that are small in the photo.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Box = tuple[int, int, int, int]  # (x0, y0, x1, y1) photo px, end exclusive


@dataclass(frozen=True)
class SegmentConfig:
    model_selection: int = 0  # 0: the general (square) model; 1: the landscape one
    max_side: int = 512  # boxes larger than this are shrunk first (the model sees 256 px)


class PersonSegmenter:
    """Holds one MediaPipe selfie-segmentation graph; not thread-safe (one per thread)."""

    def __init__(self, config: SegmentConfig = SegmentConfig()):
        self.config = config
        self._graph = None

    def mask(self, image: np.ndarray, box: Box | None = None) -> np.ndarray:
        """image (H, W, 3) uint8 RGB, box (x0, y0, x1, y1) photo px or None (the whole photo)
        -> float32 (h, w) person probability over the box (clipped to the photo)."""
        import cv2

        image = np.asarray(image)
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f"image must be (H, W, 3) uint8 RGB, got {image.shape} {image.dtype}")
        h, w = image.shape[:2]
        x0, y0, x1, y1 = (0, 0, w, h) if box is None else (int(v) for v in box)
        x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
        if x1 - x0 < 1 or y1 - y0 < 1:
            raise ValueError(f"box {box} is outside the photo {(h, w)}")
        crop = np.ascontiguousarray(image[y0:y1, x0:x1])
        k = min(1.0, self.config.max_side / max(crop.shape[:2]))
        small = crop if k >= 1 else cv2.resize(
            crop, (max(1, round(crop.shape[1] * k)), max(1, round(crop.shape[0] * k))),
            interpolation=cv2.INTER_AREA)
        if self._graph is None:
            from data_prep.mp_load import import_mediapipe, quiet_stderr

            import_mediapipe()  # the package without its drawing helpers and tasks API
            from mediapipe.python.solutions import selfie_segmentation

            with quiet_stderr():  # the graph's start-up chatter
                self._graph = selfie_segmentation.SelfieSegmentation(
                    model_selection=self.config.model_selection)
        out = self._graph.process(small).segmentation_mask
        if out is None:
            return np.zeros(crop.shape[:2], np.float32)
        out = np.asarray(out, np.float32)
        if out.shape != crop.shape[:2]:
            out = cv2.resize(out, (crop.shape[1], crop.shape[0]), interpolation=cv2.INTER_LINEAR)
        return np.clip(out, 0.0, 1.0)

    def close(self) -> None:
        if self._graph is not None:
            self._graph.close()
            self._graph = None

    def __enter__(self) -> PersonSegmenter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def person_mask(image: np.ndarray, box: Box | None = None,
                config: SegmentConfig = SegmentConfig()) -> np.ndarray:
    """:meth:`PersonSegmenter.mask` with a segmenter made for this one call (about 20 ms more):
    for callers that segment now and then; hold a :class:`PersonSegmenter` to segment often."""
    with PersonSegmenter(config) as seg:
        return seg.mask(image, box)
