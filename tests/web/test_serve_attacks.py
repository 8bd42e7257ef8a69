"""`mustache serve` probed as an attacker would, through FastAPI's TestClient (the real server,
its memory, timeouts and sockets: tests/web/test_serve_server.py): requests from other web sites,
sessions made and evicted by strangers, photos too large by their header, crafted EXIF, GPS in
downloads, secrets in the log."""

from __future__ import annotations

import io
import logging
import re
import struct
import zlib

import numpy as np
import pytest

pytest.importorskip("fastapi", reason="needs the serve extra: pip install 'mustache[serve]'")
pytest.importorskip("httpx", reason="FastAPI's TestClient needs httpx (the dev extra)")

from fastapi.testclient import TestClient  # noqa: E402
from PIL import Image  # noqa: E402

from mustache.web.app import ServeConfig, create_app  # noqa: E402
from mustache.web.store import Store, StoreConfig, remove_stale  # noqa: E402

MAKE, ORIENTATION, RESOLUTION_UNIT, GPS = 0x010F, 0x0112, 0x0128, 0x8825
SERVER = "http://127.0.0.1"


@pytest.fixture(scope="module")
def app(model, tmp_path_factory):
    """The default settings (caps included), its folder in a temporary folder of its own."""
    a = create_app(ServeConfig(temp=tmp_path_factory.mktemp("serve")), model=model)
    with TestClient(a, base_url=SERVER):
        yield a


def page_token(html: str) -> str:
    return re.search(r'<meta name="mustache-token" content="([^"]*)">', html)[1]


def browser(app) -> TestClient:
    """A page loaded in a browser of its own: its cookie, and its token on every request."""
    c = TestClient(app, base_url=SERVER)
    c.headers["X-Mustache-Token"] = page_token(c.get("/").text)
    return c


def stranger(app) -> TestClient:
    return TestClient(app, base_url=SERVER)


def encode(rgb: np.ndarray, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, fmt, **kw)
    return buf.getvalue()


@pytest.fixture(scope="module")
def png(astronaut) -> bytes:
    return encode(astronaut, "PNG")


# ---------------------------------------------------------------- from other web sites

def test_a_post_from_another_site_is_refused_before_its_body(app, png):
    """What any web page could send to 127.0.0.1: a "simple" text/plain POST, with no cookie
    (SameSite=Strict) and no token; or, if a cookie went along, the foreign Origin."""
    store = app.state.store
    files = store.files()
    evil = {"Origin": "http://evil.example", "Content-Type": "text/plain"}
    r = stranger(app).post("/api/apply", content=png, headers=evil)
    assert r.status_code == 403 and r.json() == {"error": "refused: this request came from another web site"}
    me = browser(app)
    for headers in (evil, {"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"},
                    {"Origin": "null"}, {"Origin": "http://127.0.0.1:9999"}):
        r = me.post("/api/apply", content=png, headers=headers)
        assert r.status_code == 403 and "another web site" in r.json()["error"], headers
        assert r.headers["connection"] == "close"  # its body is never read
    for path in ("/api/donor", "/api/variations", "/api/live", "/api/live/stop"):
        assert me.post(path, content=png, headers=evil).status_code == 403, path
    assert store.files() == files  # nothing was made
    # the page itself: same origin, or no Fetch metadata at all (curl, scripts)
    ok = {"Origin": SERVER, "Sec-Fetch-Site": "same-origin"}
    assert me.post("/api/apply", content=png, headers=ok).status_code == 200


def test_the_api_needs_the_session_cookie_and_its_own_page_token(app, png):
    alice, bob = browser(app), browser(app)
    no_token = TestClient(app, base_url=SERVER, cookies=dict(alice.cookies))
    r = no_token.post("/api/apply", content=png)
    assert r.status_code == 403 and "does not carry the page's token" in r.json()["error"]
    no_cookie = stranger(app)
    no_cookie.headers["X-Mustache-Token"] = alice.headers["X-Mustache-Token"]
    r = no_cookie.post("/api/apply", content=png)
    assert r.status_code == 403 and "reload the page" in r.json()["error"]
    bob.headers["X-Mustache-Token"] = alice.headers["X-Mustache-Token"]  # a token, not his
    assert bob.post("/api/apply", content=png).status_code == 403
    assert alice.post("/api/apply", content=png).status_code == 200


