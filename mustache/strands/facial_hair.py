"""Where a person's own facial hair is, and its colour.

    fh = facial_hair(rgb, face.points)
    fh.hair_regions          # ("upper lip", "chin") -- or () on a clean-shaven face
    fh.colour                # HairColour from that hair (None when there is none)

Four regions from the MediaPipe landmarks: the upper lip (stubble or a mustache where one would
be drawn), the chin (below the lower lip: a goatee), the jaw (along the lower face outline: a
beard) and the sideburns (in front of the ears, from the eye line down). Each is compared with
the cheek skin just below the eyes of the same face, so that light, exposure and skin tone
cancel out:

- darkness: the cheeks' skin L* minus the region's median L* (hair is darker than the skin it
  grows from, stubble as a grey-blue or brown shade);
- texture: hair-scale detail (|L* - blur(L*)|, as ``photo_metrics.fine_detail``) in the region
  over that of the cheeks (hairs and follicles against smooth skin).

and the region's tint against the cheeks (a*, b*). A logistic score of these per region, and one
of the four region scores for the face (weights fitted on labelled CelebA men, see
``FacialHairConfig``), say whether the face has hair and where. All of it runs on a box around the lower face, resampled so
the face is at most ``work_width`` px wide: the weights were fitted at that scale, and a 4000 px
photo costs what a 250 px one does (a few ms). The colour is taken at the photo's own
resolution from the hair-bearing regions' pixels darker than the skin, by the core estimate of
:func:`mustache.strands.haircolor.colour_from_pixels` (projected onto the natural hair gamut).

This is meant to grow into a general "existing hair" check, so the result is a plain frozen
record of per-region evidence.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from data_prep import indices as ix

REGIONS: tuple[str, ...] = ("upper lip", "chin", "jaw", "sideburns")

# Lower face outline (MediaPipe FACEMESH_FACE_OVAL), viewer's left side, top down; the right
# side mirrors it.
_SIDEBURN_L, _SIDEBURN_R = (127, 234, 93), (356, 454, 323)
_JAW_L, _JAW_R = (93, 132, 58, 172, 136, 150), (323, 361, 288, 397, 365, 379)
_CHIN = (150, 149, 176, 148, 152, 377, 400, 378, 379)  # left to right along the outline
_LOWER_LIP = (146, 91, 181, 84, 17, 314, 405, 321, 375)  # its lower edge, left to right
# Cheeks just below the eyes: bare on nearly every beard, and lit like the rest of the face
_CHEEK_L, _CHEEK_R = (117, 118, 50, 123), (346, 347, 280, 352)


@dataclass(frozen=True)
class FacialHairConfig:
    """Sizes in face widths (the distance between landmarks 234 and 454) unless in px."""

    work_width: float = 128.0  # px: larger faces are resampled to this width (weights fitted here)
    sigma: float = 1.0  # px at work scale: the fine-detail blur (stubble is ~1 px there)
    skin_percentile: float = 65.0  # of the cheeks' L*: skin, above shadows, glasses and stubble
    inset: float = 0.04  # outline regions start this far inside the outline (off the background)
    band: float = 0.22  # jaw and sideburn bands reach this far in, as a share of the way to the nose
    lip_margin: float = 0.03  # regions keep this far off the lips (x face width)
    min_pixels: int = 12  # at work scale; a region with fewer (cut off, turned away) has no say
    # Per-region logistic weights (bias, per L* of darkness, per unit of log texture ratio,
    # per unit of a* and b* below the cheek's; above counts 0): a region's score. Fitted (class-balanced) on 2,876
    # CelebA men (examples/colour_check.py): upper lip on Mustache/5_o_Clock_Shadow/Goatee,
    # chin and jaw on 5_o_Clock_Shadow/Goatee, sideburns on Sideburns, each against
    # clean-shaven men. Stubble is darker, more detailed and less red and yellow than the cheek
    # (the blue-grey of shaved hair under the skin). Only "less" counts: a ginger beard is
    # redder than the cheek, and CelebA has too few of them to learn that side.
    weights: dict[str, tuple[float, ...]] = field(default_factory=lambda: {
        "upper lip": (-1.336, 0.032, 0.360, -0.119, -0.036),
        "chin": (-1.729, 0.046, 0.927, -0.186, -0.065),
        "jaw": (-1.595, 0.040, 0.965, -0.136, -0.036),
        "sideburns": (-0.370, -0.001, 0.508, -0.046, -0.023),
    })
    # The face's score: bias plus these times the region scores (REGIONS order), fitted on the
    # same men for 5_o_Clock_Shadow or Goatee. Chin and jaw carry it: with the upper lip's and
    # the sideburns' scores free, their weights came out negative (beside chin and jaw they say
    # how dark and sharp the lower face is, not whether there is hair) for no gain in accuracy.
    face_weights: tuple[float, ...] = (-0.003, 0.0, 0.747, 0.452, 0.0)
    # The face has hair above this score: a little above the balanced point, as a false
    # "hair" takes the colour from a shadowed chin (held out: CelebA 82% of clean men and 60%
    # of stubble/goatee ones called right). Or when any one region scores above ``region_alone`` (rare on CelebA:
    # a clear mustache or goatee, whatever the rest of the face says).
    face_threshold: float = 0.25
    region_alone: float = 1.5


@dataclass(frozen=True)
class RegionEvidence:
    """One region's measurements against the cheeks of the same face."""

    score: float  # logit: > 0 means hair (NaN when the region was not measurable)
    hair: bool
    darkness: float  # cheek skin L* minus the region's median L*
    texture: float  # the region's fine detail over the cheeks'
    tint: tuple[float, float]  # the region's median (a*, b*) minus the cheeks'
    pixels: int  # at work scale


