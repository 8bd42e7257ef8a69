"""Prep on real photos from ../shared/data (skipped when it is absent)."""

import csv

import pytest

from data_prep.build import build_dataset, read_jsonl
from data_prep.labels import celeba_label, from_celeba, read_celeba_attrs
from tests.conftest import SHARED, requires_data

pytestmark = [requires_data, pytest.mark.data, pytest.mark.slow]


@pytest.fixture(scope="module")
def celeba_sample(tmp_path_factory):
    """300 CelebA photos (every mustache one among the first ids, plus clean ones), prepped."""
    src = SHARED / "celeba" / "images"
    rows = list(csv.DictReader(open(SHARED / "celeba" / "manifest.csv")))
    must = [r["file"] for r in rows if r["Mustache"] == "1"][:100]
    clean = [r["file"] for r in rows if r["Mustache"] == "-1"][:200]
    photos = tmp_path_factory.mktemp("celeba_photos")
    for name in must + clean:
        (photos / name).symlink_to(src / name)
    out = tmp_path_factory.mktemp("celeba_ds")
    attrs = SHARED / "celeba" / "list_attr_celeba_staged.txt"
    summary = build_dataset(photos, out, from_celeba(attrs), workers=2)
    return summary, out, attrs


def test_detection_rate(celeba_sample):
    summary, out, _ = celeba_sample
    no_face = summary.rejected.get("no face found", 0) + sum(
        v for k, v in summary.rejected.items() if "image" in k)
    assert summary.processed == 300
    assert 1 - no_face / summary.processed >= 0.95
    assert summary.kept >= 0.9 * 300


def test_labels_match_the_attribute_file(celeba_sample):
    _, out, attrs = celeba_sample
    table = read_celeba_attrs(attrs)
    recs = [r for r in read_jsonl(out / "manifest.jsonl") if r["face_index"] == 0]
    assert recs
    for r in recs:
        assert r["label"] == celeba_label(table[r["source"]])
    from collections import Counter

    counts = Counter(r["label"] for r in recs)
    assert counts["mustache"] >= 90  # 100 asked for; a few faces fail the quality filters
