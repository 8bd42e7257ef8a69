"""Video (README "Video"): composed clips of the astronaut moving, turning and zooming (known
transforms), with audio, through the shipped model: frames, rate and audio kept, the
mustache on the lip in every frame, still on a still face, cuts and two people, GIF and
rotation, and bad input with its exit code and nothing half-written."""

from __future__ import annotations

import math

import numpy as np
import pytest
from clips import frames_of, matrix, portrait, read_clip, write_clip
from typer.testing import CliRunner

from mustache.batch.files import paint_video as apply_video
from mustache.cli import EXIT_NO_FACE, EXIT_USAGE, app
from mustache.paint.gan import ApplyOptions, Mustacher

SIZE = (640, 480)


@pytest.fixture(scope="module")
def engine():
    with Mustacher(device="cpu") as m:  # the shipped model: what users get
        yield m


@pytest.fixture(scope="module")
def source():
    return portrait()


def _change(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Grey-level change between two RGB frames, compression noise (under 8) dropped."""
    d = np.abs(b.astype(np.float32) - a).mean(2)
    return np.where(d > 8, d, 0)


def _centre(w: np.ndarray, near, radius: float):
    ys, xs = np.mgrid[:w.shape[0], :w.shape[1]]
    w = w * (np.hypot(xs - near[0], ys - near[1]) < radius)
    return np.array([(w * xs).sum(), (w * ys).sum()]) / max(w.sum(), 1e-9), w.sum()


def _apply(m: np.ndarray, p) -> np.ndarray:
    return m[:, :2] @ np.asarray(p, np.float64) + m[:, 2]


def _inv(m: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.invertAffineTransform(m)


@pytest.mark.slow
def test_moving_face_keeps_timing_audio_and_the_mustache_on_the_lip(engine, source, tmp_path):
    n = 36
    src = write_clip(tmp_path / "move.mp4", frames_of(source, n, SIZE))
    out = tmp_path / "move_out.mp4"
    report = apply_video(engine, src, out, ApplyOptions(seed=1), progress=False)
    before, bi = read_clip(src)
    after, ai = read_clip(out)
    assert ai["frames"] == bi["frames"] == n == report["frames"]
    assert ai["fps"] == bi["fps"] == 24
    assert ai["audio"] == "aac" and ai["audio_packets"] == bi["audio_packets"]
    assert len(report["faces"]) == 1 and report["faces"][0]["frames_painted"] == n
    # where the mustache is in frame 0, carried by the clip's own (known) transforms
    face_w = 0.8 * 3 * 93  # the face's width in frame 0 (landmarks 234-454), px
    m0 = matrix(0, n, SIZE)
    c0, mass0 = _centre(_change(before[0], after[0]), (SIZE[0] / 2, SIZE[1] / 2 + 40), 150)
    assert mass0 > 5000, "no mustache in frame 0"
    lip = _apply(_inv(m0), c0)  # portrait px
    worst = 0.0
    for i in range(n):
        m = matrix(i, n, SIZE)
        want = _apply(m, lip)
        zoom = math.sqrt(abs(np.linalg.det(m[:, :2]))) / math.sqrt(abs(np.linalg.det(m0[:, :2])))
        got, mass = _centre(_change(before[i], after[i]), want, 0.6 * face_w * zoom)
        assert mass > 0.4 * mass0 * zoom ** 2, f"frame {i}: the mustache faded"
        worst = max(worst, float(np.hypot(*(got - want))) / (face_w * zoom))
    assert worst < 0.02, f"the mustache strays {worst:.1%} of the face's width from the lip"


@pytest.mark.slow
def test_still_face_gives_a_still_mustache(engine, source, tmp_path):
    src = write_clip(tmp_path / "still.mp4", frames_of(source, 24, SIZE, still=True), audio=False)
    out = tmp_path / "still_out.mp4"
    apply_video(engine, src, out, ApplyOptions(seed=2), progress=False)
    before, _ = read_clip(src)
    after, info = read_clip(out)
    assert info["frames"] == 24 and info["audio"] is None
    ch = _change(before[0], after[0])
    ys, xs = np.nonzero(ch)
    assert ys.size > 2000
    box = (slice(ys.min(), ys.max() + 1), slice(xs.min(), xs.max() + 1))
    steps = [np.abs(after[i + 1][box].astype(np.float32) - after[i][box]).mean()
             for i in range(23)]
    assert max(steps) < 1.0, f"the mustache flickers: {max(steps):.2f} grey levels a frame"


@pytest.mark.slow
def test_a_cut_to_two_people_gives_each_their_own_mustache(engine, source, tmp_path):
    import cv2

    one = list(frames_of(source, 12, SIZE, still=True))
    small = cv2.resize(one[0], (320, 240), interpolation=cv2.INTER_AREA)
    pair = np.hstack([small, small[:, ::-1]])  # two faces side by side (one mirrored)
    pair = cv2.resize(pair, SIZE, interpolation=cv2.INTER_LINEAR)
    pair = np.vstack([np.full((120, 640, 3), 200, np.uint8), pair[:360]])
    src = write_clip(tmp_path / "cut.mp4", one + [pair] * 12, audio=False)
    out = tmp_path / "cut_out.mp4"
    report = apply_video(engine, src, out, ApplyOptions(seed=3), progress=False)
    faces = report["faces"]
    assert [f["first_frame"] for f in faces] == [0, 12, 12]
    assert faces[0]["last_frame"] == 11 and all(f["last_frame"] == 23 for f in faces[1:])
    assert all(f["blended"] for f in faces)
    before, _ = read_clip(src)
    after, _ = read_clip(out)
    for i in (12, 17, 23):
        ch = _change(before[i], after[i])
        assert ch[:, :320].sum() > 1000 and ch[:, 320:].sum() > 1000, f"frame {i}"


def test_gif_in_gif_out_and_rotation_kept(engine, source, tmp_path):
    from PIL import Image

    frames = [f[::2, ::2] for f in frames_of(source, 6, SIZE)]
    gif = tmp_path / "small.gif"
    imgs = [Image.fromarray(f) for f in frames]
    imgs[0].save(gif, save_all=True, append_images=imgs[1:], duration=80, loop=0)
    out = tmp_path / "small_out.gif"
    apply_video(engine, gif, out, ApplyOptions(), progress=False)
    with Image.open(out) as im:
        assert im.n_frames == 6 and im.size == (320, 240)
        assert im.info["duration"] == 80
    # a phone's portrait clip: stored sideways, shown upright by its display matrix
    sideways = [np.ascontiguousarray(np.rot90(f, -1)) for f in frames_of(source, 6, SIZE)]
    src = write_clip(tmp_path / "rot.mp4", sideways, rotation=90, audio=False)
    rot_out = tmp_path / "rot_out.mp4"
    report = apply_video(engine, src, rot_out, ApplyOptions(), progress=False)
    assert report["rotation"] == 90 and report["size"] == [640, 480]
    assert report["faces"] and report["faces"][0]["blended"]  # found upright
    _, info = read_clip(rot_out)
    assert info["rotation"] == 90 and info["frames"] == 6


@pytest.fixture(scope="module")
def cli():
    runner = CliRunner()
    return lambda *args: runner.invoke(app, [str(a) for a in args])


def test_bad_videos_exit_2_and_write_nothing(source, tmp_path, cli):
    good = write_clip(tmp_path / "good.mp4", frames_of(source, 8, (320, 240)), audio=False)
    data = good.read_bytes()
    (tmp_path / "text.mp4").write_text("not a video")
    (tmp_path / "cut.mp4").write_bytes(data[: len(data) // 2])
    (tmp_path / "empty.webm").write_bytes(b"")
    for name in ("text.mp4", "cut.mp4", "empty.webm"):
        out = tmp_path / f"{name}_out.mp4"
        r = cli("apply", tmp_path / name, "-o", out, "--device", "cpu")
        assert r.exit_code == EXIT_USAGE, (name, r.output)
        assert "error:" in r.output and len(r.output.strip().splitlines()[-1]) < 300
        assert not out.exists() and not list(tmp_path.glob(".*tmp*")), name
    r = cli("apply", good, "--face", "0", "-o", tmp_path / "x.mp4", "--device", "cpu")
    assert r.exit_code == EXIT_USAGE and "--face" in r.output


def test_no_face_exits_3_and_writes_the_video_unchanged(tmp_path, cli):
    rng = np.random.default_rng(0)
    frames = [np.full((240, 320, 3), 120, np.uint8) + rng.integers(0, 8, (240, 320, 3), np.uint8)
              for _ in range(8)]
    src = write_clip(tmp_path / "wall.mp4", frames)
    out = tmp_path / "wall_out.mp4"
    r = cli("apply", src, "-o", out, "--device", "cpu")
    assert r.exit_code == EXIT_NO_FACE, r.output
    assert out.read_bytes() == src.read_bytes()


def test_live_without_a_display_says_so(cli, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    r = cli("live", "0")
    assert r.exit_code == EXIT_USAGE and "display" in r.output


class _Known:
    """A face detector that knows each frame's landmarks (a composed clip's)."""

    def __init__(self, frames, marks):
        import hashlib

        self._key = lambda rgb: hashlib.md5(np.ascontiguousarray(rgb).tobytes()).hexdigest()
        self.marks = {self._key(f): m for f, m in zip(frames, marks, strict=True)}

    def _face(self, rgb):
        from data_prep.landmarks import FaceLandmarks

        p = self.marks[self._key(rgb)]
        return FaceLandmarks(p.astype(np.float32), 0.99, (*p[:, :2].min(0), *p[:, :2].max(0)))

    def detect(self, rgb):
        return [self._face(rgb)]

    def detect_in_box(self, rgb, box, size=None, score=None):
        return self._face(rgb)

    def close(self):
        pass


def lip_edge_drift(before, after, marks) -> float:
    """The mustache's lower edge against the upper lip's top landmarks over a clip: in each
    frame, at each landmark's column, the lowest changed pixel's height over the landmark;
    -> the largest change of that from frame 0, x the face's width."""
    lip = (40, 39, 37, 0, 267, 269, 270)
    width = float(np.linalg.norm(marks[0][454, :2] - marks[0][234, :2]))
    first, worst = None, 0.0
    for a, b, p in zip(before, after, marks, strict=True):
        moved = np.abs(b.astype(np.float32) - a).mean(2) > 8
        gaps = []
        for k in lip:
            x, y = int(round(p[k, 0])), p[k, 1]
            col = moved[int(y - 0.15 * width):int(y + 0.1 * width), x]
            rows = np.flatnonzero(col)
            assert rows.size, "no mustache over the lip"
            gaps.append(rows.max() + int(y - 0.15 * width) - y)
        gaps = np.array(gaps)
        if first is None:
            first = gaps
        worst = max(worst, float(np.abs(gaps - first).max()) / width)
    return worst


def test_the_mustache_bends_with_a_talking_mouth(engine, source):
    """A composed talking clip (the portrait's mesh warped: the mouth opens and closes, the
    upper lip rises as it opens): the mustache's lower edge stays on the upper lip's landmarks
    within 1.5% of the face's width in every frame."""
    from clips import talking_frames

    from mustache.video.stream import VideoMustacher

    face = engine.detect(source)[0]
    frames, marks = talking_frames(source, face.points, 16)
    assert np.linalg.norm(marks[4][13, :2] - marks[4][14, :2]) > 20  # the mouth opens
    video = VideoMustacher(engine, ApplyOptions(seed=2), detector=_Known(frames, marks))
    after = [video.process(f) for f in frames]
    assert video.report()[0]["frames_painted"] == len(frames)
    drift = lip_edge_drift(frames, after, marks)
    assert drift < 0.015, drift
