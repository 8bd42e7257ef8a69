"""Synthetic scenes with known faces, to measure face detectors: real face photos pasted into
a face-free background at chosen sizes, rotations and places, some cut by the border.

A scene is a background (a smooth colour field or a heavily blurred non-face strip of a photo,
plus shapes and noise: never a face) with face photos from ``../shared/data`` pasted on it: a
generous crop around each head, scaled so that the face has the chosen width, rotated, blended
in with a feathered edge, never overlapping another paste. Each face's true box is its
landmark box on the source photo (MediaPipe, measured once per source and cached under
``out/``) carried through the same scale and rotation.

People are split by a stable hash of their id into ``tune`` (70%) and ``heldout`` (30%):
detectors are tuned on the first and reported on the second.

    from benchmarks.scenes import compose_set, tiled_astronauts, astronaut_in_canvas, crowd
    scenes = compose_set(50, seed=0)               # held-out people
    scene.image (H, W, 3) uint8 RGB, scene.faces[i].box (x0, y0, x1, y1) scene px
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
CACHE = ROOT / "out" / "benchmarks" / "scene_faces.json"

HELDOUT_FRACTION = 0.3
MAX_UPSCALE = 2.0  # a source face is never enlarged more than this (LFW faces: up to ~200 px)
CROP = 1.8  # side of the pasted crop around a face, in face sizes: the head and some shoulder
FEATHER = 0.12  # alpha ramp at the paste's edges, share of its short side (the face stays opaque)
LFW_UP_TO = 160.0  # face widths (px) that may come from a 250 px LFW photo
# skimage's astronaut: the MediaPipe landmark box (min/max of the 478 points) on the 512 px photo
ASTRONAUT_FACE = (179.0, 71.2, 270.7, 177.4)

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class PlacedFace:
    box: Box  # true face box (x0, y0, x1, y1) in scene px; reaches outside the scene when cut
    width: float  # face width in scene px (the face's own width, before rotation)
    rotation: float  # degrees, counter-clockwise
    cut: bool  # part of the face box lies outside the scene
    outside: float  # share of the face box's area outside the scene (0 when not cut)
    source: str  # source photo, relative to the data folder
    person: str  # person id, e.g. "lfw/Aaron_Eckhart", "london/001", "canada/003f"


@dataclass(frozen=True, eq=False)
class Scene:
    image: np.ndarray  # (H, W, 3) uint8 RGB
    faces: tuple[PlacedFace, ...]
    background: str = ""  # "field" or "photo:<source>"
    name: str = ""


@dataclass(frozen=True)
class Source:
    path: str  # relative to the data folder
    person: str
    kind: str  # "lfw" (250 px photos, faces ~100 px) or "hires" (faces 450-850 px)


@dataclass(frozen=True, eq=False)
class SourceFace:
    box: Box  # landmark box on the source photo
    hull: np.ndarray  # (K, 2) float32: convex hull of the 478 landmarks, source px

    @property
    def width(self) -> float:
        return self.box[2] - self.box[0]


@dataclass(frozen=True)
class FacePlan:
    width: float  # wanted face width, scene px
    rotation: float  # degrees
    cut: bool  # place it across the border


# ---------------------------------------------------------------------------- people and sources
def split_of(person: str, heldout: float = HELDOUT_FRACTION) -> str:
    """"heldout" or "tune" for a person id, stable across runs and machines (sha1 of the id)."""
    h = int.from_bytes(hashlib.sha1(person.encode()).digest()[:8], "big") / 2.0**64
    return "heldout" if h < heldout else "tune"


def list_sources(root: Path = DATA) -> list[Source]:
    """Every usable photo under ``root``: ``lfw/images/<Name>/*.jpg`` and
    ``hires/<folder>/*.jpg`` (London NNN_03 and NNN_08 are one person), sorted."""
    root = Path(root)
    out = [Source(p.relative_to(root).as_posix(), f"lfw/{p.parent.name}", "lfw")
           for p in sorted((root / "lfw" / "images").glob("*/*.jpg"))]
    for p in sorted((root / "hires").glob("*/*.jpg")):
        folder = "london" if p.parent.name.startswith("london") else p.parent.name
        out.append(Source(p.relative_to(root).as_posix(), f"{folder}/{p.stem.split('_')[0]}",
                          "hires"))
    return out


