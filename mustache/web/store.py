"""What each browser owns on the server: its results (files in the server's own temporary
folder), its donor and its webcam stream, under random tokens, per session.

Nothing is keyed by a guessable id: a session is a random 256-bit cookie, a result a random
token, and a lookup needs both, so one browser cannot fetch another's photo even with its token.
Results expire ``ttl_s`` after they were made; a session's oldest results and the least recently
seen sessions are dropped past the caps; a webcam stream is closed when stopped, replaced,
idle for ``live_idle_s`` (a tab closed without Stop) or its session goes; :meth:`Store.close`
removes the folder.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TypeVar


class Closable(Protocol):
    def close(self) -> None: ...


L = TypeVar("L", bound=Closable)


@dataclass(frozen=True)
class StoreConfig:
    ttl_s: float = 30 * 60  # a result can be downloaded this long after it was made
    results_per_session: int = 32  # older ones are dropped past this
    max_sessions: int = 64  # the least recently seen session is dropped past this
    live_idle_s: float = 60  # a webcam stream without a frame this long is closed (its
    # detector holds memory, and a closed tab sends no Stop)


@dataclass(frozen=True)
class Result:
    path: Path
    filename: str  # what the browser saves it as
    media_type: str
    made: float


@dataclass
class _Session:
    seen: float
    results: dict[str, Result] = field(default_factory=dict)
    donor: tuple[str, Closable] | None = None
    live: tuple[Hashable, Closable] | None = None  # (its settings, the stream)
    live_seen: float = 0.0


def new_token() -> str:
    return secrets.token_urlsafe(32)


class Store:
    """Sessions, their results and donors. Thread-safe: requests run in a thread pool."""

    def __init__(self, config: StoreConfig = StoreConfig(), clock=time.monotonic):
        self.config = config
        self.root = Path(tempfile.mkdtemp(prefix="mustache-serve-"))
        self._clock = clock
        self._sessions: dict[str, _Session] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ sessions
    def session(self, token: str | None) -> str:
        """The session of a cookie's token, or a new one when it is unknown (a new browser, a
        restarted server, an expired session)."""
        now = self._clock()
        with self._lock:
            self._expire(now)
            if token is None or token not in self._sessions:
                token = new_token()
                self._sessions[token] = _Session(now)
                while len(self._sessions) > self.config.max_sessions:
                    oldest = min(self._sessions, key=lambda t: self._sessions[t].seen)
                    self._drop(oldest)
            self._sessions[token].seen = now
            return token

    # ------------------------------------------------------------------ results
    def put(self, session: str, data: bytes, filename: str, media_type: str) -> str:
        """Keep a result for ``session``; -> its token."""
        token = new_token()
        folder = self.root / session
        folder.mkdir(exist_ok=True)
        path = folder / (token + Path(filename).suffix)
        path.write_bytes(data)
        with self._lock:
            s = self._sessions.get(session)
            if s is None:  # dropped meanwhile
                path.unlink(missing_ok=True)
                raise KeyError(session)
            s.results[token] = Result(path, filename, media_type, self._clock())
            while len(s.results) > self.config.results_per_session:
                old = next(iter(s.results))  # dicts keep insertion order: the oldest first
                s.results.pop(old).path.unlink(missing_ok=True)
        return token

    def get(self, session: str, token: str) -> Result | None:
        """``session``'s result ``token``; None when it is not this session's or has expired."""
        with self._lock:
            self._expire(self._clock())
            s = self._sessions.get(session)
            return None if s is None else s.results.get(token)

    # ------------------------------------------------------------------ donors
    def put_donor(self, session: str, donor: Closable) -> str:
        """A session's donor (one at a time: a new one closes the old); -> its token."""
        token = new_token()
        with self._lock:
            s = self._sessions.get(session)
            if s is None:
                donor.close()
                raise KeyError(session)
            if s.donor is not None:
                s.donor[1].close()
            s.donor = (token, donor)
        return token

    def donor(self, session: str, token: str) -> Closable | None:
        with self._lock:
            s = self._sessions.get(session)
            if s is None or s.donor is None or not secrets.compare_digest(s.donor[0], token):
                return None
            return s.donor[1]

    # ------------------------------------------------------------------ webcam
    def live(self, session: str, key: Hashable, make: Callable[[], L]) -> L:
        """``session``'s webcam stream for the settings ``key``: the one it has, or a new one
        from ``make()`` when it has none or one with other settings (closed: its faces were
        painted with those)."""
        with self._lock:
            s = self._sessions.get(session)
            if s is None:
                raise KeyError(session)
            s.live_seen = self._clock()
            if s.live is not None and s.live[0] == key:
                return s.live[1]  # type: ignore[return-value]
            self._stop_live(s)
            stream = make()
            s.live = (key, stream)
            return stream

    def stop_live(self, session: str) -> bool:
        """Close ``session``'s webcam stream; -> whether it had one."""
        with self._lock:
            s = self._sessions.get(session)
            return s is not None and self._stop_live(s)

    @staticmethod
    def _stop_live(s: _Session) -> bool:
        if s.live is None:
            return False
        s.live[1].close()
        s.live = None
        return True

    # ------------------------------------------------------------------ cleaning
    def _expire(self, now: float) -> None:
        ttl = self.config.ttl_s
        for token in [t for t, s in self._sessions.items() if now - s.seen > ttl]:
            self._drop(token)
        for s in self._sessions.values():
            if s.live is not None and now - s.live_seen > self.config.live_idle_s:
                self._stop_live(s)
            for t in [t for t, r in s.results.items() if now - r.made > ttl]:
                s.results.pop(t).path.unlink(missing_ok=True)

    def _drop(self, token: str) -> None:
        s = self._sessions.pop(token)
        if s.donor is not None:
            s.donor[1].close()
        self._stop_live(s)
        shutil.rmtree(self.root / token, ignore_errors=True)

    def files(self) -> list[Path]:
        """Every file the store holds now (for tests and the curious)."""
        return sorted(p for p in self.root.rglob("*") if p.is_file())

    def close(self) -> None:
        with self._lock:
            for token in list(self._sessions):
                self._drop(token)
            shutil.rmtree(self.root, ignore_errors=True)
