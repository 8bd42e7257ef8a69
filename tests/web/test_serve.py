"""`mustache serve` without a browser: the API through FastAPI's TestClient, one model for the
module. Limits, bad files, formats and EXIF of downloads, sessions that cannot see each other,
and the store's cleaning. Attacks and load: tests/web/test_serve_attacks.py and
tests/web/test_serve_server.py."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("fastapi", reason="needs the serve extra: pip install 'mustache[serve]'")
pytest.importorskip("httpx", reason="FastAPI's TestClient needs httpx (the dev extra)")

from fastapi.testclient import TestClient  # noqa: E402
from PIL import Image  # noqa: E402

from mustache.web.app import ServeConfig, create_app  # noqa: E402
from mustache.web.engine import EngineConfig, crop_box, search_width  # noqa: E402
from mustache.web.photos import Limits  # noqa: E402
from mustache.web.store import Store, StoreConfig  # noqa: E402

MAKE, ORIENTATION = 0x010F, 0x0112


def encode(rgb: np.ndarray, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, fmt, **kw)
    return buf.getvalue()


@pytest.fixture(scope="module")
def app(model):
    # every test's browsers share one address ("testclient"): room for all of them (the caps
    # are tested in test_serve_attacks.py)
    a = create_app(ServeConfig(store=StoreConfig(max_sessions=500, per_address=500)), model=model)
    with TestClient(a, base_url="http://127.0.0.1"):  # runs the lifespan once for the module
        yield a


def client(app) -> TestClient:
    """A browser of its own: its own cookie jar, so its own session, and the page's token sent
    with every request as the page's script does."""
    c = TestClient(app, base_url="http://127.0.0.1")
    page = c.get("/").text
    c.headers["X-Mustache-Token"] = re.search(r'name="mustache-token" content="([^"]+)"', page)[1]
    return c


@pytest.fixture(scope="module")
def png(app) -> bytes:
    return client(app).get("/api/examples/astronaut").content


def test_page_config_and_headers(app):
    from mustache.paint.styles import STYLES

    c = TestClient(app, base_url="http://127.0.0.1")
    r = c.get("/")
    assert r.status_code == 200 and "<title>mustache</title>" in r.text
    assert "mustache_session" in r.cookies and "httponly" in r.headers["set-cookie"].lower()
    assert "default-src 'self'" in r.headers["content-security-policy"]
    cfg = c.get("/api/config").json()
    assert cfg["styles"] == list(STYLES)
    assert "auburn" in cfg["colours"] and cfg["examples"]
    # another Host name (DNS rebinding from a web page elsewhere) is refused
    r = c.get("/", headers={"host": "attacker.example"})
    assert r.status_code == 400 and "not served here" in r.json()["error"]
    assert c.get("/api/examples/etc-passwd").status_code == 404
    assert c.get("/static/../app.py").status_code == 404


def test_jpeg_download_keeps_exif_without_orientation(app, astronaut):
    # stored turned a quarter (orientation 6 = turn 90 degrees clockwise to view)
    stored = np.ascontiguousarray(np.rot90(astronaut, 1))
    exif = Image.Exif()
    exif[ORIENTATION], exif[MAKE] = 6, "test camera"
    body = encode(stored, "JPEG", quality=95, exif=exif.tobytes())
    c = client(app)
    r = c.post("/api/apply?seed=2&name=../../holiday%20pic.jpeg", content=body)
    assert r.status_code == 200, r.text
    j = r.json()
    assert [f["blended"] for f in j["faces"]] == [True]
    assert j["filename"] == "holiday_pic_mustache.jpg" and j["format"] == "JPEG"
    assert (j["width"], j["height"]) == (512, 512)
    d = c.get(j["url"], params={"download": 1})
    assert d.status_code == 200 and d.headers["content-type"] == "image/jpeg"
    assert 'attachment; filename="holiday_pic_mustache.jpg"' == d.headers["content-disposition"]
    with Image.open(io.BytesIO(d.content)) as im:
        assert im.format == "JPEG" and im.size == (512, 512)  # upright: the photo as viewed
        got = im.getexif()
        out = np.asarray(im.convert("RGB")).astype(int)
    assert got[MAKE] == "test camera" and ORIENTATION not in got
    # upright and unchanged away from the mouth (only JPEG's own noise there)
    assert np.abs(out[:60] - astronaut[:60].astype(int)).mean() < 3
    crop = j["crops"][0]
    assert crop["before"].startswith("data:image/png;base64,") and crop["after"] != crop["before"]
    x0, y0, x1, y1 = crop["box"]
    assert x1 - x0 <= 640 and y1 - y0 <= 400