class Sources:
    """The photos of one split's people and their faces (found once with MediaPipe, cached in a
    JSON file; a photo with no face or several is never used). ``split``: "heldout", "tune"
    or "all"; ``kinds``: only these kinds of photo ("lfw", "hires"). Use as a context manager
    or call :meth:`close`; :meth:`save` writes the faces found so far."""

    def __init__(self, root: Path = DATA, split: str = "heldout", cache: Path | None = CACHE,
                 detector=None, kinds: tuple[str, ...] = ("lfw", "hires")):
        self.root = Path(root)
        self.split = split
        self.items = [s for s in list_sources(self.root) if s.kind in kinds
                      and (split == "all" or split_of(s.person) == split)]
        self.kinds = {k: [s for s in self.items if s.kind == k] for k in ("lfw", "hires")}
        self.cache = None if cache is None else Path(cache)
        self._faces: dict[str, SourceFace | None] = _read_cache(self.cache)
        self._new = 0
        self._detector, self._own = detector, detector is None

    def image(self, source: Source) -> np.ndarray:
        """The source photo, RGB uint8 (H, W, 3)."""
        from data_prep.image_io import load_image

        return load_image(self.root / source.path)

    def face(self, source: Source) -> SourceFace | None:
        """The one face of a source photo, or None when MediaPipe finds none or several."""
        key = str((self.root / source.path).resolve())
        if key not in self._faces:
            self._faces[key] = self._measure(self.image(source))
            self._new += 1
        return self._faces[key]

    def _measure(self, image: np.ndarray) -> SourceFace | None:
        import cv2

        if self._detector is None:
            from data_prep.landmarks import MediaPipeDetector

            self._detector = MediaPipeDetector()
        found = self._detector.detect(image)
        if len(found) != 1:  # a second face would be a true face with no truth box
            return None
        hull = cv2.convexHull(found[0].xy.astype(np.float32)).reshape(-1, 2)
        return _rounded(hull)

    def save(self) -> None:
        """Write the cache (atomically) when new faces were measured."""
        if self.cache is None or not self._new:
            return
        faces = {k: None if f is None else f.hull.tolist() for k, f in self._faces.items()}
        self.cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.cache.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"version": 1, "hulls": faces}))
        tmp.replace(self.cache)
        self._new = 0

    def close(self) -> None:
        self.save()
        if self._own and self._detector is not None:
            self._detector.close()
        self._detector = None

    def __enter__(self) -> Sources:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _rounded(hull: np.ndarray) -> SourceFace:
    """A SourceFace from hull points (K, 2), rounded to 0.1 px so cached and fresh agree."""
    hull = np.round(np.asarray(hull, np.float64), 1).astype(np.float32)
    x0, y0 = hull.min(0)
    x1, y1 = hull.max(0)
    return SourceFace((float(x0), float(y0), float(x1), float(y1)), hull)


def _read_cache(path: Path | None) -> dict:
    if path is None or not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}  # a damaged cache is measured again
    return {k: None if v is None else _rounded(np.array(v, np.float32).reshape(-1, 2))
            for k, v in data.get("hulls", {}).items()}


# ---------------------------------------------------------------------------- scenes
def stress_params(stress: bool) -> dict:
    """compose_scene's settings for the normal and the stress set."""
    if stress:
        return {"max_rotation": 45.0, "width_range": (40.0, 900.0)}
    return {"max_rotation": 25.0, "width_range": (48.0, 700.0)}


def iter_scenes(n: int, seed: int = 0, split: str = "heldout", stress: bool = False,
                sources: Sources | None = None) -> Iterator[Scene]:
    """Scenes one at a time (a 6000 px scene is 100 MB): scene i depends only on (seed, i)."""
    own = sources is None
    sources = sources or Sources(split=split)
    try:
        for i in range(n):
            rng = np.random.default_rng([seed, i, int(stress)])
            yield compose_scene(rng, sources, **stress_params(stress))
            sources.save()
    finally:
        if own:
            sources.close()


def compose_set(n: int, seed: int = 0, split: str = "heldout", stress: bool = False,
                sources: Sources | None = None) -> list[Scene]:
    """``n`` scenes of ``split``'s people, deterministic by seed."""
    return list(iter_scenes(n, seed, split, stress, sources))


