"""Prep and folder `apply` on a Dask LocalCluster (2 worker processes, 1 thread each) give the
same dataset and the same images as a plain run, and a worker killed mid-run loses nothing."""

from __future__ import annotations

import os
import shutil
import signal
import time
from pathlib import Path

import pytest

pytest.importorskip("distributed")

from data_prep.build import build_dataset  # noqa: E402
from data_prep.cluster import Cluster, ClusterConfig, ClusterError  # noqa: E402
from data_prep.labels import from_folders  # noqa: E402

SAME = ("faces", "windows", "masks", "prep_config.json")  # byte for byte
LINES = ("manifest.jsonl", "rejected.jsonl")  # the same lines, in any order


@pytest.fixture(scope="module")
def cluster():
    with Cluster(ClusterConfig("local", workers=2, chunk=2)) as c:
        yield c


def files(root: Path) -> dict[str, bytes]:
    out = {}
    for name in SAME:
        p = root / name
        for f in sorted(p.rglob("*") if p.is_dir() else [p]):
            if f.is_file():
                out[f.relative_to(root).as_posix()] = f.read_bytes()
    return out


def assert_same_dataset(got: Path, want: Path) -> None:
    a, b = files(got), files(want)
    assert sorted(a) == sorted(b)
    assert [k for k in a if a[k] != b[k]] == []
    for name in LINES:
        lines = [set((root / name).read_text().splitlines()) for root in (got, want)]
        assert lines[0] == lines[1], name


def test_prep_on_a_cluster_writes_the_plain_runs_dataset(cluster, synthetic_photos,
                                                         synthetic_dataset, tmp_path):
    seen = []

    def progress(results, total):  # the bar's view: results stream in as workers finish
        seen.append(total)
        yield from results

    s = build_dataset(synthetic_photos, tmp_path, from_folders, runner=cluster.prep,
                      progress=progress)
    assert (s.processed, s.kept, seen) == (16, 16, [16])
    assert_same_dataset(tmp_path, synthetic_dataset)
    again = build_dataset(synthetic_photos, tmp_path, from_folders, runner=cluster.prep)
    assert (again.skipped, again.processed) == (16, 0)


def test_a_worker_killed_mid_run_loses_nothing(cluster, synthetic_photos, synthetic_dataset,
                                               tmp_path):
    killed = []

    def kill_one_worker_early(results, total):
        for i, r in enumerate(results):
            if i == 1:  # the other chunks are running now
                pid = sorted(cluster.client.run(os.getpid).values())[0]
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            yield r

    s = build_dataset(synthetic_photos, tmp_path, from_folders, runner=cluster.prep,
                      progress=kill_one_worker_early)
    assert killed and s.processed == 16  # the dead worker's chunks ran again elsewhere
    assert_same_dataset(tmp_path, synthetic_dataset)

    # the driver interrupted too: the rerun finishes it, with the same result
    part = tmp_path / "part"

    def stop_after_five(results, total):
        for i, r in enumerate(results):
            if i == 5:
                raise KeyboardInterrupt
            yield r

    with pytest.raises(KeyboardInterrupt):
        build_dataset(synthetic_photos, part, from_folders, runner=cluster.prep,
                      progress=stop_after_five)
    s = build_dataset(synthetic_photos, part, from_folders, runner=cluster.prep)
    assert s.skipped >= 5 and s.skipped + s.processed == 16
    assert_same_dataset(part, synthetic_dataset)


def test_a_bad_or_unreachable_scheduler_fails_fast():
    with pytest.raises(ClusterError, match="'local' or a scheduler address"):
        Cluster(ClusterConfig("my-laptop"))
    t0 = time.perf_counter()
    with pytest.raises(ClusterError, match="tcp://127.0.0.1:1: cannot reach the Dask scheduler"):
        Cluster(ClusterConfig("tcp://127.0.0.1:1", connect_timeout=1))
    assert time.perf_counter() - t0 < 10


@pytest.mark.slow
def test_apply_a_folder_on_a_cluster_gives_the_plain_runs_images(cluster, synthetic_photos,
                                                                 tmp_path):
    from typer.testing import CliRunner

    from mustache.cli import app

    src = tmp_path / "photos"
    for name in ("clean/clean_0.png", "clean/clean_3.png", "mustache/mustache_1.png"):
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(synthetic_photos / name, src / name)
    common = ["apply", str(src), "--device", "cpu", "--seed", "3"]
    plain = CliRunner().invoke(app, [*common, "-o", str(tmp_path / "plain"),
                                     "--json", str(tmp_path / "plain.json")])
    assert plain.exit_code == 0, plain.output
    # the fixture's scheduler, by address: the path a remote cluster takes
    addr = cluster.client.scheduler.address
    dist = CliRunner().invoke(app, [*common, "-o", str(tmp_path / "dist"), "--cluster", addr,
                                    "--json", str(tmp_path / "dist.json")])
    assert dist.exit_code == 0, dist.output
    a = {p.relative_to(tmp_path / "plain"): p.read_bytes()
         for p in (tmp_path / "plain").rglob("*") if p.is_file()}
    b = {p.relative_to(tmp_path / "dist"): p.read_bytes()
         for p in (tmp_path / "dist").rglob("*") if p.is_file()}
    assert len(a) == 3 and sorted(a) == sorted(b)
    assert [k for k in a if a[k] != b[k]] == []
    # the same report too, photo by photo in the folder's order (paths aside)
    pj = (tmp_path / "plain.json").read_text().replace(str(tmp_path / "plain"), "OUT")
    dj = (tmp_path / "dist.json").read_text().replace(str(tmp_path / "dist"), "OUT")
    assert pj == dj