@dataclass(frozen=True, eq=False)
class FacialHair:
    """Own facial hair of one face: per-region evidence and the hair's colour."""

    regions: dict[str, RegionEvidence]  # keyed by REGIONS' names, all four always present
    score: float  # the face's logit (NaN when not measurable)
    has_hair: bool  # score above the config's face_threshold, or one region's above region_alone
    colour: object | None  # mustache.strands.haircolor.HairColour of the hair, None when no hair
    skin_l: float  # the cheeks' L* (their ``skin_percentile``)

    @property
    def hair_regions(self) -> tuple[str, ...]:
        """Names of the regions with hair, in REGIONS order; () when the face has none."""
        return tuple(r for r in REGIONS if self.regions[r].hair)


def _inward(points: np.ndarray, centre: np.ndarray, t: float) -> np.ndarray:
    return points + (centre - points) * t


def region_polygons(xy: np.ndarray, config: FacialHairConfig = FacialHairConfig()
                    ) -> dict[str, list[np.ndarray]]:
    """landmarks (478, 2) px -> {region or "cheeks": list of polygons (K, 2), same px}."""
    nose = xy[ix.NOSE_TIP]
    out: dict[str, list[np.ndarray]] = {}
    top, bottom = xy[list(ix.UNDER_NOSE)], xy[list(ix.UPPER_LIP_OUTER)]
    # off the nostrils above and the lip's red border below: both are dark, sharp edges
    out["upper lip"] = [np.concatenate([_inward(top, bottom, 0.15),
                                        _inward(top, bottom, 0.8)[::-1]])]
    lip, chin = xy[list(_LOWER_LIP)], xy[list(_CHIN)]
    mid = xy[17]  # the lower lip's lowest middle point
    drop = (xy[ix.CHIN] - mid) * 0.15  # clear of the lip's border and its shadow
    out["chin"] = [np.concatenate([lip + drop, _inward(chin, mid, config.inset)[::-1]])]
    for name, sides in (("jaw", (_JAW_L, _JAW_R)), ("sideburns", (_SIDEBURN_L, _SIDEBURN_R))):
        out[name] = []
        for idx in sides:
            p = xy[list(idx)]
            out[name].append(np.concatenate([_inward(p, nose, config.inset),
                                             _inward(p, nose, config.band)[::-1]]))
    out["cheeks"] = [xy[list(c)] for c in (_CHEEK_L, _CHEEK_R)]
    return out


def _fill(polys: list[np.ndarray], shape: tuple[int, int]) -> np.ndarray:
    import cv2

    mask = np.zeros(shape, np.uint8)
    for p in polys:  # convex hulls: landmark order within a band can fold at turned faces
        hull = cv2.convexHull(np.round(p * 16).astype(np.int32))
        cv2.fillConvexPoly(mask, hull, 1, lineType=cv2.LINE_8, shift=4)
    return mask.astype(bool)


def _logit(w: tuple[float, ...], darkness: float, texture: float, da: float, db: float
           ) -> float:
    return float(w[0] + w[1] * darkness + w[2] * np.log(max(texture, 1e-3))
                 + w[3] * min(da, 0.0) + w[4] * min(db, 0.0))


