"""The web page's server: :func:`create_app` builds the FastAPI app with its own model, store
and limits; nothing lives at module level.

Photos come as the raw request body (``fetch(url, {body: file})``), not multipart: the body is
read with the size limit as it streams, and nothing is spooled to a temporary file outside the
store's own folder. Every refusal is ``{"error": "one line"}`` with a 4xx status, which the page
shows as it is.
"""

from __future__ import annotations

import base64
import re
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import numpy as np
from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from data_prep.image_io import encode_image
from mustache.errors import BadInput, NoFace
from mustache.web.engine import EngineConfig, ModelServer, search_width
from mustache.web.photos import Limits, Photo, encode_crop, encode_like, read_photo
from mustache.web.store import Store, StoreConfig

STATIC = Path(__file__).resolve().parent / "static"
COOKIE = "mustache_session"
LOOPBACK = ("127.0.0.1", "localhost", "::1")
EXAMPLES = ("astronaut", "two-astronauts")  # built from scikit-image's public-domain portrait
MAX_VARIATIONS = 6
LIVE_RATE = 10.0  # webcam frames a second the tracker's smoothing expects (one at a time, ~0.1 s each)
LIVE_QUALITY = 80  # the frames sent back: small and quick to encode; they are only shown
# the page loads nothing from elsewhere, and the browser is told to refuse it if it tried
CSP = ("default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; "
       "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")


@dataclass(frozen=True)
class ServeConfig:
    limits: Limits = Limits()
    store: StoreConfig = StoreConfig()
    engine: EngineConfig = EngineConfig()
    # Host headers answered: loopback names only unless exposed on purpose (--host), so a web
    # page elsewhere cannot reach this server through DNS rebinding
    allowed_hosts: tuple[str, ...] = field(default=LOOPBACK)


class Refused(HTTPException):
    """A request refused before any work: its status and one line for the page."""


def create_app(config: ServeConfig = ServeConfig(), model: ModelServer | None = None) -> FastAPI:
    """The app, holding its model (loaded here once, or ``model`` to share one: its owner
    closes it) and its store; what it made is closed when it shuts down."""
    own = model is None
    model = model or ModelServer(config.engine)
    store = Store(config.store)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        try:
            yield
        finally:
            store.close()
            if own:
                model.close()

    app = FastAPI(title="mustache", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None)
    app.state.model, app.state.store, app.state.config = model, store, config
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.middleware("http")
    async def guard(request: Request, call_next):
        host = request.url.hostname or ""
        if "*" not in config.allowed_hosts and host not in config.allowed_hosts:
            return JSONResponse({"error": f"host {host!r} is not served here"}, 400)
        cookie = request.cookies.get(COOKIE)
        request.state.session = store.session(cookie)
        response = await call_next(request)
        if request.state.session != cookie:
            response.set_cookie(COOKIE, request.state.session, httponly=True, samesite="strict")
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.exception_handler(BadInput)
    async def bad_input(request: Request, e: BadInput):
        return JSONResponse({"error": _line(e)}, 400)

    @app.exception_handler(NoFace)
    async def no_face(request: Request, e: NoFace):
        return JSONResponse({"error": _line(e)}, 422)

    @app.exception_handler(HTTPException)
    async def refused(request: Request, e: HTTPException):
        return JSONResponse({"error": str(e.detail)}, e.status_code)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, e: RequestValidationError):
        first = e.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())[1:]) or "request"
        return JSONResponse({"error": f"{where}: {first.get('msg', 'invalid')}"}, 400)

    @app.get("/", include_in_schema=False)
    async def index():
        return FileResponse(STATIC / "index.html", media_type="text/html")

    @app.get("/api/config")
    async def settings():
        from mustache.haircolor import COLOUR_NAMES
        from mustache.styles import STYLES

        return {"styles": list(STYLES), "colours": list(COLOUR_NAMES), "examples": list(EXAMPLES),
                "max_bytes": config.limits.max_bytes, "max_pixels": config.limits.max_pixels,
                "max_variations": MAX_VARIATIONS}

    @app.get("/api/examples/{name}")
    async def example(name: str):
        if name not in EXAMPLES:
            raise Refused(404, f"no example called {name!r}")
        return Response(await run_in_threadpool(_example_png, name), media_type="image/png")

    @app.post("/api/donor")
    async def donor(request: Request):
        data = await _body(request, config.limits)

        def work():
            photo = read_photo(data, config.limits)
            transfer = model.donor(photo.rgb)
            return store.put_donor(request.state.session, transfer), list(transfer.warnings)

        token, warnings = await run_in_threadpool(work)
        return {"donor": token, "warnings": warnings}

    @app.post("/api/apply")
    async def apply(request: Request, opts: Annotated[_Options, Query()]):
        data = await _body(request, config.limits)
        session = request.state.session

        def work():
            t = {"start": time.perf_counter()}
            photo = read_photo(data, config.limits)
            t["decode"] = time.perf_counter()
            options, engine = _options(opts), _donor(store, session, opts.donor)
            faces = _faces(model, photo)
            t["detect"] = time.perf_counter()
            result = model.apply(photo.rgb, options, faces, engine)
            t["apply"] = time.perf_counter()
            encoded = encode_like(result.image, photo)
            name = f"{_stem(opts.name)}_mustache{photo.suffix}"
            token = store.put(session, encoded, name, f"image/{photo.format.lower()}")
            t["encode"] = time.perf_counter()
            crops = [{"index": c["index"], "box": c["box"], "before": _data_url(c["before"]),
                      "after": _data_url(c["after"])} for c in model.crops(photo.rgb, result)]
            t["crops"] = time.perf_counter()
            keys = list(t)
            return {"result": token, "url": f"/api/results/{token}", "filename": name,
                    "width": int(photo.rgb.shape[1]), "height": int(photo.rgb.shape[0]),
                    "format": photo.format, "bytes": len(encoded),
                    "faces": [{"index": f.index, "box": [round(float(v), 1) for v in f.box],
                               "blended": f.blended, "note": f.note} for f in result.faces],
                    "crops": crops, "warnings": list(result.warnings),
                    "seconds": {b: round(t[b] - t[a], 4) for a, b in zip(keys, keys[1:], strict=False)}}

        return await run_in_threadpool(work)

    @app.post("/api/variations")
    async def variations(request: Request, opts: Annotated[_Options, Query()],
                         count: Annotated[int, Query(ge=1, le=MAX_VARIATIONS)] = 4):
        data = await _body(request, config.limits)
        session = request.state.session

        def work():
            photo = read_photo(data, config.limits)
            options, engine = _options(opts), _donor(store, session, opts.donor)
            faces = _faces(model, photo)
            seeds = [options.seed + i for i in range(count)]
            tiles = model.variations(photo.rgb, options, faces, seeds, engine)
            if not tiles:
                raise BadInput("no face was changed (every face is off or already has a mustache)")
            return {"variations": [{"seed": s, "crop": _data_url(c)} for s, c in tiles]}

        return await run_in_threadpool(work)

    @app.post("/api/live")
    async def live(request: Request, opts: Annotated[_Options, Query()]):
        """One webcam frame (the page sends the next when this one is back) -> it as a JPEG
        with its mustaches, by the session's own stream (made on the first frame, and again
        when the settings change)."""
        data = await _body(request, config.limits)
        session = request.state.session

        def work():
            photo = read_photo(data, config.limits)
            key = opts.model_copy(update={"name": ""})  # the file name is no setting here
            options, engine = _options(opts), _donor(store, session, opts.donor)
            stream = store.live(session, key, lambda: model.live(options, engine, LIVE_RATE))
            out, painted = stream.process(photo.rgb)
            if photo.format == "JPEG" and np.array_equal(out, photo.rgb):
                body = data  # nothing painted: the frame as it came, not re-encoded
            else:
                body = encode_image(out, ".jpg", LIVE_QUALITY)
            return Response(body, media_type="image/jpeg",
                            headers={"X-Mustache-Faces": str(painted)})

        return await run_in_threadpool(work)

    @app.post("/api/live/stop")
    async def live_stop(request: Request):
        return {"stopped": store.stop_live(request.state.session)}

    @app.get("/api/results/{token}")
    async def result(request: Request, token: str, download: bool = False):
        r = store.get(request.state.session, token)
        if r is None:
            raise Refused(404, "this result has expired or belongs to another page; apply again")
        return FileResponse(r.path, media_type=r.media_type, filename=r.filename,
                            content_disposition_type="attachment" if download else "inline")

    return app