def test_the_session_cookie_is_strict_and_made_only_by_a_page_load(app):
    store = app.state.store
    r = stranger(app).get("/")
    cookie = r.headers["set-cookie"].lower()
    assert "samesite=strict" in cookie and "httponly" in cookie
    assert len(page_token(r.text)) >= 40
    n = store.sessions()
    # an <img> or <iframe> pointing here from elsewhere, an API call, a result: no session
    for dest in ("image", "iframe", "empty"):
        r = stranger(app).get("/", headers={"Sec-Fetch-Dest": dest})
        assert r.status_code == 200 and "set-cookie" not in r.headers and page_token(r.text) == ""
    stranger(app).get("/api/config")
    stranger(app).get("/api/results/abc")
    stranger(app).post("/api/apply", content=b"x")
    assert store.sessions() == n


def test_80_cookieless_requests_leave_a_working_session_alone(app, png):
    """Strangers' page loads (a script, or <img> tags) push out each other and pages that did
    nothing, never a session that has results."""
    me = browser(app)
    url = me.post("/api/apply", content=png).json()["url"]
    for i in range(80):
        c = stranger(app)
        [c.get("/"), c.post("/api/apply", content=png), c.get(url)][i % 3]
    assert app.state.store.sessions() <= StoreConfig().per_address
    r = me.get(url)
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert me.post("/api/apply?seed=2", content=png).status_code == 200


def test_eviction_spares_work_in_flight_and_other_addresses(tmp_path):
    s = Store(StoreConfig(max_sessions=8, per_address=4), temp=tmp_path)
    busy, _ = s.open(None, "10.0.0.1")
    used, _ = s.open(None, "10.0.0.1")
    with s.hold(used):
        pass  # a request came and went: used
    other, _ = s.open(None, "10.0.0.2")
    with s.hold(busy):  # a request in flight: its session stays, whatever arrives
        for _ in range(50):
            s.open(None, "10.0.0.1")
        assert s.find(busy) == busy
        token = s.put(busy, b"x", "p.jpg", "image/jpeg")  # no KeyError: it is still there
    assert s.find(used) == used and s.find(other) == other
    assert s.get(busy, token) is not None
    assert s.sessions() <= 8
    s.close()


# ---------------------------------------------------------------- too large, by the header

def png_header_of(width: int, height: int) -> bytes:
    """A small PNG whose header says ``width`` x ``height`` (its pixels are never read)."""
    data = bytearray(encode(np.zeros((8, 8), np.uint8), "PNG"))
    ihdr = bytearray(data[12:29])  # b"IHDR" + its 13 bytes
    ihdr[4:12] = struct.pack(">II", width, height)
    data[12:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(ihdr)))
    return bytes(data)


def test_a_photo_too_large_is_refused_by_its_header(app):
    me = browser(app)
    r = me.post("/api/apply", content=png_header_of(20000, 20000))  # past Pillow's own guard
    assert r.status_code == 413
    assert r.json()["error"] == "the photo is too large: 400 MP, the limit is 50 MP"
    r = me.post("/api/apply", content=png_header_of(8000, 7000))
    assert r.status_code == 413
    assert r.json()["error"] == "the photo is too large: 56 MP, the limit is 50 MP"


# ---------------------------------------------------------------- EXIF

def exif_block(entries: list[tuple[int, int, int, bytes]]) -> bytes:
    """An EXIF segment written by hand (little-endian TIFF, one IFD): (tag, type, count,
    value of 4 bytes at most) each, as a camera or an attacker might write it."""
    ifd = struct.pack("<H", len(entries)) + b"".join(
        struct.pack("<HHI", tag, kind, count) + value.ljust(4, b"\0")
        for tag, kind, count, value in entries) + struct.pack("<I", 0)
    return b"Exif\0\0II*\0" + struct.pack("<I", 8) + ifd


def unknown_tags(n: int) -> list[int]:
    from PIL import ExifTags, TiffTags

    known = set(TiffTags.TAGS_V2) | set(TiffTags.TAGS) | set(ExifTags.TAGS)
    return [t for t in range(0xC000, 0x10000) if t not in known][:n]