def test_png_in_png_out_and_face_selection(app, astronaut):
    two = np.hstack([astronaut, astronaut[:, ::-1]])
    c = client(app)
    j = c.post("/api/apply?faces=1&name=pair.png", content=encode(two, "PNG")).json()
    assert j["format"] == "PNG" and j["filename"] == "pair_mustache.png"
    notes = {f["index"]: (f["blended"], f["note"]) for f in j["faces"]}
    assert notes == {0: (False, "not selected"), 1: (True, None)}
    out = np.asarray(Image.open(io.BytesIO(c.get(j["url"]).content)))
    assert out.shape == two.shape
    box0 = [round(v) for v in j["faces"][0]["box"]]
    same = out[box0[1]:box0[3], box0[0]:box0[2]] == two[box0[1]:box0[3], box0[0]:box0[2]]
    assert same.all()  # the face left off is untouched, bit for bit (PNG is lossless)
    none = c.post("/api/apply?faces=none", content=encode(two, "PNG")).json()
    assert not any(f["blended"] for f in none["faces"])


@pytest.mark.parametrize("body, status, words", [
    (b"", 400, "empty"),
    (b"just some text, not a photo", 400, "not an image"),
    (b"%PDF-1.4\n%\xe2\xe3", 400, "not an image"),
    (encode(np.zeros((8, 8, 3), np.uint8), "GIF"), 400, "GIF images are not supported"),
    (None, 400, "corrupt"),  # a truncated JPEG, made below
    (b"\0\0\0\x18ftypheic\0\0\0\0mif1heic" + bytes(64), 400,
     "HEIC is not supported; convert to JPEG or PNG"),
    (encode(np.full((300, 300, 3), 128, np.uint8), "PNG"), 422, "no face found"),
])
def test_bad_files_get_one_clear_line(app, astronaut, body, status, words):
    if body is None:
        body = encode(astronaut, "JPEG")[:400]
    r = client(app).post("/api/apply", content=body)
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert words in error and "\n" not in error and "Traceback" not in error


@pytest.mark.parametrize("query, status, words", [
    ("strength=3", 422, "strength must be a number in [0, 1], got '3'"),
    ("strength=nan", 422, "strength must be a number in [0, 1]"),
    ("length=0", 422, "length must be a number in (0, 4]"),
    ("thickness=inf", 422, "thickness must be a number in [0, 4]"),
    ("style=moustachio", 422, "unknown style 'moustachio'"),
    ("color=purple", 422, "unknown hair colour 'purple'"),
    ("seed=abc", 422, "seed must be a whole number in 0..2147483647, got 'abc'"),
    ("seed=-1", 422, "seed must be in 0..2147483647, got -1"),
    ("seed=2147483648", 422, "seed must be in 0..2147483647"),
    ("seed=2147483647&count=2", 422, "seed + count - 1 must be at most 2147483647"),
    ("count=7", 422, "count must be in 1..6, got 7"),
    ("seed=1&seed=2", 422, "seed is given 2 times"),
    ("sed=3", 422, "unknown setting 'sed'"),
    ("force=maybe", 422, "force must be true or false"),
    ("faces=first", 422, "faces must be up to 64 face numbers"),
    ("faces=" + ",".join(["1"] * 65), 422, "faces must be up to 64 face numbers"),
    ("name=" + "x" * 256, 422, "name must be at most 255 characters, got 256"),
    ("donor=../../etc", 422, "donor must be a token from /api/donor"),
    ("donor=made-up-token", 400, "donor photo has expired"),
])
def test_bad_options_get_one_clear_line(app, png, query, status, words):
    r = client(app).post(f"/api/apply?{query}", content=png)
    assert r.status_code == status and words in r.json()["error"], r.text
    assert "\n" not in r.json()["error"]


def test_limits_on_bytes_and_pixels(model, astronaut):
    small = ServeConfig(limits=Limits(max_bytes=200_000, max_pixels=300_000))
    with TestClient(create_app(small, model=model), base_url="http://127.0.0.1") as c:
        page = c.get("/").text
        c.headers["X-Mustache-Token"] = re.search(r'mustache-token" content="([^"]+)"', page)[1]
        big = encode(np.random.default_rng(0).integers(0, 255, (400, 400, 3), np.uint8), "PNG")
        r = c.post("/api/apply", content=big)
        assert r.status_code == 413 and "too large" in r.json()["error"]

        def chunks():  # no Content-Length: the limit holds while the body streams
            for _ in range(10):
                yield b"x" * 50_000

        r = c.post("/api/apply", content=chunks())
        assert r.status_code == 413 and "too large" in r.json()["error"]
        r = c.post("/api/apply", content=encode(np.zeros((600, 600, 3), np.uint8), "JPEG"))
        assert r.status_code == 413
        assert r.json()["error"] == "the photo is too large: 0.36 MP, the limit is 0.3 MP"
        assert c.post("/api/apply", content=encode(astronaut, "JPEG", quality=80)).status_code == 200


