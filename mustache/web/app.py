"""The web page's server: :func:`create_app` builds the FastAPI app with its own model, store,
worker threads and limits; nothing lives at module level.

A request passes, in order: the guard (:mod:`mustache.web.guard`: host, cross-site, session and
page token), its settings (:mod:`mustache.web.options`), a place in the queue
(:mod:`mustache.web.jobs`, else 503), its body under size and time limits
(:mod:`mustache.web.upload`), then its work on a worker thread (:mod:`mustache.web.work`). A
session is made only by loading the page, which carries the session's token. Every refusal is
``{"error": "one line"}`` with a 4xx status (503 when busy), which the page shows as it is.
"""

from __future__ import annotations

import html
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from mustache.errors import BadInput, NoFace
from mustache.web import work
from mustache.web.engine import EngineConfig, ModelServer
from mustache.web.guard import COOKIE, Guard
from mustache.web.jobs import Busy, Jobs, JobsConfig
from mustache.web.options import MAX_VARIATIONS, BadSetting, parse_settings
from mustache.web.photos import Limits, TooLarge
from mustache.web.store import SessionGone, Store, StoreConfig
from mustache.web.upload import Stalled, Timeouts, read_body

STATIC = Path(__file__).resolve().parent / "static"
LOOPBACK = ("127.0.0.1", "localhost", "::1")
TOKEN_META = '<meta name="mustache-token" content="">'
THREADS = 4  # anyio's threads (static files, downloads): few, each a glibc arena
# a refusal's status by its type (the first that matches); BadInput else 400
STATUS: tuple[tuple[type[Exception], int], ...] = (
    (TooLarge, 413), (Stalled, 408), (BadSetting, 422), (SessionGone, 403))


@dataclass(frozen=True)
class ServeConfig:
    limits: Limits = Limits()
    store: StoreConfig = StoreConfig()
    engine: EngineConfig = EngineConfig()
    jobs: JobsConfig = JobsConfig()
    timeouts: Timeouts = Timeouts()
    keep_exif: bool = False  # downloads keep EXIF whole (GPS included); the page can ask too
    # Host headers answered: loopback names only unless exposed on purpose (--host), so a web
    # page elsewhere cannot reach this server through DNS rebinding
    allowed_hosts: tuple[str, ...] = field(default=LOOPBACK)
    temp: Path | None = None  # where the store's folder goes (None: the system's)


def create_app(config: ServeConfig = ServeConfig(), model: ModelServer | None = None) -> FastAPI:
    """The app, holding its model (loaded here once, or ``model`` to share one: its owner
    closes it), its store and worker threads; what it made is closed when it shuts down."""
    own = model is None
    model = model or ModelServer(config.engine)
    store = Store(config.store, temp=config.temp)
    jobs = Jobs(config.jobs)
    page = (STATIC / "index.html").read_text()
    examples: dict[str, bytes] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        import anyio.to_thread

        anyio.to_thread.current_default_thread_limiter().total_tokens = THREADS
        try:
            yield
        finally:
            jobs.close()
            store.close()
            if own:
                model.close()

    app = FastAPI(title="mustache", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None)
    app.state.model, app.state.store, app.state.config, app.state.jobs = model, store, config, jobs
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(Guard, store=store, allowed_hosts=config.allowed_hosts)

    @app.exception_handler(BadInput)
    async def bad_input(request: Request, e: BadInput):
        status = next((s for t, s in STATUS if isinstance(e, t)), 400)
        # a refused body may be unread: the connection is closed after the answer
        close = {"connection": "close"} if status in (408, 413) else None
        return JSONResponse({"error": _line(e)}, status, close)

    @app.exception_handler(NoFace)
    async def no_face(request: Request, e: NoFace):
        return JSONResponse({"error": _line(e)}, 422)

    @app.exception_handler(Busy)
    async def busy(request: Request, e: Busy):
        return JSONResponse({"error": str(e)}, 503, {"retry-after": str(e.retry_after_s),
                                                     "connection": "close"})

    @app.exception_handler(HTTPException)
    async def refused(request: Request, e: HTTPException):
        return JSONResponse({"error": str(e.detail)}, e.status_code)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, e: RequestValidationError):
        first = e.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())[1:]) or "request"
        return JSONResponse({"error": f"{where}: {first.get('msg', 'invalid')}"}, 422)

    @app.get("/", include_in_schema=False)
    async def index(request: Request):
        """The page, with its session's token. Only a page load makes a session, and only a
        top-level one (an <img> or <iframe> elsewhere pointing here makes none)."""
        cookie = request.cookies.get(COOKIE)
        top = request.headers.get("sec-fetch-dest", "document") == "document"
        address = request.client.host if request.client else ""
        # the store may close streams and remove folders of expired sessions: off the loop
        opened = await run_in_threadpool(store.open, cookie, address, new=top)
        token = opened[1] if opened else ""
        response = HTMLResponse(page.replace(TOKEN_META, TOKEN_META.replace(
            'content=""', f'content="{html.escape(token)}"')))
        if opened and opened[0] != cookie:
            response.set_cookie(COOKIE, opened[0], httponly=True, samesite="strict")
        return response

    @app.get("/api/config")
    async def settings():
        from mustache.paint.styles import STYLES
        from mustache.strands.haircolor import COLOUR_NAMES

        return {"styles": list(STYLES), "colours": list(COLOUR_NAMES),
                "examples": list(work.EXAMPLES), "max_bytes": config.limits.max_bytes,
                "max_pixels": config.limits.max_pixels, "max_variations": MAX_VARIATIONS,
                "keep_exif": config.keep_exif}

    @app.get("/api/examples/{name}")
    async def example(name: str):
        if name not in work.EXAMPLES:
            raise HTTPException(404, f"no example called {name!r}")
        if name not in examples:  # made once, on the worker thread
            examples[name] = await jobs.run(lambda: work.example_png(name))
        return Response(examples[name], media_type="image/png")

    async def run(request: Request, job):
        """A request's settings, place, body and work, in that order."""
        s = parse_settings({k: request.query_params.getlist(k) for k in request.query_params},
                           keep_exif=config.keep_exif)
        async with jobs.place():
            data = await read_body(request, config.limits.max_bytes, config.timeouts)
            j = work.Job(model, store, config.limits, request.state.session,
                         config.jobs.trim_pixels)
            return await jobs.run(lambda: job(j, data, s))

    @app.post("/api/donor")
    async def donor(request: Request):
        return await run(request, work.donor)

    @app.post("/api/apply")
    async def apply(request: Request):
        return await run(request, work.apply)

    @app.post("/api/variations")
    async def variations(request: Request):
        return await run(request, work.variations)

    @app.post("/api/live")
    async def live(request: Request):
        """One webcam frame (the page sends the next when this one is back) -> it as a JPEG
        with its mustaches."""
        body, painted = await run(request, work.live)
        return Response(body, media_type="image/jpeg", headers={"X-Mustache-Faces": str(painted)})

    @app.post("/api/live/stop")
    async def live_stop(request: Request):
        return {"stopped": await run_in_threadpool(store.stop_live, request.state.session)}

    @app.get("/api/results/{token}")
    async def result(request: Request, token: str, download: bool = False):
        r = await run_in_threadpool(store.get, request.state.session, token)
        if r is None:
            raise HTTPException(404, "this result has expired or belongs to another page; "
                                     "apply again")
        return FileResponse(r.path, media_type=r.media_type, filename=r.filename,
                            content_disposition_type="attachment" if download else "inline")

    return app


def _line(e: Exception) -> str:
    return " ".join(str(e).split())
