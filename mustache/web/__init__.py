"""`mustache serve`: a local web page over the library (FastAPI + one static page).

- :mod:`mustache.web.photos`: an upload's bytes -> upright RGB plus what its download keeps
  (format, EXIF, colour profile); the pixel limit read from the header, before decoding.
- :mod:`mustache.web.exif`: the EXIF a JPEG download carries (no orientation, no GPS unless
  kept; what cannot be written back left out).
- :mod:`mustache.web.options`: a request's settings, checked at the edge into one object.
- :mod:`mustache.web.store`: per-browser sessions (made by page loads, with a page token) and
  results under random tokens in the server's own temporary folder, expired and cleaned.
- :mod:`mustache.web.guard`: host, cross-site and token checks, security headers, errors.
- :mod:`mustache.web.jobs`: the worker thread and the queue in front of it (503 past it).
- :mod:`mustache.web.upload`: a body read under size and time limits.
- :mod:`mustache.web.engine`: the model loaded once, a face search sized to the photo, the
  100% crops; one job at a time.
- :mod:`mustache.web.work`: what each request does on the worker thread.
- :mod:`mustache.web.app`: the FastAPI app (:func:`create_app`) and its routes; the page is
  ``static/``. :mod:`mustache.web.server`: its socket and uvicorn.
"""