def compose_scene(rng: np.random.Generator, sources: Sources,
                  size_range: tuple[int, int] = (800, 6000), n_faces: tuple[int, int] = (1, 6),
                  width_range: tuple[float, float] = (48.0, 700.0), max_rotation: float = 25.0,
                  border_cut_fraction: float = 0.2) -> Scene:
    """One scene: a face-free background of a random size (long side log-uniform in
    ``size_range``), then ``n_faces`` faces (fewer when they do not fit) of widths log-uniform
    in ``width_range`` (at most the scene's short side / 2.5, so a paste fits), rotated
    uniformly within +-``max_rotation`` degrees, each cut by the border with probability
    ``border_cut_fraction``."""
    h, w = _scene_size(rng, size_range)
    n = int(rng.integers(n_faces[0], n_faces[1] + 1))
    lo = width_range[0]
    hi = max(lo, min(width_range[1], min(h, w) / 2.5))
    widths = sorted(np.exp(rng.uniform(np.log(lo), np.log(hi), n)), reverse=True)  # big first
    plan = [FacePlan(float(wd), float(rng.uniform(-max_rotation, max_rotation)),
                     bool(rng.random() < border_cut_fraction)) for wd in widths]
    image, kind = background(rng, (h, w), sources)
    return Scene(image, paste_faces(rng, image, plan, sources), kind)


def _scene_size(rng: np.random.Generator, size_range: tuple[int, int]) -> tuple[int, int]:
    """(H, W): long side log-uniform in size_range, a common photo aspect, either way round."""
    long = float(np.exp(rng.uniform(np.log(size_range[0]), np.log(size_range[1]))))
    short = long / float(rng.choice([1.0, 4 / 3, 3 / 2, 16 / 9]))
    h, w = (long, short) if rng.random() < 0.5 else (short, long)
    return int(round(h)), int(round(w))


def paste_faces(rng: np.random.Generator, image: np.ndarray, plan: list[FacePlan],
                sources: Sources, tries: int = 60) -> tuple[PlacedFace, ...]:
    """Paste one face per plan entry into ``image`` (H, W, 3) uint8, in place, at random places
    whose pastes do not overlap; entries that find no source or no place are dropped."""
    taken: list[tuple[int, int, int, int]] = []  # pasted rectangles, scene px
    placed = []
    for p in plan:
        picked = _pick_source(rng, sources, p.width)
        if picked is None:
            continue
        src, face = picked
        patch, alpha, box = make_patch(sources.image(src), face, p.width, p.rotation)
        at = _find_place(rng, image.shape[:2], patch.shape[:2], box, p.cut, taken, tries)
        if at is None:
            continue
        ox, oy = at
        blend(image, patch, alpha, ox, oy)
        taken.append((ox, oy, ox + patch.shape[1], oy + patch.shape[0]))
        sbox = (box[0] + ox, box[1] + oy, box[2] + ox, box[3] + oy)
        out = outside_share(sbox, image.shape[:2])
        # a face placed inside can poke out by the rounding of its place: not a cut
        placed.append(PlacedFace(sbox, p.width, p.rotation, out > 0.01, out, src.path,
                                 src.person))
    return tuple(placed)


def _pick_source(rng: np.random.Generator, sources: Sources, width: float, tries: int = 30
                 ) -> tuple[Source, SourceFace] | None:
    """A random source whose face reaches ``width`` px without more than MAX_UPSCALE: mostly
    LFW for small faces (many people), the high-resolution photos for big ones."""
    kinds = ["lfw", "hires"] if width <= LFW_UP_TO and rng.random() < 0.8 else ["hires", "lfw"]
    for kind in kinds:
        pool = sources.kinds.get(kind) or []
        for _ in range(tries if pool else 0):
            src = pool[int(rng.integers(len(pool)))]
            face = sources.face(src)
            if face is not None and width <= MAX_UPSCALE * face.width:
                return src, face
    return None


