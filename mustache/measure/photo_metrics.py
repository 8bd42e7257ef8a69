"""Mustache measurements on photos at their own resolution, for judging painted hair.

All figures are taken on a box around one face's mouth (and one around its brows), never the
whole photo, so they stay fast on 50 MP photos. Landmarks are MediaPipe's (478, 2+) photo px;
images RGB uint8 (H, W, 3).

- ``detail_ratio``: hair-scale detail (|grey - blur(grey)|, sigma 1.5 px) inside the mustache
  area over the skin next to it. On the hires photos: real hair ~1.7, bare lips ~1.2, a smooth
  dark blob ~0.8. Noise painted into the area fools it (~2.5), hence
- ``line_coherence``: how line-like the fine structure is (structure-tensor coherence of the
  high-passed image, weighted by gradient energy): real hair ~0.32, bare lips ~0.25, the same
  lips with noise ~0.19. It is no judge of a blob (that adds no fine structure; detail is).
- ``brow_distance``: Lab colour distance between the mustache area's darker half and the brows'.
- ``vermilion_change``: how much the red of the upper lip changed (a mustache sits above it).
- ``texture_ratio``: texture at the face's own scale (|grey - blur(grey)|, sigma 2% of the
  face's width) of the mustache area's darker half over the skin ring's. Unlike the detail
  ratio it does not need hair-resolving pixels: real mustaches at LFW size (~100 px faces)
  measure ~1.33 (median; 10th percentile ~1.0), a flat painted band < 0.8.
- ``band_tone``: the mustache area's darker half's lightness over the skin ring's (real
  mustaches: median ~0.65, some 0.3), and its colour (chroma, mean a*b*).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from data_prep import indices as ix

# Nose tip, alae and nostrils: their dark holes and sharp edges are not skin texture.
NOSE = (1, 2, 4, 5, 45, 275, 48, 278, 49, 279, 64, 294, 98, 327, 102, 331, 115, 344, 129, 358,
        219, 439, 220, 440, 240, 460)

Box = tuple[int, int, int, int]  # (x0, y0, x1, y1) photo px, end exclusive


@dataclass(frozen=True)
class MetricsConfig:
    """Sizes in eye distances (d) unless in px; px figures are at the photo's own resolution."""

    core: float = 0.02  # the region polygon is eroded by this much (d): its rim is half skin
    ring: float = 0.15  # the skin ring reaches this far beyond the region (d)
    gap: float = 0.03  # and starts this far out, and keeps this far off lips and nose (d)
    sigma: float = 1.5  # fine-detail blur, px: hair strands are 1-4 px wide at 450-850 px faces
    # structure tensor: only structure finer than ``highpass`` (a blob's soft edge and shading
    # stay out), gradients at ``derivative`` (a light denoise), summed over ``integration``:
    # white noise's coherence falls with the integration area, parallel strands' does not.
    # Chosen on the hires photos: this band ranks real hair > bare lips > noise.
    highpass: float = 1.5  # px
    derivative: float = 0.7  # px
    integration: float = 4.0  # px


@dataclass(frozen=True, eq=False)
class MouthMasks:
    """One face's masks. ``mustache``, ``skin``, ``vermilion``: bool (h, w) over ``box``;
    ``brows``: bool (hb, wb) over ``brow_box``. Boxes are (x0, y0, x1, y1) photo px."""

    box: Box
    mustache: np.ndarray  # the region's core, off the lips, mouth opening and nose
    skin: np.ndarray  # a ring of cheek/lip/chin skin around the region
    vermilion: np.ndarray  # the upper lip's red part
    brow_box: Box
    brows: np.ndarray  # both eyebrows
    eye_distance: float  # px

    def crop(self, image: np.ndarray) -> np.ndarray:
        """The mouth box of a (H, W, ...) photo."""
        x0, y0, x1, y1 = self.box
        return image[y0:y1, x0:x1]

    def crop_brows(self, image: np.ndarray) -> np.ndarray:
        x0, y0, x1, y1 = self.brow_box
        return image[y0:y1, x0:x1]


