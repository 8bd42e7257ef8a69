"""Mustache transfer from a donor photo: take one person's real mustache and put it on others.

No model: the donor's mustache region is warped onto each target face by the landmarks of
both faces (piecewise affine over triangles of lip, nose and cheek points, so it follows the
target's lip shape, tilt, scale and yaw) and its colour and light are matched to the target's
skin. That change says where the hair is, how dense and how dark, and gives the hair colour;
the same per-face pipeline as ``apply`` (:mod:`mustache.paint.pipeline`) then draws the hairs at
the target's own resolution (so a small donor photo still gives a sharp mustache on a large
face) and Poisson-blends them in. Nothing outside the target's region changes.

    with DonorTransfer("man.jpg") as t:
        result = t.apply("face.jpg")          # ApplyResult: .image, one FaceResult a face
"""

from __future__ import annotations

import functools
import os
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from data_prep import indices as ix
from data_prep.landmarks import FaceDetector, box_iou
from data_prep.region import polygon_mask, region_polygon
from mustache.errors import BadInput
from mustache.paint.gan import as_rgb
from mustache.paint.options import ApplyOptions, ApplyResult
from mustache.paint.warp import (  # noqa: F401 (DonorConfig, piecewise_map, match_colour: public here too)
    CONTROL_INDICES,
    LIPS,
    DonorConfig,
    box_of,
    control_points,
    eye_frame,
    match_colour,
    piecewise_map,
    skin_ring,
)

_VISIBLE = ix.UNDER_NOSE + ix.UPPER_LIP_OUTER  # must lie inside the donor photo


class DonorWarning(UserWarning):
    """The donor looks doubtful (for example, no mustache by the classifier). The same text is
    in ``DonorTransfer.warnings`` and ``ApplyResult.warnings``, so a CLI can filter this
    category and print those as one clean line."""


@dataclass(frozen=True, eq=False)
class DonorFace:
    """One face of a donor photo: the photo, its landmarks and region."""

    image: np.ndarray  # (H, W, 3) uint8 RGB, the whole donor photo
    points: np.ndarray  # (478, 3) float photo px (+ relative depth)
    box: tuple[float, float, float, float]  # (x0, y0, x1, y1) photo px
    polygon: np.ndarray  # (K, 2) region polygon, photo px
    yaw: float  # degrees, sign = which way the head turns (data_prep.quality.head_pose)


# ---------------------------------------------------------------- the donor

def _donor_rgb(donor) -> np.ndarray:
    """as_rgb, with errors that say it is the donor."""
    try:
        return as_rgb(donor)
    except BadInput as e:  # names the file
        raise BadInput(f"donor {e}") from None
    except ValueError as e:
        raise BadInput(f"donor: {e}") from None


def _lip_problem(points: np.ndarray, shape: tuple[int, int], config: DonorConfig) -> str | None:
    """Why this face's upper lip cannot be used, or None."""
    xy = np.asarray(points, np.float64)[:, :2]
    h, w = shape
    v = xy[list(_VISIBLE)]
    if (v < 0).any() or (v[:, 0] > w - 1).any() or (v[:, 1] > h - 1).any():
        return "the upper lip is outside the photo"
    mouth = float(np.linalg.norm(xy[ix.MOUTH_CORNERS[1]] - xy[ix.MOUTH_CORNERS[0]]))
    if mouth < config.min_mouth_width:
        return f"the mouth is too small ({mouth:.0f} px < {config.min_mouth_width:.0f} px)"
    p = region_polygon(xy, config.region)
    area = 0.5 * abs(np.dot(p[:, 0], np.roll(p[:, 1], 1)) - np.dot(p[:, 1], np.roll(p[:, 0], 1)))
    if area < config.min_region_area:
        return f"the mustache region is too small ({area:.0f} px^2)"
    return None


