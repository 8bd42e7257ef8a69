"""`mustache serve` in a real browser: headless Chromium (Debian's package) driven by
Playwright through choosing photos, settings, variations, the before/after slider, the 100%
view, the download, donor mode and a bad file (every request with the page's token), and a
form posted from another site, refused. The server is the real command (`mustache serve
--port 0`), started once for the module.

Screenshots go to a temporary folder; ``MUSTACHE_SCREENSHOTS=docs/img`` refreshes the README's.
Skips where no Chromium exists (`apt-get install chromium`; `.ci/run` installs it).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="no Chromium found (apt-get install chromium)"),
]
playwright = pytest.importorskip("playwright.sync_api",
                                 reason="needs Playwright (the dev extra: pip install -e '.[dev]')")

expect = playwright.expect  # waits without eval (the page's CSP forbids it)
MAKE, ORIENTATION = 0x010F, 0x0112


@pytest.fixture(scope="module")
def server():
    """`mustache serve --port 0` -> its printed address; stopped after the module."""
    proc = subprocess.Popen([sys.executable, "-m", "mustache", "serve", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    lines, url, deadline = [], None, time.monotonic() + 120
    while url is None and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line and proc.poll() is not None:
            break
        lines.append(line)
        if m := re.search(r"http://127\.0\.0\.1:\d+/", line):
            url = m.group(0)
    if url is None:
        proc.kill()
        pytest.fail("mustache serve printed no address:\n" + "".join(lines))
    yield url
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()


def sandbox() -> list[str]:
    return ["--no-sandbox"] if os.geteuid() == 0 else []  # Chromium's sandbox refuses root


@pytest.fixture(scope="module")
def chromium():
    """Playwright's Chromium launcher (one Playwright a module: its sync API cannot nest)."""
    with playwright.sync_playwright() as p:
        yield p.chromium


@pytest.fixture(scope="module")
def browser(chromium):
    b = chromium.launch(executable_path=CHROMIUM, args=sandbox())
    yield b
    b.close()


@pytest.fixture
def shots(tmp_path) -> Path:
    where = os.environ.get("MUSTACHE_SCREENSHOTS")
    return Path(where) if where else tmp_path


def photos(tmp_path: Path, astronaut) -> tuple[Path, Path, Path]:
    """A JPEG with EXIF (stored turned, orientation 6), a PNG of two faces, a text file."""
    from PIL import Image

    exif = Image.Exif()
    exif[ORIENTATION], exif[MAKE] = 6, "test camera"
    jpg = tmp_path / "astronaut.jpg"
    Image.fromarray(np.ascontiguousarray(np.rot90(astronaut, 1))).save(
        jpg, "JPEG", quality=95, exif=exif.tobytes())
    png = tmp_path / "pair.png"
    Image.fromarray(np.hstack([astronaut, astronaut[:, ::-1]])).save(png)
    bad = tmp_path / "notes.jpg"
    bad.write_text("not a photo at all")
    return jpg, png, bad


def test_upload_apply_download_and_a_bad_file(server, browser, tmp_path, shots, astronaut):
    from PIL import Image

    jpg, png, bad = photos(tmp_path, astronaut)
    page = browser.new_page(viewport={"width": 1280, "height": 860}, accept_downloads=True)
    elsewhere = []  # it must work offline: nothing but this server
    page.on("request", lambda r: None if r.url.startswith((server, "data:", "blob:"))
            else elsewhere.append(r.url))
    page.goto(server)
    page.wait_for_selector("#style option[value=walrus]", state="attached")

    page.set_input_files("#files", [str(jpg), str(png), str(bad)])
    assert page.locator("#photos li").count() == 3
    page.select_option("#style", "walrus")
    page.select_option("#color", "auburn")
    page.fill("#thickness", "1.4")
    page.click("#apply")
    page.wait_for_selector("#download:not([hidden])", timeout=60_000)
    assert "1 of 1 face changed" in page.locator("#photos li").nth(0).inner_text()
    assert page.locator("#message").is_hidden()

    # the before/after slider moves the boundary
    page.fill("#slider", "80")
    assert page.eval_on_selector("#after-clip", "e => e.style.width") == "80%"
    # the 100% view shows native pixels: drawn exactly as large as the crop is
    crop = page.locator("#crops img.crop-after").first
    crop.wait_for()
    natural, shown = crop.evaluate("e => [e.naturalWidth, e.getBoundingClientRect().width]")
    assert natural > 50 and shown == natural

    # the download: JPEG at full size, EXIF kept, orientation gone (pixels are upright)
    with page.expect_download() as d:
        page.click("#download")
    saved = tmp_path / d.value.suggested_filename
    d.value.save_as(saved)
    assert saved.name == "astronaut_mustache.jpg"
    with Image.open(saved) as im:
        assert im.format == "JPEG" and im.size == (512, 512)
        assert im.getexif()[MAKE] == "test camera" and ORIENTATION not in im.getexif()

    # a grid of variations; choosing one applies that seed
    page.click("#vary")
    page.wait_for_selector("#variations figure >> nth=3", timeout=60_000)
    page.screenshot(path=str(shots / "serve_page.png"))
    before = page.get_attribute("#download", "href")
    page.locator("#variations figure").nth(2).click()
    expect(page.locator("#seed")).to_have_value("2")
    expect(page.locator("#download")).not_to_have_attribute("href", before, timeout=60_000)
    page.locator("#view").screenshot(path=str(shots / "serve_result.png"))

    # two faces, one turned off: only the other changes
    page.locator("#photos li").nth(1).click()
    page.click("#apply")
    page.wait_for_selector("#faces input[data-face='1']", timeout=60_000)
    page.uncheck("#faces input[data-face='0']")
    expect(page.locator("#photos li .state").nth(1)).to_contain_text("1 of 2", timeout=60_000)

    # a bad file: one clear line on the page, nothing else breaks
    page.locator("#photos li").nth(2).click()
    page.click("#apply")
    page.wait_for_selector("#message:not([hidden])", timeout=30_000)
    message = page.inner_text("#message")
    assert message == "notes.jpg: this file is not an image (use JPEG, PNG or WebP)"
    page.screenshot(path=str(shots / "serve_error.png"))
    assert elsewhere == []
    page.close()


