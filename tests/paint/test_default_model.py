"""The shipped default model (mustache/weights/default.pt) end to end: the mustache it paints is
one the shipped classifier sees, and nothing outside the region changes."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from conftest import SHARED, requires_data, rotate

from mustache.learn.classify import DEFAULT_WEIGHTS, Scorer
from mustache.paint.gan import DEFAULT_MODEL, ApplyOptions, Mustacher

pytestmark = pytest.mark.skipif(not (DEFAULT_MODEL.is_file() and DEFAULT_WEIGHTS.is_file()),
                                reason="the shipped weights are missing")


@pytest.fixture(scope="module")
def mustacher():
    with Mustacher(device="cpu") as m:
        yield m


@pytest.fixture(scope="module")
def scorer():
    with Scorer() as s:
        yield s


def test_astronaut_gets_a_mustache_and_nothing_else_changes(mustacher, scorer, astronaut):
    before = scorer.score_image(astronaut)[0].score
    r = mustacher.apply(astronaut, ApplyOptions(seed=0))
    after = scorer.score_image(r.image)[0].score
    # measured: 0.05 -> 0.52 (a woman's face: the model's weakest case)
    assert before < 0.2 and after > before + 0.3
    x0, y0, x1, y1 = r.faces[0].region_box
    changed = np.any(r.image != astronaut, axis=2)
    assert changed[y0:y1, x0:x1].sum() > 200
    changed[y0:y1, x0:x1] = False
    assert not changed.any()


def _change_shape(before: np.ndarray, after: np.ndarray) -> tuple[float, int]:
    """(angle in degrees, counter-clockwise, of the changed pixels' long axis; their count)."""
    d = np.abs(after.astype(int) - before.astype(int)).sum(axis=2)
    ys, xs = np.nonzero(d > 12)
    w = d[ys, xs].astype(float)
    pts = np.stack([xs - np.average(xs, weights=w), ys - np.average(ys, weights=w)])
    v = np.linalg.eigh(np.cov(pts, aweights=w))[1][:, 1]
    angle = np.degrees(np.arctan2(-v[1], v[0]))
    return float((angle + 90) % 180 - 90), len(xs)


@pytest.mark.parametrize("degrees,scale", [(20, 1.0), (-25, 1.0), (0, 0.6), (15, 0.7)])
def test_the_mustache_follows_tilt_and_scale(mustacher, astronaut, degrees, scale):
    upright, area = _change_shape(astronaut, mustacher.apply(astronaut).image)
    turned = rotate(astronaut, degrees, scale)
    angle, n = _change_shape(turned, mustacher.apply(turned).image)
    # measured: 20 -> 20.8, -25 -> -23.8, 0 -> 1.0, 15 -> 16.9 degrees; areas 0.8-1.0x scale**2
    assert abs((angle - upright) - degrees) < 6
    assert 0.5 < n / (area * scale ** 2) < 1.5


@requires_data
@pytest.mark.data
def test_held_out_lfw_men_get_mustaches(mustacher, scorer):
    """20 clean-shaven LFW men whose people no training step saw (the trainer's person split)."""
    from data_prep.build import person_of
    from data_prep.dataset import holdout_split
    from data_prep.image_io import load_image

    rows = [r for r in csv.DictReader(open(SHARED / "lfw" / "manifest.csv"))
            if r["has_prediction"] == "1" and float(r["p_Male"]) > 0.9
            and float(r["p_Mustache"]) < 0.05 and float(r["p_No_Beard"]) > 0.9]
    recs = [{"source": r["file"], "person": person_of(r["file"].removeprefix("images/"))}
            for r in rows]
    from mustache.judge.evaluate import holdout_of
    from mustache.learn.checkpoint import load
    from mustache.paint.gan import DEFAULT_MODEL

    _, held = holdout_split(recs, holdout_of(load(DEFAULT_MODEL), DEFAULT_MODEL))
    picked, people = [], set()
    for i in held:
        if recs[i]["person"] not in people:
            people.add(recs[i]["person"])
            picked.append(rows[i]["file"])
    picked = picked[:20]
    assert len(picked) == 20
    before, after = [], []
    for f in picked:
        rgb = load_image(SHARED / "lfw" / f)
        res = mustacher.apply(rgb, ApplyOptions(seed=0, faces=(0,)))
        before.append(scorer.score_image(rgb)[0].score)
        after.append(scorer.score_image(res.image)[0].score)
    before, after = np.array(before), np.array(after)
    # measured: 18 of 20 (the earlier, unguided model: 17); 93% of 60 held-out men in the README
    assert (before > 0.5).mean() <= 0.1
    assert (after > 0.5).mean() >= 0.8, np.round(after, 2)  # 18 of 20 here
