"""What each browser owns on the server: its results (files in the server's own temporary
folder), its donor and its webcam stream, under random tokens, per session.

Nothing is keyed by a guessable id: a session is a random 256-bit cookie, a result a random
token, and a lookup needs both, so one browser cannot fetch another's photo even with its token.
A session is made only by a page load (:meth:`Store.open`) and carries a second secret, the page
token, which every state-changing request must send back (a cookie alone is not enough).

Results expire ``ttl_s`` after they were made; a session's oldest results are dropped past
``results_per_session``. Past ``per_address`` sessions of one client address, or
``max_sessions`` in all, one is evicted to make room: never one with a request in flight
(:meth:`Store.hold`), sessions never used after their page load first, then the least recently
seen. So page loads by strangers push out each other, not a page that has done work. A webcam
stream is closed when stopped, replaced, idle for ``live_idle_s`` (a tab closed without Stop) or
its session goes; :meth:`Store.close` removes the folder, and a new store removes the folders of
servers that died without closing (their pid is in the folder's name).
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TypeVar

from mustache.errors import BadInput

PREFIX = "mustache-serve-"


class Closable(Protocol):
    def close(self) -> None: ...


L = TypeVar("L", bound=Closable)


class SessionGone(BadInput):
    """The request's session is unknown or has ended (the server restarted, or it was idle past
    its time): the page must be loaded again."""


@dataclass(frozen=True)
class StoreConfig:
    ttl_s: float = 30 * 60  # a result can be downloaded this long after it was made
    results_per_session: int = 32  # older ones are dropped past this
    max_sessions: int = 64  # one is evicted past this (see the module's docstring)
    per_address: int = 32  # ... and past this many of one client address
    live_idle_s: float = 60  # a webcam stream without a frame this long is closed (its
    # detector holds memory, and a closed tab sends no Stop)

    def __post_init__(self):
        if min(self.ttl_s, self.results_per_session, self.max_sessions, self.per_address,
               self.live_idle_s) <= 0:
            raise ValueError(f"store limits must be > 0, got {self}")


@dataclass(frozen=True)
class Result:
    path: Path
    filename: str  # what the browser saves it as
    media_type: str
    made: float


@dataclass
class _Session:
    page_token: str
    address: str
    seen: float
    used: bool = False  # a state-changing request came with the page token
    busy: int = 0  # requests in flight: never evicted or expired while > 0
    results: dict[str, Result] = field(default_factory=dict)
    donor: tuple[str, Closable] | None = None
    live: tuple[Hashable, Closable] | None = None  # (its settings, the stream)
    live_seen: float = 0.0


def new_token() -> str:
    return secrets.token_urlsafe(32)


class Store:
    """Sessions, their results and donors. Thread-safe: requests run in threads and the event
    loop."""

    def __init__(self, config: StoreConfig = StoreConfig(), clock=time.monotonic,
                 temp: Path | None = None):
        self.config = config
        temp = Path(temp or tempfile.gettempdir())
        remove_stale(temp)
        self.root = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=temp))
        self._clock = clock
        self._sessions: dict[str, _Session] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ sessions
    def open(self, cookie: str | None, address: str, new: bool = True) -> tuple[str, str] | None:
        """A page load: -> (session, page token) of the cookie's session, or of a new one
        (evicting one past the caps) when it has none and ``new``; else None."""
        now = self._clock()
        trash: list[_Trash] = []
        try:
            with self._lock:
                self._expire(now, trash)
                s = self._sessions.get(cookie) if cookie else None
                if s is None:
                    if not new:
                        return None
                    self._make_room(address, trash)
                    cookie, s = new_token(), _Session(new_token(), address, now)
                    self._sessions[cookie] = s
                s.seen = now
                return cookie, s.page_token
        finally:
            _empty(trash)

    def find(self, cookie: str | None) -> str | None:
        """The session of a cookie, seen now; None when there is none (no page load made it)."""
        if not cookie:
            return None
        now = self._clock()
        trash: list[_Trash] = []
        try:
            with self._lock:
                self._expire(now, trash)
                s = self._sessions.get(cookie)
                if s is None:
                    return None
                s.seen = now
                return cookie
        finally:
            _empty(trash)

    def token_ok(self, session: str, token: str | None) -> bool:
        """Whether ``token`` is ``session``'s page token."""
        with self._lock:
            s = self._sessions.get(session)
            return s is not None and token is not None and secrets.compare_digest(
                s.page_token.encode(), token.encode())

    @contextmanager
    def hold(self, session: str) -> Iterator[None]:
        """Work in flight for ``session`` (used, and neither evicted nor expired until it ends);
        SessionGone when it has already gone."""
        with self._lock:
            s = self._sessions.get(session)
            if s is None:
                raise SessionGone("this page's session has ended; reload the page")
            s.busy += 1
            s.used = True
        try:
            yield
        finally:
            with self._lock:
                s.busy -= 1
                s.seen = self._clock()

    def _make_room(self, address: str, trash: list[_Trash]) -> None:
        """Evict past the caps, the least valuable first (see the module's docstring)."""
        mine = [t for t, s in self._sessions.items() if s.address == address]
        if len(mine) >= self.config.per_address:
            self._evict(mine, trash)
        if len(self._sessions) >= self.config.max_sessions:
            self._evict(list(self._sessions), trash)

    def _evict(self, tokens: list[str], trash: list[_Trash]) -> None:
        idle = [t for t in tokens if self._sessions[t].busy == 0]
        if idle:  # all busy: over the cap for a while rather than break work in flight
            self._drop(min(idle, key=lambda t: (self._sessions[t].used, self._sessions[t].seen)),
                       trash)

    def _get(self, session: str) -> _Session:
        s = self._sessions.get(session)
        if s is None:  # only at shutdown: a session with work in flight is kept till it ends
            raise SessionGone("this page's session has ended; reload the page")
        return s

    # ------------------------------------------------------------------ results
    def put(self, session: str, data: bytes, filename: str, media_type: str) -> str:
        """Keep a result for ``session``; -> its token."""
        token = new_token()
        folder = self.root / session
        folder.mkdir(exist_ok=True)
        path = folder / (token + Path(filename).suffix)
        path.write_bytes(data)
        trash: list[_Trash] = []
        try:
            with self._lock:
                try:
                    s = self._get(session)
                except SessionGone:
                    trash.append(path)
                    raise
                s.results[token] = Result(path, filename, media_type, self._clock())
                while len(s.results) > self.config.results_per_session:
                    old = next(iter(s.results))  # dicts keep insertion order: the oldest first
                    trash.append(s.results.pop(old).path)
        finally:
            _empty(trash)
        return token

    def get(self, session: str | None, token: str) -> Result | None:
        """``session``'s result ``token``; None when it is not this session's or has expired."""
        trash: list[_Trash] = []
        try:
            with self._lock:
                self._expire(self._clock(), trash)
                s = self._sessions.get(session) if session else None
                return None if s is None else s.results.get(token)
        finally:
            _empty(trash)

    # ------------------------------------------------------------------ donors
    def put_donor(self, session: str, donor: Closable) -> str:
        """A session's donor (one at a time: a new one closes the old); -> its token."""
        token = new_token()
        with self._lock:
            s = self._sessions.get(session)
            old = donor if s is None else s.donor[1] if s.donor is not None else None
            if s is not None:
                s.donor = (token, donor)
        if old is not None:  # closed outside the lock
            old.close()
        if s is None:
            raise SessionGone("this page's session has ended; reload the page")
        return token

    def donor(self, session: str, token: str) -> Closable | None:
        with self._lock:
            s = self._sessions.get(session)
            if s is None or s.donor is None or not secrets.compare_digest(
                    s.donor[0].encode(), token.encode()):
                return None
            return s.donor[1]

    # ------------------------------------------------------------------ webcam
    def live(self, session: str, key: Hashable, make: Callable[[], L]) -> L:
        """``session``'s webcam stream for the settings ``key``: the one it has, or a new one
        from ``make()`` when it has none or one with other settings (closed: its faces were
        painted with those)."""
        trash: list[_Trash] = []
        try:
            with self._lock:
                s = self._get(session)
                s.live_seen = self._clock()
                if s.live is not None and s.live[0] == key:
                    return s.live[1]  # type: ignore[return-value]
                self._stop_live(s, trash)
                stream = make()
                s.live = (key, stream)
                return stream
        finally:
            _empty(trash)

    def stop_live(self, session: str) -> bool:
        """Close ``session``'s webcam stream; -> whether it had one."""
        trash: list[_Trash] = []
        try:
            with self._lock:
                s = self._sessions.get(session)
                return s is not None and self._stop_live(s, trash)
        finally:
            _empty(trash)

    @staticmethod
    def _stop_live(s: _Session, trash: list[_Trash]) -> bool:
        if s.live is None:
            return False
        trash.append(s.live[1])
        s.live = None
        return True

    # ------------------------------------------------------------------ cleaning
    # Under the lock the sessions' books are only kept: what goes (streams, donors, files,
    # folders) is put in ``trash`` and closed or removed by the caller after the lock is let
    # go (_empty), so a stream's close or a folder's removal never holds up another request.
    def _expire(self, now: float, trash: list[_Trash]) -> None:
        ttl = self.config.ttl_s
        for token in [t for t, s in self._sessions.items() if now - s.seen > ttl and not s.busy]:
            self._drop(token, trash)
        for s in self._sessions.values():
            if s.live is not None and now - s.live_seen > self.config.live_idle_s and not s.busy:
                self._stop_live(s, trash)
            for t in [t for t, r in s.results.items() if now - r.made > ttl]:
                trash.append(s.results.pop(t).path)

    def _drop(self, token: str, trash: list[_Trash]) -> None:
        s = self._sessions.pop(token)
        if s.donor is not None:
            trash.append(s.donor[1])
        self._stop_live(s, trash)
        trash.append(self.root / token)

    def sessions(self) -> int:
        with self._lock:
            return len(self._sessions)

    def files(self) -> list[Path]:
        """Every file the store holds now (for tests and the curious)."""
        return sorted(p for p in self.root.rglob("*") if p.is_file())

    def close(self) -> None:
        trash: list[_Trash] = []
        with self._lock:
            for token in list(self._sessions):
                self._drop(token, trash)
        _empty(trash)
        shutil.rmtree(self.root, ignore_errors=True)


_Trash = Closable | Path  # what leaves the store: closed, or (a file, a folder) removed


def _empty(trash: list[_Trash]) -> None:
    """Close or remove what the store let go of (outside its lock)."""
    for t in trash:
        if isinstance(t, Path):
            if t.is_dir():
                shutil.rmtree(t, ignore_errors=True)
            else:
                t.unlink(missing_ok=True)
        else:
            t.close()


def remove_stale(temp: Path) -> list[Path]:
    """Remove the folders under ``temp`` left by servers that died without cleaning (killed,
    a power cut): those named with a pid that no longer runs, and ours alone; -> what went."""
    gone = []
    for p in temp.glob(PREFIX + "*"):
        m = re.fullmatch(re.escape(PREFIX) + r"(\d+)-\w+", p.name)
        try:
            st = p.lstat()
        except OSError:
            continue
        # a link or another user's folder is never ours to remove, whatever its name says
        if m is None or not p.is_dir() or p.is_symlink() or st.st_uid != os.getuid():
            continue
        if not _alive(int(m.group(1))):
            shutil.rmtree(p, ignore_errors=True)
            gone.append(p)
    return gone


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # another user's process (or a name we cannot judge): leave it
    return True
