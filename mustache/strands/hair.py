"""The hair stage: a mustache drawn as real hair, the same look at every face size.

The GAN (or a donor's real mustache) works at the window's resolution, 128 px for the whole
lower face. Its change says *where* the mustache is and how dense; it is never the final
pixels (pasted as it is it reads as marker pen). Here hairs are drawn instead:

- roots are sampled where the guide darkens the skin (fewer down the philtrum, none on the
  lip); as many hairs as reach the mustache's optical depth (``depth``): its core is dense,
  the skin barely showing through, and its edges thin out and fray;
- each hair grows down and outward from the philtrum, long enough to reach the lip from its
  root (a limit on how far it overhangs), curves (a quadratic Bezier) and tapers; it is grown
  on the canvas, the canonical frontal face, and carried back through the face's mesh
  (:func:`mustache.strands.grow.grow_on_canvas`: a turned face's far side foreshortened, no
  tip across an open mouth; a style's hairs follow its flow in the box instead); a short,
  darker under-layer lies in the shade of longer, crossing top strands; a smooth random field
  of a few mm gives neighbouring hairs one tone (locks), so the mustache is textured, not flat;
- hairs are 0.1-0.2 mm thick (a face is about 14 cm wide). They are drawn where they are
  resolved: on a grid ``supersample`` times finer than the photo on faces under
  ``resolve_px``, then area-averaged down, so a 60 px face shows the aggregate of its ~1,000
  hairs (each hair's covered area is splatted as sub-pixel alpha);
- the skin between hairs lies in their shade; the palette's lightness is held so the band's
  tone lies where real mustaches' does at this face size and focus (:func:`hold_tone`,
  ``REAL_TONE``): never a flat near-black band, never a see-through fuzz;
- the hair layer is blurred to the photo's own focus and given its grain; on soft photos the
  locks' tone patches are no bigger than the blur lets show, so the texture survives it.
"""

from __future__ import annotations

import math

import numpy as np

from data_prep import indices as ix
from data_prep.canvas import FaceFrame, face_frame  # the one face frame (re-exported here)
from mustache.strands.grow import (
    focus_sigma,
    grow_on_canvas,
    grow_strands,
    lip_masks,
    noise_sigma,
    palette,
    splat,
    surface_of,
)
from mustache.strands.haircolor import HairColour
from mustache.strands.settings import (
    REAL_TONE,
    Flow,
    HairConfig,
    HairResult,
    Strands,
    ToneBand,
    for_focus,
    luminance,
    softness,
    supersample,
    tone_band,
)

# the stage's one door: its settings and pieces live in .settings and .grow
__all__ = ["REAL_TONE", "FaceFrame", "Flow", "HairConfig", "HairResult", "Strands", "ToneBand",
           "face_frame", "focus_sigma", "for_focus", "grow_strands", "lip_masks", "luminance",
           "noise_sigma", "palette", "render", "softness", "splat", "supersample", "tone_band"]

# ---------------------------------------------------------------- the stage

