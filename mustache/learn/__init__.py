"""Learning: training the GAN (:mod:`mustache.learn.train` with its presets, EMA and
multi-GPU helpers), the mustache classifier (:mod:`mustache.learn.classify`), the networks
(:mod:`mustache.learn.models`), checkpoints, ONNX export and the runtime that runs the shipped
networks without torch (:mod:`mustache.learn.runtime`). It may import :mod:`data_prep`
(datasets), :mod:`mustache.measure.metrics`, :mod:`mustache.errors` and
:mod:`mustache.device`; never the painting, video, batch, web or command rooms."""
