"""Judging a model: `mustache eval` (:mod:`mustache.judge.evaluate`: held-out windows and
photos through the pipeline) and the fairness report (:mod:`mustache.judge.fairness`). On top
of the library: it may import the painters (to run the pipeline it judges),
:mod:`mustache.learn`, :mod:`mustache.strands`, :mod:`mustache.measure`, :mod:`data_prep` and
:mod:`mustache.errors`; never the web or command rooms."""