def _donor_face(image: np.ndarray, face, config: DonorConfig) -> DonorFace:
    from data_prep.quality import head_pose

    pts = np.asarray(face.points, np.float64)
    return DonorFace(image, pts, tuple(face.box), region_polygon(pts, config.region),
                     head_pose(pts)[0])


def _pick_face(detector, image: np.ndarray, donor_face: int | None, config: DonorConfig):
    """The donor photo's face ``donor_face`` (largest first; None the largest), with a
    visible upper lip; BadInput saying why not."""
    faces = detector.detect(image)
    if not faces:
        raise BadInput("donor: no face found in the donor photo")
    i = 0 if donor_face is None else int(donor_face)
    if not 0 <= i < len(faces):
        raise BadInput(f"donor: --donor-face {i} out of range (the donor photo has "
                       f"{len(faces)} face{'s' if len(faces) > 1 else ''})")
    problem = _lip_problem(faces[i].points, image.shape[:2], config)
    if problem:
        raise BadInput(f"donor: no visible upper lip ({problem})")
    return faces[i]


class DonorTransfer:
    """A donor's mustache, ready to put on any number of target photos.

    ``donor``: RGB uint8 (H, W, 3) or a path. ``donor_face``: which face (largest first),
    default the largest. ``detector``: a :class:`data_prep.landmarks.FaceDetector` to share;
    one is made (and closed by :meth:`close`) when None, reaching faces ``min_face`` px wide. ``check_existing``: leave target
    faces that already have a mustache (the shipped classifier) unless ``options.force``. Raises :class:`BadInput` when
    the donor holds no such face or its upper lip is not visible.
    """

    def __init__(self, donor, donor_face: int | None = None, detector: FaceDetector | None = None,
                 config: DonorConfig = DonorConfig(), check_existing: bool = True, hair=None,
                 min_face: float = 40.0):
        from data_prep.landmarks import DetectorConfig, MediaPipeDetector
        from mustache.paint.gan import shipped_scorer
        from mustache.strands.hair import HairConfig

        self.config = config
        # the donor's own mustache is the whole shape (a clean donor gives next to nothing, as
        # it should): the nose-to-lip floor is off through its Painted(floor=False)
        self.hair = hair or HairConfig()
        self.scorer = None
        self._own = detector is None
        self.detector = (MediaPipeDetector(DetectorConfig(min_face=min_face)) if detector is None
                         else detector)
        try:
            image = _donor_rgb(donor)
            found = self._pick(image, donor_face)
            self.face = _donor_face(image, found, config)
        except BaseException:
            self.close()
            raise
        self._mirrored: DonorFace | None = None
        self._check_existing = check_existing
        self.scorer = shipped_scorer() if check_existing or config.check_mustache else None
        score = None
        if config.check_mustache and self.scorer is not None:
            score = float(self.scorer.score_faces(image, [found])[0])
        self.warnings: tuple[str, ...] = ()
        if score is not None and score < config.warn_below:
            msg = f"the donor's lip does not look like a mustache (score {score:.2f})"
            self.warnings = (msg,)
            warnings.warn(msg, DonorWarning, stacklevel=2)

    def _pick(self, image: np.ndarray, donor_face: int | None):
        return _pick_face(self.detector, image, donor_face, self.config)

    def mirrored(self) -> DonorFace:
        """The donor flipped left-right, landmarks re-detected (so left/right indices swap
        correctly); the donor itself when the flipped face is not found again."""
        if self._mirrored is None:
            flip = np.ascontiguousarray(self.face.image[:, ::-1])
            w = flip.shape[1]
            x0, y0, x1, y1 = self.face.box
            want = (w - 1 - x1, y0, w - 1 - x0, y1)
            faces = [f for f in self.detector.detect(flip) if box_iou(f.box, want) > 0.5]
            ok = faces and _lip_problem(faces[0].points, flip.shape[:2], self.config) is None
            self._mirrored = _donor_face(flip, faces[0], self.config) if ok else self.face
        return self._mirrored

    def donor_for(self, target_yaw: float) -> DonorFace:
        """The donor or its mirror image, whichever turns the same way as the target."""
        t, y = self.config.mirror_yaw, self.face.yaw
        if abs(y) > t and abs(target_yaw) > t and np.sign(y) != np.sign(target_yaw):
            return self.mirrored()
        return self.face

    def patch(self, target: np.ndarray, points: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray, tuple[int, int, int, int]]:
        """The donor's mustache fitted to one target face.

        ``target`` RGB uint8 (H, W, 3), ``points`` its (478, 3) landmarks. Returns (patch RGB
        uint8 (h, w, 3), mask float32 (h, w) in [0, 1], box (x0, y0, x1, y1)) for
        ``blend_patch``: the warped, recoloured donor over the target's region box.
        """
        import cv2

        from data_prep.quality import head_pose

        cfg = self.config
        pts = np.asarray(points, np.float64)
        donor = self.donor_for(head_pose(pts)[0])
        xy_t, xy_d = pts[:, :2], donor.points[:, :2]
        d_t, _, _ = eye_frame(xy_t)
        poly_t = region_polygon(xy_t, cfg.region)
        feather = cfg.region.feather * d_t
        box = box_of(poly_t, 3 * feather + 3, target.shape[:2])
        x0, y0, x1, y1 = box
        # the donor's own region, cut with room for the warp and the ring
        d_d, _, _ = eye_frame(xy_d)
        dbox = box_of(control_points(xy_d, cfg), 4, donor.image.shape[:2])
        src = donor.image[dbox[1]:dbox[3], dbox[0]:dbox[2]]
        scale = d_d / max(d_t, 1e-6)
        if scale > 1.5:  # shrinking a lot: smooth first so the resample does not alias
            src = cv2.GaussianBlur(src, (0, 0), 0.4 * scale)
        ctrl_d = control_points(xy_d, cfg) - dbox[:2]
        mx, my = piecewise_map(ctrl_d, control_points(xy_t, cfg), box)
        # on the face, through the canvas: each target pixel from the same point of the
        # donor's surface (triangle by triangle through both meshes), so a frontal donor
        # lies on a turned target's surface; the control points' warp beyond it
        from data_prep.canvas import FaceMesh

        fm, on = FaceMesh(pts).map_from(FaceMesh(donor.points), box)
        mx = np.where(on, fm[..., 0] - dbox[0], mx).astype(np.float32)
        my = np.where(on, fm[..., 1] - dbox[1], my).astype(np.float32)
        warped = cv2.remap(src, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT101)
        # colour: the donor's ring, warped the same way, against the target's ring
        ring_d = skin_ring(xy_d - dbox[:2], donor.polygon - dbox[:2],
                            (0, 0, src.shape[1], src.shape[0]), cfg).astype(np.uint8)
        ring_d = cv2.remap(ring_d, mx, my, cv2.INTER_NEAREST, borderValue=0) > 0
        ring_t = skin_ring(xy_t, poly_t, box, cfg) & ring_d
        here = target[y0:y1, x0:x1]
        try:
            warped = match_colour(warped, ring_t, here, ring_t, cfg.max_gain)
        except ValueError:
            pass  # too little skin around the lip to measure: Poisson blending still adapts
        # the region on the canvas, through the target's mesh: nothing past its silhouette,
        # on triangles turned away or in an open mouth
        from data_prep.region import region_support

        mask = region_support(pts, box, cfg.region)
        return warped, mask, box

    def paint(self, image: np.ndarray, faces, options: ApplyOptions) -> list:
        """The :class:`mustache.paint.pipeline.Painter` of a donor: per face, the donor's mustache
        warped and recoloured onto it as a change over its region box, and the donor's own
        hair colour (:attr:`colour`); a reason when the face's upper lip is not usable."""
        from mustache.paint.pipeline import Painted

        out: list = []
        for f in faces:
            problem = _lip_problem(f.points, image.shape[:2], self.config)
            if problem is not None:
                out.append(problem)
                continue
            warped, mask, box = self.patch(image, f.points)
            x0, y0, x1, y1 = box
            here = image[y0:y1, x0:x1].astype(np.float32)
            change = (warped.astype(np.float32) - here) * mask[..., None]
            out.append(Painted(box, change, mask, self.colour, floor=False))
        return out

    @functools.cached_property
    def colour(self):
        """The donor's own hair colour (:class:`mustache.strands.haircolor.HairColour`), from the
        darkest part of his region in his photo (recoloured to the target's light it turned a
        muddy grey-green); None when the region is too small to tell."""
        from mustache.strands.haircolor import colour_from_pixels

        f = self.face
        box = box_of(f.polygon, 0, f.image.shape[:2])
        inside = polygon_mask(f.polygon - box[:2], (box[3] - box[1], box[2] - box[0])) > 0.5
        px = f.image[box[1]:box[3], box[0]:box[2]][inside]
        if len(px) < 20:
            return None
        grey = px.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
        return colour_from_pixels(px[grey <= np.percentile(grey, 40)], "donor")

    def apply(self, image_or_path, options: ApplyOptions = ApplyOptions(), faces=None
              ) -> ApplyResult:
        """Put the donor's mustache on every face of the target (or ``options.faces``).

        ``image_or_path``: RGB uint8 (H, W, 3) or a path; ``faces``: its landmarks if already
        found. The same per-face pipeline as ``Mustacher.apply`` (:func:`mustache.paint.pipeline.
        run_faces`): the donor gives shape, density and colour, the hair stage draws the hairs
        at the target's resolution; ``seed`` picks the hairs, ``label`` means nothing here. A
        face whose upper lip is not visible is left as it was; no face -> the image unchanged.
        """
        from dataclasses import replace

        from mustache.paint.pipeline import run_faces

        image = as_rgb(image_or_path)
        if faces is None:
            faces = self.detector.detect(image)
        r = run_faces(image, faces, self, replace(options, label=1),
                      self.scorer if self._check_existing else None, self.hair)
        return ApplyResult(r.image, r.faces, self.warnings)

    def close(self) -> None:
        from mustache.paint.gan import close_parts

        close_parts(self.detector if self._own else None, self.scorer)
        self.detector = self.scorer = None

    def __enter__(self) -> DonorTransfer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def mustache_mask(image: np.ndarray, points: np.ndarray, config: DonorConfig = DonorConfig()
                  ) -> np.ndarray:
    """Where the mustache is in a photo: (H, W, 3) uint8 RGB and a face's (478, 2+)
    landmarks -> (H, W) bool. The darkening against the skin ring around the upper lip
    (L*, smoothed over about a millimetre), between the nostrils and the lip, thresholded
    and cleaned (small specks and holes gone); empty when the lip is about as light as the
    skin."""
    import cv2

    from mustache.paint.styles import search_polygon

    xy = np.asarray(points, np.float64)[:, :2]
    d, _, _ = eye_frame(xy)
    poly = region_polygon(xy, config.region)
    search = search_polygon(xy)
    box = box_of(np.concatenate([poly, search]), 0.25 * d, image.shape[:2])
    x0, y0, x1, y1 = box
    shape = (y1 - y0, x1 - x0)
    from mustache.strands.haircolor import rgb_to_lab

    light = rgb_to_lab(image[y0:y1, x0:x1])[..., 0].astype(np.float32)  # L*, 0-100
    ring = skin_ring(xy, poly, box, config)
    if ring.sum() < 20:
        return np.zeros(image.shape[:2], bool)
    drop = np.median(light[ring]) - cv2.GaussianBlur(light, (0, 0), 0.02 * d)
    inside = polygon_mask(search - [x0, y0], shape) > 0.5
    lips = polygon_mask(xy[list(LIPS)] - [x0, y0], shape) > 0
    # a mustache is clearly darker than the skin (stubble and the philtrum's shade are not)
    hard = ((drop > max(7.0, 0.45 * float(np.percentile(drop[inside], 98)))) & inside
            & ~lips).astype(np.uint8)
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * round(0.03 * d) + 1,) * 2)
    hard = cv2.morphologyEx(hard, cv2.MORPH_OPEN, k)
    # the philtrum's lighter groove splits many mustaches in two: bridge gaps across it
    wide = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * round(0.12 * d) + 1,
                                                         2 * round(0.03 * d) + 1))
    hard = cv2.morphologyEx(hard, cv2.MORPH_CLOSE, wide) & inside.astype(np.uint8)
    out = np.zeros(image.shape[:2], bool)
    out[y0:y1, x0:x1] = hard > 0
    return out