def render(photo: np.ndarray, change: np.ndarray, support: np.ndarray, landmarks: np.ndarray,
           colour: HairColour, seed: int | tuple[int, ...] = 0, config: HairConfig = HairConfig(),
           flow: Flow | None = None) -> HairResult:
    """Hairs over one face's mustache region, drawn where they are resolved and area-averaged
    to the photo's pixels; the same look at every face size.

    ``photo`` RGB uint8 (h, w, 3): the region's box; ``change`` float32 (h, w, 3): the guide's
    change there (the GAN's generated - original, or a donor's): where the mustache is, how
    dense and how dark, never its pixels; ``support`` float32 (h, w) in [0, 1]: the soft
    region mask (nothing changes where it is 0); ``landmarks`` (478, 2+) in box pixels;
    ``colour``: the hair colour (its base for the shade beneath the hairs, its samples for the
    hairs). Returns the new box (float32, not clipped) and the hair layer's alpha;
    deterministic in ``seed``. ``flow``: a style's outline and hair flow (``support`` then its
    outline, grown): roots fill the outline at ``config.prior`` (a share of full density) at
    least, more where the guide darkens; hairs follow the style's flow and end at its outline.
    """
    photo = np.asarray(photo)
    h, w = photo.shape[:2]
    if photo.ndim != 3 or photo.shape[2] != 3:
        raise ValueError(f"photo must be (h, w, 3), got {photo.shape}")
    if change.shape != photo.shape or support.shape != (h, w):
        raise ValueError(f"change {change.shape} and support {support.shape} must match the "
                         f"photo box {photo.shape}")
    xy = np.asarray(landmarks, np.float64)[:, :2]
    base = photo.astype(np.float32)
    frame = face_frame(xy, config.face_cm)
    verm, mouth = lip_masks(xy, (h, w))
    lips = np.maximum(verm, mouth)
    if flow is not None:  # the guide's change counts only inside the style's outline (the
        change = change * support[..., None]  # pipeline masked it already; other callers not)
    rng = np.random.default_rng([*np.atleast_1d(seed), 7])
    # the guide's darkening, low-passed: its shape and density, not its texture
    drop = _smooth(np.maximum(-luminance(change), 0) * support, max(0.012 * frame.width, 1.0))
    guide = drop
    if flow is not None:  # a style: its whole outline is the floor
        drop = np.maximum(drop, config.prior * config.drop_ref * flow.mask)
    elif config.floor > 0:  # a floor where every mustache grows: the GAN paints little over
        # wide-open, laughing mouths, and such faces still get a mustache
        from data_prep.region import polygon_mask

        area = np.concatenate([xy[list(ix.UNDER_NOSE)], xy[list(ix.UPPER_LIP_OUTER)][::-1]])
        floor = _smooth(polygon_mask(area, (h, w)), 0.015 * frame.width)
        # relative to this guide's own strongest darkening: a share of full density
        drop = np.maximum(drop, config.floor * _strongest(drop, support, config) * floor * support)
    # the photo's focus and grain, measured on the skin around the mustache
    fmask = (support > 0.3) & (lips < 0.5)
    grey = luminance(base)
    sigma = focus_sigma(grey, fmask)
    soft = softness(sigma, config)
    config = for_focus(config, soft)
    ring = (support > 0) & (support < 0.5) & (lips < 0.5)
    skin = np.median(base[ring], 0) if ring.sum() > 20 else np.median(base.reshape(-1, 3), 0)
    hair = _cap_darkness(colour.base[None], skin, config.darkest, config.lightest)[0]
    # the palette around the hair's own core, held visibly darker than the skin, then spread
    # into the tones that locks take (lightest last)
    pal = _spread(_around(palette(colour.samples, config.groups), hair, config.tint_spread),
                  config.lock_spread)
    # the under-layer lies in the top strands' shade: darker, so lit strands stand out
    pal = np.concatenate([_shift_l(pal, -config.under_dark), pal])
    fade = np.clip(support * 2, 0, 1)  # hairs fade out at the region's edge
    # roots where the guide darkens (relative to this mustache's own core, but not below
    # drop_ref, so a faint guide stays sparse), fewer down the philtrum, none on the lips: a
    # dense core whose edges thin out and fray as real ones do
    ref = _strongest(drop, support, config)
    # a ragged outline: where the mustache starts wanders by a few mm (hair by hair,
    # lock by lock), rather than following the guide's smooth contour; never where it is bare
    fray = config.fray * (_lock_field((h, w), 1.5 * frame.px_per_mm, rng) - 0.5)

    def frayed(x):
        return _ramp(x + fray * np.clip(x / config.core[1], 0, 1), config.core)

    if flow is None:
        dens = frayed(drop / ref) * support * (1 - lips)
    else:  # the style's outline at the floor's density, the guide's darkening over it
        f = config.prior
        dens = (f + (1 - f) * frayed(guide / ref)) * flow.mask ** 1.5 * (1 - lips)
    r = frame.right / frame.half_mouth
    u = ((np.arange(w, dtype=np.float32) - frame.philtrum[0]) * r[0])[None, :] + \
        ((np.arange(h, dtype=np.float32) - frame.philtrum[1]) * r[1])[:, None]
    dens = dens * (1 - (1 - config.philtrum) * np.exp(-(u / 0.18) ** 2))
    # the drawing: s x s drawing pixels a photo pixel, landmarks scaled with it
    s = supersample(frame.width, config)
    xs = xy * s
    fs = face_frame(xs, config.face_cm)
    g = len(pal) // 2
    # the landmarks in the drawing's px (their depth, when given, decides which of two
    # overlapping triangles a root lies on; the pipeline gives none, see paint_face)
    surface = surface_of(np.asarray(landmarks, np.float64) * s, fs, (h * s, w * s), config) \
        if flow is None and config.on_canvas else None

    def grow(n: int, layer: str) -> Strands:
        roots = _sample(dens, n, rng) * s
        if surface is not None:
            return grow_on_canvas(roots, surface, g, rng, config, layer)
        return grow_strands(roots, xs, fs, g, rng, config, layer, flow)

    layers = []
    for layer, share in (("under", config.under_share), ("top", 1 - config.under_share)):
        # as many hairs as reach the depth: a small pilot set guesses a hair's area, a third
        # more than that guess are grown, and the first of them whose areas add up to the
        # depth are kept (hair areas vary lognormally: a count from the mean alone drifted)
        target = share * config.depth / config.opacity * float(dens.sum()) * s * s
        pilot = grow(128, layer)
        each = float(np.mean(_ink_area(pilot))) if len(pilot) else 1.0
        grown = grow(int(1.35 * target / max(each, 1e-3)) + 8, layer)
        keep = int(np.searchsorted(np.cumsum(_ink_area(grown)), target)) + 1
        layers.append(_take(grown, min(keep, len(grown))))
    # locks: a smooth random field of a few mm sets each hair's tone by where it lies, so
    # neighbouring hairs share it (crossing hairs of random tones average to a flat fill)
    # on a soft photo the patches are as small as its blur lets show (a mustache photographed
    # soft or small, then enlarged, keeps the texture of the pixels it had)
    cell = config.lock_mm * frame.px_per_mm
    if soft > 0:
        cell = min(cell, max(config.soft_cell * sigma, 2.0))
    field = _lock_field((h, w), cell, rng, config.lock_contrast)
    under, top = (_toned(st, field, s, g, config.lock_tone, rng) for st in layers)
    both = Strands(np.concatenate([under.p0, top.p0]), np.concatenate([under.p1, top.p1]),
                   np.concatenate([under.p2, top.p2]), np.concatenate([under.width, top.width]),
                   np.concatenate([under.group, top.group + g]))
    cov = splat(both, 2 * g, (h * s, w * s))  # (2G, hs, ws)
    # each layer saturates where its hairs overlap, in the drawing's own pixels; its weights per
    # palette colour (summing to its alpha) are linear in the colours, so they are what is
    # area-averaged down and blurred to the photo's focus
    wts = np.empty_like(cov)
    for i in range(2):
        c = cov[i * g:(i + 1) * g]
        total = c.sum(0)
        wts[i * g:(i + 1) * g] = c * ((1 - np.exp(-config.opacity * total))
                                      / np.maximum(total, 1e-6))
    wts = _area_down(wts, s)  # (2G, h, w)
    own = 0.29 if s > 1 else 0.41  # the blur the drawing already has: a box or a bilinear splat
    blur = math.sqrt(max((config.focus_match * sigma) ** 2 - own ** 2, 0.0))
    if blur > 0.05:
        import cv2

        for plane in wts:  # 2-D planes: cv2 blurs them fastest
            cv2.GaussianBlur(plane, (0, 0), blur, dst=plane)
    wts *= fade
    grain = noise_sigma(grey, fmask)
    noise = rng.standard_normal((h, w), np.float32) * np.float32(grain)
    # the skin between hairs lies in their shade, as deep as the hair is dense there
    alpha_all = 1 - (1 - wts[:g].sum(0)) * (1 - wts[g:].sum(0))
    shade = config.shadow * _smooth(alpha_all, 0.4 * frame.px_per_mm) * (1 - lips) * fade
    band = (dens > 0.2) & (alpha_all > 0.05)
    planes = np.ascontiguousarray(np.moveaxis(base, -1, 0))  # (3, h, w)
    pal = hold_tone(pal, skin, planes, wts, shade, noise, hair, band, frame.width, soft > 0.5,
                    config, faint_ok=colour.chosen)
    out = np.moveaxis(_composite(planes, wts, shade, noise, hair, pal), 0, -1)
    return HairResult(out, alpha_all.astype(np.float32), len(both), s)