@dataclass(frozen=True)
class FaceMetrics:
    face_width: float  # px between the face's sides (FACE_SIDES)
    detail_before: float  # detail_ratio of the photo before editing
    detail_after: float
    coherence_before: float  # line_coherence in the mustache area
    coherence_after: float
    brow_distance_before: float  # Lab ΔE, darker half of the mustache area vs of the brows
    brow_distance_after: float
    vermilion_change: float  # mean Lab ΔE over the upper vermilion, before -> after
    texture_before: float = float("nan")  # texture_ratio (blur 2% of the face's width)
    texture_after: float = float("nan")
    tone_before: float = float("nan")  # band_tone().ratio: darker half's L* over the skin's
    tone_after: float = float("nan")
    chroma_before: float = float("nan")  # band_tone().chroma of the darker half
    chroma_after: float = float("nan")

    def to_dict(self) -> dict:
        return {k: round(float(v), 4) for k, v in asdict(self).items()}


def _check_landmarks(landmarks) -> np.ndarray:
    lm = np.asarray(landmarks, dtype=np.float64)
    if lm.ndim != 2 or lm.shape[0] < ix.NUM_LANDMARKS or lm.shape[1] < 2:
        raise ValueError(f"landmarks must have shape (478, 2+), got {lm.shape}")
    return lm[:, :2]


def _check_image(image, name: str = "image") -> np.ndarray:
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"{name} must be RGB uint8 (H, W, 3), got {image.dtype} {image.shape}")
    return image


def _box(points: np.ndarray, pad: float, shape: tuple[int, int]) -> Box:
    h, w = shape
    x0, y0 = np.floor(points.min(0) - pad).astype(int)
    x1, y1 = np.ceil(points.max(0) + pad).astype(int) + 1
    return max(0, x0), max(0, y0), min(w, x1), min(h, y1)


def _fill(polygon: np.ndarray, box: Box) -> np.ndarray:
    """Hard bool mask (h, w) of a photo-px polygon over ``box``."""
    from data_prep.region import polygon_mask

    x0, y0, x1, y1 = box
    return polygon_mask(np.asarray(polygon) - (x0, y0), (y1 - y0, x1 - x0)) >= 0.5


def _morph(mask: np.ndarray, radius: float, erode: bool = False) -> np.ndarray:
    """Dilate (or erode) a bool mask by a disc of ``radius`` px; by distance transform, which
    costs the same for any radius (a 0.15 eye-distance ring on a 50 MP face is ~100 px)."""
    import cv2

    if radius <= 0:
        return mask
    if erode:
        return cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 5) > radius
    return cv2.distanceTransform((~mask).astype(np.uint8), cv2.DIST_L2, 5) <= radius


def mouth_masks(landmarks: np.ndarray, shape: tuple[int, ...],
                config: MetricsConfig = MetricsConfig()) -> MouthMasks:
    """(478, 2+) photo-px landmarks and the photo's shape (H, W[, 3]) -> :class:`MouthMasks`.

    ``mustache``: the region polygon (``data_prep.region``) eroded by ``core``, minus the lips
    (upper vermilion, mouth opening, lower lip) and the nose, each dilated by ``gap``.
    ``skin``: the region dilated by ``ring`` minus the region dilated by ``gap``, minus the
    same lips and nose, kept below the eyes' line and above the chin. ``vermilion``: the upper
    lip's outer contour to its inner one. Pixels outside the photo are in no mask."""
    import cv2

    from data_prep.region import RegionConfig, region_polygon

    lm = _check_landmarks(landmarks)
    if len(shape) < 2 or shape[0] < 1 or shape[1] < 1:
        raise ValueError(f"shape must be (H, W[, 3]), got {tuple(shape)}")
    hw = (int(shape[0]), int(shape[1]))
    eye_l = lm[list(ix.LEFT_EYE_CORNERS)].mean(0)
    eye_r = lm[list(ix.RIGHT_EYE_CORNERS)].mean(0)
    d = float(np.linalg.norm(eye_r - eye_l))
    if d < 1:
        raise ValueError(f"degenerate landmarks: eye distance {d:.2f} px")
    # room for the ring plus the filters' reach, so crops match full-photo filtering inside
    reach = max(config.sigma, config.highpass + config.derivative + config.integration)
    pad = (config.ring + config.gap) * d + 3 * reach + 2

    poly = region_polygon(lm, RegionConfig())
    upper_outer, upper_inner = lm[list(ix.UPPER_LIP_OUTER)], lm[list(ix.UPPER_LIP_INNER)]
    lips_outer = np.concatenate([upper_outer, lm[list(ix.LOWER_LIP_OUTER)][::-1]])
    box = _box(np.concatenate([poly, lips_outer]), pad, hw)
    x0, y0, x1, y1 = box
    region = _fill(poly, box)
    vermilion = _fill(np.concatenate([upper_outer, upper_inner[::-1]]), box)
    lips = _fill(lips_outer, box)
    nose = np.zeros((y1 - y0, x1 - x0), np.uint8)
    hull = cv2.convexHull(np.round(lm[list(NOSE)] - (x0, y0)).astype(np.int32))
    cv2.fillConvexPoly(nose, hull, 1)
    # the lip's border and the nostrils are strong edges, on bare faces too: keep a gap off
    # them so that they do not count as detail (landmarks are a few px off at this scale)
    gap = config.gap * d
    near_lips, near_nose = _morph(lips, gap), _morph(nose.astype(bool), gap)
    mustache = _morph(region, config.core * d, erode=True) & ~near_lips & ~near_nose
    skin = _morph(region, config.ring * d) & ~_morph(region, gap) & ~near_lips & ~near_nose
    # below the eyes' line and above the chin, in the face's own (tilted) axes
    right = (eye_r - eye_l) / d
    down = np.array([-right[1], right[0]])
    ys, xs = np.ogrid[y0:y1, x0:x1]
    v = (xs - eye_l[0]) * down[0] + (ys - eye_l[1]) * down[1]
    chin = float((lm[ix.CHIN] - eye_l) @ down)
    skin &= (v > 0) & (v < chin)

    brow_pts = np.concatenate([lm[list(ix.LEFT_BROW)], lm[list(ix.RIGHT_BROW)]])
    brow_box = _box(brow_pts, 2, hw)
    brows = _fill(lm[list(ix.LEFT_BROW)], brow_box) | _fill(lm[list(ix.RIGHT_BROW)], brow_box)
    return MouthMasks(box, mustache, skin, vermilion, brow_box, brows, d)


