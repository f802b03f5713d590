"""Frame sources: real video decoding, the scripted drummer's script, motion and rendering, MoveNet on it."""

from __future__ import annotations

import os

import numpy as np
import pytest

from lalelu.cli import build_parser
from lalelu.core.keypoints import Keypoint
from lalelu.core.limbs import Limb
from lalelu.errors import LaleluError, SourceInterrupted
from lalelu.gestures.kit import load_kit
from lalelu.sources import choose_source, open_source
from lalelu.sources.script import MIN_LIMB_GAP_S, DrumScript
from lalelu.sources.synthetic import SyntheticDrummer


@pytest.fixture(scope="module")
def kit():
    return load_kit("default")


@pytest.fixture(scope="module")
def drummer(kit):
    return SyntheticDrummer(DrumScript(kit=kit), kit=kit, realtime=False)


def body_units(src: SyntheticDrummer, keypoints: np.ndarray, index: int) -> np.ndarray:
    """A keypoint in body units (origin = shoulder midpoint, unit = shoulder width)."""
    ls, rs = keypoints[Keypoint.LEFT_SHOULDER, :2], keypoints[Keypoint.RIGHT_SHOULDER, :2]
    return (keypoints[index, :2] - (ls + rs) / 2) / np.hypot(*(ls - rs))


# --- file: -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def demo_video():
    from lalelu.sources.samples import demo_video_path
    return demo_video_path()


def test_file_source_decodes_real_frames_in_real_time(demo_video):
    src = open_source(f"file:{demo_video}", realtime=True)
    assert src.fps == pytest.approx(30.0, abs=0.1)
    assert "1768x994" in src.description
    src.start()
    frames = [src.read() for _ in range(10)]
    src.close()
    assert [f.index for f in frames] == list(range(10))
    assert all(f.image.shape == (994, 1768, 3) and f.image.dtype == np.uint8 for f in frames)
    assert frames[0].image.std() > 10, "a real picture, not a blank frame"
    stamps = np.array([f.t_capture for f in frames])
    assert np.all(np.diff(stamps) > 0)
    # Paced by the file's timestamps: never ahead of them (how far behind depends on the machine: not asserted).
    assert all(t - src.t0_ns >= k / 30 * 1e9 - 1e6 for k, t in enumerate(stamps))


def test_file_source_loops_and_ends(tmp_path, kit):
    from lalelu.sources.synthetic import render_video
    path = tmp_path / "drummer.mp4"
    assert render_video(DrumScript(kit=kit), str(path), 0.3, fps=100, size=(160, 120)) == 30
    once = open_source(f"file:{path}", realtime=False)
    assert once.size == (160, 120) and once.fps == pytest.approx(100.0)
    assert sum(1 for _ in once) == 30
    looped = open_source(f"file:{path}", realtime=False, loop=True)
    frames = [looped.read() for _ in range(75)]
    assert all(f is not None for f in frames)
    assert [f.index for f in frames] == list(range(75))
    assert looped._last_ms == pytest.approx(740.0, abs=1.0)   # timestamps continue over the loops


def test_file_source_errors(tmp_path):
    with pytest.raises(LaleluError, match="not found"):
        open_source(f"file:{tmp_path / 'missing.mp4'}")
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"this is not a video" * 100)
    with pytest.raises(LaleluError, match="cannot decode"):
        open_source(f"file:{junk}")


# --- camera: -----------------------------------------------------------------------------------

def test_missing_camera_says_what_to_do():
    index = next(i for i in range(60, 100) if not os.path.exists(f"/dev/video{i}"))
    expected = rf"no camera at index {index} \(/dev/video{index} missing\).*--source synthetic"
    with pytest.raises(LaleluError, match=expected):
        open_source(f"camera:{index}")


def test_a_camera_that_goes_away_is_looked_for_again_and_plays_on(tmp_path):
    import time

    from lalelu.sources.camera import RETRY_S
    from tests.file_camera import FileCamera, write_mjpg_video

    video = write_mjpg_video(tmp_path / "video7.avi", frames=5)
    camera = FileCamera(video)
    try:
        assert [camera.read().index for _ in range(5)] == [0, 1, 2, 3, 4]
        with pytest.raises(SourceInterrupted, match="camera 7 stopped delivering frames"):
            camera.read()
        video.rename(tmp_path / "away.avi")                 # unplugged
        t = time.monotonic()
        with pytest.raises(SourceInterrupted, match="camera 7 is still gone .*no camera at index 7"):
            camera.read()
        assert time.monotonic() - t >= 0.9 * RETRY_S        # looked for at RETRY_S, not in a busy loop
        (tmp_path / "away.avi").rename(video)               # plugged in again
        frame = camera.read()
        assert frame.index == 5 and frame.image.shape == (240, 320, 3)
    finally:
        camera.close()