def _strongest(drop: np.ndarray, support: np.ndarray, config: HairConfig) -> float:
    """The guide's strongest darkening (its 90th percentile in the region's core), never under
    ``drop_ref``: what "full density" means for this mustache."""
    core = drop[support > 0.5]
    return max(float(np.percentile(core, 90)) if core.size else 0.0, config.drop_ref)


def _lock_field(shape: tuple[int, int], cell: float, rng: np.random.Generator,
                contrast: float = 0.3) -> np.ndarray:
    """(h, w) float32 in [0, 1]: smooth noise whose blobs are about ``cell`` px across, sd
    ``contrast`` around 0.5."""
    import cv2

    h, w = shape
    cell = max(cell, 1.0)
    grid = rng.standard_normal((int(h / cell) + 3, int(w / cell) + 3)).astype(np.float32)
    big = cv2.resize(grid, (round(grid.shape[1] * cell), round(grid.shape[0] * cell)),
                     interpolation=cv2.INTER_CUBIC)[:h, :w]
    if big.shape != (h, w):  # a box smaller than one cell
        big = cv2.resize(big, (w, h), interpolation=cv2.INTER_LINEAR)
    return np.clip(0.5 + contrast * big / max(float(big.std()), 1e-6), 0, 1)


def _toned(strands: Strands, field: np.ndarray, s: int, groups: int, share: float,
           rng: np.random.Generator) -> Strands:
    """``strands`` (drawing px, ``s`` a photo px) with palette groups (lightest last) from
    the lock ``field`` (h, w) at each hair's middle for ``share`` of them, random for the
    rest (single hairs that stray from their lock's tone)."""
    if not len(strands):
        return strands
    h, w = field.shape
    mid = 0.25 * strands.p0 + 0.5 * strands.p1 + 0.25 * strands.p2
    x = np.clip((mid[:, 0] / s).astype(int), 0, w - 1)
    y = np.clip((mid[:, 1] / s).astype(int), 0, h - 1)
    locked = np.clip(np.rint(field[y, x] * (groups - 1) + rng.normal(0, 0.4, len(x))),
                     0, groups - 1).astype(np.int64)
    group = np.where(rng.uniform(0, 1, len(x)) < share, locked, strands.group)
    return Strands(strands.p0, strands.p1, strands.p2, strands.width, group)


