"""The colour of a person's hair, for drawing single mustache hairs: from their eyebrows, from a
donor's hair-bearing skin, or from a ``--color`` name.

A :class:`HairColour` holds a ``base`` (what the core of a typical hair looks like) and
``samples`` (colours to draw single hairs from: the natural spread, grey hairs included).

    with MediaPipeDetector() as d:
        face = d.detect(rgb)[0]
    colour = brow_colour(rgb, face.points)       # or named_colour("auburn")

Colours are sRGB 0-255 float32. Lightness work is done in CIELab (D65): thin hairs are mixed
with the skin around them, so the hair's own core is darker than its pixels; that is corrected
by scaling L* only, keeping a* and b*, so grey and blond hair stay grey and blond. Every
measured colour is then projected onto the gamut of natural hair (:func:`natural_hair`), so a
brow pencil's grey, a colour cast or a hair/skin mix does not become the mustache's colour;
``--color`` values are taken as given.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import numpy as np

from data_prep import indices as ix

COLOUR_NAMES: tuple[str, ...] = (
    "black", "dark-brown", "brown", "auburn", "blonde", "grey", "white")
# Realistic hair as photographed (sRGB): even black hair reflects some light, so it is not 0.
_NAMED_RGB: dict[str, tuple[int, int, int]] = {
    "black": (35, 30, 28),
    "dark-brown": (60, 43, 33),
    "brown": (105, 75, 52),
    "auburn": (125, 62, 40),
    "blonde": (190, 155, 105),
    "grey": (150, 148, 146),
    "white": (222, 220, 214),
}
_ALIASES = {"gray": "grey", "blond": "blonde", "darkbrown": "dark-brown"}
_HEX = re.compile(r"#[0-9a-f]{6}")
FALLBACK = "dark-brown"  # the commonest hair colour, the least wrong guess with no brows

NAMED_SAMPLES = 64
_SEED = 20240611  # fixed: the same name always gives the same hairs

# Of the darker half of the brow pixels (the hairs), the core is taken at this luminance
# percentile. The darker half still holds pixels where a thin hair covers only part of the
# pixel; the darkest few percent are noise, shadow and JPEG ringing. About the 30th percentile
# is the level most pixels that a hair fully covers reach; on the astronaut and its recoloured
# variants it lands on the visible core of the brow strokes.
CORE_PERCENTILE = 30.0
LIGHT_DELTA_L = 6.0  # brows less than this many L* darker than the skin above count as light
SKIN_MARGIN_L = 15.0  # a hair's core is at least this many L* darker than the skin
MIN_BROW_PIXELS = 8  # fewer brow pixels inside the photo is no measurement


@dataclass(frozen=True, eq=False)
class HairColour:
    """A person's hair colour, for drawing single hairs."""

    base: np.ndarray  # (3,) float32 RGB 0-255: the typical hair's core colour
    samples: np.ndarray  # (M, 3) float32 RGB 0-255, M >= 1: colours to draw single hairs from
    source: str  # where it came from: "eyebrows", "eyebrows (light: ...)", "color black", ...
    chosen: bool = False  # named by the user (--color): its lightness is kept, not held to
    # real mustaches' median tone (a blonde asked for stays blonde)

    def __post_init__(self):
        if self.base.shape != (3,) or self.samples.ndim != 2 or self.samples.shape[1] != 3 \
                or len(self.samples) < 1:
            raise ValueError(f"HairColour wants base (3,) and samples (M>=1, 3), got "
                             f"{self.base.shape} and {self.samples.shape}")


# ---------------------------------------------------------------- colour space

_M_RGB2XYZ = np.array([[0.4124564, 0.3575761, 0.1804375],
                       [0.2126729, 0.7151522, 0.0721750],
                       [0.0193339, 0.1191920, 0.9503041]])
_M_XYZ2RGB = np.linalg.inv(_M_RGB2XYZ)
_WHITE = _M_RGB2XYZ.sum(1)  # D65, Y = 1


def rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB (..., 3) 0-255 -> CIELab (..., 3) float64 (D65; L* 0-100)."""
    c = np.asarray(rgb, np.float64) / 255.0
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    xyz = lin @ _M_RGB2XYZ.T / _WHITE
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]),
                     200 * (f[..., 1] - f[..., 2])], axis=-1)


def lab_to_rgb(lab: np.ndarray) -> np.ndarray:
    """CIELab (..., 3) -> sRGB (..., 3) float64 0-255, clipped to the gamut."""
    lab = np.asarray(lab, np.float64)
    fy = (lab[..., 0] + 16) / 116
    f = np.stack([fy + lab[..., 1] / 500, fy, fy - lab[..., 2] / 200], axis=-1)
    xyz = np.where(f > 6 / 29, f ** 3, 3 * (6 / 29) ** 2 * (f - 4 / 29)) * _WHITE
    lin = np.clip(xyz @ _M_XYZ2RGB.T, 0.0, 1.0)
    c = np.where(lin <= 0.0031308, 12.92 * lin, 1.055 * lin ** (1 / 2.4) - 0.055)
    return np.clip(c * 255.0, 0.0, 255.0)


# ---------------------------------------------------------------- the gamut of natural hair

@dataclass(frozen=True)
class HairGamut:
    """Where natural hair colours lie in CIELab, as a table over L*.

    Hair colour comes from two melanins: eumelanin (brown-black) and pheomelanin (red-yellow).
    More of both makes hair darker; the share of pheomelanin turns the hue from brown-yellow
    (h ~ 60-80 deg) towards red (auburn, ginger: h ~ 40-50 deg). So pigmented hair is a wedge
    of warm hues whose chroma grows with L*: black hair is nearly neutral (C* ~ 1-4, it
    absorbs everything), dark brown C* ~ 5-15, brown and auburn up to ~40 (ginger is the most
    saturated), blonde C* ~ 20-35 at h ~ 75-85, fading to near-white. Hair without melanin
    (grey, white) is near neutral at any hue, and only light: a dark neutral is black or dark
    brown, not "dark grey". The table is a reasoned one, in line with tress and photo
    measurements (black L* ~ 10-20; blonde L* ~ 55-75, h ~ 75-85; red h ~ 40-50) and with the
    named colours of this module, which all lie inside it.
    """

    light: tuple[float, ...] = (3, 10, 20, 30, 40, 50, 60, 70, 80, 90, 97)
    c_lo: tuple[float, ...] = (0, 0.5, 1.5, 3, 4, 4.5, 4, 3, 2, 0, 0)  # all pigment is warm
    c_hi: tuple[float, ...] = (4, 10, 20, 36, 40, 40, 38, 34, 28, 18, 8)
    h_lo: tuple[float, ...] = (30, 35, 35, 35, 37, 42, 50, 56, 60, 62, 65)  # deg, red side
    h_hi: tuple[float, ...] = (75, 75, 75, 75, 76, 80, 85, 88, 90, 95, 98)  # deg, yellow side
    grey_l: float = 50.0  # grey and white hair: at least this light...
    grey_c: float = 4.0  # ...and at most this chroma, any hue
    # Distance: one L* costs as much as two units of chroma. The measured L* is already the
    # hair's core (corrected for skin mixing, kept off the skin's lightness) and sets the tone
    # of the drawn hairs; a cast shows in a* b*. With L* weighted lightly (0.5-0.7) the nearest
    # point slid along the gamut's sloping edges: dark saturated pixels went from L* 20 to 28,
    # a neutral L* 44 to a grey of 50. So the projection changes a* b* and keeps L*.
    weight_l: float = 2.0


GAMUT = HairGamut()


@functools.lru_cache(maxsize=4)
def _table(gamut: HairGamut) -> tuple[np.ndarray, np.ndarray]:
    """The gamut's limits on a 0.5 L* grid: (grid (K,), limits (4, K): c_lo, c_hi, h_lo, h_hi)."""
    grid = np.arange(gamut.light[0], gamut.light[-1] + 0.25, 0.5)
    return grid, np.stack([np.interp(grid, gamut.light, getattr(gamut, k))
                           for k in ("c_lo", "c_hi", "h_lo", "h_hi")])


