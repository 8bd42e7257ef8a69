"""The canvas (data_prep.canvas): the canonical face turned in 3-D by known angles (its own
landmarks with their depth, projected), and opened at the mouth, so every answer is known:
points round-trip, hidden triangles, the silhouette, the region's far side foreshortened, the
open mouth a hole, and the map's speed."""

from __future__ import annotations

import time

import numpy as np
import pytest

from data_prep import indices as ix
from data_prep.canvas import FaceMesh, canonical, face_frame
from data_prep.region import polygon_mask, region_box, region_support


def turned(yaw: float, width: float = 500.0, offset=(60.0, 40.0), mouth: float = 0.0
           ) -> np.ndarray:
    """The canonical face ``width`` px wide (its crop), turned ``yaw`` degrees about the vertical
    axis (positive: its left side, the viewer's left, goes away) and projected, the jaw below
    the mouth dropped by ``mouth`` x the crop (an open mouth) -> (478, 3) px, depth in px."""
    c = canonical()
    p = np.hstack([c.points, c.depth[:, None]]) - [0.5, 0.5, 0.0]
    if mouth:
        # the lower lip, the chin, the jaw: below the upper lip's inner edge (the corners stay)
        inner = p[list(ix.UPPER_LIP_INNER)]
        order = np.argsort(inner[:, 0])
        below = p[:, 1] > np.interp(p[:, 0], inner[order, 0], inner[order, 1]) + 1e-4
        half = 0.5 * abs(p[308, 0] - p[78, 0])  # the corners stay, the middle opens most
        p[:, 1] += mouth * below * np.clip(1 - (p[:, 0] / half) ** 2, 0, 1)
    a = np.radians(yaw)
    x = p[:, 0] * np.cos(a) + p[:, 2] * np.sin(a)
    z = -p[:, 0] * np.sin(a) + p[:, 2] * np.cos(a)
    return np.stack([(x + 0.5) * width + offset[0], (p[:, 1] + 0.5) * width + offset[1],
                     z * width], 1)


@pytest.mark.parametrize("yaw", [0.0, 30.0, 45.0, 60.0])
def test_points_round_trip_within_half_a_pixel(yaw):
    m = FaceMesh(turned(yaw))
    rng = np.random.default_rng(1)
    # points over the lower face and the mustache's area, on the canvas
    q = m.canvas_points[rng.choice(468, 300)] + rng.normal(0, 3, (300, 2))
    shows = m.visible(q)
    assert shows.mean() > (0.8 if yaw == 0 else 0.5)  # (the rest: off the mesh, its holes)
    back = m.to_canvas(m.to_photo(q[shows]))
    assert np.abs(back - q[shows]).max() < 0.5
    # and the other way, from photo points on the face (a pixel inside its silhouette)
    import cv2

    p = m.xy[rng.choice(468, 300)] + rng.normal(0, 1, (300, 2))
    face = cv2.erode(m.silhouette((0, 0, 700, 700)).astype(np.uint8), np.ones((3, 3))) > 0
    on = face[np.clip(p[:, 1].astype(int), 0, 699), np.clip(p[:, 0].astype(int), 0, 699)]
    again = m.to_photo(m.to_canvas(p[on]))
    assert np.abs(again - p[on]).max() < 0.5


def test_triangles_facing_away_are_hidden_and_the_far_side_is_foreshortened():
    fronts = [int(FaceMesh(turned(y)).front.sum()) for y in (0, 30, 60, 80)]
    assert fronts[0] == canonical().flat.sum()
    assert fronts == sorted(fronts, reverse=True) and fronts[-1] < 0.8 * fronts[0]
    # the frame's scale is the face's own, not its foreshortened width
    widths = [face_frame(turned(y)).width for y in (0, 45)]
    assert widths[1] == pytest.approx(widths[0], rel=0.02)


@pytest.mark.parametrize("yaw", [30.0, 45.0, 60.0])
def test_a_turned_face_gets_no_region_beyond_its_silhouette(yaw):
    pts = turned(yaw)
    box = region_box(pts, (700, 700))
    sup = region_support(pts, box)
    face = FaceMesh(pts).silhouette(box)
    assert (sup > 0).sum() > 1000
    assert sup[~face].max() == 0.0
    # the far half (the viewer's left, turned away) narrower than the near half, and narrower
    # than it is on the frontal face, by the mesh's own foreshortening
    x0 = pts[0, 0] - box[0]
    cols = np.flatnonzero((sup > 0.5).any(0))
    far, near = x0 - cols.min(), cols.max() - x0
    assert far < 0.8 * near, (far, near)
    flat = turned(0.0)
    fbox = region_box(flat, (700, 700))
    fcols = np.flatnonzero((region_support(flat, fbox) > 0.5).any(0))
    assert far < 0.9 * (flat[0, 0] - fbox[0] - fcols.min())