def test_donor_mode_and_examples(server, browser, tmp_path, astronaut):
    from PIL import Image

    donor = tmp_path / "donor.png"
    Image.fromarray(astronaut).save(donor)
    page = browser.new_page()
    page.goto(server)
    page.click("#examples button[data-example=astronaut]")
    page.wait_for_selector("#photos li")
    page.check("input[name=mode][value=donor]")
    page.click("#apply")  # no donor yet: said so on the page
    page.wait_for_selector("#message:not([hidden])")
    assert "choose a donor photo first" in page.inner_text("#message")
    page.set_input_files("#donor-file", str(donor))
    expect(page.locator("#donor-status")).to_contain_text("donor ready", timeout=60_000)
    page.click("#apply")
    page.wait_for_selector("#download:not([hidden])", timeout=60_000)
    assert page.get_attribute("#download", "download") == "astronaut_mustache.png"
    page.close()




def test_webcam_shows_frames_and_stops(server, chromium):
    """Chromium's fake camera (a moving test pattern, allowed without asking): Webcam sends
    frames and draws what comes back, one after the other; Stop releases the camera."""
    args = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream", *sandbox()]
    b = chromium.launch(executable_path=CHROMIUM, args=args)
    try:
        page = b.new_page()
        page.goto(server)
        page.wait_for_selector("#style option[value=walrus]", state="attached")
        page.click("#webcam")
        # three frames back: the loop keeps going, each frame after the last answer
        expect(page.locator("#live-out")).to_have_attribute("data-frames", re.compile(r"^([3-9]|\d\d+)$"),
                                                             timeout=30_000)
        assert page.locator("#message").is_hidden()
        width = page.eval_on_selector("#live-out", "e => e.width")
        assert 0 < width <= 640
        page.select_option("#style", "walrus")  # a setting changed: the stream goes on
        shown = int(page.get_attribute("#live-out", "data-frames"))
        expect(page.locator("#live-out")).not_to_have_attribute("data-frames", str(shown),
                                                                timeout=30_000)
        page.click("#webcam-stop")
        expect(page.locator("#live-status")).to_have_text("stopped")
        expect(page.locator("#webcam")).to_be_visible()
        assert page.locator("#message").is_hidden()
    finally:
        b.close()


@pytest.fixture(scope="module")
def other_site():
    """Another web site on this computer: http://localhost:<port>/, a page of its own (another
    host name than 127.0.0.1, so another site to the browser, and no public-to-local block)."""
    import http.server
    import threading

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = b"<!doctype html><title>another site</title>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://localhost:{httpd.server_address[1]}/"
    httpd.shutdown()


def test_another_site_cannot_use_the_page(server, browser, other_site):
    """A page on another site, in the browser where the user has the page open, posts a form
    to the server (text/plain, the classic cross-site request: no preflight, and its answer is
    shown, unlike a no-cors fetch's): refused (403) whatever it posts to; the user's page keeps
    working."""
    context = browser.new_context()
    mine = context.new_page()
    mine.goto(server)
    mine.wait_for_selector("#style option[value=walrus]", state="attached")
    assert any(c["name"] == "mustache_session" and c["sameSite"] == "Strict"
               for c in context.cookies())
    evil = context.new_page()
    for path in ("api/apply", "api/live/stop"):
        evil.goto(other_site)
        with evil.expect_navigation() as nav:
            evil.evaluate("""(url) => {
                const f = document.createElement("form");
                f.method = "POST"; f.action = url; f.enctype = "text/plain";
                const i = document.createElement("input");
                i.name = "x"; i.value = "y"; f.append(i);
                document.body.append(f); f.submit();
            }""", server + path)
        assert nav.value.status == 403, path
        assert "another web site" in evil.content(), path
    # the user's own page still works: an example photo, applied
    mine.click("#examples button[data-example=astronaut]")
    mine.wait_for_selector("#photos li")
    mine.click("#apply")
    mine.wait_for_selector("#download:not([hidden])", timeout=60_000)
    assert mine.locator("#message").is_hidden()
    context.close()
