"""Per-photo work on a Dask distributed cluster: a LocalCluster on this machine, or a running
scheduler's address (clusters started by dask-jobqueue, dask-kubernetes, ``dask scheduler``).

Each worker builds its heavy object (a face detector, a loaded model) once, in a WorkerPlugin's
``setup``, and keeps it on that plugin; the scheduler hands the plugin to workers that join or
restart later. Photos go out as small chunks, a bounded number in flight, and results stream
back as they finish, so the caller writes them (the manifest) in one place and shows progress.
A worker that dies has its unfinished chunks rerun on another; files already written stay.

Needs the ``cluster`` extra (``pip install 'mustache[cluster]'``): this module imports Dask.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from itertools import islice
from typing import Any, Protocol

from distributed import Client, KilledWorker, LocalCluster, as_completed, get_worker
from distributed.diagnostics.plugin import WorkerPlugin

from data_prep.build import PhotoResult, PrepJob, PrepWorker


class ClusterError(ValueError):
    """No cluster to run on: a malformed address or a scheduler that cannot be reached."""


class WorkerLost(RuntimeError):
    """Workers kept dying on the same photos (Dask's ``allowed-failures``); what finished is
    written, so a rerun resumes."""


@dataclass(frozen=True)
class ClusterConfig:
    address: str = "local"  # "local" (a LocalCluster here) or a scheduler, tcp://host:8786
    workers: int = 2  # worker processes of a local cluster, one thread each
    connect_timeout: float = 3.0  # seconds to reach a scheduler: a typo fails fast
    chunk: int = 8  # photos a task: fewer scheduler round trips, progress still smooth
    in_flight: int = 4  # chunks queued per worker: memory stays flat for millions of photos


class PhotoWorker(Protocol):
    """What a plugin builds on each worker: called once a photo, closed when the run ends."""

    def __call__(self, item: Any) -> Any: ...

    def close(self) -> None: ...


class _Holder(WorkerPlugin):
    """Builds one PhotoWorker per Dask worker in ``setup`` and keeps it here (not in a module
    global, so two runs on one cluster have their own)."""

    def __init__(self, name: str, make: Callable[[], PhotoWorker]):
        self.name, self.make, self.value = name, make, None

    def setup(self, worker) -> None:
        self.value = self.make()

    def teardown(self, worker) -> None:
        if self.value is not None:
            self.value.close()
            self.value = None


def _run_chunk(name: str, items: list) -> list:
    holder = get_worker().plugins[name]
    return [holder.value(item) for item in items]


def _is_address(text: str) -> bool:
    if "://" in text:
        return text.split("://", 1)[0] in ("tcp", "tls", "inproc", "ucx", "ws", "wss")
    host, _, port = text.rpartition(":")
    return bool(host) and port.isdigit()


class Cluster:
    """A Dask client for one run (and the LocalCluster it started, when ``local``); use it as a
    context manager. ``prep`` is a ``data_prep.build.PhotoRunner``; ``map`` runs any
    PhotoWorker."""

    def __init__(self, config: ClusterConfig = ClusterConfig()):
        self.config, self.local = config, None
        if config.address == "local":
            if config.workers < 1:
                raise ClusterError(f"a local cluster needs >= 1 worker, got {config.workers}")
            import dask

            # Dask's workers trim freed memory at 64 kB (MALLOC_TRIM_THRESHOLD_), which makes
            # every photo's buffers fresh mmaps: prep ran 1.3-1.6x slower a photo. Its thread
            # limits stay: one thread a worker, the workers are the parallelism.
            env = {k: v for k, v in dask.config.get("distributed.nanny.pre-spawn-environ").items()
                   if k != "MALLOC_TRIM_THRESHOLD_"}
            # processes, not threads: MediaPipe and torch hold the GIL for much of a photo
            with dask.config.set({"distributed.nanny.pre-spawn-environ": env}):
                self.local = LocalCluster(n_workers=config.workers, threads_per_worker=1,
                                          processes=True, dashboard_address=None,
                                          silence_logs=logging.ERROR)
            self.client = Client(self.local)
            return
        if not _is_address(config.address):
            raise ClusterError(f"--cluster must be 'local' or a scheduler address such as "
                               f"tcp://host:8786, got {config.address!r}")
        try:
            self.client = Client(config.address, timeout=config.connect_timeout)
        except (OSError, TimeoutError) as e:  # refused, unknown host, timed out
            why = " ".join(str(e).split()) or type(e).__name__
            raise ClusterError(f"{config.address}: cannot reach the Dask scheduler within "
                               f"{config.connect_timeout:g} s ({why[:200]})") from None

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.client.close()
        if self.local is not None:
            self.local.close()

    @property
    def worker_count(self) -> int:
        return len(self.client.scheduler_info(n_workers=-1)["workers"])

    def map(self, make: Callable[[], PhotoWorker], items: Sequence) -> Iterator:
        """``make()`` once on every worker, then its result called on each item; results as
        they finish, in any order."""
        name = f"mustache-{uuid.uuid4().hex[:12]}"
        self.client.register_plugin(_Holder(name, make), name=name)
        try:
            c = self.config.chunk
            chunks = iter([list(items[i:i + c]) for i in range(0, len(items), c)])
            window = max(1, self.worker_count) * self.config.in_flight

            def submit(chunk):
                return self.client.submit(_run_chunk, name, chunk, pure=False)

            running = as_completed([submit(ch) for ch in islice(chunks, window)])
            for fut in running:
                try:
                    results = fut.result()
                except KilledWorker as e:
                    raise WorkerLost(f"workers died on the same photos again and again ({e})"
                                     ) from None
                fut.release()
                nxt = next(chunks, None)
                if nxt is not None:
                    running.add(submit(nxt))
                yield from results
        finally:
            self.client.unregister_worker_plugin(name)

    def prep(self, job: PrepJob, rels: list[str]) -> Iterable[PhotoResult | None]:
        """Prep photos on the cluster: one detector a worker (``build_dataset(runner=...)``)."""
        return self.map(partial(PrepWorker, job), rels)