def test_two_sessions_never_see_each_other(app, png):
    alice, bob = client(app), client(app)
    assert alice.cookies["mustache_session"] != bob.cookies["mustache_session"]
    a = alice.post("/api/apply?seed=1", content=png).json()
    assert alice.get(a["url"]).status_code == 200
    r = bob.get(a["url"])  # Bob got Alice's token somehow: still not hers to see
    assert r.status_code == 404 and "expired or belongs to another page" in r.json()["error"]
    donor = alice.post("/api/donor", content=png).json()["donor"]
    assert alice.post(f"/api/apply?donor={donor}", content=png).status_code == 200
    assert bob.post(f"/api/apply?donor={donor}", content=png).status_code == 400
    # Alice's page token is not Bob's: his cookie with her token is refused
    bob.headers["X-Mustache-Token"] = alice.headers["X-Mustache-Token"]
    assert bob.post("/api/apply", content=png).status_code == 403
    store = app.state.store
    assert all(store.root in p.parents for p in store.files())  # only its own folder


def test_variations_are_different_seeds(app, png):
    j = client(app).post("/api/variations?seed=5&count=3", content=png).json()
    assert [v["seed"] for v in j["variations"]] == [5, 6, 7]
    assert len({v["crop"] for v in j["variations"]}) == 3


def test_store_expires_caps_and_cleans(tmp_path):
    now = [0.0]
    s = Store(StoreConfig(ttl_s=60, results_per_session=2, max_sessions=2), clock=lambda: now[0],
              temp=tmp_path)
    a, token = s.open(None, "1.2.3.4")
    assert s.open(a, "1.2.3.4") == (a, token)  # a reload: the same session and token
    assert s.find(a) == a and s.find("guessed") is None and s.find(None) is None
    assert s.open("guessed", "1.2.3.4", new=False) is None  # only a page load makes one
    assert s.token_ok(a, token) and not s.token_ok(a, "x" * 43) and not s.token_ok(a, None)
    t1, t2, t3 = (s.put(a, b"x", "p.jpg", "image/jpeg") for _ in range(3))
    assert s.get(a, t1) is None and s.get(a, t3).path.read_bytes() == b"x"  # oldest dropped
    assert len(s.files()) == 2
    now[0] = 61.0
    assert s.get(a, t3) is None and s.files() == []  # expired results are deleted
    for _ in range(3):
        s.open(None, "1.2.3.4")
    assert s.sessions() == 2
    root = s.root
    s.close()
    assert not Path(root).exists()


def test_search_width_and_crop_box():
    c = EngineConfig(min_face=40, face_share=0.05)
    assert search_width((512, 512), c) == 40
    assert search_width((3000, 4000), c) == 160  # 40 -> 80 -> 160; 320 > 5% of 4000
    assert crop_box((100, 100, 300, 160), (1000, 1000), (640, 400)) == (46, 81, 354, 179)
    assert crop_box((0, 0, 2000, 900), (1000, 3000), (640, 400)) == (680, 250, 1320, 650)


def test_cli_serve_help_names_the_options():
    from typer.testing import CliRunner

    from mustache.cli import app as cli

    r = CliRunner().invoke(cli, ["serve", "--help"])
    assert r.exit_code == 0 and "--port" in r.output and "--host" in r.output
    assert "--keep-exif" in r.output and "--upload-timeout" in r.output
    r = CliRunner().invoke(cli, ["serve", "--port", "70000"])
    assert r.exit_code == 2 and "--port must be in 0..65535" in r.output
    r = CliRunner().invoke(cli, ["serve", "--upload-timeout", "0"])
    assert r.exit_code == 2 and "timeouts must be > 0" in r.output
    r = CliRunner().invoke(cli, ["serve", "--keep-exif", "--queue", "-1"])  # a flag, no value
    assert r.exit_code == 2 and "waiting >= 0" in r.output


def shifted(rgb: np.ndarray, dx: int) -> np.ndarray:
    """``rgb`` moved ``dx`` px right, the edge repeated (a face moving in front of a camera)."""
    return np.pad(rgb, ((0, 0), (dx, 0), (0, 0)), mode="edge")[:, :rgb.shape[1]]