def natural_hair(lab: np.ndarray, gamut: HairGamut = GAMUT) -> np.ndarray:
    """Project CIELab colours (..., 3) onto the gamut of natural hair -> (..., 3) float64.

    Colours inside the gamut are returned unchanged; others go to the nearest point of it in
    LCh, with (a) L* weighted by ``gamut.weight_l`` and (b) the hue change costed as an arc at
    the input's chroma, not as the chord: the Euclidean nearest point of a hue wedge lies on a
    shorter radius, i.e. greyer, and a grey-olive cast is exactly what this removes. So a hue
    outside the wedge is turned to its nearer edge keeping its chroma (the colour's strength
    was the hair's; its hue was the cast's). Only a hue more than 60 deg off (green, blue: nothing
    like hair) loses its chroma, fully at 90 deg; the chroma given up counts as distance. A neutral input gets the wedge's
    middle hue where it needs some chroma (dark neutrals become black or dark brown), or turns
    grey/white where it is light enough. The nearest L* is searched on a 0.5 L* grid plus the
    input's own L*. About 10 us per colour (256 hair samples: a few ms).
    """
    lab = np.asarray(lab, np.float64)
    if lab.ndim < 1 or lab.shape[-1] != 3:
        raise ValueError(f"lab must be (..., 3) CIELab, got {lab.shape}")
    flat = lab.reshape(-1, 3)
    l0 = flat[:, :1]
    c0 = np.hypot(flat[:, 1:2], flat[:, 2:3])
    h0 = np.degrees(np.arctan2(flat[:, 2:3], flat[:, 1:2]))
    # candidate L*: the input's own and the grid within +/- 12 of it (moving further costs
    # (2 * 12)^2, more than any chroma change the gamut's shape could save)
    grid, limits = _table(gamut)
    own = np.clip(l0, grid[0], grid[-1])
    cols = np.clip(np.round((own - grid[0]) / 0.5).astype(np.int64) + np.arange(-24, 25),
                   0, len(grid) - 1)
    light = np.concatenate([grid[cols], own], axis=1)  # (N, 50)
    c_lo, c_hi, h_lo, h_hi = (np.concatenate([t[cols], np.interp(own, grid, t)], axis=1)
                              for t in limits)
    # pigmented: the hue to the wedge's nearer edge (angles wrap), chroma kept within limits
    rel = np.mod(h0 - h_lo, 360.0)
    above, below = rel - (h_hi - h_lo), 360.0 - rel
    inside = above <= 0
    dh = np.where(inside, 0.0, np.minimum(above, below))
    h = np.where(inside, h0, np.where(above < below, h_hi, h_lo))
    target = c0 * np.clip(2 * np.cos(np.radians(dh)), 0.0, 1.0)
    c = np.clip(target, c_lo, c_hi)
    # chroma raised from (near) nothing: the hue of the input is noise, take the wedge's middle
    towards_mid = np.clip(1 - target / np.maximum(c_lo, 1e-9), 0.0, 1.0)
    h = h + ((h_lo + h_hi) / 2 - h) * towards_mid
    # the chroma given up (hues far off) counts, and the hue turn as an arc at what is kept
    cost = (gamut.weight_l * (light - l0)) ** 2 + (c - target) ** 2 + (c0 - target) ** 2 \
        + (target * np.radians(dh)) ** 2
    # grey and white: chroma down to grey_c, hue kept, only where light enough
    c_grey = np.minimum(c0, gamut.grey_c)
    cost_grey = np.where(light >= gamut.grey_l,
                         (gamut.weight_l * (light - l0)) ** 2 + (c0 - c_grey) ** 2, np.inf)
    grey = cost_grey < cost
    c = np.where(grey, c_grey, c)
    h = np.where(grey, h0, h)
    best = np.argmin(np.minimum(cost, cost_grey), axis=1)[:, None]
    # exact inputs stay exact: the grid's column ties with the input's own L* column
    pick = lambda a: np.take_along_axis(a, best, axis=1)[:, 0]  # noqa: E731
    out_c, out_h = pick(c), np.radians(pick(h))
    out = np.stack([pick(light), out_c * np.cos(out_h), out_c * np.sin(out_h)], axis=-1)
    keep = pick(np.minimum(cost, cost_grey)) <= 1e-12  # inside: bit for bit the input
    out[keep] = flat[keep]
    return out.reshape(lab.shape)


def _colour(base_lab: np.ndarray, samples_lab: np.ndarray, source: str) -> HairColour:
    """A measured colour: base and samples each projected onto :func:`natural_hair`."""
    return HairColour(lab_to_rgb(natural_hair(base_lab)).astype(np.float32),
                      lab_to_rgb(natural_hair(samples_lab)).astype(np.float32), source)


# ---------------------------------------------------------------- named colours