def _grey(image: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY).astype(np.float32)


def _check_mask(mask, shape: tuple[int, ...], name: str = "mask") -> np.ndarray:
    mask = np.asarray(mask)
    if mask.shape != tuple(shape[:2]):
        raise ValueError(f"{name} must have shape {tuple(shape[:2])}, got {mask.shape}")
    return mask.astype(bool)


def fine_detail(grey: np.ndarray, mask: np.ndarray, sigma: float = 1.5) -> float:
    """Mean |grey - GaussianBlur(grey, sigma)| over ``mask``. grey (h, w) any real dtype, mask
    bool (h, w), sigma in px at the image's own resolution -> grey levels; NaN if the mask is
    empty."""
    import cv2

    grey = np.asarray(grey, np.float32)
    if grey.ndim != 2:
        raise ValueError(f"grey must be (h, w), got {grey.shape}")
    mask = _check_mask(mask, grey.shape)
    if not mask.any():
        return float("nan")
    return float(np.abs(grey - cv2.GaussianBlur(grey, (0, 0), sigma))[mask].mean())


def detail_ratio(image: np.ndarray, masks: MouthMasks, sigma: float = 1.5) -> float:
    """Fine detail inside ``masks.mustache`` over that of ``masks.skin``: RGB uint8 photo
    (H, W, 3) -> float (real facial hair ~1.5, a bare lip or a smooth smear < 1); NaN when a
    mask is empty."""
    grey = _grey(masks.crop(_check_image(image)))
    skin = fine_detail(grey, masks.skin, sigma)
    return fine_detail(grey, masks.mustache, sigma) / max(skin, 1e-6)