def test_an_open_mouth_is_a_hole_and_the_lips_stay_bare():
    pts = turned(10.0, mouth=0.06)
    xy = pts[:, :2]
    assert np.linalg.norm(xy[13] - xy[14]) > 20  # the mouth is open
    box = region_box(pts, (700, 700))
    sup = region_support(pts, box)
    shape = sup.shape
    off = np.array(box[:2])
    import cv2

    mouth = polygon_mask(np.concatenate([xy[list(ix.UPPER_LIP_INNER)],
                                         xy[list(ix.LOWER_LIP_INNER)][::-1]]) - off, shape) > 0.5
    mouth = cv2.erode(mouth.astype(np.uint8), np.ones((5, 5))) > 0  # its edge pixels: the lips'

    lower = polygon_mask(np.concatenate([xy[list(ix.LOWER_LIP_OUTER)],
                                         xy[list(ix.LOWER_LIP_INNER)][::-1]]) - off, shape) > 0.5
    verm = polygon_mask(np.concatenate([xy[list(ix.UPPER_LIP_OUTER)],
                                        xy[list(ix.UPPER_LIP_INNER)][::-1]]) - off, shape) > 0.5
    assert mouth.sum() > 500 and sup[mouth].max() == 0.0
    lower = cv2.erode(lower.astype(np.uint8), np.ones((3, 3))) > 0  # (its edge: the skin's)
    assert sup[lower].max() == 0.0
    covered = float((sup[verm] > 0.5).mean())
    assert covered < 0.35, covered  # the region's lower edge: 20% of the vermilion (+ its edge)


def test_the_map_is_quick():
    """The canvas warp of one face's mustache box (a face filling a 1024 px photo): the map
    in a few ms, the warp itself (cv2.remap) about 1 ms (2 ms allowed; 10 on a loaded box)."""
    import cv2

    from data_prep.region import canvas_region

    pts = turned(0.0, width=1024.0, offset=(0.0, 0.0))
    box = region_box(pts, (1024, 1024))
    _, mask, origin = canvas_region()
    canvas_rgb = np.repeat(mask[..., None], 3, 2)
    m = FaceMesh(pts)
    m.photo_map(box)  # the mesh's tables, once
    t = time.perf_counter()
    mp, _ = m.photo_map(box)
    built = time.perf_counter() - t
    mp = mp - np.asarray(origin, np.float32)
    runs = []
    for _ in range(15):
        t = time.perf_counter()
        cv2.remap(canvas_rgb, mp[..., 0], mp[..., 1], cv2.INTER_LINEAR,
                  borderMode=cv2.BORDER_CONSTANT)
        runs.append(time.perf_counter() - t)
    assert np.median(runs) < 0.010 and built < 0.1, (np.median(runs), built)


# ---------------------------------------------------------------- real photos, turned

def turn_photo(image: np.ndarray, points: np.ndarray, yaw: float):
    """A photo's face turned ``yaw`` degrees about its vertical axis, by warping its mesh (its
    landmarks with their depth, rotated about the face's centre and projected): -> (photo RGB
    uint8, the turned landmarks (478, 3)). Off the face the photo is as it was."""
    import cv2

    p = np.asarray(points, np.float64)
    c = p.mean(0)
    q = p - c
    a = np.radians(yaw)
    x = q[:, 0] * np.cos(a) + q[:, 2] * np.sin(a)
    z = -q[:, 0] * np.sin(a) + q[:, 2] * np.cos(a)
    new = np.stack([x, q[:, 1], z], 1) + c
    h, w = image.shape[:2]
    where, on = FaceMesh(new).map_from(FaceMesh(p), (0, 0, w, h))
    ys, xs = np.mgrid[:h, :w].astype(np.float32)
    mx, my = np.where(on, where[..., 0], xs), np.where(on, where[..., 1], ys)
    return cv2.remap(image, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT), new


@pytest.fixture(scope="module")
def engine():
    from mustache.paint.gan import Mustacher

    with Mustacher(device="cpu", check_existing=False) as m:
        yield m


