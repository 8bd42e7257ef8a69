"""data_prep.triangles on a small known mesh: a 4 x 4 grid of squares, each cut in two."""

from __future__ import annotations

import numpy as np
import pytest

from data_prep.triangles import (
    affines,
    apply_affine,
    locate,
    raster_ids,
    signed_area,
    triangle_grid,
)


def _mesh(n: int = 4, size: float = 40.0):
    xs = np.linspace(0, size, n + 1)
    pts = np.stack(np.meshgrid(xs, xs), -1).reshape(-1, 2)
    tri = []
    for r in range(n):
        for c in range(n):
            a, b = r * (n + 1) + c, r * (n + 1) + c + 1
            d, e = a + n + 1, b + n + 1
            tri += [(a, e, b), (a, d, e)]  # wound alike
    return pts, np.array(tri, np.int64)


def test_affines_take_corners_to_corners():
    pts, tri = _mesh()
    other = pts @ np.array([[1.2, 0.3], [-0.1, 0.9]]) + [5, -3] + np.sin(pts) * 2
    aff = affines(pts, other, tri)
    for k in range(3):
        got = apply_affine(aff, np.arange(len(tri)), pts[tri[:, k]])
        assert np.allclose(got, other[tri[:, k]], atol=1e-9)
    assert np.all(np.sign(signed_area(pts, tri)) == np.sign(signed_area(pts, tri)[0]))


def test_locate_finds_the_holding_triangle_and_the_nearest_outside():
    pts, tri = _mesh()
    rng = np.random.default_rng(0)
    q = rng.uniform(0.5, 39.5, (500, 2))
    which = locate(q, pts, tri, np.ones(len(tri), bool))
    a, b, c = (pts[tri[which, k]] for k in range(3))
    # barycentric: inside its triangle
    m = np.stack([b - a, c - a], 2)
    uv = np.linalg.solve(m, (q - a)[..., None])[..., 0]
    assert np.all(uv >= -1e-9) and np.all(uv.sum(1) <= 1 + 1e-9)
    assert locate(np.array([[100.0, 100.0]]), pts, tri, np.ones(len(tri), bool), strict=True)[0] == -1


@pytest.mark.parametrize("cells", [16, 64, 256])
def test_a_lookup_table_names_a_triangle_whose_map_agrees(cells):
    """At any resolution the table's triangle maps each point where the exact one does (the
    map is continuous across edges); outside the mesh, the nearest triangle's."""
    pts, tri = _mesh()
    other = pts * 1.5 + np.cos(pts / 7) * 3  # a continuous, non-affine deformation
    aff = affines(pts, other, tri)
    grid = triangle_grid(pts, tri, np.arange(len(tri)), (0, 0, 40, 40), cells)
    rng = np.random.default_rng(1)
    q = rng.uniform(0, 40, (2000, 2))
    exact = apply_affine(aff, locate(q, pts, tri, np.ones(len(tri), bool)), q)
    looked = apply_affine(aff, grid(q), q)
    # a cell on an edge names the neighbour, whose map differs by the extrapolation there
    err = np.linalg.norm(looked - exact, axis=1)
    assert np.percentile(err, 90) < 1e-9 + (2.0 if cells == 16 else 0.5)
    assert grid(np.array([[-30.0, 20.0]]))[0] in set(np.flatnonzero(
        np.isin(tri, np.flatnonzero(pts[:, 0] == 0)).any(1)))  # a triangle on the left edge


def test_raster_draws_later_triangles_over_earlier_ones():
    pts, tri = _mesh()
    ids = raster_ids(pts, tri, np.arange(len(tri)), (0, 0, 40, 40))
    assert ids.shape == (40, 40) and (ids >= 0).all()
    # the same triangle drawn last over everything: a big one covering the box
    big = np.vstack([pts, [[-100, -100], [200, -100], [-100, 200]]])
    tri2 = np.vstack([tri, [[len(pts), len(pts) + 2, len(pts) + 1]]])
    top = raster_ids(big, tri2, np.arange(len(tri2)), (0, 0, 40, 40))
    assert (top == len(tri)).all()
