"""The listening socket and the HTTP server around the app (uvicorn).

The socket is made here, not by uvicorn, so the address printed is the real one (``--port 0``)
and it listens before the model has loaded (a browser opened at once waits instead of being
refused). It is made with ``IPPROTO_TCP``: asyncio sets TCP_NODELAY only on sockets whose
protocol says TCP, and without it every answer on a kept-alive connection waited about 40 ms
(the headers and the body are two writes, and the second waited for the first's delayed ACK).
"""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI


def listen(host: str, port: int, backlog: int = 128) -> socket.socket:
    """A TCP socket bound to ``host``:``port`` and listening; OSError when it cannot be."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # restart at once on the same port
        sock.bind((host, port))
        sock.listen(backlog)
    except OSError:
        sock.close()
        raise
    return sock


def server(app: FastAPI, keep_alive_s: float = 5.0):
    """The uvicorn server for ``app`` (``.run(sockets=[sock])`` serves it): quiet but for
    warnings, no access log (a request's URL can hold a result's token)."""
    import uvicorn

    return uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False,
                                         timeout_keep_alive=keep_alive_s))