def test_a_camera_that_opens_but_sends_nothing_is_retried_at_a_gentle_pace(tmp_path):
    import time

    import cv2

    from lalelu.sources.camera import RETRY_S
    from tests.file_camera import FileCamera, write_mjpg_video

    class CountingCamera(FileCamera):
        opened = 0

        def _capture(self):
            self.opened += 1
            return super()._capture()

    video = write_mjpg_video(tmp_path / "video7.avi", frames=2)
    camera = CountingCamera(video)
    try:
        camera.read(), camera.read()
        writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 30.0, (320, 240))
        writer.release()                              # now it opens, but has no frame to give
        end = time.monotonic() + 3 * RETRY_S
        while time.monotonic() < end:                 # as the engine's capture loop reads it
            with pytest.raises(SourceInterrupted):
                camera.read()
        assert 2 <= camera.opened <= 5, camera.opened   # the first open, then one every RETRY_S
    finally:
        camera.close()


def test_default_source_falls_back_to_the_scripted_drummer(monkeypatch):
    monkeypatch.delenv("LALELU_SOURCE", raising=False)
    name, message = choose_source()
    if os.path.exists("/dev/video0"):
        assert name in ("camera:0", "synthetic")
    else:
        assert name == "synthetic" and "scripted drummer" in message


def test_unknown_source_names():
    with pytest.raises(LaleluError, match="unknown source"):
        open_source("webcam")
    with pytest.raises(LaleluError, match="option"):
        open_source("synthetic:speed=3")


# --- the script ----------------------------------------------------------------------------------

def test_script_is_consistent(kit):
    script = DrumScript(tempo=100, kit=kit)
    hits = script.hits
    assert len(hits) > 40
    assert [h.t_s for h in hits] == sorted(h.t_s for h in hits)
    assert all(script.lead_in <= h.t_s < script.end_s for h in hits)
    assert script.end_s == pytest.approx(script.lead_in + script.duration)
    zone_names = {z.name: z for z in kit.zones}
    for h in hits:
        assert h.limb in tuple(Limb) and 1 <= h.velocity <= 127
        zone = zone_names[h.drum]
        assert zone.note == h.note
        assert (zone.kind == "hand") == h.limb.endswith("hand")
    for limb in Limb:
        times = [h.t_s for h in hits if h.limb == limb]
        if len(times) > 1:
            gaps = np.diff(times + [times[0] + script.duration])   # across the loop's seam too
            assert gaps.min() >= MIN_LIMB_GAP_S - 1e-9, limb
    beat = 60 / 100
    def beats(drum):
        return {round((h.t_s - script.lead_in) / beat) % 4 for h in hits if h.drum == drum and h.limb != "left_hand"}
    assert beats("snare") == {1, 3}    # backbeat: beats 2 and 4
    assert beats("kick") == {0, 2}
    assert {"crash", "tom_high", "tom_low", "hihat_closed"} <= {h.drum for h in hits}


def test_script_loops_and_options(kit):
    script = DrumScript(tempo=120, pattern="basic", duration=5.0, kit=kit)
    assert script.duration == pytest.approx(6.0)   # whole bars: 3 bars of 2 s
    later = script.hits_between(script.end_s, script.end_s + script.duration)
    assert [h.t_s - script.duration for h in later] == pytest.approx([h.t_s for h in script.hits])
    assert "snare" in script.table() and script.table().count("\n") == len(script.hits) + 1
    with pytest.raises(LaleluError, match="pattern"):
        DrumScript(pattern="polka", kit=kit)
    with pytest.raises(LaleluError, match="tempo"):
        DrumScript(tempo=400, kit=kit)


# --- the drummer's motion and rendering ------------------------------------------------------------

