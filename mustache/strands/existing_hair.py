"""Does a face already have a mustache? A decision from evidence of hair, not of darkness.

    ev = hair_evidence(rgb, face.points, scorer)   # measured on the face turned upright
    d = decide(ev)                                  # Decision: skip or not, and why

The shipped classifier learned from CelebA and LFW, where "darker upper lip" and "mustache" go
together, so alone it skips clean-shaven faces with darker skin round the mouth (2.4% of dark-
skinned held-out faces, none of the lighter ones). Hair is more than darkness: at the photo's
resolution it is fine, oriented texture, and it is darker than the person's OWN skin around
it. So the evidence, all on the face turned upright (a quarter turn at a time, lossless; the
rest of a tilt is what the landmarks' own axes absorb):

- ``score``: the classifier's mustache score of the upright face;
- ``darkness``: the cheeks' skin L* minus the upper lip's median L* (``mustache.strands.facial_hair``:
  the person's own skin, not an average face's);
- ``detail``, ``coherence``: ``mustache.measure.photo_metrics.detail_ratio`` (hair-scale detail over
  the skin ring's) and ``line_coherence`` (strands are lines) in the mustache area, at the
  photo's own resolution (a very large face is first brought to ``work_width``);
- ``texture``: ``photo_metrics.texture_ratio``, texture at the face's own scale, which needs no
  hair-resolving pixels (the small-photo fallback);
- ``width``: the face's width in px, which says how much the texture figures can be trusted.

:func:`decide` skips a face when the classifier's score clears a bar set by that evidence and
by the photo's size. Where the photo resolves hair (face >= 250 px), a lip with hair-scale
detail or line-like strands needs the usual 0.5, a smooth lip (however dark) 0.9. On smaller
photos (LFW's ~100 px faces) texture cannot tell hair from skin, so the bar is 0.7, or the
usual 0.5 where the lip is clearly darker than the person's own cheeks and textured at the
face's scale. Grey and white mustaches are often lighter than the skin: darkness is never
required where the photo resolves hair. Thresholds in :class:`ExistingHairConfig` were tuned
on one half of the people of the shared CelebA, LFW and studio photos and measured on the
other (``benchmarks/existing_hair.py``, ``mustache eval --existing-hair``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Protocol

import numpy as np

from data_prep import indices as ix


class FaceScorer(Protocol):
    """The mustache classifier (:class:`mustache.learn.classify.Scorer`): ``faces`` are objects with
    ``.xy`` (478, 2) photo px of RGB uint8 ``image`` (H, W, 3) -> scores (N,) in [0, 1]."""

    def score_faces(self, image: np.ndarray, faces: Sequence) -> np.ndarray: ...


@dataclass(frozen=True)
class ExistingHairConfig:
    """The decision's thresholds (see :func:`decide`) and the measuring scale. Tuned on the
    ``tune`` half of the people (``benchmarks/existing_hair.py``)."""

    work_width: float = 640.0  # px: larger faces are measured at this width (hair still resolved)
    # From this face width (px) the photo resolves hair: strands are >= ~1 px, and the fine
    # detail and line coherence of the lip tell hair from skin (at LFW's ~100 px faces they
    # read the same on both, and the classifier is the best evidence there is)
    texture_from: float = 250.0
    # Hair where resolved: fine detail over the skin ring's (real mustaches 1.26-2.87 in
    # hires/, women's bare lips <= 1.36) or line coherence (real 0.27-0.46, women <= 0.26
    # among those the classifier took for a mustache)
    detail_min: float = 1.45
    coherence_min: float = 0.29
    # coherence is normalised by the structure's energy: a smooth (soft, upscaled) lip has
    # little but can be line-like, so it counts only over some fine detail (real >= 1.26);
    # and its filters are in px, set for 450-850 px faces: on smaller ones skin reads as
    # line-like (women's bare lips at 300 px: median 0.39), so it counts from this width
    coherence_detail: float = 1.15
    coherence_from: float = 400.0
    # The classifier's score from which a face is skipped: with hair evidence, the usual bar
    # (the classifier was trained at 0.5); a resolved lip without it needs far more confidence
    with_evidence: float = 0.5
    without_evidence: float = 0.9
    # A photo too small for hair texture: more confidence than the usual bar, except where
    # the lip is darker than the person's own cheeks by ``darker_by`` L* and textured at the
    # face's scale (texture_ratio >= ``texture_min``: real mustaches at LFW size ~1.33): the
    # usual bar. (Tuned: of the people in ``tune``, the dark band's false skips 3 -> 1 of 97,
    # mustaches recognised as often as by the classifier alone.)
    small_photo: float = 0.7
    small_with_evidence: float = 0.5
    darker_by: float = 16.0
    texture_min: float = 1.1


@dataclass(frozen=True)
class HairEvidence:
    """One face's evidence of an existing mustache, measured upright (figures NaN when a
    mask fell outside the photo)."""

    score: float  # classifier's mustache score of the upright face, [0, 1]
    width: float  # face width, photo px (between FACE_SIDES)
    skin_l: float  # the cheeks' L* (facial_hair's skin estimate): the lightness band's input
    darkness: float  # skin_l minus the upper lip's median L*
    detail: float  # detail_ratio in the mustache area at the photo's resolution (<= work_width)
    coherence: float  # line_coherence there
    texture: float  # texture_ratio (blur 2% of the face's width)
    turns: int  # quarter turns (counter-clockwise) that made the face upright

    def to_dict(self) -> dict:
        return {k: (round(float(v), 4) if isinstance(v, float) else v)
                for k, v in asdict(self).items()}


@dataclass(frozen=True)
class Decision:
    skip: bool  # True: the face already has a mustache, leave it
    score: float  # the classifier's score (upright)
    bar: float  # the score it needed to be skipped
    reason: str  # one line: the evidence behind the bar

    def note(self) -> str:
        """The result's note for a skipped face."""
        return (f"already has facial hair (mustache score {self.score:.2f}; {self.reason}); "
                f"force (--force) paints over it")


