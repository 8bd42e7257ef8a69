"""A request's body, read under limits: its size (checked while it streams, so a lying or
missing Content-Length is caught) and its time (a body that stalls, or drips, is cut off).

Photos come as the raw request body (``fetch(url, {body: file})``), not multipart: nothing is
spooled to a temporary file outside the store's own folder.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from starlette.requests import Request

from mustache.errors import BadInput
from mustache.web.photos import TooLarge


class Stalled(BadInput):
    """The body stopped arriving, or took too long (answered 408)."""


@dataclass(frozen=True)
class Timeouts:
    stall_s: float = 30.0  # no byte of the body for this long: 408
    total_s: float = 300.0  # the whole body within this (a 40 MB photo at 0.15 MB/s)

    def __post_init__(self):
        if not (self.stall_s > 0 and self.total_s > 0):
            raise ValueError(f"timeouts must be > 0, got {self.stall_s}, {self.total_s}")


async def read_body(request: Request, max_bytes: int, timeouts: Timeouts = Timeouts()) -> bytes:
    """The body; TooLarge as soon as it passes ``max_bytes``, Stalled when it stalls or takes
    too long. A client that goes away raises starlette's ClientDisconnect."""
    too_big = TooLarge(f"the file is too large (the limit is {max_bytes / 2**20:.0f} MB)")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise too_big
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeouts.total_s
    body = bytearray()
    chunks = request.stream().__aiter__()
    while True:
        wait = min(timeouts.stall_s, deadline - loop.time())
        try:
            if wait <= 0:
                raise TimeoutError
            chunk = await asyncio.wait_for(anext(chunks), wait)  # (asyncio.timeout: 3.11+)
        except StopAsyncIteration:
            return bytes(body)
        except (TimeoutError, asyncio.TimeoutError):  # one class from 3.11, two on 3.10
            why = (f"took more than {timeouts.total_s:g} s" if loop.time() >= deadline
                   else f"stalled (nothing for {timeouts.stall_s:g} s)")
            raise Stalled(f"the upload {why}; try again") from None
        body += chunk
        if len(body) > max_bytes:
            raise too_big
