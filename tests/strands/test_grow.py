"""Hairs grown on the canvas (mustache.strands.grow.grow_on_canvas): the canonical face turned
and opened by known amounts (tests.prep.test_canvas.turned), so the answers are known."""

from __future__ import annotations

import numpy as np
import pytest

from data_prep import indices as ix
from data_prep.canvas import canonical, face_frame
from data_prep.region import polygon_mask
from mustache.strands.grow import grow_on_canvas, surface_of
from mustache.strands.settings import HairConfig
from tests.prep.test_canvas import turned


def _grown(points: np.ndarray, n: int = 2000, seed: int = 0):
    """Hairs from roots spread over the upper lip's skin of the canonical face (so both sides
    get the same roots on the canvas), lifted to the face -> (roots, tips, canvas roots)."""
    surface = surface_of(points, face_frame(points), (700, 700), HairConfig())
    mesh = surface.mesh
    can = mesh.canvas_points
    rng = np.random.default_rng(seed)
    top = can[list(ix.UNDER_NOSE)].mean(0)
    lip = can[list(ix.UPPER_LIP_OUTER)].mean(0)
    half = 0.5 * np.linalg.norm(can[ix.MOUTH_CORNERS[1]] - can[ix.MOUTH_CORNERS[0]])
    u = rng.uniform(-0.9, 0.9, n)
    v = rng.uniform(0.2, 0.8, n)
    on_canvas = np.stack([top[0] + u * half, top[1] + v * (lip[1] - top[1])], 1)
    roots = mesh.to_photo(on_canvas)
    st = grow_on_canvas(roots, surface, 4, np.random.default_rng(seed), HairConfig(), "top")
    return st.p0, st.p2, u


def test_hairs_grow_from_their_roots_and_frontal_faces_are_symmetric():
    roots, tips, u = _grown(turned(0.0))
    length = np.linalg.norm(tips - roots, axis=1)
    assert np.all(np.isfinite(tips)) and length.min() > 0
    left, right = length[u < -0.2].mean(), length[u > 0.2].mean()
    assert 0.9 < left / right < 1.1


@pytest.mark.parametrize("yaw", [30.0, 45.0])
def test_the_far_side_of_a_turned_face_has_shorter_hairs(yaw):
    """Positive yaw turns the viewer's left side away: its hairs are foreshortened by the
    mesh, the near side's are not."""
    roots, tips, u = _grown(turned(yaw))
    d = tips - roots
    far, near = np.abs(d[u < -0.2, 0]).mean(), np.abs(d[u > 0.2, 0]).mean()
    assert far < 0.85 * near, (far, near)
    _, flat_tips, _ = _grown(turned(0.0))
    # the near side's hairs keep most of their frontal reach across the face
    assert near > 0.7 * np.abs((flat_tips - _grown(turned(0.0))[0])[u > 0.2, 0]).mean()


def test_no_tip_lands_on_the_lower_lip_of_an_open_mouth():
    pts = turned(0.0, mouth=0.08)
    roots, tips, _ = _grown(pts)
    xy = pts[:, :2]
    lo = np.floor(xy.min(0)).astype(int)
    shape = tuple((np.ceil(xy.max(0)).astype(int) - lo + 2)[::-1])
    lower = polygon_mask(np.concatenate([xy[list(ix.LOWER_LIP_OUTER)],
                                         xy[list(ix.LOWER_LIP_INNER)][::-1]]) - lo, shape) > 0.5
    mouth = polygon_mask(np.concatenate([xy[list(ix.UPPER_LIP_INNER)],
                                         xy[list(ix.LOWER_LIP_INNER)][::-1]]) - lo, shape) > 0.5
    cx, cy = np.clip(np.floor(tips - lo).astype(int), 0, [shape[1] - 1, shape[0] - 1]).T
    assert lower.sum() > 500 and mouth.sum() > 500
    # between the corners (beside them hairs droop past the corner, as real ones do)
    c0, c1 = xy[ix.MOUTH_CORNERS[0], 0], xy[ix.MOUTH_CORNERS[1], 0]
    between = (tips[:, 0] > c0 + 0.05 * (c1 - c0)) & (tips[:, 0] < c1 - 0.05 * (c1 - c0))
    assert between.sum() > 1000
    assert not lower[cy, cx][between].any()
    # tips overhang the upper lip a little, none reaches deep into the opening
    inner = xy[list(ix.UPPER_LIP_INNER)]
    depth = np.interp(tips[:, 0], *inner[np.argsort(inner[:, 0])].T)
    assert (tips[:, 1] - depth).max() < 0.25 * (xy[ix.LOWER_LIP_INNER[5], 1] - xy[13, 1])


def test_the_canvas_is_the_canonical_face():
    mesh = surface_of(turned(0.0), face_frame(turned(0.0)), (700, 700), HairConfig()).mesh
    assert np.allclose(mesh.canvas_points / mesh.scale, canonical().points)