@pytest.fixture(scope="module")
def portrait_face(astronaut, engine):
    import cv2

    big = cv2.resize(astronaut, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
    return big, np.asarray(engine.detect(big)[0].points, np.float64)


def _painted(engine, image, points):
    from data_prep.landmarks import FaceLandmarks
    from mustache.paint.gan import ApplyOptions

    face = FaceLandmarks(points.astype(np.float32), 0.99,
                         (*points[:, :2].min(0), *points[:, :2].max(0)))
    out = engine.apply(image, ApplyOptions(seed=5, clone="alpha"), faces=[face]).image
    return np.abs(out.astype(np.int16) - image).max(2) >= 8


def _footprint(points: np.ndarray, moved: np.ndarray) -> set:
    """The changed pixels lifted onto a coarse canvas (a cell about 2 photo px): cells."""
    ys, xs = np.nonzero(moved)
    mesh = FaceMesh(points, scale=96.0)
    return {tuple(v) for v in np.floor(mesh.to_canvas(np.stack([xs + 0.5, ys + 0.5], 1)))
            .astype(int)}


def test_a_turned_photo_keeps_its_mustache_on_the_face_and_its_footprint(engine, portrait_face):
    """The same person (the portrait, and the portrait turned 45 degrees by its mesh) with the
    same mustache: no change beyond the turned face's silhouette, and the same footprint on the
    canvas (where it shows on the turned face)."""
    image, points = portrait_face
    turned_img, turned_pts = turn_photo(image, points, 45.0)
    flat = _painted(engine, image, points)
    moved = _painted(engine, turned_img, turned_pts)
    h, w = moved.shape
    face = FaceMesh(turned_pts).silhouette((0, 0, w, h))
    assert moved.sum() > 500
    assert (moved & ~face).sum() <= 0.01 * moved.sum()
    a, b = _footprint(points, flat), _footprint(turned_pts, moved)
    # the frontal footprint where the turned face shows the canvas
    cells = np.array(sorted(a), np.float64) + 0.5
    a_seen = {tuple(v) for v in np.floor(cells[FaceMesh(turned_pts, scale=96.0)
                                               .visible(cells, tol=0.5)]).astype(int)}
    inter = len(a_seen & b)
    assert inter / len(a_seen | b) > 0.7, (inter, len(a_seen), len(b))


def test_a_frontal_donor_on_a_turned_face_stays_on_it(astronaut, engine, portrait_face):
    from mustache.paint.donor import DonorTransfer
    from tests.conftest import paint_mustache

    image, points = portrait_face
    lm = points.copy()
    top, lip = list(ix.UNDER_NOSE[1:-1]), list(ix.UPPER_LIP_OUTER[1:-1])
    lm[lip, :2] += 0.3 * (lm[top, :2] - lm[lip, :2])
    donor = paint_mustache(image, lm)
    turned_img, turned_pts = turn_photo(image, points, 40.0)
    with DonorTransfer(donor, detector=engine.detector, check_existing=False) as t:
        warped, mask, (x0, y0, x1, y1) = t.patch(turned_img, turned_pts)
    face = FaceMesh(turned_pts).silhouette((x0, y0, x1, y1))
    assert (mask > 0).sum() > 500
    assert mask[~face].max() == 0.0
    # the donor's dark mustache lands on the turned lip's skin, not beside it
    dark = (warped.astype(np.float32).mean(2) < 80) & (mask > 0.5)
    assert dark.sum() > 200


@pytest.mark.parametrize("yaw", [0.0, 40.0])
def test_lookup_tables_agree_with_the_exact_maps(yaw):
    """lift/carry (a raster of the triangles, for thousands of hairs) give the points that
    to_canvas/to_photo (every triangle tested) give: a cell on an edge may name the neighbour,
    whose map agrees there."""
    m = FaceMesh(turned(yaw))
    rng = np.random.default_rng(0)
    can = m.canvas_points
    lip = can[list(ix.UPPER_LIP_OUTER)]
    lo, hi = lip.min(0) - [10, 60], lip.max(0) + [10, 5]
    on_canvas = rng.uniform(lo, hi, (3000, 2))
    shows = m.visible(on_canvas)
    photo = m.to_photo(on_canvas[shows])
    box = (*np.floor(photo.min(0)), *np.ceil(photo.max(0)))
    lifted = m.lift(photo, m.photo_grid(box))
    assert np.percentile(np.linalg.norm(lifted - on_canvas[shows], axis=1), 99) < 0.5
    # the canonical table, the same for every face (canonical units)
    above = canonical().above_mouth
    carried = m.carry(on_canvas, canonical().above_mouth_grid)
    exact = m.to_photo(on_canvas, above)
    assert np.percentile(np.linalg.norm(carried - exact, axis=1), 95) < 0.5