def _parse(spec: str) -> tuple[str, np.ndarray]:
    """'auburn', 'Dark brown', '#AABBCC' -> (canonical name, RGB (3,) float64)."""
    if not isinstance(spec, str):
        raise ValueError(f"hair colour {spec!r}: want a name or #rrggbb")
    s = spec.strip().lower()
    if _HEX.fullmatch(s):
        return s, np.array([int(s[i:i + 2], 16) for i in (1, 3, 5)], np.float64)
    name = re.sub(r"[\s_]+", "-", s)
    name = _ALIASES.get(name.replace("-", ""), _ALIASES.get(name, name))
    if name not in _NAMED_RGB:
        raise ValueError(f"unknown hair colour {spec!r}: choose one of "
                         f"{', '.join(COLOUR_NAMES)} (also 'gray'), or #rrggbb")
    return name, np.array(_NAMED_RGB[name], np.float64)


def _variation(base_lab: np.ndarray, n: int = NAMED_SAMPLES) -> np.ndarray:
    """base Lab (3,) -> (n, 3) Lab: natural spread of single hairs around it, deterministic.

    Hairs of one head differ a little in lightness (L* sd 3, within +/- 6) and tint (a*, b*
    sd 1.2); one in sixteen is lighter and greyer, as real hair has (the first grey hairs)."""
    rng = np.random.default_rng(_SEED)
    out = np.empty((n, 3))
    out[:, 0] = base_lab[0] + np.clip(rng.normal(0.0, 3.0, n), -6.0, 6.0)
    out[:, 1:] = base_lab[1:] + rng.normal(0.0, 1.2, (n, 2))
    grey = np.arange(n) % 16 == 7
    out[grey, 0] += rng.uniform(10.0, 20.0, int(grey.sum()))
    out[grey, 1:] *= 0.35
    out[:, 0] = np.clip(out[:, 0], 0.0, 100.0)
    return out


def named_colour(spec: str) -> HairColour:
    """A ``--color`` value -> :class:`HairColour` with ``NAMED_SAMPLES`` (64) samples.

    ``spec``: one of :data:`COLOUR_NAMES` ('gray' and 'blond' also work; case, spaces and
    underscores are forgiven) or '#rrggbb'. Raises ValueError naming ``spec`` and the choices.
    ``base`` is exactly the named (or given) RGB; ``source`` is "color <name>"."""
    name, rgb = _parse(spec)
    samples = lab_to_rgb(_variation(rgb_to_lab(rgb)))
    return HairColour(rgb.astype(np.float32), samples.astype(np.float32), f"color {name}",
                      chosen=True)


def fallback_colour(reason: str) -> HairColour:
    """The colour used when nothing can be measured: dark brown, ``source`` "fallback (reason)"."""
    c = named_colour(FALLBACK)
    return HairColour(c.base, c.samples, f"fallback ({reason})")


# ---------------------------------------------------------------- measured colours

def _even_subsample(sorted_lab: np.ndarray, max_samples: int) -> np.ndarray:
    """(N, 3) sorted by L* -> (min(N, max_samples), 3), evenly spaced over the order: keeps the
    spread (light and dark hairs in proportion) and is deterministic."""
    n = len(sorted_lab)
    if n <= max_samples:
        return sorted_lab
    return sorted_lab[np.round(np.linspace(0, n - 1, max_samples)).astype(np.int64)]