def download(client: TestClient, body: bytes, query: str = "") -> tuple[dict, Image.Exif]:
    r = client.post(f"/api/apply?{query}", content=body)
    assert r.status_code == 200, r.text
    d = client.get(r.json()["url"], params={"download": 1})
    with Image.open(io.BytesIO(d.content)) as im:
        assert im.format == "JPEG"
        return r.json(), im.getexif()


def test_a_mistyped_exif_tag_is_left_out_not_a_500(app, astronaut):
    """ResolutionUnit is a SHORT; stored as a LONG of 70000, Pillow cannot write it back
    (struct.error). The download keeps the rest."""
    block = exif_block([(MAKE, 2, 4, b"cam\0"), (RESOLUTION_UNIT, 4, 1, struct.pack("<I", 70000))])
    j, exif = download(browser(app), encode(astronaut, "JPEG", exif=block))
    assert exif[MAKE] == "cam" and RESOLUTION_UNIT not in exif
    assert "1 of the photo's EXIF tags could not be written back" in " ".join(j["warnings"])


def test_thousands_of_exif_tags_are_cleaned_not_a_500(app, astronaut):
    """4,500 private ASCII tags of 4 characters fit a JPEG as read (54 KB), not as Pillow
    writes them (each gains a NUL and moves out of its entry: 81 KB, "EXIF data is too
    long"). The standard tags are kept."""
    entries = [(MAKE, 2, 4, b"cam\0"), *((t, 2, 4, b"abcd") for t in unknown_tags(4500))]
    body = encode(astronaut, "JPEG", exif=exif_block(entries))
    j, exif = download(browser(app), body)
    assert dict(exif) == {MAKE: "cam"}
    assert "4500 of the photo's EXIF tags could not be written back" in " ".join(j["warnings"])


def test_an_unreadable_exif_block_is_dropped(app, astronaut):
    block = b"Exif\0\0II*\0" + struct.pack("<I", 8) + struct.pack("<H", 300) + b"\xff" * 40
    j, exif = download(browser(app), encode(astronaut, "JPEG", exif=block))
    assert len(exif) == 0 and j["faces"][0]["blended"]


def gps_jpeg(astronaut) -> bytes:
    exif = Image.Exif()
    exif[MAKE] = "phone"
    exif[GPS] = {1: "N", 2: (52.0, 31.0, 12.5), 3: "E", 4: (13.0, 24.0, 1.0)}
    return encode(astronaut, "JPEG", exif=exif.tobytes())


def test_downloads_carry_no_gps_unless_asked(app, model, astronaut, tmp_path):
    body = gps_jpeg(astronaut)
    with Image.open(io.BytesIO(body)) as im:
        assert im.getexif().get_ifd(GPS)[1] == "N"  # the upload has it
    me = browser(app)
    _, exif = download(me, body)
    assert exif[MAKE] == "phone" and GPS not in exif and not exif.get_ifd(GPS)
    _, exif = download(me, body, "keep_exif=true")  # the page's checkbox
    assert exif.get_ifd(GPS)[1] == "N" and exif.get_ifd(GPS)[4] == (13.0, 24.0, 1.0)
    keep = create_app(ServeConfig(keep_exif=True, temp=tmp_path), model=model)  # --keep-exif
    with TestClient(keep, base_url=SERVER):
        c = browser(keep)
        assert c.get("/api/config").json()["keep_exif"] is True
        _, exif = download(c, body)
        assert exif.get_ifd(GPS)[2] == (52.0, 31.0, 12.5)
        _, exif = download(c, body, "keep_exif=false")
        assert GPS not in exif


# ---------------------------------------------------------------- errors and the log

