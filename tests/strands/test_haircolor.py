"""Hair colour from the eyebrows (the astronaut, and her brows recoloured), from pixels, and
from ``--color`` names."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from data_prep import indices as ix
from mustache.strands.haircolor import (
    COLOUR_NAMES,
    NAMED_SAMPLES,
    HairColour,
    brow_colour,
    colour_from_pixels,
    lab_to_rgb,
    named_colour,
    rgb_to_lab,
)


def lab(rgb) -> np.ndarray:
    """sRGB 0-255 (..., 3) -> Lab, by scikit-image (independent of the module's conversion)."""
    from skimage.color import rgb2lab

    return rgb2lab(np.asarray(rgb, np.float64)[None] / 255.0)[0]


def chroma(lab_value: np.ndarray) -> float:
    return float(np.hypot(lab_value[..., 1], lab_value[..., 2]))


def hue(lab_value: np.ndarray) -> float:
    return float(np.degrees(np.arctan2(lab_value[2], lab_value[1])))


@pytest.fixture(scope="module")
def face(astronaut, detector) -> np.ndarray:
    """The astronaut's landmarks (478, 3), photo px."""
    return detector.detect(astronaut)[0].points


def polys(points: np.ndarray, dy: float = 0.0) -> list[np.ndarray]:
    return [np.round(points[list(i), :2] + [0.0, dy]).astype(np.int32)
            for i in (ix.LEFT_BROW, ix.RIGHT_BROW)]


def brow_mask(image: np.ndarray, points: np.ndarray, dy: float = 0.0) -> np.ndarray:
    import cv2

    m = np.zeros(image.shape[:2], np.uint8)
    cv2.fillPoly(m, polys(points, dy), 1)
    return m.astype(bool)


def skin_above(image: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Median Lab (3,) of the forehead just above the brows (the brows moved up 6 px, the
    astronaut's brows being about 3 px thick)."""
    m = brow_mask(image, points, -6.0) & ~brow_mask(image, points)
    return np.median(lab(image[m]), axis=0)


def recolour_brows(image: np.ndarray, points: np.ndarray, target) -> np.ndarray:
    """The brows' hairs (the darker half of the pixels inside the brow polygons) moved to the
    Lab ``target``, keeping their texture (L* deviations x0.6, a*/b* deviations x0.5); the
    skin between the hairs is left as it is."""
    from skimage.color import lab2rgb

    m = brow_mask(image, points)
    px = lab(image[m])
    hair = px[:, 0] < np.median(px[:, 0])
    sel = px[hair]
    mean = sel.mean(0)
    new = np.empty_like(sel)
    new[:, 0] = target[0] + (sel[:, 0] - mean[0]) * 0.6
    new[:, 1:] = np.asarray(target[1:]) + (sel[:, 1:] - mean[1:]) * 0.5
    rgb = np.round(np.clip(lab2rgb(new[None])[0], 0, 1) * 255).astype(np.uint8)
    out = image.copy()
    region = out[m]
    region[hair] = rgb
    out[m] = region
    return out


# ---------------------------------------------------------------- colour space

def test_lab_conversion_matches_skimage_and_round_trips():
    rgb = np.random.default_rng(0).integers(0, 256, (500, 3)).astype(np.float64)
    ours = rgb_to_lab(rgb)
    np.testing.assert_allclose(ours, lab(rgb), atol=0.05)
    np.testing.assert_allclose(lab_to_rgb(ours), rgb, atol=0.01)


# ---------------------------------------------------------------- named colours

def test_named_colours_parse_all_names_and_hex():
    seen = {}
    for name in COLOUR_NAMES:
        c = named_colour(name)
        assert isinstance(c, HairColour) and c.source == f"color {name}"
        assert c.base.shape == (3,) and c.base.dtype == np.float32
        assert c.samples.shape == (NAMED_SAMPLES, 3) and c.samples.dtype == np.float32
        assert c.samples.min() >= 0 and c.samples.max() <= 255
        base, samples = lab(c.base), lab(c.samples)
        assert abs(np.median(samples[:, 0]) - base[0]) < 3  # variation around the base
        assert 1.5 < samples[:, 0].std() < 9  # but real variation
        assert (samples[:, 0] > base[0] + 8).sum() >= 2  # a few lighter/greyer hairs
        seen[name] = base
    assert 8 < seen["black"][0] < 20  # black hair reflects light: not (0, 0, 0)
    order = ["black", "dark-brown", "brown", "blonde", "white"]
    assert all(seen[a][0] < seen[b][0] for a, b in zip(order, order[1:], strict=False))
    assert chroma(seen["grey"]) < 3 and chroma(seen["white"]) < 5
    assert seen["auburn"][1] > seen["brown"][1] + 10  # auburn is redder than brown
    assert seen["blonde"][2] > 25  # and blonde yellow
    np.testing.assert_array_equal(named_colour("gray").base, named_colour("grey").base)
    np.testing.assert_array_equal(named_colour(" Dark Brown ").base,
                                  named_colour("dark-brown").base)
    h = named_colour("#AaBbCc")
    assert h.source == "color #aabbcc"
    np.testing.assert_array_equal(h.base, np.float32([170, 187, 204]))


@pytest.mark.parametrize("spec", ["purple", "#12345", "#gggggg", "", "black2"])
def test_named_colour_rejects_unknown(spec):
    with pytest.raises(ValueError) as e:
        named_colour(spec)
    assert repr(spec) in str(e.value) and "dark-brown" in str(e.value)


def test_named_colour_is_deterministic():
    a, b = named_colour("auburn"), named_colour("auburn")
    np.testing.assert_array_equal(a.samples, b.samples)
    np.testing.assert_array_equal(a.base, b.base)


# ---------------------------------------------------------------- eyebrows

def test_astronaut_brows_are_brown(astronaut, face):
    c = brow_colour(astronaut, face)
    base = lab(c.base)
    skin = skin_above(astronaut, face)
    assert c.source == "eyebrows"
    assert 40 < base[0] < 62, base  # a mid brown: thin brows mixed with skin at 512 px
    assert 12 < chroma(base) < 35 and 45 < hue(base) < 85, base  # brown, not grey or red
    assert base[0] < skin[0] - 15  # clearly darker than her forehead
    # the core is darker than the typical brow pixel: the hairs are mixed with skin
    assert base[0] < np.median(lab(astronaut[brow_mask(astronaut, face)])[:, 0]) - 8
    assert c.samples.dtype == np.float32 and 1 <= len(c.samples) <= 256
    samples = lab(c.samples)
    assert abs(np.median(samples[:, 0]) - base[0]) < 2  # samples shifted onto the core
    assert samples[:, 0].std() > 3  # with their natural spread


def test_brow_colour_follows_recoloured_brows(astronaut, face):
    original = lab(brow_colour(astronaut, face).base)
    got = {}
    for name, target in {"black": (14, 1, 2), "blonde": (68, 5, 32),
                         "grey": (58, 0, 1)}.items():
        c = brow_colour(recolour_brows(astronaut, face, target), face)
        assert c.source == "eyebrows", (name, c.source)
        got[name] = lab(c.base)
        assert abs(got[name][0] - target[0]) < 8, (name, got[name])  # no drift to black
    assert got["black"][0] < original[0] - 25 and chroma(got["black"]) < 8
    assert got["blonde"][0] > original[0] + 5
    assert got["blonde"][2] > original[2] + 5 and got["blonde"][2] > 25  # yellower
    assert chroma(got["grey"]) < 4  # grey stays grey, not darkened to black or tinted
    assert got["black"][0] < got["grey"][0] < got["blonde"][0]


def test_grey_hairs_among_dark_brows_show_in_the_samples(astronaut, face):
    """Salt and pepper: a third of the hairs grey, the rest dark brown."""
    dark = recolour_brows(astronaut, face, (22, 8, 14))
    m = brow_mask(astronaut, face)
    px = lab(astronaut[m])
    hair = np.flatnonzero(px[:, 0] < np.median(px[:, 0]))
    grey = recolour_brows(astronaut, face, (60, 0, 0))
    mixed = dark.copy()
    region, grey_region = mixed[m], grey[m]
    region[hair[::3]] = grey_region[hair[::3]]
    mixed[m] = region
    pure = lab(brow_colour(dark, face).samples)
    salted = lab(brow_colour(mixed, face).samples)
    light_grey = (salted[:, 0] > 35) & (np.hypot(salted[:, 1], salted[:, 2]) < 6)
    assert light_grey.mean() > 0.1
    assert ((pure[:, 0] > 35) & (np.hypot(pure[:, 1], pure[:, 2]) < 6)).mean() < 0.02


def test_light_brows_give_a_visible_colour_and_say_so(astronaut, face):
    skin = skin_above(astronaut, face)
    m = brow_mask(astronaut, face)
    px = lab(astronaut[m])
    faint = skin + (px - px.mean(0)) * 0.15  # the skin colour, a trace of the texture left
    img = astronaut.copy()
    img[m] = np.round(lab_to_rgb(faint)).astype(np.uint8)
    c = brow_colour(img, face)
    base = lab(c.base)
    assert "light" in c.source and c.source.startswith("eyebrows")
    assert base[0] < skin[0] - 8, (base, skin)  # visible against the skin
    assert base[0] > 40  # but a light brown, not black
    assert abs(hue(base) - hue(skin)) < 20  # of the brows' own (here: the skin's) tint


def test_white_brows_on_darker_skin_stay_white(astronaut, face):
    c = brow_colour(recolour_brows(astronaut, face, (92, 0, 2)), face)
    base = lab(c.base)
    assert "light" in c.source
    assert base[0] > 85 and chroma(base) < 6, base


def test_brows_outside_the_photo_give_the_fallback(astronaut, face):
    cut = int(np.ceil(face[list(ix.LEFT_BROW + ix.RIGHT_BROW), 1].max())) + 1
    shifted = face - [0.0, cut, 0.0]
    c = brow_colour(astronaut[cut:], shifted)
    assert c.source.startswith("fallback (")
    np.testing.assert_array_equal(c.base, named_colour("dark-brown").base)
    assert len(c.samples) >= 1
    # far outside on the other sides too
    assert brow_colour(astronaut, face + [5000.0, 0.0, 0.0]).source.startswith("fallback")
    assert brow_colour(astronaut, face - [0.0, 5000.0, 0.0]).source.startswith("fallback")


def test_brows_partly_outside_use_what_is_inside(astronaut, face):
    cut = int(face[list(ix.LEFT_BROW), 0].mean())  # half the viewer's-left brow cut off
    img = astronaut[:, cut:]
    c = brow_colour(img, face - [cut, 0.0, 0.0])
    full = lab(brow_colour(astronaut, face).base)
    assert c.source == "eyebrows"
    assert np.linalg.norm(lab(c.base) - full) < 8


def test_brow_colour_is_deterministic_and_subsamples_evenly(astronaut, face):
    a, b = brow_colour(astronaut, face), brow_colour(astronaut.copy(), face.copy())
    np.testing.assert_array_equal(a.base, b.base)
    np.testing.assert_array_equal(a.samples, b.samples)
    few = brow_colour(astronaut, face, max_samples=16)
    assert few.samples.shape == (16, 3)
    np.testing.assert_array_equal(few.base, a.base)
    light = lab(few.samples)[:, 0]
    assert np.all(np.diff(light) >= -0.5)  # in lightness order, evenly over the whole range
    assert light[0] <= lab(a.samples)[:, 0].min() + 1 and light[-1] >= lab(a.samples)[:, 0].max() - 1


def test_brow_colour_checks_its_inputs(astronaut, face):
    with pytest.raises(ValueError, match=r"\(512, 512\)"):
        brow_colour(astronaut[:, :, 0], face)
    with pytest.raises(ValueError, match="float"):
        brow_colour(astronaut.astype(np.float32), face)
    with pytest.raises(ValueError, match=r"\(10, 2\)"):
        brow_colour(astronaut, face[:10, :2])
    with pytest.raises(ValueError, match="max_samples"):
        brow_colour(astronaut, face, max_samples=0)
    bad = face.copy()
    bad[ix.LEFT_BROW[0], 0] = np.nan
    with pytest.raises(ValueError, match="finite"):
        brow_colour(astronaut, bad)


# ---------------------------------------------------------------- pixels (donor)

def test_colour_from_pixels_finds_the_hair_among_skin():
    rng = np.random.default_rng(1)
    skin = np.array([205, 160, 135]) + rng.normal(0, 4, (600, 3))
    hair = np.array([60, 42, 30]) + rng.normal(0, 6, (400, 3))
    mixed = 0.6 * np.array([60, 42, 30]) + 0.4 * skin[:200]  # half-covered pixels
    px = np.clip(np.concatenate([skin, hair, mixed]), 0, 255).astype(np.uint8)
    c = colour_from_pixels(px, "donor", max_samples=100)
    assert c.source == "donor" and c.samples.shape == (100, 3)
    assert np.linalg.norm(lab(c.base) - lab([60, 42, 30])) < 6
    assert lab(c.samples)[:, 0].max() < lab(skin.mean(0))[0] - 20  # no skin among the samples
    for n in (1, 2, 3, 5):  # a handful of pixels still gives a finite colour
        few = colour_from_pixels(px[::len(px) // n][:n], f"{n} pixels")
        assert few.samples.shape == ((n + 1) // 2, 3)
        assert np.isfinite(few.base).all() and np.isfinite(few.samples).all()


def test_core_is_darker_than_partly_covered_hair_pixels_but_ignores_shadows():
    """Hair pixels with coverage 50-100 % over skin, and 4 % black shadow pixels: the core
    lies between the pure hair and the typical hair pixel, not at the shadows."""
    rng = np.random.default_rng(2)
    hair_rgb, skin_rgb = np.array([70, 50, 38.0]), np.array([205, 160, 135.0])
    cover = rng.uniform(0.5, 1.0, (1000, 1))
    hairy = cover * hair_rgb + (1 - cover) * skin_rgb
    skin = skin_rgb + rng.normal(0, 3, (1000, 3))
    shadow = rng.uniform(0, 12, (80, 3))
    px = np.clip(np.concatenate([hairy, skin, shadow]), 0, 255).astype(np.uint8)
    c = colour_from_pixels(px, "test")
    core = lab(c.base)[0]
    pure, typical = lab(hair_rgb)[0], np.median(lab(hairy)[:, 0])
    assert pure - 2 < core < typical - 5, (pure, core, typical)


@pytest.mark.parametrize("bad", [np.zeros((0, 3), np.uint8), np.zeros((5, 4), np.uint8),
                                 np.zeros((5, 3), np.float32), np.zeros(3, np.uint8)])
def test_colour_from_pixels_checks_its_input(bad):
    with pytest.raises(ValueError, match=re_shape(bad.shape)):
        colour_from_pixels(bad, "x")


def re_shape(shape: tuple) -> str:
    import re

    return re.escape(str(shape))


def test_import_has_no_heavy_side_effects():
    code = ("import sys, mustache.strands.haircolor; "
            "print(sorted(m for m in ('cv2', 'skimage', 'torch', 'mediapipe') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ---------------------------------------------------------------- the natural hair gamut

def test_grey_olive_goes_to_the_nearest_natural_brown():
    from mustache.strands.haircolor import natural_hair

    olive = np.array([45.0, -3.0, 12.0])  # a hair/skin mix under a green cast
    out = natural_hair(olive)
    assert abs(out[0] - 45.0) < 1.0  # lightness kept
    assert 55 <= hue(out) <= 85, out  # a brown's hue, not olive's 104 deg
    assert chroma(out) >= chroma(olive) - 0.1  # not greyed
    assert np.linalg.norm(out - olive) < 6  # the nearest: just turned to the edge


def test_natural_colours_map_to_themselves_and_outputs_stay_inside():
    from mustache.strands.haircolor import natural_hair

    named = rgb_to_lab(np.array([named_colour(n).base for n in COLOUR_NAMES], np.float64))
    np.testing.assert_allclose(natural_hair(named), named, atol=1.0)
    rng = np.random.default_rng(3)
    anything = np.c_[rng.uniform(0, 100, 3000), rng.uniform(-70, 70, (3000, 2))]
    once = natural_hair(anything)
    np.testing.assert_allclose(natural_hair(once), once, atol=1e-6)  # inside: a fixed point
    assert natural_hair(anything.reshape(30, 100, 3)).shape == (30, 100, 3)
    h = np.degrees(np.arctan2(once[:, 2], once[:, 1]))
    c = np.hypot(once[:, 1], once[:, 2])
    assert np.all((c <= 4.01) | ((h > 29) & (h < 99)))  # warm hues, or near-neutral
    dark_grey = natural_hair(np.array([[30.0, 0, 0], [20.0, 0.5, -1.0]]))
    assert np.all(np.hypot(dark_grey[:, 1], dark_grey[:, 2]) > 1)  # dark neutrals: brown/black
    assert np.all(np.degrees(np.arctan2(dark_grey[:, 2], dark_grey[:, 1])) > 40)
    with pytest.raises(ValueError, match=r"\(4, 2\)"):
        natural_hair(np.zeros((4, 2)))


def test_measured_colours_are_natural_but_explicit_ones_are_not_changed():
    blue = np.array([[70, 80, 140]] * 50, np.uint8)  # a blue "hair" from a cast or a hat
    base = lab(colour_from_pixels(blue, "x").base)
    assert chroma(base) < 5  # no blue: a grey/brown
    np.testing.assert_array_equal(named_colour("#4650a0").base, np.float32([70, 80, 160]))
