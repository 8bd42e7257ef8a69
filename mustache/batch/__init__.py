"""Batches: files in, files out (:mod:`mustache.batch.files`: the engine `mustache apply`
builds, one photo or video file painted into another), here or on a Dask cluster
(:mod:`mustache.batch.cluster`). The library below the commands: it may import the painters,
:mod:`mustache.video`, :mod:`data_prep` and :mod:`mustache.errors`, never
:mod:`mustache.commands` (the commands call it, not the other way round)."""
