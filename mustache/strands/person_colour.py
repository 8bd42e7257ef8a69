"""The colour for a mustache on a face, from the person's own hair: facial hair first, then
eyebrows and head hair, then the fallback; always a natural hair colour.

    colour = person_colour(rgb, face.points)   # HairColour; colour.source says where from

The pipeline calls this instead of ``haircolor.brow_colour``; ``--color`` and donors set the
colour themselves.
"""

from __future__ import annotations

import numpy as np

from mustache.strands.haircolor import (
    HairColour,
    _check_max_samples,
    _colour,
    _even_subsample,
    brow_colour,
    rgb_to_lab,
)


def person_colour(image: np.ndarray, landmarks: np.ndarray, max_samples: int = 256,
                  segmenter=None) -> HairColour:
    """The colour for a mustache on this face: the person's own hair, best source first.

    image (H, W, 3) uint8 RGB; landmarks (478, 2+) photo px. ``segmenter``: a
    ``data_prep.segment.PersonSegmenter`` for the head hair (else one made for this call).

    1. Own facial hair (:func:`mustache.strands.facial_hair.facial_hair`): stubble, goatee, beard or
       sideburns is the very hair a mustache would be; source "facial hair (chin, jaw)" etc.
    2. Else the eyebrows and the head hair (:func:`mustache.strands.head_hair.head_hair`). Both: L*
       from the brows (facial hair is about as dark as the brows; head hair is often lighter,
       sun-bleached or dyed), a* b* the mean of the two (the head's large area gives a steady
       tint; the brows may be pencilled); "eyebrows + head hair". Light brows (see
       :func:`brow_colour`) with head hair: the head hair's colour, no lighter than the
       brows' limit; "head hair". Only one of them: that one ("eyebrows", "head hair").
    3. Else the fallback (dark brown).
    Every measured colour is projected onto ``haircolor.natural_hair``."""
    from mustache.strands.facial_hair import facial_hair
    from mustache.strands.head_hair import head_hair

    _check_max_samples(max_samples)
    own = facial_hair(image, landmarks)
    if own.colour is not None:
        return own.colour if max_samples >= len(own.colour.samples) else HairColour(
            own.colour.base, own.colour.samples[np.round(np.linspace(
                0, len(own.colour.samples) - 1, max_samples)).astype(np.int64)],
            own.colour.source)
    brows = brow_colour(image, landmarks, max_samples)
    head = head_hair(image, landmarks, segmenter).colour
    if head is None:
        return brows
    if brows.source.startswith("fallback"):
        return HairColour(head.base, _even_subsample(head.samples, max_samples), "head hair")
    b, hd = rgb_to_lab(brows.base), rgb_to_lab(head.base)
    if "light" in brows.source:
        # faint brows carry no colour: the head's, no lighter than the brows' limit
        core = np.array([min(hd[0], b[0]), *hd[1:]])
        samples = rgb_to_lab(head.samples)
        samples[:, 0] *= core[0] / max(hd[0], 1e-6)
        return _colour(core, _even_subsample(samples, max_samples), "head hair")
    core = np.array([b[0], *(b[1:] + hd[1:]) / 2])
    samples = rgb_to_lab(brows.samples)
    samples[:, 1:] += core[1:] - b[1:]  # the brows' spread, moved to the combined tint
    return _colour(core, samples, "eyebrows + head hair")
