"""The checks in front of every route, as plain ASGI middleware (no task or body buffering of
its own, so a kept-alive request costs what the route costs).

- **Host**: loopback names only unless the page is exposed on purpose, so a web page elsewhere
  cannot reach this server through DNS rebinding (400).
- **Cross-site**: any web page the user visits can send requests to 127.0.0.1. A request that
  changes anything (every method but GET, HEAD and OPTIONS) is refused (403) unless its
  ``Origin`` is this server's own (when sent) and its ``Sec-Fetch-Site`` is same-origin or
  none (when sent), it carries the session cookie (SameSite=Strict: a browser never sends it
  from another site) and the session's page token in ``X-Mustache-Token`` (a header no form,
  image or plain request from another site can send). Only then is its body read.
- **Headers**: the Content-Security-Policy and friends on every answer.
- **Errors**: an error nobody expected is a 500 with one line, logged by its type and where,
  never its message or the request's headers (a KeyError's message once printed a session
  cookie); a client gone mid-request is logged not at all.
"""

from __future__ import annotations

import logging
import traceback

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import ClientDisconnect, cookie_parser
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mustache.web.store import SessionGone, Store

COOKIE = "mustache_session"
TOKEN_HEADER = "x-mustache-token"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
SAME_SITE = ("same-origin", "none")  # Sec-Fetch-Site values of the page itself or the user
# the page loads nothing from elsewhere, and the browser is told to refuse it if it tried
CSP = ("default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; "
       "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
    "cross-origin-resource-policy": "same-origin",  # no other site may embed a result
}


class Guard:
    """See the module's docstring. ``allowed_hosts``: Host names answered, ``("*",)`` all."""

    def __init__(self, app: ASGIApp, store: Store, allowed_hosts: tuple[str, ...],
                 log: logging.Logger | None = None):
        self.app, self.store, self.allowed_hosts = app, store, allowed_hosts
        self.log = log or logging.getLogger("mustache.serve")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                for k, v in HEADERS.items():
                    headers[k] = v
            await send(message)

        headers = Headers(scope=scope)
        unsafe = scope["method"] not in SAFE_METHODS
        try:
            # the store's lookup may clean expired sessions (streams, folders): off the loop
            session = await run_in_threadpool(self._check, scope, headers, unsafe)
            scope.setdefault("state", {})["session"] = session
            if unsafe:
                with self.store.hold(session):
                    await self.app(scope, receive, send_with_headers)
            else:
                await self.app(scope, receive, send_with_headers)
        except (Refusal, SessionGone) as e:
            status = e.status if isinstance(e, Refusal) else 403
            # the body is never read: the connection closes after the answer
            close = {"connection": "close"} if unsafe else None
            await JSONResponse({"error": str(e)}, status, close)(scope, receive, send_with_headers)
        except ClientDisconnect:
            pass  # the client went away mid-upload: nobody to answer, nothing to log
        except Exception as e:
            where = "/".join(scope["path"].split("/")[:3])  # never a result's token
            self.log.error("internal error in %s %s: %s\n%s", scope["method"], where,
                           type(e).__name__, "".join(traceback.format_tb(e.__traceback__)))
            if not started:
                await JSONResponse({"error": "internal error (logged by the server)"}, 500)(
                    scope, receive, send_with_headers)

    def _check(self, scope: Scope, headers: Headers, unsafe: bool) -> str | None:
        """-> the request's session (None when it has none); Refusal when it is refused."""
        host = _hostname(headers.get("host", ""))
        if "*" not in self.allowed_hosts and host not in self.allowed_hosts:
            raise Refusal(400, f"host {host!r} is not served here")
        cookie = _cookie(headers.get("cookie", ""))
        if not unsafe:
            return self.store.find(cookie)
        origin = headers.get("origin")
        own = f"{scope.get('scheme', 'http')}://{headers.get('host', '')}".lower()
        if origin is not None and origin.lower() != own:
            raise Refusal(403, "refused: this request came from another web site")
        if headers.get("sec-fetch-site", "same-origin") not in SAME_SITE:
            raise Refusal(403, "refused: this request came from another web site")
        session = self.store.find(cookie)
        if session is None:
            raise Refusal(403, "this page's session has ended (or there was none); reload the page")
        if not self.store.token_ok(session, headers.get(TOKEN_HEADER)):
            raise Refusal(403, "refused: this request does not carry the page's token; reload "
                               "the page")
        return session


class Refusal(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def _hostname(host: str) -> str:
    host = host.strip().lower()
    if host.startswith("["):  # [::1]:8000
        return host[1:host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _cookie(header: str) -> str | None:
    return cookie_parser(header).get(COOKIE) or None if COOKIE in header else None
