"""What each request does once admitted, on a worker thread (:mod:`mustache.web.jobs`): decode
the photo, find its faces, paint, encode, keep the result. Each function takes what it needs
and returns what the page gets; refusals are :class:`mustache.errors.BadInput` and NoFace.
"""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mustache.errors import BadInput, NoFace
from mustache.web.engine import ModelServer, search_width
from mustache.web.jobs import trim
from mustache.web.options import Settings
from mustache.web.photos import Limits, Photo, encode_crop, encode_like, read_photo
from mustache.web.store import Store

EXAMPLES = ("astronaut", "two-astronauts")  # built from scikit-image's public-domain portrait
LIVE_RATE = 10.0  # webcam frames a second the tracker's smoothing expects (one at a time, ~0.1 s each)
LIVE_QUALITY = 80  # the frames sent back: small and quick to encode; they are only shown


@dataclass(frozen=True)
class Job:
    """What every job shares: the model, the store, the upload limits, the session."""

    model: ModelServer
    store: Store
    limits: Limits
    session: str
    trim_pixels: int = 4_000_000  # after a photo this large, freed memory goes back

    def photo(self, data: bytes, settings: Settings) -> Photo:
        return read_photo(data, self.limits, keep_exif=settings.keep_exif)

    def done(self, photo: Photo | None) -> None:
        if photo is not None and photo.rgb.shape[0] * photo.rgb.shape[1] >= self.trim_pixels:
            trim()

    @contextmanager
    def opened(self, data: bytes, settings: Settings) -> Iterator[Photo]:
        """The uploaded photo for one job; after a large one, freed memory goes back (done)."""
        photo = None
        try:
            photo = self.photo(data, settings)
            yield photo
        finally:
            self.done(photo)


def apply(job: Job, data: bytes, s: Settings) -> dict:
    """The photo with its mustaches, kept as a result: its URL, faces, 100% crops, timings."""
    t = {"start": time.perf_counter()}
    with job.opened(data, s) as photo:
        t["decode"] = time.perf_counter()
        engine = _donor(job, s.donor)
        faces = _faces(job.model, photo)
        t["detect"] = time.perf_counter()
        result = job.model.apply(photo.rgb, s.options, faces, engine)
        t["apply"] = time.perf_counter()
        encoded = encode_like(result.image, photo)
        name = f"{_stem(s.name)}_mustache{photo.suffix}"
        token = job.store.put(job.session, encoded, name, f"image/{photo.format.lower()}")
        t["encode"] = time.perf_counter()
        crops = [{"index": c["index"], "box": c["box"], "before": _data_url(c["before"]),
                  "after": _data_url(c["after"])} for c in job.model.crops(photo.rgb, result)]
        t["crops"] = time.perf_counter()
        keys = list(t)
        return {"result": token, "url": f"/api/results/{token}", "filename": name,
                "width": int(photo.rgb.shape[1]), "height": int(photo.rgb.shape[0]),
                "format": photo.format, "bytes": len(encoded),
                "faces": [{"index": f.index, "box": [round(float(v), 1) for v in f.box],
                           "blended": f.blended, "note": f.note} for f in result.faces],
                "crops": crops, "warnings": [*result.warnings, *photo.notes],
                "seconds": {b: round(t[b] - t[a], 4) for a, b in zip(keys, keys[1:], strict=False)}}


def variations(job: Job, data: bytes, s: Settings) -> dict:
    """The first changed face's crop for ``s.count`` seeds from ``s.seed``."""
    with job.opened(data, s) as photo:
        engine = _donor(job, s.donor)
        faces = _faces(job.model, photo)
        seeds = [s.seed + i for i in range(s.count)]
        tiles = job.model.variations(photo.rgb, s.options, faces, seeds, engine)
        if not tiles:
            raise BadInput("no face was changed (every face is off or already has a mustache)")
        return {"variations": [{"seed": seed, "crop": _data_url(c)} for seed, c in tiles]}


def donor(job: Job, data: bytes, s: Settings) -> dict:
    """The photo as the session's donor: its token and warnings."""
    with job.opened(data, s) as photo:
        transfer = job.model.donor(photo.rgb)
        return {"donor": job.store.put_donor(job.session, transfer),
                "warnings": list(transfer.warnings)}


def live(job: Job, data: bytes, s: Settings) -> tuple[bytes, int]:
    """One webcam frame -> (it as a JPEG with its mustaches, how many faces have one), by the
    session's own stream (made on the first frame, and again when the settings change)."""
    from data_prep.image_io import encode_image

    photo = job.photo(data, s)
    engine = _donor(job, s.donor)
    stream = job.store.live(job.session, s.stream_key(),
                            lambda: job.model.live(s.options, engine, LIVE_RATE))
    out, painted = stream.process(photo.rgb)
    if photo.format == "JPEG" and np.array_equal(out, photo.rgb):
        return data, painted  # nothing painted: the frame as it came, not re-encoded
    return encode_image(out, ".jpg", LIVE_QUALITY), painted


def example_png(name: str) -> bytes:
    from skimage import data

    a = data.astronaut()
    rgb = a if name == "astronaut" else np.hstack([a, a[:, ::-1]])
    return encode_crop(rgb)


def _donor(job: Job, token: str):
    if not token:
        return None
    engine = job.store.donor(job.session, token)
    if engine is None:
        raise BadInput("the donor photo has expired; choose it again")
    return engine


def _faces(model: ModelServer, photo: Photo) -> list:
    faces = model.detect(photo.rgb)
    if not faces:
        width = search_width(photo.rgb.shape[:2], model.config)
        raise NoFace(f"no face found in this photo (faces narrower than {width:.0f} px are not "
                     f"searched for in a photo of this size)")
    return faces


def _stem(name: str) -> str:
    """A safe file-name stem from the upload's name (it is only ever a download's name)."""
    stem = re.sub(r"[^\w.-]+", "_", Path(name.replace("\\", "/")).stem).strip("._")[:80]
    return stem or "photo"


def _data_url(rgb) -> str:
    return "data:image/png;base64," + base64.b64encode(encode_crop(rgb)).decode()
