"""The hair on a person's head and its colour, from the person mask and the face landmarks.

    hh = head_hair(rgb, face.points)       # HeadHair: colour (or None), pixels, reason

Head hair = person pixels (``data_prep.segment``) above the brows and outside the face's
outline, darker than the forehead skin and with hair-scale texture. A bald head is as light as
the forehead, a background is not person, a smooth hat or hood has no texture: each gives no
colour (``colour`` None and ``reason`` saying why). Work is done on a box around the head,
resampled so the face is at most ``work_width`` px wide: a few ms plus the segmentation (~7 ms).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from data_prep import indices as ix

# MediaPipe FACEMESH_FACE_OVAL, in order round the face (10 is the top of the forehead)
FACE_OVAL = (10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378,
             400, 377, 152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54,
             103, 67, 109)
_FOREHEAD = (109, 10, 338, 337, 9, 108)  # between the brows and the top of the outline


@dataclass(frozen=True)
class HeadHairConfig:
    """Sizes in face widths (landmarks 234 to 454) unless in px."""

    work_width: float = 96.0  # px: the head box is resampled so the face is this wide
    above: float = 0.9  # the box reaches this far above the brows (a full head of hair)
    side: float = 0.45  # and this far beyond each side of the face
    outline_gap: float = 0.03  # hair starts this far outside the face outline (landmark error)
    dark_l: float = 10.0  # hair is at least this many L* darker than the forehead skin
    min_share: float = 0.06  # enough hair: this share of a face width squared
    sigma: float = 1.0  # px at work scale, for the texture
    min_texture: float = 1.15  # hair's fine detail over the forehead's (hats are smoother)


@dataclass(frozen=True, eq=False)
class HeadHair:
    colour: object | None  # mustache.strands.haircolor.HairColour, or None
    pixels: int  # hair pixels found, at work scale
    share: float  # of a face width squared
    texture: float  # their fine detail over the forehead's (NaN when none)
    reason: str  # why there is no colour, or "head hair"


def _fill(poly: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    import cv2

    mask = np.zeros(shape, np.uint8)
    cv2.fillPoly(mask, [np.round(poly * 16).astype(np.int32)], 1, cv2.LINE_8, shift=4)
    return mask.astype(bool)


def head_hair(image: np.ndarray, landmarks: np.ndarray, segmenter=None,
              config: HeadHairConfig = HeadHairConfig()) -> HeadHair:
    """image (H, W, 3) uint8 RGB, landmarks (478, 2+) photo px -> :class:`HeadHair`.

    ``segmenter``: a ``data_prep.segment.PersonSegmenter`` to use (else one made for this call)."""
    import cv2

    from data_prep.segment import person_mask
    from mustache.strands.haircolor import checked_face, colour_from_pixels

    image, xy = checked_face(image, landmarks)
    left, right = xy[ix.FACE_SIDES[0]], xy[ix.FACE_SIDES[1]]
    fw = float(np.linalg.norm(right - left))
    if fw < 1:
        raise ValueError(f"degenerate landmarks: face width {fw:.2f} px")
    across = (right - left) / fw
    up = np.array([across[1], -across[0]])  # the face's own up, for tilted heads
    brows = xy[list(ix.LEFT_BROW + ix.RIGHT_BROW)]
    brow_top = float(np.max(brows @ up))
    oval = xy[list(FACE_OVAL)]
    corners = np.array([left - across * config.side * fw, right + across * config.side * fw])
    reach = np.concatenate([corners, corners + up * (brow_top - corners @ up
                                                      + config.above * fw)[:, None], oval])
    h, w = image.shape[:2]
    x0, y0 = np.maximum(np.floor(reach.min(0)).astype(int), 0)
    x1, y1 = np.minimum(np.ceil(reach.max(0)).astype(int) + 1, (w, h))
    if x1 - x0 < 4 or y1 - y0 < 4:
        return HeadHair(None, 0, 0.0, float("nan"), "head outside the photo")
    box = image[y0:y1, x0:x1]
    k = min(1.0, config.work_width / fw)
    size = (max(1, round((x1 - x0) * k)), max(1, round((y1 - y0) * k)))
    small = np.ascontiguousarray(box if k >= 1 else cv2.resize(box, size,
                                                                interpolation=cv2.INTER_AREA))
    # the model looks at 256 px: the head box at work scale (~200 px) loses nothing
    person = (segmenter.mask(small) if segmenter is not None else person_mask(small)) > 0.5
    sx, sy = small.shape[1] / (x1 - x0), small.shape[0] / (y1 - y0)
    to_small = lambda p: (p - (x0, y0)) * (sx, sy)  # noqa: E731
    lab = cv2.cvtColor(small.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)
    light = lab[..., 0]
    detail = np.abs(light - cv2.GaussianBlur(light, (0, 0), config.sigma))

    face = _fill(to_small(oval), light.shape)
    gap = max(1.0, config.outline_gap * fw * k)
    near_face = cv2.distanceTransform((~face).astype(np.uint8), cv2.DIST_L2, 3) <= gap
    ys, xs = np.mgrid[0:light.shape[0], 0:light.shape[1]]
    height = (np.stack([xs, ys], -1) / (sx, sy) + (x0, y0)) @ up  # photo px along "up"
    forehead = _fill(to_small(xy[list(_FOREHEAD)]), light.shape) & face
    if forehead.sum() < 6:
        return HeadHair(None, 0, 0.0, float("nan"), "no forehead visible")
    # the forehead's skin: its lighter part (a fringe may cover some of it)
    skin_l = float(np.percentile(light[forehead], 75))
    skin_detail = float(np.median(detail[forehead & (light >= np.percentile(light[forehead], 50))]))
    hair = person & ~near_face & (height > brow_top) & (light < skin_l - config.dark_l)
    n = int(hair.sum())
    share = n / (fw * k) ** 2
    if share < config.min_share:
        return HeadHair(None, n, share, float("nan"),
                        "no hair on the head (nothing darker than the forehead)")
    texture = float(np.median(detail[hair])) / max(skin_detail, 1e-3)
    if texture < config.min_texture:
        return HeadHair(None, n, share, texture, "no hair texture on the head (a hat?)")
    px = small[hair]
    return HeadHair(colour_from_pixels(px[:: len(px) // 4096 + 1], "head hair"), n, share,
                    texture, "head hair")
