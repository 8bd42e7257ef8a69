"""`--cluster` for `mustache prep` and `mustache apply FOLDER`: the commands' side of
:mod:`data_prep.cluster` (Dask), with its failures as :mod:`mustache.errors` and the per-worker
engine for `apply`. Imported only when ``--cluster`` is given, so Dask stays optional."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mustache.errors import BadInput, WorkFailed

if TYPE_CHECKING:
    from data_prep.cluster import Cluster
    from mustache.paint.options import ApplyOptions


@contextmanager
def open_cluster(address: str, workers: int) -> Iterator[Cluster]:
    """The cluster for one command: BadInput when Dask is missing or the scheduler cannot be
    reached (before any work starts), WorkFailed when workers keep dying mid-run."""
    try:
        from data_prep.cluster import Cluster, ClusterConfig, ClusterError, WorkerLost
    except ImportError:
        raise BadInput("--cluster needs Dask: pip install 'mustache[cluster]'") from None
    try:
        cluster = Cluster(ClusterConfig(address, workers))
    except ClusterError as e:
        raise BadInput(str(e)) from None
    with cluster:
        try:
            yield cluster
        except WorkerLost as e:
            raise WorkFailed(f"{e}; what finished is written, rerun to go on") from None


@dataclass(frozen=True)
class EngineSpec:
    """How to build `apply`'s engine on a worker (the arguments of :func:`mustache.batch.files.make_engine`)."""

    model: Path | None
    device: str
    donor: Path | None
    donor_face: int | None
    min_face: float


class FolderWorker:
    """One loaded engine (model or donor) a Dask worker; each call paints one photo of a folder
    into its target and returns the photo's report (or its error)."""

    def __init__(self, spec: EngineSpec, options: ApplyOptions, compare: bool):
        from mustache.batch.files import make_engine

        self.engine = make_engine(spec.model, spec.device, spec.donor, spec.donor_face,
                              spec.min_face)
        self.options, self.compare = options, compare

    def __call__(self, job: tuple[Path, Path]) -> dict:
        from mustache.batch.files import paint_file_report

        src, dst = job
        return paint_file_report(self.engine, src, dst, self.options, self.compare)

    def close(self) -> None:
        self.engine.close()