@dataclass(frozen=True, eq=False)
class _Face:
    """The least a scorer needs of a face: its landmarks."""

    points: np.ndarray  # (478, 2+) photo px

    @property
    def xy(self) -> np.ndarray:
        return self.points[:, :2]


def quarter_turns(landmarks: np.ndarray) -> int:
    """(478, 2+) photo px -> k in 0..3: ``np.rot90(image, k)`` brings the face within 45
    degrees of upright (the eyes above the mouth)."""
    lm = np.asarray(landmarks, np.float64)[:, :2]
    eyes = (lm[list(ix.LEFT_EYE_CORNERS)].mean(0) + lm[list(ix.RIGHT_EYE_CORNERS)].mean(0)) / 2
    dx, dy = lm[list(ix.MOUTH_CORNERS)].mean(0) - eyes  # "down" the face, in image axes
    # a counter-clockwise quarter turn takes "down" (dx, dy) to (dy, -dx): "down" pointing
    # right (dx > 0) needs three of them, pointing up two
    a = math.degrees(math.atan2(dx, dy))
    return -int(round(a / 90.0)) % 4


def upright(image: np.ndarray, landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """RGB (H, W, 3), landmarks (478, 2+) photo px -> (the image turned by quarter turns so the
    face is within 45 degrees of upright, its landmarks (478, 2) there, the turns k).
    Lossless: ``np.rot90`` moves pixels, it does not resample them."""
    k = quarter_turns(landmarks)
    xy = np.asarray(landmarks, np.float64)[:, :2].copy()
    h, w = image.shape[:2]
    for _ in range(k):  # np.rot90 (counter-clockwise): (x, y) in (h, w) -> (y, w - 1 - x)
        xy = np.stack([xy[:, 1], w - 1 - xy[:, 0]], axis=1)
        h, w = w, h
    return (np.ascontiguousarray(np.rot90(image, k)) if k else image), xy, k


def _mouth_crop(image: np.ndarray, xy: np.ndarray, width: float, work_width: float
                ) -> tuple[np.ndarray, np.ndarray]:
    """The lower face (with room for the filters), brought to at most ``work_width`` face
    width -> (crop RGB uint8, landmarks there)."""
    import cv2

    face_h = float(np.linalg.norm(xy[ix.CHIN] - xy[10]))  # forehead top to chin
    pad = 0.35 * max(width, face_h)
    x0, y0 = np.maximum(np.floor(xy.min(0) - pad).astype(int), 0)
    x1 = min(int(np.ceil(xy[:, 0].max() + pad)), image.shape[1])
    y1 = min(int(np.ceil(xy[:, 1].max() + pad)), image.shape[0])
    crop, pts = image[y0:y1, x0:x1], xy - (x0, y0)
    k = work_width / width
    if k < 1:
        crop = cv2.resize(crop, (max(1, round(crop.shape[1] * k)), max(1, round(crop.shape[0] * k))),
                          interpolation=cv2.INTER_AREA)
        pts = pts * (crop.shape[1] / (x1 - x0), crop.shape[0] / (y1 - y0))
    return np.ascontiguousarray(crop), pts


def hair_evidence(image: np.ndarray, landmarks: np.ndarray, scorer: FaceScorer,
                  config: ExistingHairConfig = ExistingHairConfig()) -> HairEvidence:
    """RGB uint8 (H, W, 3), one face's landmarks (478, 2+) photo px, the classifier ->
    :class:`HairEvidence`, everything measured on the face turned upright."""
    from mustache.measure.photo_metrics import (
        detail_ratio,
        face_width,
        line_coherence,
        mouth_masks,
        texture_ratio,
    )
    from mustache.strands.facial_hair import facial_hair
    from mustache.strands.haircolor import checked_face

    image, _ = checked_face(image, landmarks)
    up, xy, k = upright(image, landmarks)
    score = float(scorer.score_faces(up, [_Face(xy)])[0])
    width = face_width(xy)
    fh = facial_hair(up, xy)
    lip = fh.regions["upper lip"]
    crop, pts = _mouth_crop(up, xy, width, config.work_width)
    masks = mouth_masks(pts, crop.shape)
    return HairEvidence(score, width, fh.skin_l, lip.darkness, detail_ratio(crop, masks),
                        line_coherence(crop, masks), texture_ratio(crop, masks, face_width(pts)),
                        k)


def decide(ev: HairEvidence, config: ExistingHairConfig = ExistingHairConfig()) -> Decision:
    """Skip the face (it has a mustache) when the classifier's score reaches a bar set by the
    evidence of hair and the photo's size (see :class:`ExistingHairConfig`):

    - hair resolved (face >= ``texture_from`` px): fine detail or line-like strands in the
      mustache area -> ``with_evidence``; a smooth lip, however dark -> ``without_evidence``;
    - too small for that: ``small_with_evidence`` when the lip is darker than the person's own
      cheeks and textured at the face's scale, else ``small_photo``."""
    c = config
    if ev.width >= c.texture_from:
        strands = (ev.width >= c.coherence_from and ev.coherence >= c.coherence_min
                   and ev.detail >= c.coherence_detail)
        if ev.detail >= c.detail_min or strands:
            bar, why = c.with_evidence, "hair-scale texture on the lip"
        else:
            bar, why = c.without_evidence, "no hair-scale texture on the lip"
    elif ev.darkness >= c.darker_by and ev.texture >= c.texture_min:
        bar, why = c.small_with_evidence, "small photo; lip darker than the cheeks, textured"
    else:
        bar, why = c.small_photo, "small photo"
    return Decision(bool(ev.score >= bar), ev.score, bar, why)


def lightness_band(skin_l: float, cuts: tuple[float, float] = (50.0, 65.0)) -> str:
    """The cheeks' L* -> "dark" (< cuts[0]), "medium", "light" (>= cuts[1]); "unknown" NaN."""
    if not np.isfinite(skin_l):
        return "unknown"
    return "dark" if skin_l < cuts[0] else "medium" if skin_l < cuts[1] else "light"