def _ramp(x: np.ndarray, core: tuple[float, float]) -> np.ndarray:
    """0 below ``core[0]``, 1 from ``core[1]``, smooth between: the guide's darkening (a share
    of its strongest) -> root density. Most of the painted area is core, dense."""
    t = np.clip((x - core[0]) / max(core[1] - core[0], 1e-6), 0, 1)
    return t * t * (3 - 2 * t)


def _around(colours: np.ndarray, base: np.ndarray, spread: float) -> np.ndarray:
    """(G, 3) palette colours moved in L* so their median is ``base``'s (3,) and none is more
    than ``spread`` L* from it: the measured samples hold skin-mixed, near-skin pixels that
    would draw see-through hairs."""
    from mustache.strands.haircolor import lab_to_rgb, rgb_to_lab

    lab = rgb_to_lab(colours)
    d = np.clip(lab[:, 0] - np.median(lab[:, 0]), -spread, spread)
    lab[:, 0] = float(rgb_to_lab(base)[0]) + d
    return lab_to_rgb(lab).astype(np.float32)


def _shift_l(colours: np.ndarray, shift: float | np.ndarray) -> np.ndarray:
    """(G, 3) RGB colours with L* moved by ``shift`` (a number, or (G,) one a colour)."""
    from mustache.strands.haircolor import lab_to_rgb, rgb_to_lab

    lab = rgb_to_lab(colours)
    lab[:, 0] = np.clip(lab[:, 0] + shift, 0, 100)
    return lab_to_rgb(lab).astype(np.float32)