def make_patch(photo: np.ndarray, face: SourceFace, width: float, rotation: float
               ) -> tuple[np.ndarray, np.ndarray, Box]:
    """A crop of ``photo`` (H, W, 3) uint8 around ``face`` (CROP face sizes), scaled so the
    face is ``width`` px wide and rotated ``rotation`` degrees counter-clockwise on a canvas
    that holds it all -> (patch (h, w, 3) uint8, alpha (h, w) float32 in [0, 1], feathered at
    the crop's edges, 0 outside it; the face's box in patch px)."""
    import cv2

    x0, y0, x1, y1 = face.box
    cx, cy, half = (x0 + x1) / 2, (y0 + y1) / 2, CROP / 2 * max(x1 - x0, y1 - y0)
    ph, pw = photo.shape[:2]
    c0, r0 = int(max(cx - half, 0)), int(max(cy - half, 0))
    c1, r1 = int(min(cx + half, pw)), int(min(cy + half, ph))
    crop = photo[r0:r1, c0:c1]
    k = width / face.width
    size = (max(1, round(crop.shape[1] * k)), max(1, round(crop.shape[0] * k)))
    # INTER_AREA when shrinking: a 480 px face brought to 48 px must not alias
    crop = cv2.resize(crop, size, interpolation=cv2.INTER_AREA if k < 1 else cv2.INTER_CUBIC)
    kx, ky = size[0] / (c1 - c0), size[1] / (r1 - r0)
    hull = (face.hull - [c0, r0]) * [kx, ky]
    alpha = feather(crop.shape[:2], FEATHER * min(crop.shape[:2]))
    m, out_wh = _rotation(crop.shape[:2], rotation)
    patch = cv2.warpAffine(crop, m, out_wh, flags=cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    alpha = cv2.warpAffine(alpha, m, out_wh, flags=cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    hull = hull @ m[:, :2].T + m[:, 2]
    (bx0, by0), (bx1, by1) = hull.min(0), hull.max(0)
    return patch, alpha, (float(bx0), float(by0), float(bx1), float(by1))


def _rotation(shape: tuple[int, int], degrees: float) -> tuple[np.ndarray, tuple[int, int]]:
    """2x3 matrix rotating an (h, w) image about its centre onto a canvas holding all of it,
    and that canvas's (w, h)."""
    import cv2

    h, w = shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    c, s = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(np.ceil(h * s + w * c)), int(np.ceil(h * c + w * s))
    m[0, 2] += nw / 2 - w / 2
    m[1, 2] += nh / 2 - h / 2
    return m, (nw, nh)


def feather(shape: tuple[int, int], width: float) -> np.ndarray:
    """(h, w) float32 alpha: 1 inside, a smoothstep ramp to 0 over ``width`` px at the edges
    (softened corners), so a paste leaves no sharp rectangle."""
    h, w = shape
    width = max(width, 1.0)
    ax = np.clip(np.minimum(np.arange(w) + 0.5, w - 0.5 - np.arange(w)) / width, 0, 1)
    ay = np.clip(np.minimum(np.arange(h) + 0.5, h - 0.5 - np.arange(h)) / width, 0, 1)
    a = (ay[:, None] * ax[None, :]).astype(np.float32)
    return a * a * (3 - 2 * a)


def _find_place(rng: np.random.Generator, scene: tuple[int, int], patch: tuple[int, int],
                box: Box, cut: bool, taken: list, tries: int) -> tuple[int, int] | None:
    """Top-left (x, y) of a patch of shape ``patch`` (h, w) whose face ``box`` (patch px) lies
    inside the scene (H, W), or across a random border with 10-40% of its width or height
    outside when ``cut``; the patch overlaps no ``taken`` rectangle. None after ``tries``."""
    H, W = scene
    ph, pw = patch
    x0, y0, x1, y1 = box
    fw, fh = x1 - x0, y1 - y0
    for _ in range(tries):
        # anywhere the face box stays inside (empty when the face is too big)
        lo_x, hi_x, lo_y, hi_y = -x0, W - x1, -y0, H - y1
        if hi_x < lo_x or hi_y < lo_y:
            return None
        ox, oy = rng.uniform(lo_x, hi_x), rng.uniform(lo_y, hi_y)
        if cut:
            side, f = int(rng.integers(4)), rng.uniform(0.1, 0.4)
            ox = (-f * fw - x0, W + f * fw - x1, ox, ox)[side]
            oy = (oy, oy, -f * fh - y0, H + f * fh - y1)[side]
        ox, oy = int(round(ox)), int(round(oy))
        rect = (ox, oy, ox + pw, oy + ph)
        if not any(_overlap(rect, t) for t in taken):
            return ox, oy
    return None


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def blend(image: np.ndarray, patch: np.ndarray, alpha: np.ndarray, ox: int, oy: int) -> None:
    """Alpha-blend ``patch`` (h, w, 3) uint8 with ``alpha`` (h, w) into ``image`` (H, W, 3)
    uint8 in place, its top-left at (ox, oy); parts outside the image are dropped."""
    H, W = image.shape[:2]
    ph, pw = patch.shape[:2]
    sx0, sy0 = max(0, -ox), max(0, -oy)
    sx1, sy1 = min(pw, W - ox), min(ph, H - oy)
    if sx1 <= sx0 or sy1 <= sy0:
        return
    dst = image[oy + sy0:oy + sy1, ox + sx0:ox + sx1]
    a = alpha[sy0:sy1, sx0:sx1, None]
    mixed = dst * (1 - a) + patch[sy0:sy1, sx0:sx1] * a
    dst[:] = np.clip(np.rint(mixed), 0, 255).astype(np.uint8)


def outside_share(box: Box, shape: tuple[int, int]) -> float:
    """Share of ``box``'s area outside an image of shape (H, W)."""
    c = clip_box(box, shape)
    area = (box[2] - box[0]) * (box[3] - box[1])
    inside = max(0.0, c[2] - c[0]) * max(0.0, c[3] - c[1])
    return float(1 - inside / area) if area > 0 else 0.0


def clip_box(box: Box, shape: tuple[int, int]) -> Box:
    """``box`` (x0, y0, x1, y1) clipped to an image of shape (H, W)."""
    H, W = shape[:2]
    return (min(max(box[0], 0.0), W), min(max(box[1], 0.0), H),
            min(max(box[2], 0.0), W), min(max(box[3], 0.0), H))


# ---------------------------------------------------------------------------- backgrounds
def background(rng: np.random.Generator, shape: tuple[int, int], sources: Sources | None = None
               ) -> tuple[np.ndarray, str]:
    """A face-free (H, W, 3) uint8 background and its kind: half the time (when there are
    sources) a non-face strip of a source photo shrunk to a few pixels and blown up (its
    colours, nothing recognisable), else a random smooth colour field; then random shapes
    (edges and corners for false detections to come from) and sensor-like noise."""
    import cv2

    h, w = shape
    small, kind = None, "field"
    if sources is not None and sources.items and rng.random() < 0.5:
        src = sources.items[int(rng.integers(len(sources.items)))]
        small = _photo_colours(rng, sources, src)
        kind = f"photo:{src.path}" if small is not None else kind
    if small is None:
        g = int(rng.integers(2, 7))
        small = rng.uniform(15, 240, (g, g, 3)).astype(np.float32)
    image = cv2.resize(np.clip(small, 0, 255).astype(np.uint8), (w, h),
                       interpolation=cv2.INTER_CUBIC)
    _shapes(rng, image)
    _noise(rng, image, float(rng.uniform(1.5, 6.0)))
    return image, kind


def _photo_colours(rng: np.random.Generator, sources: Sources, src: Source
                   ) -> np.ndarray | None:
    """The widest strip of ``src``'s photo clear of its face (the face box grown by half),
    shrunk to at most 12 px: (h, w, 3) float32, or None when the photo has no usable strip."""
    import cv2

    face = sources.face(src)
    if face is None:
        return None
    photo = sources.image(src)
    ph, pw = photo.shape[:2]
    x0, y0, x1, y1 = face.box
    gx, gy = (x1 - x0) / 4, (y1 - y0) / 4
    x0, y0, x1, y1 = int(max(x0 - gx, 0)), int(max(y0 - gy, 0)), int(x1 + gx), int(y1 + gy)
    strips = [photo[:, :x0], photo[:, x1:], photo[:y0], photo[y1:]]
    strip = max(strips, key=lambda s: min(s.shape[:2]))
    if min(strip.shape[:2]) < 16:
        return None
    k = 12 / max(strip.shape[:2])
    size = (max(2, round(strip.shape[1] * k)), max(2, round(strip.shape[0] * k)))
    small = cv2.resize(strip, size, interpolation=cv2.INTER_AREA).astype(np.float32)
    return small[::-1] if rng.random() < 0.5 else small


def _shapes(rng: np.random.Generator, image: np.ndarray) -> None:
    """Draw 5-30 random antialiased rectangles, ellipses and lines into ``image`` in place."""
    import cv2

    h, w = image.shape[:2]
    s = min(h, w)
    for _ in range(int(rng.integers(5, 31))):
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        x, y = int(rng.integers(w)), int(rng.integers(h))
        a, b = (int(v) for v in rng.uniform(0.01, 0.2, 2) * s)
        kind = int(rng.integers(3))
        if kind == 0:
            cv2.rectangle(image, (x, y), (x + a, y + b), colour, -1, cv2.LINE_AA)
        elif kind == 1:
            cv2.ellipse(image, (x, y), (a, b), float(rng.uniform(0, 180)), 0, 360, colour, -1,
                        cv2.LINE_AA)
        else:
            cv2.line(image, (x, y), (x + a * 3, y - b * 3), colour,
                     max(1, int(rng.uniform(0.002, 0.01) * s)), cv2.LINE_AA)


def _noise(rng: np.random.Generator, image: np.ndarray, sigma: float, rows: int = 512) -> None:
    """Add Gaussian noise (sigma in 0-255 units) to ``image`` (H, W, 3) uint8 in place, a band
    of rows at a time (a 6000 px scene's noise at once would be 300 MB of float32)."""
    for r in range(0, image.shape[0], rows):
        band = image[r:r + rows]
        noise = rng.standard_normal(band.shape, dtype=np.float32) * sigma
        band[:] = np.clip(band + noise, 0, 255).astype(np.uint8)


# ---------------------------------------------------------------------------- named cases
def _astronaut() -> np.ndarray:
    from skimage import data

    return data.astronaut()


def _fixed(box: Box, dx: float, dy: float, person: str = "astronaut") -> PlacedFace:
    b = (box[0] + dx, box[1] + dy, box[2] + dx, box[3] + dy)
    return PlacedFace(b, box[2] - box[0], 0.0, False, 0.0, "skimage:astronaut", person)


def tiled_astronauts() -> Scene:
    """Four copies of skimage's 512 px astronaut tiled 2x2: a 1024 px photo, four faces."""
    image = np.ascontiguousarray(np.tile(_astronaut(), (2, 2, 1)))
    faces = tuple(_fixed(ASTRONAUT_FACE, dx, dy) for dy in (0, 512) for dx in (0, 512))
    return Scene(image, faces, "astronaut", "tiled astronauts")


def astronaut_in_canvas(seed: int = 0) -> Scene:
    """The 512 px astronaut (a ~92 px face) pasted at a random place into a 4000x3000 plain,
    noisy background (no shapes): one small face in a large photo."""
    import cv2

    rng = np.random.default_rng([seed, 4000])
    colour = rng.uniform(40, 220, (2, 2, 3)).astype(np.uint8)
    image = cv2.resize(colour, (4000, 3000), interpolation=cv2.INTER_LINEAR)
    _noise(rng, image, 3.0)
    ox, oy = int(rng.integers(0, 4000 - 512)), int(rng.integers(0, 3000 - 512))
    blend(image, _astronaut(), feather((512, 512), 24), ox, oy)
    return Scene(image, (_fixed(ASTRONAUT_FACE, ox, oy),), "field", "astronaut in canvas")


def empty_canvas(seed: int = 0) -> Scene:
    """:func:`astronaut_in_canvas`'s 4000x3000 background with nothing pasted: no face."""
    import cv2

    rng = np.random.default_rng([seed, 4000])
    colour = rng.uniform(40, 220, (2, 2, 3)).astype(np.uint8)
    image = cv2.resize(colour, (4000, 3000), interpolation=cv2.INTER_LINEAR)
    _noise(rng, image, 3.0)
    return Scene(image, (), "field", "no face")


def crowd(seed: int = 0, sources: Sources | None = None) -> Scene:
    """About 12 faces, widths 40-400 px (log-spaced), rotated up to 15 degrees, in one
    3000x2000 photo; one (about 120 px wide) cut by the border. Held-out people."""
    own = sources is None
    sources = sources or Sources(split="heldout")
    try:
        rng = np.random.default_rng([seed, 12])
        widths = np.geomspace(400, 40, 12)
        cut = int(np.argmin(np.abs(widths - 120)))
        plan = [FacePlan(float(wd), float(rng.uniform(-15, 15)), i == cut)
                for i, wd in enumerate(widths)]
        image, kind = background(rng, (2000, 3000), sources)
        faces = paste_faces(rng, image, plan, sources, tries=400)
        return Scene(image, faces, kind, "crowd")
    finally:
        if own:
            sources.close()