def jpeg_rgb(body: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(body)) as im:
        assert im.format == "JPEG"
        return np.asarray(im.convert("RGB")).astype(int)


def test_webcam_frames_get_mustaches_that_stay_put(app, astronaut):
    import time

    # a 640x480 camera frame with the astronaut in it, moving 3 px a frame, then still
    frame = np.zeros((480, 640, 3), np.uint8)
    frame[:, 64:576] = astronaut[16:496]
    c = client(app)
    sent, got, seconds = [], [], []
    for i, dx in enumerate([0, 3, 6, 9, 12, 12, 12]):
        sent.append(shifted(frame, dx))
        t = time.perf_counter()
        r = c.post("/api/live?seed=4&style=walrus", content=encode(sent[-1], "JPEG", quality=80))
        seconds.append(time.perf_counter() - t)
        assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg", r.text
        assert r.headers["x-mustache-faces"] == "1", i
        got.append(jpeg_rgb(r.content))
        assert got[-1].shape == (480, 640, 3)
    # the upper lip (x 198-250, y 131-142 of the portrait: 64 px right and 16 up in the
    # frame) is changed in every frame, and moves with the face
    for out, src, dx in zip(got, sent, [0, 3, 6, 9, 12, 12, 12], strict=True):
        y, x = 113, 262 + dx
        assert np.abs(out[y:y + 15, x:x + 52] - src[y:y + 15, x:x + 52]).mean() > 8
        assert np.abs(out[:100] - src[:100].astype(int)).mean() < 3  # the rest: JPEG noise only
    assert np.abs(got[-1] - got[-2]).mean() < 2  # a still face: the same mustache
    # its frame rate at 640x480 after the first frame (which paints), for the README
    print(f"\nwebcam 640x480: first frame {seconds[0]:.2f} s, then "
          f"{len(seconds[1:]) / sum(seconds[1:]):.1f} frames/s")


def test_webcam_sessions_keep_their_own_faces_and_stop(app, astronaut):
    face = np.zeros((480, 640, 3), np.uint8)
    face[:, 64:576] = astronaut[16:496]
    empty = encode(np.full((480, 640, 3), 90, np.uint8), "JPEG", quality=80)
    alice, bob = client(app), client(app)
    for dx in (0, 2):
        assert alice.post("/api/live", content=encode(shifted(face, dx), "JPEG")).status_code == 200
        # Bob's camera sees nobody: his frame comes back as it was, with no trace of Alice's face
        r = bob.post("/api/live", content=empty)
        assert r.status_code == 200 and r.headers["x-mustache-faces"] == "0"
        assert r.content == empty
    store = app.state.store
    alice_stream = store._sessions[alice.cookies["mustache_session"]].live[1]
    # other settings: a new stream (the old one closed), then Stop closes that one
    assert alice.post("/api/live?seed=9", content=encode(face, "JPEG")).status_code == 200
    assert alice_stream.closed
    newer = store._sessions[alice.cookies["mustache_session"]].live[1]
    assert alice.post("/api/live/stop").json() == {"stopped": True} and newer.closed
    assert alice.post("/api/live/stop").json() == {"stopped": False}
    # a bad frame or setting is one line, like a bad photo
    for query, body, status, words in [("", b"", 400, "empty"), ("", b"<html>", 400, "not an image"),
                                       ("style=moustachio", empty, 422, "unknown style")]:
        r = bob.post(f"/api/live?{query}", content=body)
        assert r.status_code == status and words in r.json()["error"], r.text
        assert "\n" not in r.json()["error"]


def test_store_closes_idle_and_dropped_webcam_streams(tmp_path):
    class Stream:
        closed = False

        def close(self):
            self.closed = True

    now = [0.0]
    s = Store(StoreConfig(ttl_s=600, live_idle_s=60, max_sessions=1), clock=lambda: now[0],
              temp=tmp_path)
    a, _ = s.open(None, "127.0.0.1")
    first = s.live(a, "k", Stream)
    assert s.live(a, "k", Stream) is first and s.live(a, "other", Stream) is not first
    assert first.closed
    second = s.live(a, "other", Stream)
    now[0] = 61.0
    s.find(a)  # any request: the stream without a frame for a minute is closed
    assert second.closed and s._sessions[a].live is None
    third = s.live(a, "k", Stream)
    s.open(None, "127.0.0.1")  # a new browser evicts the only session, and its stream
    assert third.closed
    s.close()