def test_strokes_end_at_the_zone_centres(drummer, kit):
    for h in drummer.script.hits[:30]:
        kp = drummer.keypoints_at(h.t_s)
        if h.limb.endswith("hand"):
            wrist = Limb(h.limb).keypoint
            at_hit = body_units(drummer, kp, wrist)
            assert at_hit == pytest.approx(kit.zone(h.drum).center, abs=0.01), h
            before = body_units(drummer, drummer.keypoints_at(h.t_s - 0.05), wrist)
            just_before = body_units(drummer, drummer.keypoints_at(h.t_s - 0.005), wrist)
            assert before[1] < at_hit[1] - 0.1, "the wrist comes down into the hit"
            speed_last_5ms = (at_hit[1] - just_before[1]) / 0.005
            speed_last_50ms = (at_hit[1] - before[1]) / 0.05
            assert speed_last_5ms < 0.5 * speed_last_50ms, "and decelerates to rest at the bottom"
        else:
            ankle = Limb(h.limb).keypoint
            rest = drummer.mannequin.keypoints(drummer.pose_at(h.t_s))[ankle]
            lifted = drummer.keypoints_at(h.t_s - 0.04)[ankle]
            assert lifted[1] < rest[1] - 5, "the foot stomps down"


def test_render_is_deterministic(drummer):
    a, b = drummer.render(1.23), drummer.render(1.23)
    assert a.shape == (480, 640, 3) and a.dtype == np.uint8
    assert np.array_equal(a, b)
    assert not np.array_equal(a, drummer.render(1.33))


def test_synthetic_clock(kit):
    fast = SyntheticDrummer(DrumScript(kit=kit), kit=kit, fps=100, realtime=False, loop=False)
    fast.start()
    frames = [fast.read() for _ in range(5)]
    assert [f.t_capture for f in frames] == [fast.due_ns(i) for i in range(5)]   # virtual clock
    assert fast.due_ns(100) - fast.t0_ns == 1_000_000_000
    paced = open_source("synthetic", fps=100, realtime=True)
    paced.start()
    frames = [paced.read() for _ in range(5)]
    assert all(f.t_capture >= paced.due_ns(f.index) for f in frames), "never ahead of the frame's due time"
    assert "scripted drummer 640x480 @ 100 fps" in paced.description


def test_synthetic_without_loop_ends(kit):
    script = DrumScript(tempo=200, pattern="basic", duration=1.0, kit=kit)
    src = SyntheticDrummer(script, kit=kit, fps=50, size=(160, 120), realtime=False, loop=False)
    assert sum(1 for _ in src) == round(script.end_s * 50)


def test_synth_command(capsys, tmp_path):
    parser = build_parser()
    args = parser.parse_args(["synth", "--script", "--tempo", "90", "--seconds", "3"])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "90 BPM" in out and "snare" in out and "right_foot" in out
    args = parser.parse_args(["synth"])
    with pytest.raises(LaleluError, match="--script"):
        args.func(args)
    out_file = tmp_path / "d.mp4"
    args = parser.parse_args(["synth", "--out", str(out_file), "--seconds", "0.1", "--size", "160x120"])
    assert args.func(args) == 0
    assert out_file.stat().st_size > 0


# --- MoveNet sees the mannequin ------------------------------------------------------------------

def test_movenet_detects_the_mannequin_and_tracks_its_wrists(drummer):
    from lalelu.pose import load_estimator
    try:
        est = load_estimator("lightning", "litert")
    except LaleluError as e:   # a test of the real model fails without it: it is part of the install
        pytest.fail(f"MoveNet Lightning is missing or broken: {e}")
    errors = []
    for t in np.linspace(0.0, drummer.script.duration, 12, endpoint=False):
        keypoints = est(drummer.render(float(t)))[0].keypoints
        assert (keypoints[:, 2] > 0.3).sum() >= 12, f"t={t:.2f}: {np.round(keypoints[:, 2], 2)}"
        truth = drummer.keypoints_at(float(t))
        for name in ("left_wrist", "right_wrist"):
            errors.append(np.hypot(*(keypoints[Keypoint[name.upper()], :2] - truth[Keypoint[name.upper()]])))
    shoulder_width = drummer.mannequin.unit
    assert np.median(errors) < 0.3 * shoulder_width, f"wrist errors (px): {np.round(errors, 1)}"