def _hair_lab(lab: np.ndarray, max_samples: int, lighter: bool = False
              ) -> tuple[np.ndarray, np.ndarray, float]:
    """Lab (N, 3) of hair-bearing skin -> (core Lab (3,), samples Lab (M, 3), median L* of the
    hair half). The darker half by L* is the hair (the rest is skin between hairs); the core
    is its CORE_PERCENTILE lightness with the a*, b* of the pixels around that level; the
    samples are that half with L* scaled so their median is the core (one factor for all, so
    the spread and any grey hairs among them keep their place). ``lighter``: the hairs are
    lighter than the skin (white brows on darker skin), so the same from the lighter half."""
    key = -lab[:, 0] if lighter else lab[:, 0]
    order = np.argsort(key, kind="stable")
    hair = lab[order[:max(1, (len(lab) + 1) // 2)]]
    pct = 100.0 - CORE_PERCENTILE if lighter else CORE_PERCENTILE
    core_l = float(np.percentile(hair[:, 0], pct))
    # a*, b* from the pixels near the core level (+/- 10 percentiles): the hair's tint, where
    # the pixels further from it are tinted by the skin they mix with
    lo, hi = np.percentile(hair[:, 0], [pct - 10, pct + 10])
    near = hair[(hair[:, 0] >= lo) & (hair[:, 0] <= hi)]
    if len(near) == 0:  # a handful of pixels: none between the interpolated bounds
        near = hair[[int(np.argmin(np.abs(hair[:, 0] - core_l)))]]
    core = np.array([core_l, *np.median(near[:, 1:], axis=0)])
    median_l = float(np.median(hair[:, 0]))
    samples = _even_subsample(hair, max_samples).copy()
    samples[:, 0] = np.clip(samples[:, 0] * core_l / max(median_l, 1e-6), 0.0, 100.0)
    return core, samples, median_l


def _check_max_samples(max_samples: int) -> None:
    if isinstance(max_samples, bool) or not isinstance(max_samples, int | np.integer) \
            or max_samples < 1:
        raise ValueError(f"max_samples must be a positive int, got {max_samples!r}")


def colour_from_pixels(pixels: np.ndarray, source: str, max_samples: int = 256) -> HairColour:
    """pixels (N, 3) uint8 RGB of hair-bearing skin (e.g. a donor's mustache area), N >= 1
    -> :class:`HairColour` from the darker half of them (see :func:`brow_colour`), at most
    ``max_samples`` samples, with the given ``source``."""
    pixels = np.asarray(pixels)
    if pixels.ndim != 2 or pixels.shape[1] != 3 or len(pixels) < 1 or pixels.dtype != np.uint8:
        raise ValueError(f"pixels must be (N>=1, 3) uint8 RGB, got {pixels.shape} {pixels.dtype}")
    _check_max_samples(max_samples)
    core, samples, _ = _hair_lab(rgb_to_lab(pixels), max_samples)
    return _colour(core, samples, source)


def _brow_polygons(xy: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """landmarks (N, 2) -> (brow polygons, skin polygons above them), each (10, 2) photo px.

    The skin polygon is the brow moved up (away from its lower edge) by twice its thickness,
    at least a fifth of its length: forehead skin just above the brow, clear of the hairs
    that stray above the landmark contour and still below most fringes."""
    brows, skins = [], []
    for idx in (ix.LEFT_BROW, ix.RIGHT_BROW):
        p = xy[list(idx)]
        upper, lower = p[:5], p[5:]  # the contour: upper edge outwards, lower edge back
        up = upper.mean(0) - lower.mean(0)
        thick = float(np.hypot(*up))
        length = float(np.hypot(*(upper[-1] - upper[0])))
        direction = up / thick if thick > 1e-6 else np.array([0.0, -1.0])
        brows.append(p)
        skins.append(p + direction * max(2.0 * thick, 0.2 * length))
    return brows, skins


def _fill(polys: list[np.ndarray], origin: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Polygons (K, 2) photo px -> bool mask of a box at ``origin`` (x, y) of ``shape`` (h, w)."""
    import cv2

    mask = np.zeros(shape, np.uint8)
    # 4 fractional bits: brows are a few pixels thick in small faces, rounding would shift them
    pts = [np.round((p - origin) * 16).astype(np.int32) for p in polys]
    cv2.fillPoly(mask, pts, 1, lineType=cv2.LINE_8, shift=4)
    return mask.astype(bool)


def _thin(pixels: np.ndarray, most: int = 4096) -> np.ndarray:
    """Every k-th of (N, 3) pixels, at most about ``most``: percentiles need no more, and the
    brows of a face in a 50 MP photo hold 100,000 pixels."""
    return pixels[:: len(pixels) // most + 1]


def brow_colour(image: np.ndarray, landmarks: np.ndarray, max_samples: int = 256) -> HairColour:
    """The hair colour of a face, from its eyebrows.

    image (H, W, 3) uint8 RGB; landmarks (478, 2+) (or 468) photo px, MediaPipe FaceMesh.
    Returns a :class:`HairColour` with up to ``max_samples`` samples.

    Both brow polygons are rasterised on a box around the brows (never the whole photo); the
    darker half of their pixels by L* are the hairs, the rest skin between them. Those hair
    pixels are still partly skin, so the core is estimated lower (see ``_hair_lab``) and the
    samples are darkened in L* alone, keeping a* and b* (grey and blond brows stay so).

    Light or absent brows (the darker half's median less than ``LIGHT_DELTA_L`` L* darker than
    the skin just above the brows) give ``source`` "eyebrows (light: ...)": the tint still
    comes from the brows, but the core is put no lighter than the skin minus ``SKIN_MARGIN_L``
    (15 L*): a light brown or dark blonde of the brows' tint rather than a skin-coloured,
    invisible hair. Unless the brows are clearly lighter than that skin (their 90th percentile
    over 12 L* above it: white brows on darker skin): then the lighter half is the hair, and
    the colour is measured from it as above, mirrored.
    Brows partly outside the photo are measured on what is inside; with fewer than
    ``MIN_BROW_PIXELS`` inside, the fallback (dark brown, source "fallback (...)") is returned.
    """
    _check_max_samples(max_samples)
    image, xy = checked_face(image, landmarks, ix.LEFT_BROW + ix.RIGHT_BROW, "brow points are")

    brows, skins = _brow_polygons(xy)
    h, w = image.shape[:2]
    pts = np.concatenate(brows + skins)
    x0, y0 = np.maximum(np.floor(pts.min(0)).astype(int) - 1, 0)
    x1, y1 = np.minimum(np.ceil(pts.max(0)).astype(int) + 2, (w, h))
    if x1 - x0 < 1 or y1 - y0 < 1:
        return fallback_colour("no brows visible")
    box = image[y0:y1, x0:x1]
    origin = np.array([x0, y0], np.float64)
    brow_mask = _fill(brows, origin, box.shape[:2])
    if int(brow_mask.sum()) < MIN_BROW_PIXELS:
        return fallback_colour("no brows visible")
    skin_mask = _fill(skins, origin, box.shape[:2]) & ~brow_mask

    lab = rgb_to_lab(_thin(box[brow_mask]))
    core, samples, hair_l = _hair_lab(lab, max_samples)
    if skin_mask.sum() >= MIN_BROW_PIXELS:
        # the 70th percentile, not the median: fringes and stray brow hairs reach into the
        # band and are darker (on the astronaut a fifth of one band is hair at the temple)
        skin_l = float(np.percentile(rgb_to_lab(_thin(box[skin_mask]))[:, 0], 70))
    else:  # the forehead is cut off: the lighter brow pixels are the skin between the hairs
        skin_l = float(np.percentile(lab[:, 0], 85))

    delta = skin_l - hair_l
    if delta >= LIGHT_DELTA_L:
        return _colour(core, samples, "eyebrows")
    if np.percentile(lab[:, 0], 90) > skin_l + 2 * LIGHT_DELTA_L:
        # hairs clearly lighter than the skin (white or fair brows on darker skin): the
        # lighter half is the hair; darkening it to below the skin would invent brown hair
        core, samples, _ = _hair_lab(lab, max_samples, lighter=True)
        return _colour(core, samples, "eyebrows (light: lighter than the skin above)")
    # faint brows: keep their tint, but a hair drawn in skin colour would be invisible, so
    # the core goes SKIN_MARGIN_L below the skin (a light brown or dark blonde of that tint)
    source = f"eyebrows (light: hairs only {delta:.1f} L* darker than the skin above"
    limit = max(skin_l - SKIN_MARGIN_L, 0.0)
    if core[0] > limit:  # the samples by the same L* factor, as in _hair_lab
        samples[:, 0] *= limit / max(core[0], 1e-6)
        core[0] = limit
        source += f"; core set {SKIN_MARGIN_L:.0f} L* below the skin"
    return _colour(core, samples, source + ")")


def checked_face(image, landmarks, finite: tuple[int, ...] | None = None,
                 what: str = "not all") -> tuple[np.ndarray, np.ndarray]:
    """The hair stage's one input check: ``image`` (H, W, 3) uint8 RGB and ``landmarks``
    (478, 2+) photo px, those of ``finite`` (None: all) finite -> (image, xy float64 (478, 2)).
    ValueError naming what is wrong."""
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"image must be (H, W, 3) uint8 RGB, got {image.shape} {image.dtype}")
    landmarks = np.asarray(landmarks)
    if landmarks.ndim != 2 or landmarks.shape[0] not in (468, 478) or landmarks.shape[1] < 2:
        raise ValueError(f"landmarks must be (478, 2+) photo px, got {landmarks.shape}")
    xy = landmarks[:, :2].astype(np.float64)
    if not np.isfinite(xy if finite is None else xy[list(finite)]).all():
        raise ValueError(f"landmarks: {what} finite")
    return image, xy
