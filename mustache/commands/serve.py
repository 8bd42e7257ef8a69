"""`mustache serve`: the local web page (needs the `serve` extra: pip install 'mustache[serve]')."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def serve(
    port: Annotated[int, typer.Option(help="Port to listen on (0: any free port).")] = 8000,
    host: Annotated[str, typer.Option(help="Address to listen on. The default is this computer only; another address (0.0.0.0: every network) exposes your page to others on purpose.")] = "127.0.0.1",
    model: Annotated[Path | None, typer.Option(help="GAN checkpoint or run folder (default: the shipped model).")] = None,
    device: Annotated[str, typer.Option(help="auto | cpu | cuda.")] = "cpu",
    max_mb: Annotated[float, typer.Option(help="Largest upload, MB.")] = 40.0,
    max_mp: Annotated[float, typer.Option(help="Largest photo, megapixels (checked in its header, before decoding).")] = 50.0,
    face_share: Annotated[float, typer.Option(help="Search for faces down to about this share of the photo's long side (40 px doubled while within it); smaller is slower on large photos.")] = 0.05,
    keep_exif: Annotated[bool, typer.Option("--keep-exif", help="The page's 'keep all EXIF' box starts ticked: downloads then keep the photo's EXIF whole, GPS location included (by default the location is removed; the page decides per photo).")] = False,
    upload_timeout: Annotated[float, typer.Option(help="An upload that sends nothing for this many seconds is refused (408).")] = 30.0,
    queue: Annotated[int, typer.Option(help="Photos that may wait their turn; more at once are answered 'busy, try again' (503).")] = 8,
) -> None:
    """A page in your browser: drop photos, pick a style, colour and seed, compare before and
    after, look at the mustache at 100%, download at full resolution (format and EXIF kept,
    less the GPS location). It loads nothing from the internet; photos stay in its own
    temporary folder (cleaned)."""
    from mustache.errors import BadInput

    try:
        import uvicorn  # noqa: F401 (checked here: web.server imports it after the model loads)

        from mustache.web.app import LOOPBACK, ServeConfig, create_app
    except ImportError as e:
        raise BadInput(f"the web page needs its extra: pip install 'mustache[serve]' ({e.name} is missing)") from None
    from mustache.web.engine import EngineConfig
    from mustache.web.jobs import JobsConfig, limit_arenas
    from mustache.web.photos import Limits
    from mustache.web.server import listen, server
    from mustache.web.upload import Timeouts

    if not 0 <= port <= 65535:
        raise BadInput(f"--port must be in 0..65535, got {port}")
    try:
        config = ServeConfig(
            limits=Limits(int(max_mb * 2**20), int(max_mp * 1e6)),
            engine=EngineConfig(model=None if model is None else str(model), device=device,
                                face_share=face_share),
            jobs=JobsConfig(waiting=queue),
            timeouts=Timeouts(stall_s=upload_timeout),
            keep_exif=keep_exif,
            allowed_hosts=LOOPBACK if host in LOOPBACK else ("*",))
    except ValueError as e:
        raise BadInput(str(e)) from None
    try:
        sock = listen(host, port)  # bound here, so the address printed is the real one
    except OSError as e:
        raise BadInput(f"cannot listen on {host}:{port} ({e.strerror})") from None
    # before the model's threads start: freed memory is kept per arena, so few arenas
    limit_arenas(2)
    typer.echo("loading the model...")
    app = create_app(config)
    app.state.model.warm_up()
    shown = f"[{host}]" if ":" in host else host
    typer.echo(f"mustache page at http://{shown}:{sock.getsockname()[1]}/  (Ctrl+C stops it)")
    if host not in LOOPBACK:
        typer.echo(f"warning: listening on {host}: others on the network can use this page", err=True)
    server(app).run(sockets=[sock])