def _take(strands: Strands, n: int) -> Strands:
    """The first ``n`` hairs of ``strands`` (their order is random)."""
    return Strands(strands.p0[:n], strands.p1[:n], strands.p2[:n], strands.width[:n],
                   strands.group[:n])


def _ink_area(strands: Strands) -> np.ndarray:
    """(N,) the area each hair covers (width x length, tapered as :func:`splat` draws it)."""
    length = np.linalg.norm(strands.p1 - strands.p0, axis=1) + \
        np.linalg.norm(strands.p2 - strands.p1, axis=1)
    return strands.width * length * 0.74  # mean of 1 - 0.65 t^1.5 over t in [0, 1]


def _area_down(planes: np.ndarray, s: int) -> np.ndarray:
    """(C, h s, w s) -> (C, h, w): each photo pixel the mean of its s x s drawing pixels."""
    if s == 1:
        return planes
    import cv2

    c, hs, ws = planes.shape
    # INTER_AREA at an integer factor is exactly the block mean, and 3-5x faster than numpy's
    return np.stack([cv2.resize(p, (ws // s, hs // s), interpolation=cv2.INTER_AREA)
                     for p in planes])


def _composite(base: np.ndarray, wts: np.ndarray, shade: np.ndarray, noise: np.ndarray,
               hair: np.ndarray, pal: np.ndarray) -> np.ndarray:
    """The photo (3, N..) in the hairs' shade, then the under-layer and the top layer over it:
    ``wts`` (2G, N..) per colour of ``pal`` (2G, 3) (the under-layer's, in the top strands'
    shade, then the top's), ``shade`` (N..) toward ``hair`` (3,), ``noise`` (N..) the
    photo's grain on the hairs. Channels first: -> (3, N..)."""
    g = len(pal) // 2
    hair = np.asarray(hair, np.float32).reshape((3,) + (1,) * shade.ndim)
    out = base + shade * (hair - base)
    for i in range(2):
        w = wts[i * g:(i + 1) * g]
        alpha = w.sum(0)
        out *= 1 - alpha
        out += np.tensordot(pal[i * g:(i + 1) * g].T.astype(np.float32), w, 1)
        out += alpha * noise
    return out


def hold_tone(pal: np.ndarray, skin: np.ndarray, base: np.ndarray, wts: np.ndarray,
              shade: np.ndarray, noise: np.ndarray, hair: np.ndarray, band: np.ndarray,
              face_width: float, soft: bool, config: HairConfig, faint_ok: bool = False
              ) -> np.ndarray:
    """The palette (G, 3) with its L* moved so that the drawn band's tone (the darker half's
    L* over the skin's, as :func:`mustache.measure.photo_metrics.band_tone` measures it) lies where
    real mustaches' does for this face size and focus (``config.tone``): from their 10th
    percentile to ``tone_above`` past their median. Never a flat near-black band, never
    fainter than most real hair (only at full depth: ``--thickness`` below 1 asks for faint;
    ``faint_ok``: a colour the user named keeps its lightness).
    The hair's own colour floor (``darkest``, ``lightest_lock``) holds throughout."""
    from mustache.strands.haircolor import lab_to_rgb, rgb_to_lab

    band_rows = tone_band(face_width, soft, config)
    lab0 = rgb_to_lab(pal)
    skin_l = float(rgb_to_lab(skin)[0])

    def at(shift: float) -> np.ndarray:
        lab = lab0.copy()
        lab[:, 0] += shift
        return _cap_darkness(lab_to_rgb(lab).astype(np.float32), skin, config.darkest,
                             config.lightest_lock)

    if band_rows is None or band.sum() < 12:
        return at(0.0)
    idx = np.flatnonzero(band.ravel())[:: max(1, int(band.sum()) // 1024)]
    b, wv = base.reshape(3, -1)[:, idx], wts.reshape(len(wts), -1)[:, idx]
    sv, nv = shade.ravel()[idx], noise.ravel()[idx]

    def ratio(shift: float) -> float:
        px = np.clip(_composite(b, wv, sv, nv, hair, at(shift)).T, 0, 255)
        lum = rgb_to_lab(px)[:, 0]
        return float(np.median(lum[lum <= np.median(lum)])) / max(skin_l, 1.0)

    lo, hi = band_rows.lo + 0.02, min(band_rows.hi - 0.02, band_rows.mid + config.tone_above)
    if faint_ok or config.depth < HairConfig.depth:
        hi = math.inf  # asked to be faint, or for a light colour by name
    shift, r = 0.0, ratio(0.0)
    for _ in range(3):  # ratio grows about linearly with the L* shift: secant steps
        if lo <= r <= hi:
            break
        target = lo if r < lo else hi
        step = 40.0 if r < lo else -40.0
        r2 = ratio(shift + step)
        slope = (r2 - r) / step
        if abs(slope) < 1e-5:
            break
        shift = float(np.clip(shift + (target - r) / slope, -60.0, 60.0))
        r = ratio(shift)
    return at(shift)


def _smooth(image: np.ndarray, sigma: float) -> np.ndarray:
    """A wide Gaussian blur, done on a copy shrunk so the kernel stays a few pixels wide (the
    result is smooth, so upsampling it back loses nothing visible)."""
    import cv2

    h, w = image.shape[:2]
    f = max(1.0, sigma / 2.0)
    if f == 1.0:
        return cv2.GaussianBlur(image, (0, 0), sigma)
    small = cv2.resize(image, (max(1, round(w / f)), max(1, round(h / f))),
                       interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), sigma / f)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def _cap_darkness(colours: np.ndarray, skin: np.ndarray, darkest: float, lightest: float
                  ) -> np.ndarray:
    """Hair colours no darker (L*) than ``darkest`` x the skin's (black hair on a photo's skin
    is lit too; a pure black line reads as ink) and at least ``lightest`` L* darker than the
    skin (pale brows on pale skin otherwise give a mustache no one sees)."""
    from mustache.strands.haircolor import lab_to_rgb, rgb_to_lab

    lab = rgb_to_lab(colours)  # (cv2's float Lab cost 23 ms a call here)
    skin_l = float(rgb_to_lab(skin)[0])
    lab[:, 0] = np.clip(lab[:, 0], darkest * skin_l, max(skin_l - lightest, darkest * skin_l))
    return lab_to_rgb(lab).astype(np.float32)


def _spread(colours: np.ndarray, tone: float) -> np.ndarray:
    """(G, 3) RGB colours, lightest last, with their L* spread ``tone`` wider (evenly, from
    -tone/2 for the darkest to +tone/2 for the lightest): locks of distinct tone."""
    if tone <= 0 or len(colours) < 2:
        return np.asarray(colours, np.float32)
    return _shift_l(colours, tone * (np.linspace(0, 1, len(colours)) - 0.5))


def _sample(density: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` points (x, y) drawn with probability ~ ``density`` (h, w), jittered in their pixel."""
    flat = density.ravel().astype(np.float64)
    total = flat.sum()
    if n <= 0 or total <= 0:
        return np.zeros((0, 2))
    cdf = np.cumsum(flat)
    pick = np.searchsorted(cdf, rng.uniform(0, cdf[-1], n))
    pick = np.minimum(pick, flat.size - 1)
    y, x = np.divmod(pick, density.shape[1])
    return np.stack([x + rng.uniform(0, 1, n), y + rng.uniform(0, 1, n)], 1)