def coherence_map(grey: np.ndarray, config: MetricsConfig = MetricsConfig()
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Structure tensor of the high-passed grey (h, w) -> (anisotropy sqrt((Jxx-Jyy)^2 +
    4Jxy^2), energy Jxx + Jyy), both float32 (h, w); their ratio is the local coherence
    (l1 - l2) / (l1 + l2) in [0, 1]. High-passing first keeps smooth ramps (a blob's soft edge,
    shading) out: only hair-scale structure counts."""
    import cv2

    g = np.asarray(grey, np.float32)
    g = g - cv2.GaussianBlur(g, (0, 0), config.highpass)
    g = cv2.GaussianBlur(g, (0, 0), config.derivative)
    gx = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3)
    s = config.integration
    jxx = cv2.GaussianBlur(gx * gx, (0, 0), s)
    jyy = cv2.GaussianBlur(gy * gy, (0, 0), s)
    jxy = cv2.GaussianBlur(gx * gy, (0, 0), s)
    return np.sqrt((jxx - jyy) ** 2 + 4 * jxy ** 2), jxx + jyy


def line_coherence(image: np.ndarray, masks: MouthMasks,
                   config: MetricsConfig = MetricsConfig()) -> float:
    """Gradient-energy-weighted structure-tensor coherence inside ``masks.mustache`` of an RGB
    uint8 photo (H, W, 3) -> [0, 1]: strands (lines) score high, white noise low (see
    :func:`coherence_map`). NaN when the mask is empty or flat."""
    grey = _grey(masks.crop(_check_image(image)))
    aniso, energy = coherence_map(grey, config)
    sel = masks.mustache
    total = float(energy[sel].sum()) if sel.any() else 0.0
    return float(aniso[sel].sum()) / total if total > 0 else float("nan")


def _lab(rgb: np.ndarray) -> np.ndarray:
    """RGB uint8 (..., 3) -> CIE Lab float32 (..., 3), L in 0-100."""
    import cv2

    x = np.ascontiguousarray(rgb, np.float32).reshape(-1, 1, 3) / 255.0
    return cv2.cvtColor(x, cv2.COLOR_RGB2Lab).reshape(np.shape(rgb))


def _dark_median(lab: np.ndarray) -> np.ndarray:
    """Median Lab (3,) of the darker half (by L) of pixels (N, 3): the hair, not the skin
    between strands."""
    dark = lab[lab[:, 0] <= np.median(lab[:, 0])]
    return np.median(dark, axis=0)


def brow_distance(image: np.ndarray, landmarks: np.ndarray, masks: MouthMasks | None = None
                  ) -> float:
    """CIE Lab ΔE (1976) between the median colour of the darker half of the mustache area's
    pixels and that of the brows' pixels. image RGB uint8 (H, W, 3), landmarks (478, 2+) photo
    px (masks from them unless given). Small: the mustache has the brows' colour. NaN when a
    mask is empty."""
    image = _check_image(image)
    if masks is None:
        masks = mouth_masks(landmarks, image.shape)
    if not masks.mustache.any() or not masks.brows.any():
        return float("nan")
    m = _lab(masks.crop(image)[masks.mustache])
    b = _lab(masks.crop_brows(image)[masks.brows])
    return float(np.linalg.norm(_dark_median(m) - _dark_median(b)))


def vermilion_change(before: np.ndarray, after: np.ndarray, masks: MouthMasks) -> float:
    """Mean Lab ΔE over the upper vermilion between two RGB uint8 photos (H, W, 3) of the same
    size; NaN when the vermilion mask is empty."""
    before, after = _check_image(before, "before"), _check_image(after, "after")
    if before.shape != after.shape:
        raise ValueError(f"before and after differ in shape: {before.shape} vs {after.shape}")
    if not masks.vermilion.any():
        return float("nan")
    a = _lab(masks.crop(before)[masks.vermilion])
    b = _lab(masks.crop(after)[masks.vermilion])
    return float(np.linalg.norm(a - b, axis=1).mean())


def face_width(landmarks: np.ndarray) -> float:
    """Photo px between the face's sides (landmarks FACE_SIDES) of (478, 2+) landmarks."""
    sides = _check_landmarks(landmarks)[list(ix.FACE_SIDES)]
    return float(np.linalg.norm(sides[1] - sides[0]))


def _dark_half(values: np.ndarray) -> np.ndarray:
    """bool (N,): the values at or below their median (the darker half of a mustache area:
    the hair, not the skin between strands)."""
    return values <= np.median(values)


def texture_ratio(image: np.ndarray, masks: MouthMasks, face_width: float) -> float:
    """Texture of the mustache area's darker half (by grey level) over that of the skin ring,
    each the mean |grey - GaussianBlur(grey, sigma)| with sigma = 0.02 x ``face_width``
    (photo px): hair texture at the face's own scale, so it reads the same on a 60 px face as
    on a 600 px one (the hair strands need not be resolved). image RGB uint8 (H, W, 3),
    ``masks`` from :func:`mouth_masks` for this photo -> float: real mustaches at LFW size
    ~1.33 (median), a flat or hard-edged painted band < 0.8. NaN when a mask is empty.

    A hard edge within the blur's reach of the area counts as texture: a hard-edged
    near-black band (0.3 of the skin's L*) reads ~1.3, about as real hair; this figure flags
    smooth bands, not hard ones. The blur is taken on the photo around ``masks.box`` grown by
    3 sigma, so a wide face's figure does not depend on where the box ends."""
    import cv2

    image = _check_image(image)
    if not (face_width > 0):
        raise ValueError(f"face_width must be > 0 px, got {face_width}")
    if not masks.mustache.any() or not masks.skin.any():
        return float("nan")
    sigma = max(0.02 * float(face_width), 0.5)
    x0, y0, x1, y1 = masks.box
    h, w = image.shape[:2]
    r = int(np.ceil(3 * sigma))
    gx0, gy0, gx1, gy1 = max(0, x0 - r), max(0, y0 - r), min(w, x1 + r), min(h, y1 + r)
    grey = _grey(image[gy0:gy1, gx0:gx1])
    resid = np.abs(grey - cv2.GaussianBlur(grey, (0, 0), sigma))
    resid, grey = (a[y0 - gy0:y1 - gy0, x0 - gx0:x1 - gx0] for a in (resid, grey))
    inside = grey[masks.mustache]
    dark = resid[masks.mustache][_dark_half(inside)]
    return float(dark.mean() / max(float(resid[masks.skin].mean()), 1e-6))


@dataclass(frozen=True)
class BandTone:
    """The tone of a mustache area's darker half (by L*) against the skin ring around it."""

    ratio: float  # median L* of the darker half over the skin ring's median L*
    lightness: float  # that median L* (0-100)
    skin_lightness: float  # the skin ring's median L*
    chroma: float  # hypot(a, b): how coloured the darker half is on average
    a: float  # mean a* of the darker half
    b: float  # mean b*

    def to_dict(self) -> dict:
        return {k: round(float(v), 4) for k, v in asdict(self).items()}


def band_tone(image: np.ndarray, masks: MouthMasks) -> BandTone:
    """The mustache area's darker half (pixels at or below the area's median L*) against the
    skin ring: image RGB uint8 (H, W, 3), ``masks`` from :func:`mouth_masks` ->
    :class:`BandTone` (CIE L*a*b*, L* 0-100). ``ratio`` is the darker half's median L* over
    the ring's median L*: real mustaches ~0.65 (median), some 0.3; a bare upper lip ~0.9.
    All NaN when a mask is empty."""
    image = _check_image(image)
    if not masks.mustache.any() or not masks.skin.any():
        nan = float("nan")
        return BandTone(nan, nan, nan, nan, nan, nan)
    crop = masks.crop(image)
    lab = _lab(crop[masks.mustache])
    dark = lab[_dark_half(lab[:, 0])]
    skin_l = float(np.median(_lab(crop[masks.skin])[:, 0]))
    light = float(np.median(dark[:, 0]))
    a, b = (float(v) for v in dark[:, 1:].mean(0))
    return BandTone(light / max(skin_l, 1e-6), light, skin_l, float(np.hypot(a, b)), a, b)


def measure_face(before: np.ndarray, after: np.ndarray, landmarks: np.ndarray,
                 config: MetricsConfig = MetricsConfig()) -> FaceMetrics:
    """All figures of one face: before/after RGB uint8 (H, W, 3), landmarks (478, 2+) photo px
    (found on ``before``)."""
    before, after = _check_image(before, "before"), _check_image(after, "after")
    if before.shape != after.shape:
        raise ValueError(f"before and after differ in shape: {before.shape} vs {after.shape}")
    lm = _check_landmarks(landmarks)
    masks = mouth_masks(lm, before.shape, config)
    width = face_width(lm)
    tone_b, tone_a = band_tone(before, masks), band_tone(after, masks)
    return FaceMetrics(
        face_width=width,
        detail_before=detail_ratio(before, masks, config.sigma),
        detail_after=detail_ratio(after, masks, config.sigma),
        coherence_before=line_coherence(before, masks, config),
        coherence_after=line_coherence(after, masks, config),
        brow_distance_before=brow_distance(before, lm, masks),
        brow_distance_after=brow_distance(after, lm, masks),
        vermilion_change=vermilion_change(before, after, masks),
        texture_before=texture_ratio(before, masks, width),
        texture_after=texture_ratio(after, masks, width),
        tone_before=tone_b.ratio, tone_after=tone_a.ratio,
        chroma_before=tone_b.chroma, chroma_after=tone_a.chroma)
