import numpy as np
import pytest
from PIL import Image

from data_prep.image_io import ImageLoadError, load_image, save_image


def test_round_trip_png(tmp_path, astronaut):
    save_image(tmp_path / "a.png", astronaut)
    assert np.array_equal(load_image(tmp_path / "a.png"), astronaut)


@pytest.mark.parametrize("suffix", [".jpg", ".webp", ".bmp", ".tiff"])
def test_formats(tmp_path, astronaut, suffix):
    Image.fromarray(astronaut).save(tmp_path / f"a{suffix}")
    out = load_image(tmp_path / f"a{suffix}")
    assert out.shape == (512, 512, 3) and out.dtype == np.uint8
    assert np.abs(out.astype(int) - astronaut).mean() < 6


def test_exif_orientation_applied(tmp_path, astronaut):
    im = Image.fromarray(astronaut[:, :300])  # 512 tall, 300 wide
    exif = im.getexif()
    exif[0x0112] = 6  # rotate 90 CW on display
    im.save(tmp_path / "r.jpg", exif=exif)
    assert load_image(tmp_path / "r.jpg").shape == (300, 512, 3)


@pytest.mark.parametrize("mode", ["L", "RGBA", "CMYK", "P", "I;16", "LA"])
def test_modes_become_rgb(tmp_path, astronaut, mode):
    im = Image.fromarray(astronaut)
    if mode == "I;16":
        arr = (astronaut[:, :, 0].astype(np.uint16) * 257)
        im = Image.fromarray(arr)
    else:
        im = im.convert(mode)
    suffix = ".tiff" if mode in ("CMYK", "I;16") else ".png"
    im.save(tmp_path / f"m{suffix}")
    out = load_image(tmp_path / f"m{suffix}")
    assert out.shape == (512, 512, 3) and out.dtype == np.uint8
    assert out.mean() > 20  # not blank


@pytest.mark.parametrize("make,reason", [
    (lambda p: p.write_bytes(b""), "empty file"),
    (lambda p: p.write_text("this is not an image"), "not an image"),
    (lambda p: p.write_bytes((p.parent / "good.jpg").read_bytes()[:2000]), "corrupt or truncated"),
])
def test_bad_files_have_reasons(tmp_path, astronaut, make, reason):
    Image.fromarray(astronaut).save(tmp_path / "good.jpg")
    bad = tmp_path / "bad.jpg"
    make(bad)
    with pytest.raises(ImageLoadError, match=reason):
        load_image(bad)


def test_pixel_limit(tmp_path):
    Image.new("RGB", (3000, 3000)).save(tmp_path / "big.png")
    with pytest.raises(ImageLoadError, match="too large"):
        load_image(tmp_path / "big.png", max_pixels=1_000_000)


def test_atomic_save_leaves_no_temp_files(tmp_path, astronaut):
    save_image(tmp_path / "x" / "a.jpg", astronaut)
    save_image(tmp_path / "x" / "a.jpg", astronaut)
    assert [p.name for p in (tmp_path / "x").iterdir()] == ["a.jpg"]


def test_shrink_keeps_small_images_and_scales_large_ones(astronaut):
    from data_prep.image_io import shrink

    same, k = shrink(astronaut, 640)
    assert same is astronaut and k == 1.0
    big = np.tile(astronaut, (6, 8, 1))  # 3072 high, 4096 wide
    small, k = shrink(big, 640)
    assert small.shape == (480, 640, 3) and small.dtype == np.uint8 and k == 640 / 4096
    # close to a properly filtered resize (not shifted, not garbled)
    import cv2

    ref = cv2.resize(big, (640, 480), interpolation=cv2.INTER_AREA)
    assert np.abs(small.astype(int) - ref).mean() < 12
