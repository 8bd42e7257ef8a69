"""The hair stage: single hairs drawn at the photo's own resolution over a painter's change
(:mod:`mustache.strands.hair`), their colour (:mod:`mustache.strands.haircolor`, the person's
own from :mod:`mustache.strands.person_colour`, :mod:`mustache.strands.facial_hair`,
:mod:`mustache.strands.head_hair`) and whether a face already has facial hair
(:mod:`mustache.strands.existing_hair`). Named for the strands it draws (``mustache.hair`` is
its main module's old name). It may import :mod:`data_prep`, :mod:`mustache.measure` and
:mod:`mustache.errors`; never the painters, so both painters share it."""