def style_from_photo(photo, face: int | None = None, detector: FaceDetector | None = None,
                     config: DonorConfig = DonorConfig(), min_area: float = 0.25):
    """The shape of the real mustache in ``photo`` (RGB uint8 (H, W, 3) or a path) as a
    :class:`mustache.paint.styles.Style`: its outline (:func:`mustache_mask`, in the face's own
    (u, v) frame) fits every target face; the hairs are drawn fresh there, in the target's
    colour. ``face``: which face (largest first). BadInput when the photo cannot be read, has
    no such face, or no mustache (its mask under ``min_area`` x the area between the nose
    and the upper lip)."""
    from data_prep.landmarks import MediaPipeDetector
    from mustache.paint.styles import search_polygon, style_from_mask

    image = _donor_rgb(photo)
    own = detector is None
    det = MediaPipeDetector() if own else detector
    try:
        found = _pick_face(det, image, face, config)
    finally:
        if own:
            det.close()
    xy = np.asarray(found.points, np.float64)[:, :2]
    mask = mustache_mask(image, xy, config)
    area = float(polygon_mask(search_polygon(xy), image.shape[:2]).sum())
    name = Path(photo).name if isinstance(photo, str | os.PathLike) else "the photo"
    if mask.sum() < min_area * area:  # (clean-shaven lips measured 0-0.21, real ones 0.32+)
        raise BadInput(f"{name}: no mustache found (the upper lip is about as light as the "
                       f"skin around it)")
    return style_from_mask(mask, xy, f"from {name}")