def facial_hair(image: np.ndarray, landmarks: np.ndarray,
                config: FacialHairConfig = FacialHairConfig()) -> FacialHair:
    """image (H, W, 3) uint8 RGB, landmarks (478, 2+) photo px -> :class:`FacialHair`.

    Regions outside the photo, or too small at work scale, get score NaN and no hair. Without
    measurable cheeks, no region has a say (skin_l NaN). The colour is None when no region has
    hair."""
    import cv2

    from mustache.strands.haircolor import checked_face, colour_from_pixels

    image, xy = checked_face(image, landmarks)
    polys = region_polygons(xy, config)
    pts = np.concatenate([p for ps in polys.values() for p in ps])
    face_w = float(np.linalg.norm(xy[ix.FACE_SIDES[1]] - xy[ix.FACE_SIDES[0]]))
    if face_w < 1:
        raise ValueError(f"degenerate landmarks: face width {face_w:.2f} px")
    k = min(1.0, config.work_width / face_w)
    h, w = image.shape[:2]
    pad = 3 * config.sigma / k + 2  # the blur's reach, in photo px
    x0, y0 = np.maximum(np.floor(pts.min(0) - pad).astype(int), 0)
    x1, y1 = np.minimum(np.ceil(pts.max(0) + pad).astype(int) + 1, (w, h))
    nan = RegionEvidence(float("nan"), False, float("nan"), float("nan"), (np.nan, np.nan), 0)
    if x1 - x0 < 4 or y1 - y0 < 4:
        return FacialHair({r: nan for r in REGIONS}, float("nan"), False, None, float("nan"))
    box = image[y0:y1, x0:x1]
    small = box if k >= 1 else cv2.resize(
        box, (max(1, round((x1 - x0) * k)), max(1, round((y1 - y0) * k))),
        interpolation=cv2.INTER_AREA)
    sy, sx = small.shape[0] / box.shape[0], small.shape[1] / box.shape[1]
    to_small = lambda p: (p - (x0, y0)) * (sx, sy)  # noqa: E731
    lab = cv2.cvtColor(small.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)
    light = lab[..., 0]
    detail = np.abs(light - cv2.GaussianBlur(light, (0, 0), config.sigma))
    masks = {name: _fill([to_small(p) for p in ps], light.shape) for name, ps in polys.items()}
    # never the lips, grown by a margin: on laughing faces and with lipstick their red border
    # reaches into the regions, and it is dark and sharp like stubble (it gave a red "hair")
    lips = _fill([to_small(np.concatenate([xy[list(ix.UPPER_LIP_OUTER)],
                                           xy[list(ix.LOWER_LIP_OUTER)][::-1]]))], light.shape)
    grow = max(1, round(config.lip_margin * face_w * k))  # face width at work scale: face_w k
    lips = cv2.dilate(lips.astype(np.uint8), np.ones((2 * grow + 1, 2 * grow + 1), np.uint8)) > 0
    masks = {name: m & ~lips for name, m in masks.items()}

    cheeks = masks.pop("cheeks")
    if cheeks.sum() < config.min_pixels:
        return FacialHair({r: nan for r in REGIONS}, float("nan"), False, None, float("nan"))
    skin_l = float(np.percentile(light[cheeks], config.skin_percentile))
    # cheek texture from its skin only: the darker third may be glasses' frames or shadow
    bare = cheeks & (light >= np.percentile(light[cheeks], 33))
    cheek_detail = float(np.mean(detail[bare]))
    skin_ab = np.median(lab[bare][:, 1:], axis=0)
    evidence = {}
    for name in REGIONS:
        m = masks[name]
        n = int(m.sum())
        if n < config.min_pixels:
            evidence[name] = nan
            continue
        dark = skin_l - float(np.median(light[m]))
        tex = float(np.mean(detail[m])) / max(cheek_detail, 1e-3)
        da, db = (np.median(lab[m][:, 1:], axis=0) - skin_ab).tolist()
        evidence[name] = RegionEvidence(_logit(config.weights[name], dark, tex, da, db), False,
                                        dark, tex, (da, db), n)
    # a region cut off by the photo has no say in the face's score (0: neither way)
    scores = np.array([0.0 if np.isnan(evidence[r].score) else evidence[r].score
                       for r in REGIONS])
    face = float(config.face_weights[0] + scores @ np.asarray(config.face_weights[1:]))
    if not (face > config.face_threshold or scores.max() > config.region_alone):
        return FacialHair(evidence, face, False, None, skin_l)
    # the regions with hair: those scoring above 0, at least the best one
    best = REGIONS[int(np.argmax(scores))]
    hairy = np.zeros_like(cheeks)
    for r in REGIONS:
        if evidence[r].score > 0 or r == best:
            evidence[r] = replace(evidence[r], hair=True)
            hairy |= masks[r]
    # the colour at the photo's own resolution: downsampled pixels mix hairs with skin
    full = cv2.resize(hairy.astype(np.uint8), (x1 - x0, y1 - y0),
                      interpolation=cv2.INTER_NEAREST).astype(bool) if k < 1 else hairy
    px = box[full]
    px = px[:: len(px) // 4096 + 1]
    px_l = cv2.cvtColor(px[None].astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)[0, :, 0]
    below = px[px_l < skin_l]  # the skin between hairs is no part of the hair's colour
    names = ", ".join(r for r in REGIONS if evidence[r].hair)
    colour = colour_from_pixels(below if len(below) else px, f"facial hair ({names})")
    return FacialHair(evidence, face, True, colour, skin_l)
