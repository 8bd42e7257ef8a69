"""Measuring: figures of windows (:mod:`mustache.measure.metrics`) and of photos at their own
resolution (:mod:`mustache.measure.photo_metrics`), and mouth crops for sheets
(:mod:`mustache.measure.crops`). Pure functions of arrays: it imports nothing of
:mod:`mustache`, so every other room (the hair stage, learning, judging) may use it."""