def transfer(target, donor, donor_face: int | None = None, options: ApplyOptions = ApplyOptions(),
             detector=None, config: DonorConfig = DonorConfig()) -> ApplyResult:
    """One-shot: ``donor``'s mustache onto ``target`` (each an RGB array or a path)."""
    with DonorTransfer(donor, donor_face, detector, config) as t:
        return t.apply(target, options)


def _photos(where) -> list[Path]:
    from data_prep.image_io import is_image_path

    if isinstance(where, str | os.PathLike):
        p = Path(where)
        if p.is_dir():
            return sorted(q for q in p.rglob("*") if q.is_file() and is_image_path(q))
        if p.is_file():
            return [p]
        raise BadInput(f"not found: {p}")
    return [Path(q) for q in where]


def cycle_pairs(targets, donors) -> Iterator[tuple[Path, Path]]:
    """(target, donor) path pairs: every target photo once, the donors taken in turn and
    cycled. ``targets``/``donors``: a folder (searched recursively, sorted), one file, or a
    sequence of paths."""
    t, d = _photos(targets), _photos(donors)
    if not d:
        raise BadInput(f"no donor photos in {donors}")
    for i, p in enumerate(t):
        yield p, d[i % len(d)]


__all__: Sequence[str] = ("CONTROL_INDICES", "DonorConfig", "DonorFace", "DonorTransfer",
                          "DonorWarning",
                          "control_points", "cycle_pairs", "match_colour", "mustache_mask",
                          "piecewise_map", "style_from_photo", "transfer")
