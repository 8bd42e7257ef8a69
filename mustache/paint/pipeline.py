"""One per-face pipeline for generated and donor mustaches.

A :class:`Painter` (the GAN, or a donor's real mustache) says, per face, what changes at the
window's resolution: the mustache's place, shape, density and darkness. :func:`run_faces`
does the rest the same way for both: which faces to skip (not selected, too small, already
bearded), the hair colour (the painter's own, ``--color``, or the person's own hair), the
full-resolution hair stage (:mod:`mustache.strands.hair`), ``strength`` (the share of the change
kept) and the Poisson blend. Nothing outside a face's region support changes. A style
(``options.style``, :mod:`mustache.paint.styles`) other than natural replaces the support with its
own feathered outline (which may reach the jaw or the cheeks) and sets the hairs' flow; the
painter's change still sets their density inside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np

from mustache.paint.options import ApplyOptions, ApplyResult, FaceResult, Skip, Skipped, skip_reason
from mustache.strands.existing_hair import FaceScorer
from mustache.strands.hair import Flow, HairConfig
from mustache.strands.haircolor import HairColour


@dataclass(frozen=True, eq=False)
class Painted:
    """One face's mustache at the window's resolution, over a photo box."""

    box: tuple[int, int, int, int]  # (x0, y0, x1, y1) photo px, inside the photo
    change: np.ndarray  # (h, w, 3) float32: what the painter adds to the photo there
    support: np.ndarray  # (h, w) float32 in [0, 1]: the soft region; 0 = never changes
    colour: HairColour | None = None  # the painter's own hair colour (a donor's)
    # whether the hair stage lays its nose-to-lip floor under this change (HairConfig.floor):
    # the GAN's change needs it (it paints little over wide-open, laughing mouths); a donor's
    # real mustache is the whole shape and says False. The painter knows, so it says; the
    # floor itself stays in the hair stage, the one place that sees the guide's darkening
    floor: bool = True


class Painter(Protocol):
    """Paints the mustache of each face: ``faces`` are ``FaceLandmarks`` of ``image`` (RGB
    uint8 (H, W, 3)); one :class:`Painted`, or why it cannot (a :class:`Skipped`, or a note:
    :attr:`Skip.PAINTER`), per face."""

    def paint(self, image: np.ndarray, faces: Sequence, options: ApplyOptions
              ) -> list[Painted | Skipped | str]: ...


def hair_colour(image: np.ndarray, landmarks: np.ndarray, painted: Painted,
                options: ApplyOptions, segmenter=None) -> HairColour:
    """One face's hair colour: ``options.color`` when given, else the painter's own (a
    donor's hair), else the person's own hair (:func:`mustache.strands.person_colour.person_colour`:
    facial hair, else eyebrows and head hair; ``segmenter`` a
    ``data_prep.segment.PersonSegmenter`` for the head hair)."""
    from mustache.strands.haircolor import named_colour
    from mustache.strands.person_colour import person_colour

    if options.color:
        return named_colour(options.color)
    if painted.colour is not None:
        return painted.colour
    return person_colour(image, landmarks, segmenter=segmenter)


def styled(shape: tuple[int, int], points: np.ndarray, painted: Painted, options: ApplyOptions,
           hair: HairConfig = HairConfig()) -> tuple[Painted, Flow | None]:
    """The painter's work under ``options.style``: natural keeps it as it is (flow None);
    another style moves it to the style's own box, (h, w) of a photo of ``shape``, with the
    style's feathered outline as the support and the painter's change (what of it lies
    inside) as the guide, and gives the style's flow there. ``points`` (478, 2+) photo px."""
    from mustache.paint.styles import fit_style, style_box
    from mustache.strands.hair import face_frame

    style = options.style
    if style.outline is None:
        return painted, None
    xy = np.asarray(points, np.float64)[:, :2]
    mm = face_frame(xy, hair.face_cm).px_per_mm
    x0, y0, x1, y1 = style_box(style, xy, mm, shape)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return painted, None
    change = np.zeros((y1 - y0, x1 - x0, 3), np.float32)
    px0, py0, px1, py1 = painted.box
    ix0, iy0, ix1, iy1 = max(x0, px0), max(y0, py0), min(x1, px1), min(y1, py1)
    if ix1 > ix0 and iy1 > iy0:
        change[iy0 - y0:iy1 - y0, ix0 - x0:ix1 - x0] = \
            painted.change[iy0 - py0:iy1 - py0, ix0 - px0:ix1 - px0]
    local = np.asarray(points, np.float64).copy()  # box px, the depth kept (hidden triangles)
    local[:, :2] -= [x0, y0]
    fit = fit_style(style, local, (y1 - y0, x1 - x0))
    # Nothing outside the outline changes, with or without the hair stage: this mask is the
    # one the no-hair path (paint_face) relies on; render masks again by the support because
    # it is also called on its own (benchmarks, sheets) with an unmasked change. The box
    # (style_box, the outline through the photo's mesh) and the fit (through the box's mesh,
    # with depth) map the outline twice: once to size the box, once inside it; the first is
    # a K-point polygon, cheap beside the fit's whole-image warp.
    return Painted((x0, y0, x1, y1), change * fit.mask[..., None], fit.support,
                   painted.colour, painted.floor), fit


def paint_face(image: np.ndarray, points: np.ndarray, painted: Painted, options: ApplyOptions,
               index: int = 0, hair: HairConfig = HairConfig(), flow: Flow | None = None,
               segmenter=None) -> tuple[np.ndarray, np.ndarray, int, str | None]:
    """One face's patch over ``painted.box``: the hair stage (unless ``options.hair`` is off
    or the label asks for no mustache) over the painter's change, and ``strength``.
    ``points`` (478, 2+) photo px; ``flow``: a style's outline and flow there (see
    :func:`styled`). -> (patch uint8 (h, w, 3), blend alpha float32 (h, w), hairs drawn,
    where the hair colour came from)."""
    from mustache.strands.hair import render

    x0, y0, x1, y1 = painted.box
    here = image[y0:y1, x0:x1]
    hair = options.style.hair_config(hair, options.length, options.thickness, options.curl)
    if not painted.floor:
        hair = replace(hair, floor=0.0)
    if options.hair and options.label == 1:
        colour = hair_colour(image, points, painted, options, segmenter)
        # box px, without the depth: with it, roots under the nose's overhang lift onto the
        # nose and grow past the region (tests/paint/test_donor.py); the support already
        # follows the depth
        r = render(here, painted.change, painted.support, np.asarray(points)[:, :2] - [x0, y0],
                   colour, seed=(options.seed, index), config=hair, flow=flow)
        new, strands, source = r.patch, r.strands, colour.source
    else:
        new, strands, source = here.astype(np.float32) + painted.change, 0, None
    if options.strength < 1:
        new = here + options.strength * (new - here)
    patch = np.clip(np.rint(new), 0, 255).astype(np.uint8)
    # the patch already fades into the photo (the painter's soft support): the blend's alpha
    # is the support itself, so edges are not faded twice
    return patch, (painted.support > 0).astype(np.float32), strands, source


def run_faces(image: np.ndarray, faces: Sequence, painter: Painter, options: ApplyOptions,
              scorer: FaceScorer | None = None, hair: HairConfig = HairConfig(),
              segmenter=None) -> ApplyResult:
    """Mustaches on ``faces`` (``FaceLandmarks``, largest first) of ``image`` RGB uint8
    (H, W, 3). ``scorer``: when given, a face that already has a mustache (the classifier's
    score with evidence of hair, :mod:`mustache.strands.existing_hair`) is left as it is (unless
    ``options.force``). Returns the new image and one FaceResult a
    face, in face order."""
    from mustache.paint.blend import blend_patch

    results: dict[int, FaceResult] = {}
    todo: list[tuple[int, object, dict]] = []
    for i, f in enumerate(faces):
        base = dict(index=i, box=tuple(float(v) for v in f.box), score=float(f.score),
                    landmarks=np.asarray(f.points, np.float32)[:, :2])
        skip = skip_reason(i, f, options)
        if skip is None:
            todo.append((i, f, base))
        else:
            results[i] = FaceResult(**base, blended=False, note=skip.note, reason=skip.reason)
    before: dict[int, float] = {}
    if scorer is not None and todo and options.label == 1:
        from mustache.strands.existing_hair import decide, hair_evidence

        # evidence of hair (texture darker than the face's own skin), not darkness alone,
        # measured on the face turned upright (mustache.strands.existing_hair)
        keep = []
        for i, f, base in todo:
            d = decide(hair_evidence(image, f.points, scorer))
            before[i] = d.score
            if d.skip and not options.force:
                results[i] = FaceResult(**base, blended=False, mustache_before=d.score,
                                        note=d.note(), reason=Skip.HAS_HAIR)
            else:
                keep.append((i, f, base))
        todo = keep
    out = image.copy()
    if todo:
        painted = painter.paint(image, [f for _, f, _ in todo], options)
        for (i, f, base), p in zip(todo, painted, strict=True):
            if not isinstance(p, Painted):
                skip = p if isinstance(p, Skipped) else Skipped(Skip.PAINTER, p)
                results[i] = FaceResult(**base, blended=False, note=skip.note, reason=skip.reason,
                                        mustache_before=before.get(i))
                continue
            p, flow = styled(image.shape[:2], f.points, p, options, hair)
            patch, alpha, strands, source = paint_face(image, f.points, p, options, i, hair, flow,
                                                       segmenter)
            # patches come from the original photo, so one face's blend never feeds another's
            out = blend_patch(out, patch, alpha, p.box, clone=options.clone, out=out)
            results[i] = FaceResult(**base, blended=True, region_box=tuple(p.box),
                                    mustache_before=before.get(i), hairs=strands,
                                    colour=source)
    return ApplyResult(out, tuple(results[i] for i in sorted(results)))
