"""Painting: the stage that says what changes on each face. A photo goes face search
(:mod:`data_prep.landmarks`) -> canvas (:mod:`data_prep.canvas`, :mod:`data_prep.region`) -> a
painter (the GAN's :class:`mustache.paint.gan.Mustacher` or a real donor's
:class:`mustache.paint.donor.DonorTransfer`) -> the shared per-face pipeline
(:mod:`mustache.paint.pipeline`: skips, styles, the hair stage, strength) -> the Poisson blend
(:mod:`mustache.paint.blend`). It owns the options and results (:mod:`mustache.paint.options`),
the styles (:mod:`mustache.paint.styles`) and the donor's warp (:mod:`mustache.paint.warp`). It may import :mod:`data_prep`,
:mod:`mustache.strands` (the hair stage), :mod:`mustache.learn` (loading and running the
networks, the classifier) and :mod:`mustache.errors`/:mod:`mustache.device`; never the
video, measuring, batch, web or command rooms."""
