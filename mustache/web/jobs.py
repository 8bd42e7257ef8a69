"""Where the work runs, bounded: memory stays bounded whatever arrives.

A request that decodes or paints takes a place (:meth:`Jobs.place`) before its body is read:
``threads`` run, ``waiting`` more wait, and beyond them the answer is :class:`Busy` (503 with
Retry-After), so at most ``threads + waiting`` bodies are held and ``threads`` photos decoded
at once. The work runs on the server's own ``threads`` worker threads, not a pool of 40: glibc
gives each thread that allocates its own arena and keeps what it freed there, so eight 49 MP
decodes on eight threads held 4.7 GB where one thread holds one photo's worth (measured:
README). :func:`limit_arenas` caps the arenas of the other threads too, and :func:`trim` hands
freed memory back after a large photo.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import functools
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")
M_ARENA_MAX = -8  # glibc's mallopt parameter (malloc.h)


class Busy(Exception):
    """Every place is taken: the client should try again after ``retry_after_s``."""

    def __init__(self, retry_after_s: int):
        super().__init__(f"the server is busy with other photos; try again in {retry_after_s} s")
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class JobsConfig:
    threads: int = 1  # photos decoded and painted at once (the model runs one at a time anyway)
    waiting: int = 8  # requests admitted to wait their turn; beyond: 503
    retry_after_s: int = 2  # what a 503 tells the client to wait
    trim_pixels: int = 4_000_000  # after a job with a photo this large, memory goes back

    def __post_init__(self):
        if self.threads < 1 or self.waiting < 0 or self.retry_after_s < 1:
            raise ValueError(f"need threads >= 1, waiting >= 0, retry_after_s >= 1, got {self}")


class Jobs:
    """The server's worker threads and the places in front of them. Places are counted on the
    event loop's thread alone (no lock)."""

    def __init__(self, config: JobsConfig = JobsConfig()):
        self.config = config
        self._pool = ThreadPoolExecutor(config.threads, thread_name_prefix="mustache-job")
        self._taken = 0

    @asynccontextmanager
    async def place(self) -> AsyncIterator[None]:
        """A place for one request's body and work; Busy when none is free."""
        if self._taken >= self.config.threads + self.config.waiting:
            raise Busy(self.config.retry_after_s)
        self._taken += 1
        try:
            yield
        finally:
            self._taken -= 1

    async def run(self, fn: Callable[[], T]) -> T:
        """``fn()`` on a worker thread (after the jobs before it)."""
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


@functools.cache  # find_library runs `ldconfig -p` (a fork) each call
def _libc():
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name) if name else None
    except OSError:
        return None


def limit_arenas(n: int = 2) -> bool:
    """At most ``n`` glibc malloc arenas for the threads made from now on (the process's
    setting: call it once at server start); -> whether it took (False off glibc)."""
    libc = _libc()
    try:
        return libc is not None and libc.mallopt(M_ARENA_MAX, n) == 1
    except AttributeError:  # a C library without mallopt (musl, macOS)
        return False


def trim() -> None:
    """Hand the memory freed in every arena back to the system (glibc; nothing elsewhere)."""
    libc = _libc()
    try:
        if libc is not None:
            libc.malloc_trim(0)
    except AttributeError:
        pass