class _Options(BaseModel):
    """The page's settings, as query parameters (FastAPI checks the types)."""

    model_config = ConfigDict(frozen=True)

    seed: int = 0
    strength: float = 1.0
    style: str = "natural"
    color: str = ""  # "" = from the eyebrows
    length: float = 1.0
    thickness: float = 1.0
    curl: float = 1.0
    faces: str = ""  # "0,2": only these faces; "" all; "none" none
    force: bool = False
    donor: str = ""  # a token from /api/donor; "" = the generator
    name: str = "photo"  # the upload's file name, for the download's


def _options(o: _Options):
    from mustache.apply import ApplyOptions
    from mustache.styles import style_named

    if o.faces in ("", "all"):
        faces = None
    elif o.faces == "none":
        faces = ()
    else:
        try:
            faces = tuple(int(v) for v in o.faces.split(","))
        except ValueError:
            raise BadInput(f"faces must be numbers like 0,2, got {o.faces!r}") from None
    try:
        return ApplyOptions(seed=o.seed, strength=o.strength, style=style_named(o.style),
                            color=o.color or None, length=o.length, thickness=o.thickness,
                            curl=o.curl, faces=faces, force=o.force)
    except BadInput:
        raise
    except ValueError as e:  # the options' own checks name the option and its value
        raise BadInput(str(e)) from None


def _donor(store: Store, session: str, token: str):
    if not token:
        return None
    engine = store.donor(session, token)
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


async def _body(request: Request, limits: Limits) -> bytes:
    """The request's body, refused (413) as soon as it is larger than the limit: a lying or
    missing Content-Length is caught while it streams."""
    too_big = Refused(413, f"the file is too large (the limit is {limits.max_bytes / 2**20:.0f} MB)")
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limits.max_bytes:
        raise too_big
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limits.max_bytes:
            raise too_big
        chunks.append(chunk)
    return b"".join(chunks)


def _stem(name: str) -> str:
    """A safe file-name stem from the upload's name (it is only ever a download's name)."""
    stem = re.sub(r"[^\w.-]+", "_", Path(name.replace("\\", "/")).stem).strip("._")[:80]
    return stem or "photo"


def _data_url(rgb) -> str:
    return "data:image/png;base64," + base64.b64encode(encode_crop(rgb)).decode()


def _example_png(name: str) -> bytes:
    import numpy as np
    from skimage import data

    a = data.astronaut()
    rgb = a if name == "astronaut" else np.hstack([a, a[:, ::-1]])
    return encode_crop(rgb)


def _line(e: Exception) -> str:
    return " ".join(str(e).split())
