"""`mustache serve`: a local web page over the library (FastAPI + one static page).

- :mod:`mustache.web.photos`: an upload's bytes -> upright RGB plus what its download keeps
  (format, EXIF less orientation, colour profile); limits and the one-line reasons.
- :mod:`mustache.web.store`: per-browser sessions and results under random tokens in the
  server's own temporary folder, expired and cleaned.
- :mod:`mustache.web.engine`: the model loaded once, a face search sized to the photo, the
  100% crops; one job at a time.
- :mod:`mustache.web.app`: the FastAPI app (:func:`create_app`) and its routes; the page is
  ``static/``.
"""