def test_an_unexpected_error_is_one_line_and_logs_no_secret(tmp_path, caplog):
    """A bug that raises with a secret in its message (as a KeyError on the session cookie
    once did): a 500 with one line, the log names its type and place, not the secret."""
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.routing import Route

    from mustache.web.guard import Guard

    store = Store(temp=tmp_path)
    session, token = store.open(None, "127.0.0.1")

    async def broken(request):
        raise KeyError(request.state.session)

    # as in create_app: the guard inside Starlette's own error middleware
    app = Starlette(routes=[Route("/api/broken", broken, methods=["POST"])],
                    middleware=[Middleware(Guard, store=store, allowed_hosts=("127.0.0.1",))])
    c = TestClient(app, base_url=SERVER, raise_server_exceptions=False,
                   cookies={"mustache_session": session}, headers={"X-Mustache-Token": token})
    with caplog.at_level(logging.ERROR, logger="mustache.serve"):
        r = c.post("/api/broken", content=b"x")
    assert r.status_code == 500 and r.json() == {"error": "internal error (logged by the server)"}
    assert "KeyError" in caplog.text and "POST /api/broken" in caplog.text
    assert session not in caplog.text and token not in caplog.text
    store.close()


def test_stale_folders_of_dead_servers_are_removed(tmp_path):
    import subprocess
    import sys

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    stale = tmp_path / f"mustache-serve-{dead}-abc123"
    (stale / "session").mkdir(parents=True)
    (stale / "session" / "photo.jpg").write_bytes(b"someone's photo")
    alive = tmp_path / "mustache-serve-1-abc123"  # pid 1 runs: another server's, kept
    alive.mkdir()
    other = tmp_path / "mustache-serve-notapid"
    other.mkdir()
    link = tmp_path / f"mustache-serve-{dead}-link"
    link.symlink_to(other)
    assert remove_stale(tmp_path) == [stale]
    assert not stale.exists() and alive.exists() and other.exists() and link.is_symlink()
    s = Store(temp=tmp_path)  # a new server's store does it too, and names its own folder
    assert re.fullmatch(rf"mustache-serve-{__import__('os').getpid()}-\w+", s.root.name)
    s.close()


# ---------------------------------------------------------------- a corpus of odd files

def corpus(astronaut) -> dict[str, bytes]:
    """Odd shapes and modes, then truncated and bit-flipped copies of real files."""
    small = astronaut[::4, ::4]
    files = {
        "1x1.png": encode(np.zeros((1, 1, 3), np.uint8), "PNG"),
        "1x4000.png": encode(np.zeros((1, 4000, 3), np.uint8), "PNG"),
        "16-bit.png": encode(np.full((64, 64), 40000, np.uint16), "PNG"),
        "rgba.png": encode(np.zeros((64, 64, 4), np.uint8), "PNG"),
        "progressive.jpg": encode(small, "JPEG", progressive=True),
        "tiny.webp": encode(small, "WEBP"),
        "tiny.bmp": encode(small, "BMP"),
        "tiny.tiff": encode(small, "TIFF"),
    }
    cmyk = io.BytesIO()
    Image.fromarray(small).convert("CMYK").save(cmyk, "JPEG")
    files["cmyk.jpg"] = cmyk.getvalue()
    rng = np.random.default_rng(22)
    for name in ("progressive.jpg", "tiny.webp", "tiny.tiff", "rgba.png", "cmyk.jpg"):
        data = files[name]
        for cut in (20, 100, len(data) // 2, len(data) - 2):
            files[f"{name} cut at {cut}"] = data[:cut]
        for i in range(6):
            b = bytearray(data)
            for at in rng.integers(0, min(len(b), 400), 3):  # in the header, where parsers trip
                b[at] ^= 1 << int(rng.integers(0, 8))
            files[f"{name} flipped {i}"] = bytes(b)
    return files


def test_no_file_in_a_corpus_of_odd_and_broken_ones_is_a_500(app, astronaut):
    import warnings
    from collections import Counter

    me = browser(app)
    seen = Counter()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Pillow's warnings about a damaged file stay inside
        for name, body in corpus(astronaut).items():
            r = me.post("/api/apply?name=x.jpg", content=body)
            seen[r.status_code] += 1
            assert r.status_code in (200, 400, 413, 422), (name, r.status_code, r.text)
            if r.status_code != 200:
                error = r.json()["error"]
                assert error and "\n" not in error and "Traceback" not in error, (name, error)
    print(f"\n{sum(seen.values())} odd files: {dict(seen)}")
    assert seen[400] > 20 and seen[422] > 5  # broken files, and files read with no face in them
