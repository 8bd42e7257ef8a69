import json
import struct
import zlib

import numpy as np
import pytest

from data_prep.build import PrepConfig, Shard, build_dataset, read_jsonl, read_prep_config
from data_prep.image_io import save_image
from data_prep.labels import from_csv, from_folders


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares a huge size but holds no pixels (a decompression-bomb stand-in)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


@pytest.fixture()
def bad_folder(tmp_path, astronaut):
    d = tmp_path / "photos"
    save_image(d / "good.jpg", astronaut)
    good = (d / "good.jpg").read_bytes()
    (d / "zero.jpg").write_bytes(b"")
    (d / "text.jpg").write_text("hello, I am not a photo")
    (d / "truncated.jpg").write_bytes(good[: len(good) // 3])
    (d / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    (d / "huge.png").write_bytes(_png_header_only(20000, 20000))
    save_image(d / "noface.png", np.full((256, 256, 3), 90, np.uint8))
    save_image(d / "cut.png", astronaut[:140])  # the face is cut off above the mouth
    (d / "notes.txt").write_text("ignored: not an image suffix")
    return d


def test_bad_inputs_are_rejected_with_reasons(bad_folder, tmp_path):
    out = tmp_path / "ds"
    s = build_dataset(bad_folder, out)
    assert s.photos == 8 and s.processed == 8 and s.kept == 1
    rej = {r["source"]: r["reason"] for r in read_jsonl(out / "rejected.jsonl")}
    assert set(rej) == {"zero.jpg", "text.jpg", "truncated.jpg", "corrupt.png", "huge.png",
                        "noface.png", "cut.png"}
    assert "empty" in rej["zero.jpg"]
    assert "not an image" in rej["text.jpg"]
    assert "truncated" in rej["truncated.jpg"] or "corrupt" in rej["truncated.jpg"]
    assert "too large" in rej["huge.png"]
    assert rej["noface.png"] == "no face found"
    assert any(k in rej["cut.png"] for k in ("no face", "border"))
    summary = json.loads((out / "summary.json").read_text())
    assert summary["kept"] == 1 and sum(summary["rejected"].values()) == 7


def test_manifest_and_files(synthetic_dataset):
    from data_prep.dataset import read_manifest
    from data_prep.image_io import read_image_fast

    recs = read_manifest(synthetic_dataset)
    assert len(recs) == 16
    r = recs[0]
    assert set(r) >= {"id", "source", "face_index", "label", "face", "window", "landmarks",
                      "quality", "files", "sha1", "person"}
    assert r["id"] == f"{r['sha1']}_{r['face_index']}"
    assert np.array(r["landmarks"]).shape == (478, 2)
    assert read_image_fast(synthetic_dataset / r["files"]["face"]).shape == (256, 256, 3)
    assert read_image_fast(synthetic_dataset / r["files"]["window"]).shape == (128, 128, 3)
    assert read_image_fast(synthetic_dataset / r["files"]["mask"]).shape == (128, 128)
    labels = sorted(x["label"] for x in recs)
    assert labels == ["clean"] * 8 + ["mustache"] * 8
    assert read_prep_config(synthetic_dataset) == PrepConfig()
    photos = json.loads((synthetic_dataset / "prep_config.json").read_text())["photos"]
    assert len(photos) == 1 and photos[0].endswith("synthetic_photos0")


def test_prep_config_is_read_and_compared_as_a_config(tmp_path):
    from data_prep.region import RegionConfig

    a, b, out = tmp_path / "a", tmp_path / "b", tmp_path / "ds"
    a.mkdir(), b.mkdir()  # no photos: only prep_config.json is written
    build_dataset(a, out)
    old = json.loads((out / "prep_config.json").read_text())
    del old["detector"]  # as an older version wrote it: fewer keys, and one since retired
    old["retired"] = 1
    (out / "prep_config.json").write_text(json.dumps(old))
    assert read_prep_config(out) == PrepConfig()  # JSON lists back to tuples, defaults filled in
    build_dataset(b, out)  # the same geometry: the folder is recorded, nothing refused
    assert len(json.loads((out / "prep_config.json").read_text())["photos"]) == 2
    with pytest.raises(ValueError, match="other face/window sizes"):
        build_dataset(a, out, config=PrepConfig(region=RegionConfig(window_size=64)))


def test_second_run_processes_nothing_new(synthetic_photos, tmp_path):
    out = tmp_path / "ds"
    first = build_dataset(synthetic_photos, out, from_folders)
    files = sorted(p.name for p in (out / "windows").iterdir())
    second = build_dataset(synthetic_photos, out, from_folders)
    assert first.processed == 16 and second.processed == 0 and second.skipped == 16
    assert sorted(p.name for p in (out / "windows").iterdir()) == files
    assert len(list(read_jsonl(out / "manifest.jsonl"))) == 16


def test_interrupted_run_resumes(synthetic_photos, tmp_path):
    out = tmp_path / "ds"
    build_dataset(synthetic_photos, out, from_folders, limit=5)
    with open(out / "manifest.jsonl", "a") as f:
        f.write('{"id": "half-written')  # a kill in the middle of an append
    s = build_dataset(synthetic_photos, out, from_folders)
    assert s.skipped == 5 and s.processed == 11
    ids = [r["id"] for r in read_jsonl(out / "manifest.jsonl")]
    assert len(ids) == 16 == len(set(ids))


def test_shards_split_and_merge(synthetic_photos, tmp_path):
    from data_prep.dataset import read_manifest

    out = tmp_path / "ds"
    counts = [build_dataset(synthetic_photos, out, from_folders, shard=Shard(k, 3)).processed
              for k in range(3)]
    assert sum(counts) == 16 and max(counts) < 16
    assert len(read_manifest(out)) == 16  # the shards' manifests read as one dataset
    with pytest.raises(ValueError):
        Shard.parse("3/3")


def test_two_workers_match_one(synthetic_photos, tmp_path):
    a = build_dataset(synthetic_photos, tmp_path / "a", from_folders, workers=1)
    b = build_dataset(synthetic_photos, tmp_path / "b", from_folders, workers=2)
    assert a.kept == b.kept == 16
    ids = lambda d: sorted(r["id"] for r in read_jsonl(d / "manifest.jsonl"))  # noqa: E731
    assert ids(tmp_path / "a") == ids(tmp_path / "b")


def test_several_faces_in_one_photo(astronaut, tmp_path):
    d = tmp_path / "p"
    save_image(d / "group.png", np.tile(astronaut, (2, 2, 1)))
    s = build_dataset(d, tmp_path / "ds", config=PrepConfig(max_faces=3))
    assert s.faces_found == 4 and s.kept == 3
    rej = list(read_jsonl(tmp_path / "ds" / "rejected.jsonl"))
    assert len(rej) == 1 and "max-faces" in rej[0]["reason"]


def test_csv_labels_and_main_face_only(astronaut, tmp_path):
    d = tmp_path / "p"
    save_image(d / "one.png", astronaut)
    save_image(d / "two.png", np.tile(astronaut, (1, 2, 1)))
    (tmp_path / "l.csv").write_text("file,label\none.png,mustache\ntwo.png,clean\n")
    build_dataset(d, tmp_path / "ds", from_csv(tmp_path / "l.csv"))
    recs = {(r["source"], r["face_index"]): r["label"] for r in read_jsonl(tmp_path / "ds" / "manifest.jsonl")}
    assert recs == {("one.png", 0): "mustache", ("two.png", 0): "clean", ("two.png", 1): None}


def test_missing_and_unwritable(tmp_path, synthetic_photos):
    import os

    with pytest.raises(FileNotFoundError, match="nope: input folder not found"):
        build_dataset(tmp_path / "nope", tmp_path / "ds")
    (tmp_path / "file").write_text("")
    with pytest.raises(NotADirectoryError):  # an output folder under a plain file
        build_dataset(synthetic_photos, tmp_path / "file" / "ds")
    if os.geteuid() != 0:  # root writes into read-only folders; the case above covers it then
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        with pytest.raises(PermissionError, match="ro: output folder is not writable"):
            build_dataset(synthetic_photos, ro)
        assert list(ro.iterdir()) == []
