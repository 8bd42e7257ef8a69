"""Named mustache styles: a shape in a face-relative frame plus how its hairs lie.

Each style is defined once, as the right half of an outline and a flow line (its *spine*) in
face coordinates ``(u, v)``, mirrored for the left half, and fitted to every face by its
landmarks, so it follows lip shape, tilt, scale, smiles and open mouths:

- ``u`` across the face, each side on its own landmarks: 0 the midline (subnasale), 0.7 the
  nose's edge (alar base), 1 the mouth corner, 2.8 the face's side;
- ``v`` down, at that ``u``: 0 the nose base, 1 the upper lip's top edge, 2 where the lips
  meet, 3 the lower lip's bottom edge, 4 the jaw line (beyond: extrapolated).

Styles live on the canvas (:mod:`data_prep.canvas`): their ``(u, v)`` is fitted once, to the
canonical frontal face, and each face gets its outline, mask and flow through its own mesh, so
a turned face shows the far side foreshortened and nothing past its silhouette, and the
outline bends with the lips.

The GAN still decides how the hair sits on the face (its darkening sets the root density
inside the outline, over a floor); the style gives the outline (the only area that changes)
and the hairs' flow and length (:mod:`mustache.strands.hair`). ``natural`` has no outline: the GAN's
own region and hair, as before styles.

    from mustache.paint.styles import STYLES
    ApplyOptions(style=STYLES["handlebar"], length=1.2)
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from data_prep import indices as ix

Points = tuple[tuple[float, float], ...]

# u anchors per side: alar base, mouth corner, face side (landmarks, left side / right side)
_U_ANCHORS = ((ix.ALAR_BASES, 0.7), (ix.MOUTH_CORNERS, 1.0), (ix.FACE_SIDES, 2.8))
_JAW = (234, 93, 132, 58, 172, 136, 150, 149, 176, 148, 152,
        377, 400, 378, 379, 365, 397, 288, 361, 323, 454)
_LOWER_LIP_BOTTOM = ix.LOWER_LIP_OUTER
_V_LINES = ((ix.ALAR_BASES[0], ix.SUBNASALE, ix.ALAR_BASES[1]), ix.UPPER_LIP_OUTER,
            ix.UPPER_LIP_INNER, _LOWER_LIP_BOTTOM, _JAW)
_MIN_GAPS = (0.5, 0.25, 0.2, 0.4)  # least gap between v lines, x its size at the midline


@dataclass(frozen=True)
class Style:
    """A mustache style. ``outline``: its right half in (u, v), from the top at the midline
    outward and back along the bottom (mirrored for the left; rounded by corner cutting);
    None: the GAN's own region (``natural``). ``spine``: the flow line from the midline
    outward; hairs point along it by ``along`` (0: down and outward by ``spread_deg``, as
    natural hair grows). The hair fields carry :class:`mustache.strands.hair.HairConfig`'s
    names and meanings (``hair_config`` sets them there): lengths, curl, clump, ``prior`` (the
    least root density inside the outline, 0-1, where the GAN paints nothing), philtrum (the
    density at the midline, x the sides') and ``outline_overhang``; ``density`` multiplies
    ``HairConfig.depth`` (the hair's optical depth) and ``jitter_deg`` is its
    ``angle_jitter_deg``."""

    name: str
    about: str = ""
    outline: Points | None = None
    spine: Points = ()
    along: float = 0.0
    length_mm: tuple[float, float] = (3.0, 9.0)
    spread_deg: tuple[float, float] = (12.0, 62.0)
    curl: float = 0.2
    density: float = 1.0
    prior: float = 0.6  # the least root density inside the outline (HairConfig.prior)
    philtrum: float = 0.45
    clump: float = 0.45
    outline_overhang: float = 0.3  # how far tips may pass the outline, x the hair's length
    jitter_deg: float = 12.0  # hair-to-hair spread of direction (styled hair is combed)
    feather_mm: float = 1.0  # the outline's soft edge (Gaussian sigma): roots thin out there
    margin_mm: float = 2.0  # the support reaches this far past the outline (overhanging tips)
    mirror: bool = True  # the outline is a right half (False: the whole outline, as taken
    # from a photo by style_from_mask)

    def __post_init__(self):
        if self.outline is not None and len(self.outline) < 3:
            raise ValueError(f"style {self.name!r}: an outline needs 3 points or more")
        if self.outline is not None and len(self.spine) < 2:
            raise ValueError(f"style {self.name!r}: a spine needs 2 points or more")
        if not 0.0 <= self.along <= 1.0 or not 0.0 <= self.prior <= 1.0:
            raise ValueError(f"style {self.name!r}: along and prior must be in [0, 1]")

    def hair_config(self, base, length: float = 1.0, thickness: float = 1.0, curl: float = 1.0):
        """``base`` (a :class:`mustache.strands.hair.HairConfig`) with this style's hair and the user's
        multipliers (length, thickness = density, curl)."""
        if self.outline is None:
            return replace(base, length_mm=tuple(v * length for v in base.length_mm),
                           depth=base.depth * thickness, curl=base.curl * curl)
        return replace(base, length_mm=tuple(v * length for v in self.length_mm),
                       spread_deg=self.spread_deg, curl=self.curl * curl,
                       depth=base.depth * self.density * thickness, prior=self.prior,
                       philtrum=self.philtrum, clump=self.clump, outline_overhang=self.outline_overhang,
                       angle_jitter_deg=self.jitter_deg, under_jitter=1.5)


def _style(name, about, outline, spine, **hair) -> Style:
    return Style(name, about, tuple(outline), tuple(spine), **hair)


NATURAL = Style("natural", "the GAN's own mustache for this face (default)")

# one plain dict of the named styles; users pass their own Style instances the same way
STYLES: dict[str, Style] = {s.name: s for s in (
    NATURAL,
    _style("chevron", "thick and wide, down over the upper lip",
           [(0, -0.02), (0.42, -0.02), (0.72, 0.12), (0.95, 0.6), (1.04, 1.05), (0.92, 1.22),
            (0.5, 1.25), (0, 1.22)],
           [(0, 0.6), (0.6, 0.65), (1.05, 0.9)],
           along=0.0, length_mm=(6.0, 13.0), spread_deg=(6.0, 40.0), curl=0.12, density=1.4,
           prior=0.6, philtrum=0.6, outline_overhang=0.3, jitter_deg=16.0, feather_mm=1.6),
    _style("pencil", "a thin line just above the lip",
           [(0, 0.66), (0.5, 0.66), (0.85, 0.74), (1.0, 0.86), (0.85, 0.97), (0.4, 0.99),
            (0, 0.98)],
           [(0, 0.82), (0.6, 0.83), (1.0, 0.88)],
           along=0.75, length_mm=(2.0, 4.5), spread_deg=(40.0, 75.0), curl=0.05, density=1.5,
           prior=0.9, philtrum=0.25, clump=0.3, outline_overhang=0.05, feather_mm=0.5),
    _style("handlebar", "bushy over the lip, thin ends curled up past the corners",
           [(0, 0.12), (0.5, 0.15), (0.9, 0.36), (1.12, 0.42), (1.3, 0.3), (1.38, 0.05),
            (1.4, -0.2), (1.37, -0.4), (1.47, -0.3), (1.52, -0.05), (1.5, 0.3), (1.38, 0.62),
            (1.15, 0.86), (0.8, 1.02), (0.4, 1.06), (0, 1.02)],
           [(0, 0.6), (0.6, 0.65), (1.0, 0.66), (1.3, 0.5), (1.45, 0.15), (1.45, -0.15),
            (1.41, -0.34)],
           along=0.85, length_mm=(5.0, 11.0), spread_deg=(25.0, 75.0), curl=0.08, density=1.4,
           prior=0.8, clump=0.6, outline_overhang=0.08),
    _style("walrus", "bushy, hanging over the whole upper lip",
           [(0, -0.05), (0.7, -0.05), (1.05, 0.2), (1.3, 0.8), (1.33, 1.6), (1.15, 1.95),
            (0.6, 2.0), (0, 1.95)],
           [(0, 0.8), (0.7, 0.85), (1.1, 1.2)],
           along=0.0, length_mm=(10.0, 18.0), spread_deg=(3.0, 28.0), curl=0.1, density=1.6,
           prior=0.7, philtrum=0.7, clump=0.55, outline_overhang=0.3, jitter_deg=16.0, feather_mm=1.6),
    _style("horseshoe", "full over the lip, bars down beside the mouth to the jaw",
           [(0, 0.1), (0.6, 0.15), (1.0, 0.3), (1.3, 0.6), (1.36, 1.6), (1.32, 3.0),
            (1.26, 3.75), (1.19, 4.0), (1.12, 3.75), (1.06, 3.0), (1.02, 1.3), (0.9, 1.0),
            (0.5, 1.02), (0, 0.98)],
           [(0, 0.55), (0.8, 0.65), (1.18, 1.0), (1.2, 2.5), (1.19, 4.0)],
           along=0.75, length_mm=(5.0, 11.0), spread_deg=(10.0, 45.0), curl=0.1, density=1.4,
           prior=0.8, clump=0.5),
    _style("toothbrush", "a short block under the nose, only as wide as the nose",
           [(0, 0.0), (0.62, 0.0), (0.7, 0.2), (0.7, 0.9), (0.6, 0.98), (0, 0.98)],
           [(0, 0.5), (0.7, 0.5)],
           along=0.0, length_mm=(3.0, 6.5), spread_deg=(0.0, 8.0), curl=0.05, density=1.7,
           prior=0.95, philtrum=1.0, clump=0.3, outline_overhang=0.05, feather_mm=0.6),
    _style("english", "long and thin, combed out sideways to points past the corners",
           [(0, 0.3), (0.6, 0.34), (1.0, 0.48), (1.4, 0.58), (1.8, 0.66), (1.4, 0.8),
            (1.0, 0.88), (0.6, 0.94), (0, 0.92)],
           [(0, 0.62), (0.7, 0.66), (1.2, 0.69), (1.8, 0.68)],
           along=0.95, length_mm=(7.0, 15.0), spread_deg=(40.0, 80.0), curl=0.04, density=1.4,
           prior=0.85, philtrum=0.3, clump=0.65, outline_overhang=0.1),
    _style("fu_manchu", "thin over the lip, long tendrils from the corners past the jaw",
           [(0, 0.52), (0.7, 0.58), (1.0, 0.78), (1.16, 1.3), (1.19, 2.6), (1.16, 3.7),
            (1.125, 4.5), (1.09, 3.7), (1.04, 2.6), (0.98, 1.2), (0.7, 0.95), (0, 0.92)],
           [(0, 0.72), (0.8, 0.8), (1.08, 1.2), (1.115, 2.6), (1.125, 4.5)],
           along=0.95, length_mm=(9.0, 20.0), spread_deg=(20.0, 60.0), curl=0.05, density=1.5,
           prior=0.85, philtrum=0.4, clump=0.7, outline_overhang=0.1),
    _style("dali", "thin, waxed, tips pointing straight up past the corners",
           [(0, 0.5), (0.7, 0.52), (1.0, 0.62), (1.1, 0.35), (1.17, -0.3), (1.26, -1.0),
            (1.27, -0.3), (1.23, 0.5), (1.12, 0.94), (0.7, 0.96), (0, 0.94)],
           [(0, 0.76), (0.85, 0.8), (1.15, 0.55), (1.22, -0.3), (1.26, -1.0)],
           along=1.0, length_mm=(8.0, 16.0), spread_deg=(40.0, 70.0), curl=0.03, density=1.6,
           prior=0.9, philtrum=0.35, clump=0.75, outline_overhang=0.08, feather_mm=0.5),
    _style("imperial", "heavy, swept up and out onto the cheeks",
           [(0, 0.05), (0.6, 0.05), (1.0, 0.12), (1.3, -0.05), (1.6, -0.4), (1.75, -0.6),
            (1.7, -0.3), (1.5, 0.2), (1.25, 0.62), (1.0, 0.95), (0.6, 1.05), (0, 1.0)],
           [(0, 0.6), (0.8, 0.6), (1.15, 0.4), (1.45, 0.0), (1.72, -0.55)],
           along=0.8, length_mm=(6.0, 13.0), spread_deg=(20.0, 70.0), curl=0.1, density=1.5,
           prior=0.8, clump=0.55),
)}


def style_from_mask(mask: np.ndarray, landmarks: np.ndarray, name: str = "from photo") -> Style:
    """A style shaped as a real mustache: ``mask`` (H, W) bool, where the mustache is in a
    photo, and that face's (478, 2+) landmarks -> a :class:`Style` whose whole outline (the
    mask's largest outline, in the face's (u, v)) fits any face the same way the named ones
    do; its hairs grow the natural way. ValueError when the mask is empty."""
    import cv2

    m = np.ascontiguousarray(mask, np.uint8)
    contours, _ = cv2.findContours(m, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    if not contours:
        raise ValueError("the mustache mask is empty")
    c = max(contours, key=cv2.contourArea)
    # a few dozen points: the shape, not the pixel staircase
    c = cv2.approxPolyDP(c, 0.004 * cv2.arcLength(c, True), True).reshape(-1, 2)
    if len(c) < 3:
        raise ValueError("the mustache mask is too small")
    from data_prep.canvas import FaceMesh

    on_canvas = FaceMesh(landmarks, CANVAS_SCALE).to_canvas(c.astype(np.float64) + 0.5)
    uv = canvas_coords().to_uv(on_canvas)
    return Style(name, "the shape of a real mustache, hair drawn fresh",
                 tuple(map(tuple, np.round(uv, 4).tolist())), ((0.0, 0.6), (1.0, 0.65)),
                 prior=0.7, outline_overhang=0.2, mirror=False)


def search_polygon(landmarks: np.ndarray) -> np.ndarray:
    """Where a mustache is looked for in a photo: from just below the nostrils to the upper
    lip's top edge, out past the mouth corners. (478, 2+) landmarks -> (K, 2) px."""
    half = ((0.0, 0.08), (0.7, 0.08), (1.1, 0.2), (1.5, 0.5), (1.5, 1.3), (1.2, 1.3),
            (1.0, 1.05), (0.0, 1.05))
    return to_face(landmarks, outline_uv(Style("search", outline=half, spine=((0, 0), (1, 0)))))


def style_named(name: str) -> Style:
    """The named style; BadInput listing the choices when there is none by that name."""
    from mustache.errors import BadInput

    key = name.strip().lower().replace("-", "_").replace(" ", "_")
    if key not in STYLES:
        raise BadInput(f"unknown style {name!r}; choose one of: {', '.join(STYLES)}")
    return STYLES[key]


# ---------------------------------------------------------------- the face frame

@dataclass(frozen=True, eq=False)
class FaceCoords:
    """One face's (u, v) frame, in any pixel frame of its landmarks."""

    origin: np.ndarray  # (2,) the subnasale
    right: np.ndarray  # (2,) unit, the face's right (eye to eye)
    down: np.ndarray  # (2,) unit
    u_knots: np.ndarray  # (7,) u at the anchors, increasing
    x_knots: np.ndarray  # (7,) their distance along ``right`` from the origin, px
    lines: tuple[tuple[np.ndarray, np.ndarray], ...]  # per v line: (u sorted, y px)

    def x(self, u: np.ndarray) -> np.ndarray:
        return np.interp(u, self.u_knots, self.x_knots)

    def u(self, x: np.ndarray) -> np.ndarray:
        return np.interp(x, self.x_knots, self.u_knots)

    def y(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """(N,) u, v -> (N,) px along ``down``: piecewise linear between the v lines at u,
        linear beyond the first and the last."""
        ys = np.stack([np.interp(u, lu, ly) for lu, ly in self.lines], 1)  # (N, 5)
        mid = np.array([np.interp(0.0, lu, ly) for lu, ly in self.lines])
        gaps = np.maximum(np.diff(mid), 1.0) * np.asarray(_MIN_GAPS)
        for k in range(1, ys.shape[1]):  # lines keep their order, with room between them
            ys[:, k] = np.maximum(ys[:, k], ys[:, k - 1] + gaps[k - 1])
        v = np.asarray(v, np.float64)
        k = np.clip(np.floor(v), 0, ys.shape[1] - 2).astype(int)
        rows = np.arange(len(v))
        a, b = ys[rows, k], ys[rows, k + 1]
        return a + (v - k) * (b - a)

    def to_uv(self, px: np.ndarray) -> np.ndarray:
        """(N, 2) pixels -> (N, 2) (u, v): the inverse of :meth:`to_px`."""
        d = np.asarray(px, np.float64).reshape(-1, 2) - self.origin
        u = self.u(d @ self.right)
        y = d @ self.down
        knots = np.arange(len(self.lines), dtype=np.float64)
        ys = np.stack([self.y(u, np.full(len(u), k)) for k in knots], 1)  # (N, 5), increasing
        v = np.empty(len(u))
        for i in range(len(u)):  # linear beyond the first and last line, as y() is
            k = int(np.clip(np.searchsorted(ys[i], y[i]) - 1, 0, len(knots) - 2))
            v[i] = k + (y[i] - ys[i, k]) / max(ys[i, k + 1] - ys[i, k], 1e-6)
        return np.stack([u, v], 1)

    def to_px(self, uv: np.ndarray) -> np.ndarray:
        """(N, 2) (u, v) -> (N, 2) pixels."""
        uv = np.asarray(uv, np.float64).reshape(-1, 2)
        x, y = self.x(uv[:, 0]), self.y(uv[:, 0], uv[:, 1])
        return self.origin + x[:, None] * self.right + y[:, None] * self.down


def face_coords(landmarks: np.ndarray) -> FaceCoords:
    """(478, 2+) landmarks in any pixel frame -> the face's (u, v) frame in that frame."""
    xy = np.asarray(landmarks, np.float64)[:, :2]
    el = xy[list(ix.LEFT_EYE_CORNERS)].mean(0)
    er = xy[list(ix.RIGHT_EYE_CORNERS)].mean(0)
    right = (er - el) / max(float(np.linalg.norm(er - el)), 1e-6)
    down = np.array([-right[1], right[0]])
    origin = xy[ix.SUBNASALE]
    xs = [0.0]
    us = [0.0]
    for (left, rgt), u in _U_ANCHORS:
        xs = [float((xy[left] - origin) @ right)] + xs + [float((xy[rgt] - origin) @ right)]
        us = [-u] + us + [u]
    xs = np.asarray(xs)
    # anchors must increase outward on each side (a turned head can fold them)
    eps = 1e-3 * max(float(np.ptp(xs)), 1.0)
    for i in range(4, 7):
        xs[i] = max(xs[i], xs[i - 1] + eps)
    for i in range(2, -1, -1):
        xs[i] = min(xs[i], xs[i + 1] - eps)
    proto = FaceCoords(origin, right, down, np.asarray(us), xs, ())
    lines = []
    for idx in _V_LINES:
        p = xy[list(idx)] - origin
        lu, ly = proto.u(p @ right), p @ down
        order = np.argsort(lu, kind="stable")
        lines.append((lu[order], ly[order]))
    return FaceCoords(origin, right, down, np.asarray(us), xs, tuple(lines))


def _chaikin(points: np.ndarray, rounds: int, closed: bool) -> np.ndarray:
    """Corner cutting: each round replaces every edge by its 1/4 and 3/4 points."""
    p = np.asarray(points, np.float64)
    for _ in range(rounds):
        q = np.roll(p, -1, 0) if closed else p[1:]
        a = p if closed else p[:-1]
        cut = np.stack([0.75 * a + 0.25 * q, 0.25 * a + 0.75 * q], 1).reshape(-1, 2)
        p = cut if closed else np.concatenate([p[:1], cut, p[-1:]])
    return p


def outline_uv(style: Style) -> np.ndarray:
    """The style's whole outline (both halves, rounded) in (u, v) -> (K, 2)."""
    half = np.asarray(style.outline, np.float64)
    if not style.mirror:
        return _chaikin(half, 2, closed=True)
    left = half[::-1] * [-1, 1]
    return _chaikin(np.concatenate([half, left[1:-1]]), 3, closed=True)


def spine_uv(style: Style) -> tuple[np.ndarray, np.ndarray]:
    """The right and left spines (rounded, from the midline outward) in (u, v)."""
    right = _chaikin(np.asarray(style.spine, np.float64), 3, closed=False)
    return right, right * [-1, 1]


# ---------------------------------------------------------------- a style on one face

@dataclass(frozen=True, eq=False)
class StyleFit:
    """A style fitted to one face, in a box's pixels: its support and its hair flow."""

    mask: np.ndarray  # (h, w) float32 in [0, 1]: the feathered outline (where roots are)
    support: np.ndarray  # (h, w) float32 in [0, 1]: what may change (the outline, grown)
    spine: np.ndarray  # (M, 2) both spines' points, box px
    tangent: np.ndarray  # (M, 2) unit: the flow there (outward along the spine)
    along: float  # 0: hairs grow the natural way, 1: along the spine

    def inside(self, points: np.ndarray) -> np.ndarray:
        """(N, 2) box px -> (N,) the mask there (0 outside the box)."""
        h, w = self.mask.shape
        x = np.floor(points[:, 0]).astype(int)
        y = np.floor(points[:, 1]).astype(int)
        ok = (x >= 0) & (x < w) & (y >= 0) & (y < h)
        out = np.zeros(len(points), np.float32)
        out[ok] = self.mask[y[ok], x[ok]]
        return out

    def direction(self, points: np.ndarray, natural: np.ndarray) -> np.ndarray:
        """(N, 2) box px and their (N, 2) natural hair directions -> (N, 2) unit: the
        natural direction turned toward the nearest spine's flow by ``along``."""
        from scipy.spatial import cKDTree

        if self.along <= 0 or not len(points):
            return natural
        _, k = cKDTree(self.spine).query(points)
        d = (1 - self.along) * natural + self.along * self.tangent[k]
        n = np.linalg.norm(d, axis=1, keepdims=True)
        return np.where(n > 1e-6, d / np.maximum(n, 1e-6), natural)


CANVAS_SCALE = 1024.0  # canvas px a canonical unit for styles: a face about 560 px wide


def canvas_coords() -> FaceCoords:
    """The styles' (u, v) frame on the canvas (fitted to the canonical face, canvas px)."""
    from data_prep.canvas import canonical

    return face_coords(canonical().points * CANVAS_SCALE)


def to_face(landmarks: np.ndarray, uv: np.ndarray) -> np.ndarray:
    """(N, 2) (u, v) -> (N, 2) px of the face with (478, 2+) ``landmarks``, through its mesh."""
    from data_prep.canvas import FaceMesh

    return FaceMesh(landmarks, CANVAS_SCALE).to_photo(canvas_coords().to_px(uv))


def style_polygon(style: Style, landmarks: np.ndarray) -> np.ndarray:
    """The style's outline fitted to a face: (478, 2+) landmarks -> (K, 2) in their frame."""
    if style.outline is None:
        raise ValueError("the natural style has no outline of its own (the GAN's region)")
    return to_face(landmarks, outline_uv(style))


def _on_canvas(poly: np.ndarray, feather: float, grow: float, mm: float
               ) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
    """A canvas polygon (K, 2) -> (its mask feathered by ``feather`` px, the same grown by
    ``grow`` px then feathered over about a millimetre (``mm`` px), origin (x0, y0) of
    both)."""
    import cv2

    from data_prep.region import polygon_mask

    pad = int(np.ceil(grow + 3 * feather)) + 3
    x0, y0 = (np.floor(poly.min(0)).astype(int) - pad).tolist()
    x1, y1 = (np.ceil(poly.max(0)).astype(int) + pad + 1).tolist()
    shape = (y1 - y0, x1 - x0)
    local = poly - [x0, y0]
    mask = polygon_mask(local, shape, feather=feather)
    r = max(1, round(grow))
    grown = cv2.dilate(polygon_mask(local, shape), cv2.getStructuringElement(
        cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1)))
    return mask, np.maximum(_feather(grown, mm), mask), (x0, y0)


def fit_style(style: Style, landmarks: np.ndarray, shape: tuple[int, int]) -> StyleFit:
    """``style`` on one face: (478, 2+) landmarks in a box's pixels (with depth: hidden
    triangles follow it) and the box's (h, w) -> its feathered mask and hair flow there. The
    outline is drawn on the canvas (in the canvas's own millimetres) and mapped through the
    face's mesh."""
    import cv2

    from data_prep.canvas import FaceMesh, canonical
    from data_prep.canvas import face_frame as frame_of

    mesh = FaceMesh(landmarks, CANVAS_SCALE)
    coords = canvas_coords()
    # the canvas's own millimetres: its face is as wide as the frame says a face is
    mm = frame_of(canonical().points * CANVAS_SCALE).px_per_mm
    poly = coords.to_px(outline_uv(style))
    mask, support, origin = _on_canvas(poly, style.feather_mm * mm, style.margin_mm * mm, mm)
    h, w = shape
    m, _ = mesh.photo_map((0, 0, w, h))  # one map for the mask and the support
    m -= np.asarray(origin, np.float32)
    both = cv2.remap(np.ascontiguousarray(np.stack([mask, support], -1), np.float32),
                     m[..., 0], m[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                     borderValue=0)
    mask = np.clip(both[..., 0], 0, 1)
    support = np.maximum(np.clip(both[..., 1], 0, 1), mask)
    spines, tangents = [], []
    for s in spine_uv(style):
        p = mesh.to_photo(coords.to_px(s))
        t = np.gradient(p, axis=0)
        spines.append(p)
        tangents.append(t / np.maximum(np.linalg.norm(t, axis=1, keepdims=True), 1e-9))
    return StyleFit(mask, support, np.concatenate(spines), np.concatenate(tangents),
                    style.along)


def _feather(hard: np.ndarray, px_per_mm: float) -> np.ndarray:
    """A hard (h, w) mask softened over about a millimetre (``polygon_mask``'s feather)."""
    from data_prep.region import feather_mask

    return feather_mask(hard, 0.6 * px_per_mm)


def style_box(style: Style, landmarks: np.ndarray, px_per_mm: float,
              shape: tuple[int, int]) -> tuple[int, int, int, int]:
    """The photo box (x0, y0, x1, y1) the style's feathered outline needs on one face,
    clipped to a photo of ``shape`` (h, w)."""
    from data_prep.region import padded_box

    pad = (style.margin_mm + 3 * style.feather_mm) * px_per_mm + 3
    return padded_box(style_polygon(style, landmarks), pad, shape)
