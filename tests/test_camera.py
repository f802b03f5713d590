"""The webcam as a drummer's camera (issue 16): v4l2-ctl's listings parsed from outputs recorded on real webcams
(tests/data/v4l2/README.md says where each came from), the mode choice, the exposure plan and gain tuning, the
kernel timestamps mapped to the engine's clock, the report's camera rows, the camera check with the real MoveNet,
and the error paths (no device, a busy one, one that vanishes) with the real v4l2-ctl and OpenCV.

This machine has no /dev/video* and no way to make one: the tests that need a real camera skip, saying so.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from lalelu import config
from lalelu.errors import LaleluError
from lalelu.sources import v4l2
from lalelu.sources.camera_controls import V4L2Controls, parse_get_ctrl
from lalelu.sources.clock import (TIMESTAMP_COPY, TIMESTAMP_MONOTONIC, KernelClock, KernelStampMapper,
                                  clock_from_flags, msec_to_ns)
from lalelu.sources.exposure import (BRIGHTNESS_TOLERANCE, ExposureLimits, ExposureRequest, blur_px, brightness,
                                     brightness_target, default_exposure_ms, peak_speed_px_s, plan_exposure,
                                     tune_gain)
from lalelu.sources.v4l2 import Mode, best_mode
from tests.file_camera import ARDUCAM_LIMITS, StandInControls, arducam_file_camera

DATA = Path(__file__).parent / "data" / "v4l2"
DEVICES = sorted(Path("/dev").glob("video*"))
needs_camera = pytest.mark.skipif(not DEVICES, reason="no /dev/video* device on this machine (this kernel has "
                                                      "no V4L2): the real-camera path is not tested here")
needs_v4l2_ctl = pytest.mark.skipif(shutil.which("v4l2-ctl") is None, reason="v4l2-ctl (Debian v4l-utils) "
                                                                            "is not installed")


def fixture(name: str) -> str:
    return (DATA / name).read_text()


def run_cli(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lalelu", *args], capture_output=True, text=True, timeout=300,
                          **kw)


# --- v4l2-ctl's listings, as recorded on real cameras -------------------------------------------------------

def test_formats_of_a_real_uvc_camera_and_its_best_mode():
    modes = v4l2.parse_formats(fixture("arducam_b0589_list_formats_ext.txt"))
    assert len(modes) == 11
    assert Mode("YUYV", 3840, 2160, 15.0) in modes and Mode("MJPG", 3840, 2160, 30.0) in modes
    # 60 fps in MJPG at four sizes: the one nearest 640x480 (YUYV's 60 fps at 640x480 is no candidate: raw
    # frames of that rate do not fit USB 2 at larger sizes and cost more to copy)
    assert best_mode(modes) == Mode("MJPG", 640, 480, 60.0)


def test_the_old_layout_and_stepwise_sizes():
    old = v4l2.parse_formats(fixture("yuyv_list_formats_ext_old_layout.txt"))
    assert len(old) == 14
    assert {m.fourcc for m in old} == {"YUYV"}
    assert Mode("YUYV", 640, 480, 7.5) in old and Mode("YUYV", 800, 448, 20.0) in old
    assert best_mode(old) is None          # no MJPG: lalelu asks OpenCV for its default instead
    stepwise = v4l2.parse_formats(fixture("stepwise_list_formats_ext_old_layout.txt"))
    assert [m.fourcc for m in stepwise] == ["YU12", "YUYV", "RGB3", "JPEG", "H264", "MJPG"]
    assert all((m.width, m.height, m.fps) == (2592, 1944, 0.0) for m in stepwise)
    assert best_mode(stepwise) is None     # rates unknown: no mode is known to be fast


def test_best_mode_rules():
    modes = [Mode("MJPG", 1920, 1080, 60.0), Mode("MJPG", 800, 600, 60.0), Mode("MJPG", 320, 240, 120.0),
             Mode("MJPG", 160, 120, 260.0), Mode("YUYV", 640, 480, 200.0), Mode("JPEG", 320, 180, 300.0)]
    assert best_mode(modes) == Mode("MJPG", 320, 240, 120.0)    # most fps at 320x240 or more, in MJPG
    assert best_mode(modes[:2]) == Mode("MJPG", 800, 600, 60.0)  # equal rates: the size nearest 640x480
    assert best_mode([Mode("JPEG", 640, 480, 30.0)]) == Mode("JPEG", 640, 480, 30.0)
    assert best_mode([]) is None


def test_device_info_serial_and_metadata_node():
    video = v4l2.parse_info(fixture("arducam_b0589_all_video0.txt"))
    assert (video.driver, video.card, video.bus, video.serial, video.capture) == (
        "uvcvideo", "Arducam B0589 4K HDR", "usb-xhci-hcd.1-1", "Arducam_20250812_0001", True)
    meta = v4l2.parse_info(fixture("arducam_b0589_all_video1.txt"))
    assert meta.card == video.card and not meta.capture   # the UVC metadata node carries no video
    c270 = v4l2.parse_info(fixture("logitech_c270_all.txt"))
    assert (c270.card, c270.serial, c270.capture) == ("UVC Camera (046d:0825)", "0124EF00", True)
    camera = v4l2.Camera(index=0, path="/dev/video0", info=video)
    assert camera.identity == "Arducam B0589 4K HDR|Arducam_20250812_0001"
    no_serial = v4l2.Camera(index=2, path="/dev/video2", info=v4l2.DeviceInfo(card="Cam", bus="usb-1-2"))
    assert no_serial.identity == "Cam|usb-1-2"    # the USB port, never the index


def test_controls_by_id_under_new_and_old_names():
    new = V4L2Controls("/dev/video0", v4l2.parse_controls(fixture("arducam_b0589_all_video0.txt")))
    limits = new.limits()
    assert limits.exposure_ms == (1.0, 66.0) and limits.gain == (1, 16) and limits.auto
    assert new.controls[v4l2.CID_EXPOSURE_ABSOLUTE].inactive     # auto exposure was on
    assert new.controls[v4l2.CID_AUTO_EXPOSURE].menu == {0: "Auto Mode", 1: "Manual Mode"}

    old = v4l2.parse_controls(fixture("logitech_c270_all.txt"))
    assert old[v4l2.CID_AUTO_EXPOSURE].name == "exposure_auto"
    assert old[v4l2.CID_AUTO_EXPOSURE].menu == {1: "Manual Mode", 3: "Aperture Priority Mode"}
    assert old[v4l2.CID_EXPOSURE_ABSOLUTE].name == "exposure_absolute"
    assert old[v4l2.CID_EXPOSURE_DYNAMIC_FRAMERATE].name == "exposure_auto_priority"
    assert old[v4l2.CID_EXPOSURE_DYNAMIC_FRAMERATE].value == 1    # this C270 lowers its fps in the dark
    assert old[v4l2.CID_GAIN].value == 192 and old[0x0A046D05].menu[2] == "Blink"
    assert V4L2Controls("/dev/video0", old).limits() == ExposureLimits(exposure_ms=(0.1, 1000.0), gain=(0, 255),
                                                                       auto=True)
    # v4l-utils before 1.12 printed no IDs: the controls lalelu uses are still found by name
    no_ids = v4l2.parse_controls("                       gain (int)    : min=0 max=100 step=1 default=0 value=3\n"
                                 "              exposure_auto (menu)   : min=0 max=3 default=3 value=3\n")
    assert no_ids[v4l2.CID_GAIN].value == 3 and v4l2.CID_AUTO_EXPOSURE in no_ids
    assert parse_get_ctrl("auto_exposure: 1\nexposure_time_absolute: 50\ngain: 7\n") == {
        "auto_exposure": 1, "exposure_time_absolute": 50, "gain": 7}


def test_cameras_listing_text():
    camera = v4l2.Camera(index=0, path="/dev/video0", info=v4l2.parse_info(fixture("arducam_b0589_all_video0.txt")),
                         modes=v4l2.parse_formats(fixture("arducam_b0589_list_formats_ext.txt")),
                         controls=v4l2.parse_controls(fixture("arducam_b0589_all_video0.txt")))
    text = v4l2.format_cameras([camera])
    assert "camera:0  /dev/video0  Arducam B0589 4K HDR" in text and "serial Arducam_20250812_0001" in text
    assert "MJPG 640x480: 60 fps   <- best for playing: 60 fps" in text
    assert "YUYV 3840x2160: 15 fps" in text and "controls: exposure, gain" in text
    assert json.loads(json.dumps(camera.to_json()))["best"] == {"fourcc": "MJPG", "width": 640, "height": 480,
                                                                "fps": 60.0}
    metadata = v4l2.Camera(index=1, path="/dev/video1", info=v4l2.parse_info(fixture("arducam_b0589_all_video1.txt")))
    text = v4l2.format_cameras([camera, metadata])
    assert "camera:1  /dev/video1  Arducam B0589 4K HDR" in text and "carries no video" in text


# --- error paths with the real v4l2-ctl and OpenCV ----------------------------------------------------------

@needs_v4l2_ctl
def test_v4l2_ctl_on_no_device_a_file_and_a_vanished_device(tmp_path):
    missing = v4l2.describe("/dev/video63")
    assert "/dev/video63 is not there (unplugged?)" in missing.problem and not missing.modes
    not_a_camera = tmp_path / "video0"
    not_a_camera.write_bytes(os.urandom(64))
    described = v4l2.describe(not_a_camera)
    assert "Unable to detect what device" in described.problem and not described.info.capture
    listed = v4l2.list_cameras(tmp_path)       # listed with its problem, not left out silently
    assert [c.path for c in listed] == [str(not_a_camera)] and listed[0].problem
    not_a_camera.unlink()                      # vanished between the listing and the question
    assert "is not there" in v4l2.describe(not_a_camera).problem
    assert v4l2.list_cameras(tmp_path) == []
    with pytest.raises(v4l2.V4L2Error, match="is not there"):
        V4L2Controls(str(not_a_camera))


def test_without_v4l2_ctl_says_what_to_install(tmp_path, monkeypatch):
    (tmp_path / "video0").touch()
    monkeypatch.setenv("PATH", str(tmp_path))   # no v4l2-ctl on it
    with pytest.raises(v4l2.V4L2Error, match=r"v4l2-ctl is not installed: install Debian's v4l-utils"):
        v4l2.list_cameras(tmp_path)
    assert v4l2.list_cameras(tmp_path / "empty-folder") == []   # nothing to ask about: no error


def test_no_camera_says_what_to_do():
    from lalelu.sources import open_source

    with pytest.raises(LaleluError, match=r"no camera at index 61 \(/dev/video61 missing\).*--source synthetic"):
        open_source("camera:61")


def test_a_camera_that_cannot_be_opened_says_it_may_be_busy(tmp_path):
    """OpenCV's V4L2 open fails when another program streams from the device (REQBUFS: EBUSY); a file OpenCV
    cannot open takes the same path here."""
    from tests.file_camera import FileCamera

    junk = tmp_path / "busy.avi"
    junk.write_bytes(os.urandom(4096))
    with pytest.raises(LaleluError, match=r"cannot be opened: is another program using it"):
        FileCamera(junk)


# --- the kernel's timestamps on the engine's clock ----------------------------------------------------------

def test_monotonic_stamps_need_no_mapping():
    mapper = KernelStampMapper(clock_from_flags(TIMESTAMP_MONOTONIC | 0x1))
    arrival = time.monotonic_ns()
    assert mapper.to_monotonic(arrival - 3_500_000, arrival) == arrival - 3_500_000
    assert mapper.clock is KernelClock.MONOTONIC


def test_wall_clock_stamps_are_mapped_and_the_clock_is_inferred():
    mapper = KernelStampMapper(clock_from_flags(0))     # TIMESTAMP_UNKNOWN: an old driver, wall clock
    assert mapper.clock is None
    arrival, real = 5_000_000_000_000, 1_700_000_000_000_000_000
    stamp = real - 4_000_000                            # taken 4 ms before arrival, on the wall clock
    assert mapper.to_monotonic(stamp, arrival, real) == arrival - 4_000_000
    assert mapper.clock is KernelClock.REALTIME
    # the wall clock stepped 10 s (NTP) before the next frame, stamped 5 ms before its arrival: the offset is
    # read again for each frame
    assert mapper.to_monotonic(stamp + 10_000_000_000, arrival + 1_000_000, real + 10_001_000_000) == \
        arrival + 1_000_000 - 5_000_000


def test_stamps_that_fit_no_clock_are_unknown():
    mapper = KernelStampMapper(clock_from_flags(TIMESTAMP_COPY))
    arrival = time.monotonic_ns()
    assert mapper.to_monotonic(33_000_000, arrival) == 0          # a video file's position (33 ms)
    assert mapper.to_monotonic(arrival - 3_000_000_000, arrival) == 0   # 3 s old: another frame's
    assert mapper.to_monotonic(arrival + 50_000_000, arrival) == 0      # after its own arrival
    assert mapper.to_monotonic(0, arrival) == 0
    assert mapper.rejected == 3 and mapper.clock is None
    assert mapper.to_monotonic(arrival - 2_000_000, arrival) == arrival - 2_000_000   # a real one, then
    assert mapper.clock is KernelClock.MONOTONIC


def test_opencv_milliseconds_keep_the_microseconds():
    for sec, usec in ((1_234_567, 890_123), (1_754_000_000, 999_999), (42, 1)):
        pos_msec = 1000 * sec + usec / 1000     # what cap_v4l.cpp returns for CAP_PROP_POS_MSEC
        assert msec_to_ns(pos_msec) == sec * 1_000_000_000 + usec * 1000
    assert msec_to_ns(0.0) == 0 and msec_to_ns(-1.0) == 0


# --- exposure ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("bad", [0.0, -1.0, math.nan, math.inf])
def test_bad_exposure_is_refused(bad):
    with pytest.raises(LaleluError, match="--exposure-ms"):
        ExposureRequest(exposure_ms=bad).validated()
    if bad != 0.0:
        with pytest.raises(LaleluError, match="--gain"):
            ExposureRequest(gain=bad).validated()


def test_exposure_options_refused_on_the_command_line():
    done = run_cli("run", "--headless", "--source", "synthetic", "--exposure-ms", "nan", "--duration", "1")
    assert done.returncode == 2 and "lalelu: --exposure-ms nan: give a positive number" in done.stderr
    done = run_cli("cameras", "--check", "synthetic", "--seconds", "-1")
    assert done.returncode == 2 and "--seconds -1" in done.stderr


def test_remembered_settings_read_back_and_junk_ignored():
    saved = ExposureRequest.from_settings({"exposure_ms": "3.5", "gain": "40", "auto_exposure": "0"})
    assert saved == ExposureRequest(3.5, 40.0, False)
    assert ExposureRequest.from_settings({"exposure_ms": "nan", "gain": "-3", "auto_exposure": "x"}) == \
        ExposureRequest()
    assert ExposureRequest(gain=10).over(saved) == ExposureRequest(3.5, 10, False)
    assert ExposureRequest.from_settings(saved.to_settings()) == saved


def test_settings_are_kept_per_camera(tmp_path, monkeypatch):
    monkeypatch.setenv("LALELU_SETTINGS", str(tmp_path / "lalelu.ini"))
    config.save_camera_settings("Arducam B0589 4K HDR|Arducam_20250812_0001", {"gain": "9"})
    config.save_camera_settings("UVC Camera (046d:0825)|0124EF00", {"exposure_ms": "4"})
    config.save_user_settings({"source": "camera:0"})     # the window's own settings keep the cameras'
    assert config.load_camera_settings("Arducam B0589 4K HDR|Arducam_20250812_0001") == {"gain": "9"}
    assert config.load_camera_settings("UVC Camera (046d:0825)|0124EF00") == {"exposure_ms": "4"}
    assert config.load_user_settings()["source"] == "camera:0"
    assert config.load_camera_settings("") == {} and config.save_camera_settings("", {"gain": "1"}) is None


def test_the_default_plan_is_a_short_exposure_with_the_gain_tuned():
    limits = ExposureLimits(exposure_ms=(0.3, 204.7), gain=(0, 255), auto=True)
    plan = plan_exposure(ExposureRequest(), 100.0, limits)
    assert (plan.auto, plan.exposure_ms, plan.gain, plan.tune_gain, plan.notes) == (False, 5.0, None, True, [])
    assert default_exposure_ms(120.0) == pytest.approx(1000 / 120 / 2) and default_exposure_ms(30.0) == 5.0
    given = plan_exposure(ExposureRequest(exposure_ms=2.0, gain=300), 60.0, limits)
    assert (given.exposure_ms, given.gain, given.tune_gain) == (2.0, 255.0, False)
    assert "outside the camera's 0-255" in given.notes[0]
    long = plan_exposure(ExposureRequest(exposure_ms=30.0), 60.0, limits)
    assert "longer than the frame period (16.7 ms at 60 fps)" in long.notes[0]
    short_range = plan_exposure(ExposureRequest(), 60.0, ExposureLimits(exposure_ms=(10.0, 66.0), gain=(1, 16)))
    assert short_range.exposure_ms == 10.0 and "outside what the camera allows" in short_range.notes[0]
    assert plan_exposure(ExposureRequest(auto=True), 60.0, limits).auto
    bare = plan_exposure(ExposureRequest(), 60.0, ExposureLimits())
    assert bare.exposure_ms is None and "no exposure time control" in bare.notes[0]


@pytest.mark.parametrize("response", ["linear", "decibel"])
def test_gain_tuning_reaches_the_brightness_whatever_the_gain_units(response):
    """A camera model: brightness grows with gain, linearly or in dB (cameras differ); bisection needs only
    that it grows."""
    state = {"gain": 0.0, "sets": 0}

    def set_gain(g):
        state["gain"], state["sets"] = g, state["sets"] + 1

    def measure():
        g = state["gain"]
        factor = 1 + g / 16 if response == "linear" else 10 ** (g / 20 / 10)
        return min(255.0, 25.0 * factor)

    tuned = tune_gain(measure, set_gain, (0, 255), target=110.0)
    assert tuned.reached and abs(tuned.brightness - 110) / 110 <= BRIGHTNESS_TOLERANCE
    assert state["gain"] == tuned.gain and state["sets"] <= 9


def test_gain_tuning_in_the_dark_ends_at_full_gain():
    state = {"gain": 0.0}
    tuned = tune_gain(lambda: 5.0 + state["gain"] / 20, lambda g: state.update(gain=g), (0, 100), target=110)
    assert not tuned.reached and tuned.gain == 100 and state["gain"] == 100


def test_brightness_and_blur():
    grey = np.full((480, 640, 3), 100, np.uint8)
    assert brightness(grey) == pytest.approx(100, abs=0.01)
    half = grey.copy()
    half[:, 320:] = 0
    assert brightness(half) == pytest.approx(50, abs=0.5)
    assert brightness_target(200) == 130 and brightness_target(20) == 80 and brightness_target(None) == 105
    assert blur_px(5.0, 2000.0) == pytest.approx(10.0) and blur_px(None, 10.0) is None
    t = np.array([0, 10_000_000, 20_000_000, 30_000_000])
    xy = np.array([[0, 0, 0.9], [10, 0, 0.9], [40, 0, 0.1], [40, 0, 0.9]], float)   # 1000 px/s, then 1500 px/s
    assert peak_speed_px_s(t, xy) == pytest.approx(1500.0)     # the unsure observation is skipped
    assert peak_speed_px_s(t[:1], xy[:1]) is None


# --- the camera source: mode, exposure, remembered settings, stamps (a video file stands in for the device) -----

def test_the_camera_plays_its_best_mode_with_a_short_exposure_and_tuned_gain(tmp_path):
    from tests.file_camera import write_mjpg_video

    video = write_mjpg_video(tmp_path / "cam.avi", 120)
    controls = StandInControls(ARDUCAM_LIMITS)
    camera = arducam_file_camera(video, controls=controls)
    try:
        assert camera.asked == (60.0, (640, 480))          # the best mode's size and rate, not 100 fps asked
        assert "Arducam B0589 4K HDR" in camera.description
        assert "grants 30 fps, below the 60 asked" in camera.warning   # the file plays at 30
        assert controls.calls[0] == ("manual", 5.0)         # 5 ms: at most half of a 33 ms period
        gains = [c[1] for c in controls.calls[1:]]
        assert 1 <= len(gains) <= 9 and all(1 <= g <= 16 for g in gains)
        # the file's bright grey does not respond to gain: tuning settles as low as it can go, and says nothing
        assert min(gains) <= 2 and "dark" not in camera.warning
        state = camera.camera_state()
        assert (state.auto, state.exposure_ms, state.gain) == (False, 5.0, gains[-1])
        assert state.identity == "Arducam B0589 4K HDR|Arducam_20250812_0001"
        frames = [camera.read() for _ in range(5)]
        assert all(f.t_kernel == 0 for f in frames)        # a file's position is no driver stamp: unknown
        assert camera._stamps.rejected >= 4
    finally:
        camera.close()


def test_remembered_settings_of_this_camera_and_flags_over_them(tmp_path, monkeypatch):
    from tests.file_camera import write_mjpg_video

    monkeypatch.setenv("LALELU_SETTINGS", str(tmp_path / "lalelu.ini"))
    config.save_camera_settings("Arducam B0589 4K HDR|Arducam_20250812_0001",
                                ExposureRequest(exposure_ms=3.0, gain=9).to_settings())
    config.save_camera_settings("Another camera|123", ExposureRequest(exposure_ms=8.0, gain=2).to_settings())
    video = write_mjpg_video(tmp_path / "cam.avi", 60)
    controls = StandInControls(ARDUCAM_LIMITS)
    arducam_file_camera(video, controls=controls).close()
    assert controls.calls == [("manual", 3.0), ("gain", 9.0)]     # remembered: no tuning
    controls = StandInControls(ARDUCAM_LIMITS)
    arducam_file_camera(video, controls=controls, exposure=ExposureRequest(exposure_ms=2.0)).close()
    assert controls.calls == [("manual", 2.0), ("gain", 9.0)]     # the flag wins, the rest is remembered
    controls = StandInControls(ARDUCAM_LIMITS)
    arducam_file_camera(video, controls=controls, exposure=ExposureRequest(auto=True)).close()
    assert controls.calls == [("auto",), ("gain", 9.0)]


def test_live_adjustments(tmp_path):
    from tests.file_camera import FileCamera, write_mjpg_video

    video = write_mjpg_video(tmp_path / "cam.avi", 60)
    controls = StandInControls(ARDUCAM_LIMITS)
    camera = FileCamera(video, controls=controls, exposure=ExposureRequest(gain=4))
    try:
        controls.calls.clear()
        assert camera.adjust(exposure_ms=2.5).exposure_ms == 2.5
        assert camera.adjust(gain=12).gain == 12
        assert camera.adjust(auto=True).auto is True
        assert camera.adjust(auto=False).exposure_ms == 2.5        # back to manual at the last exposure
        assert controls.calls == [("manual", 2.5), ("gain", 12), ("auto",), ("manual", 2.5)]
        with pytest.raises(LaleluError, match="--exposure-ms"):
            camera.adjust(exposure_ms=-3)
    finally:
        camera.close()
    plain = FileCamera(video)       # no device, no controls: it plays, and says so when asked to adjust
    try:
        assert plain.camera_state() is None and plain.read() is not None
        with pytest.raises(LaleluError, match="offers no exposure control"):
            plain.adjust(exposure_ms=3)
    finally:
        plain.close()


# --- the stamp through the engine, the trace file and the report ---------------------------------------------

def test_trace_records_keep_the_driver_stamp_and_old_traces_still_read():
    from lalelu.trace import TraceRecord

    rec = TraceRecord(index=3, t_capture=1_000_000, t_kernel=996_500)
    assert TraceRecord.from_json(json.loads(json.dumps(rec.to_json()))).t_kernel == 996_500
    assert "kern" not in TraceRecord(index=3, t_capture=5).to_json()       # unknown: not written
    old = {"i": 1, "cap": 10, "inf0": 11, "inf1": 12, "det": 13, "sent": 14, "drop": False}
    assert TraceRecord.from_json(old).t_kernel == 0


class StampedDrummer:
    """The scripted drummer with a driver's stamp on each frame, 3 ms before it was ready: a camera whose
    delivery latency is known."""

    DELIVERY_NS = 3_000_000

    def __init__(self, drummer):
        self.drummer = drummer

    def __getattr__(self, name):
        return getattr(self.drummer, name)

    def read(self):
        frame = self.drummer.read()
        if frame is not None:
            frame.t_kernel = frame.t_capture - self.DELIVERY_NS
        return frame


def test_the_engine_carries_the_stamp_into_a_recorded_trace_and_the_report_shows_it(tmp_path):
    from lalelu.engine import Engine, EngineConfig
    from lalelu.gestures.kit import load_kit
    from lalelu.report import latency_stats
    from lalelu.sources.script import DrumScript
    from lalelu.sources.synthetic import SyntheticDrummer, TruePose
    from lalelu.trace import read_trace

    kit = load_kit()
    drummer = SyntheticDrummer(DrumScript(duration=1.5, kit=kit), kit=kit, fps=50.0, loop=False)
    trace = tmp_path / "stamped.jsonl"
    engine = Engine(EngineConfig(midi_port=None, record=str(trace), fps=50.0),
                    source=StampedDrummer(drummer), estimator=TruePose(drummer))
    engine.start()
    try:
        assert engine.wait(30)
    finally:
        engine.stop()
    _, records = read_trace(trace)
    assert len(records) > 30
    assert all(r.t_kernel == r.t_capture - StampedDrummer.DELIVERY_NS for r in records)   # dropped ones too
    camera = latency_stats(records)["camera"]
    assert camera["delivery"]["p50"] == pytest.approx(3.0) and camera["delivery"]["std"] == pytest.approx(0.0)
    assert camera["cam interval"]["mean"] == pytest.approx(20.0, abs=2.0)
    assert camera["from stamp"]["p50"] >= 3.0
    done = run_cli("report", str(trace))
    assert done.returncode == 0, done.stderr
    rows = {line.split()[0]: line for line in done.stdout.splitlines() if line.strip()}
    assert rows["delivery"].split()[1:6] == ["3.00", "3.00", "3.00", "3.00", "0.00"]
    assert "driver stamp -> MIDI sent" in done.stdout and "cam" in rows
    assert json.loads(run_cli("report", str(trace), "--json").stdout)["camera"]["frames"] == len(records)


def test_a_trace_without_stamps_has_no_camera_rows(tmp_path):
    from lalelu.trace import TraceRecord, trace_header

    path = tmp_path / "old.jsonl"
    records = [TraceRecord(index=i, t_capture=i * 10_000_000, t_infer_start=i * 10_000_000 + 1_000_000,
                           t_infer_end=i * 10_000_000 + 8_000_000, t_detect=i * 10_000_000 + 8_100_000,
                           t_sent=i * 10_000_000 + 8_200_000) for i in range(1, 50)]
    path.write_text("\n".join([json.dumps(trace_header(source="synthetic"))] +
                              [json.dumps(r.to_json()) for r in records]) + "\n")
    done = run_cli("report", str(path))
    assert done.returncode == 0 and "e2e" in done.stdout and "delivery" not in done.stdout


# --- the camera check, with the real MoveNet ----------------------------------------------------------------

@pytest.fixture(scope="module")
def movenet():
    from lalelu.pose import load_estimator

    return load_estimator(model="lightning", backend="litert", threads=1)


def test_head_to_ankles_on_the_drummer_and_on_a_frame_with_the_feet_cut_off(movenet):
    from lalelu.sources.camera_check import judge_framing, missing_parts
    from lalelu.sources.mannequin import Mannequin, rest_pose

    image = Mannequin((640, 480)).render(rest_pose())
    whole = movenet(image)[0].keypoints
    assert missing_parts(whole, (640, 480)) == []
    cropped = np.ascontiguousarray(image[:330])          # the shins and feet are out of the picture
    cut = movenet(cropped)[0].keypoints
    assert missing_parts(cut, (640, 330)) == ["left ankle", "right ankle"]
    headless = np.ascontiguousarray(image[120:])         # the head is out of the picture
    assert "head" in missing_parts(movenet(headless)[0].keypoints, (640, 360))
    framing = judge_framing([(whole, (640, 480))] * 2 + [(cut, (640, 330)), (None, (640, 480))])
    assert not framing.in_frame and framing.whole == 2 and framing.missing == {"left ankle": 1, "right ankle": 1,
                                                                               "player": 1}
    assert judge_framing([(whole, (640, 480))] * 3 + [(cut, (640, 330))]).in_frame


class CroppedSource:
    """The scripted drummer filmed by a camera aimed too high: the bottom of each frame is cut off."""

    def __init__(self, source, keep_rows: int):
        self.source, self.keep_rows = source, keep_rows

    def __getattr__(self, name):
        return getattr(self.source, name)

    def read(self):
        frame = self.source.read()
        if frame is not None:
            frame.image = np.ascontiguousarray(frame.image[: self.keep_rows])
        return frame


def test_the_check_on_the_scripted_drummer_and_on_a_badly_aimed_camera(movenet):
    from lalelu.sources import open_source
    from lalelu.sources.camera_check import check_source, format_check

    source = open_source("synthetic", fps=30.0)
    try:
        result = check_source(source, seconds=1.5, estimator=movenet)
    finally:
        source.close()
    assert result.frames > 10 and result.fps_granted == 30.0 and result.fps_delivered > 0
    assert result.interval_ms["p50"] is not None and result.brightness is not None
    assert result.framing.in_frame and result.framing.frames >= 6
    assert not any("head to ankles" in p for p in result.problems)
    assert result.delivery_ms is None and result.exposure_ms is None    # no driver stamps, no controls
    text = format_check(result)
    assert "in frame        yes: head to ankles" in text and "delivery        unknown" in text

    source = CroppedSource(open_source("synthetic", fps=30.0), keep_rows=330)
    try:
        cropped = check_source(source, seconds=1.5, estimator=movenet)
    finally:
        source.close()
    assert not cropped.framing.in_frame and cropped.framing.missing.get("left ankle", 0) >= 4
    assert any("player not in frame from head to ankles" in p and "step back" in p for p in cropped.problems)
    assert not cropped.ok


def test_the_check_of_a_camera_that_vanishes_midway(tmp_path):
    from lalelu.sources.camera_check import check_source
    from tests.file_camera import FileCamera, write_mjpg_video

    video = write_mjpg_video(tmp_path / "cam.avi", 20)
    camera = FileCamera(video)     # the file ends after 20 frames: the camera goes silent, as if unplugged
    try:
        result = check_source(camera, seconds=5.0)
    finally:
        camera.close()
    assert result.frames == 20 and "stopped delivering frames (unplugged?)" in result.stopped
    assert result.problems[0].startswith("the check stopped after")


def test_cameras_command_here_without_a_camera():
    done = run_cli("cameras")
    if DEVICES:
        pytest.skip("this machine has V4L2 devices: the no-camera answer is not what it gives")
    assert done.returncode == 1 and "no V4L2 camera found: connect a webcam" in done.stdout
    done = run_cli("cameras", "--check", "61")
    assert done.returncode == 2 and "lalelu: no camera at index 61 (/dev/video61 missing)" in done.stderr
    done = run_cli("cameras", "--check", "synthetic", "--seconds", "1", "--json")
    assert done.returncode in (0, 1), done.stderr      # 1: problems found (a busy machine may drop fps)
    result = json.loads(done.stdout)
    assert result["framing"]["in_frame"] and result["frames"] > 10 and "summary" in result["framing"]


# --- with a real camera (skipped here: no /dev/video*) -----------------------------------------------------

@needs_camera
@needs_v4l2_ctl
def test_a_real_camera_is_listed_with_modes_and_identity():
    cameras = v4l2.list_cameras()
    assert cameras, "there are /dev/video* devices but none was listed as a camera"
    for camera in cameras:
        assert camera.problem or (camera.modes and "|" in camera.identity)


@needs_camera
@needs_v4l2_ctl
def test_a_real_camera_plays_with_driver_stamps_and_a_short_exposure():
    from lalelu.sources.camera import CameraSource

    camera_index = int(v4l2.list_cameras()[0].index)
    camera = CameraSource(camera_index, fps=100.0)
    try:
        frames = [camera.read() for _ in range(30)]
        stamped = [f for f in frames if f.t_kernel]
        assert stamped, "the driver's buffer timestamps did not come through OpenCV"
        assert all(0 <= f.t_capture - f.t_kernel < 1_000_000_000 for f in stamped)
        state = camera.camera_state()
        if state is not None and state.limits.exposure_ms is not None:
            assert state.auto is False and state.exposure_ms <= 5.0 + 0.1
            assert camera.adjust(exposure_ms=3.0).exposure_ms == pytest.approx(3.0, abs=0.1)
    finally:
        camera.close()


def test_the_camera_benchmark_prints_its_figures():
    done = run_cli("bench", "camera", "--json")
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert figures["capture"]["frames"] > 100 and figures["capture"]["stamp_us"] > 0
    peak = figures["blur"]["peak_wrist_px_s"]
    assert peak > 100 and figures["blur"]["blur_px"]["5"] == pytest.approx(peak * 0.005, abs=0.1)


def test_parsers_take_any_text_without_failing():
    import random

    rng = random.Random(16)
    texts = ["", "\n\n", "ioctl: VIDIOC_ENUM_FMT\n\t[0]: 'MJPG'\n\t\tSize: Discrete 0x0\n\t\tInterval: Discrete (nan fps)"]
    texts += [os.urandom(rng.randint(1, 4000)).decode("utf-8", errors="replace") for _ in range(50)]
    for name in sorted(p.name for p in DATA.glob("*.txt")):      # every recorded output cut at every line
        lines = fixture(name).splitlines()
        texts += ["\n".join(lines[:n]) for n in range(0, len(lines), 3)]
        texts.append("\n".join(line[: rng.randint(0, len(line))] for line in lines))   # each line torn
    for text in texts:
        assert all(isinstance(m, Mode) for m in v4l2.parse_formats(text))
        assert isinstance(v4l2.parse_controls(text), dict) and isinstance(v4l2.parse_info(text), v4l2.DeviceInfo)
        assert isinstance(parse_get_ctrl(text), dict)


@pytest.mark.parametrize("args", [("--seconds", "nan"), ("--seconds", "0"), ("--gain", "nan"), ("--gain", "-1"),
                                  ("--exposure-ms", "0")])
def test_bad_numbers_for_the_check_are_refused(args):
    done = run_cli("cameras", "--check", "synthetic", *args)
    assert done.returncode == 2 and done.stderr.startswith(f"lalelu: {args[0]}"), done.stderr


@needs_v4l2_ctl
def test_v4l2_ctl_asked_from_a_real_time_thread_runs_at_normal_priority():
    """The capture thread (real-time) asks v4l2-ctl about a replugged camera: the child must not inherit it."""
    import threading

    seen = {}

    def realtime_thread():
        try:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))
        except PermissionError:
            seen["skip"] = True
            return
        seen["problem"] = v4l2.describe("/dev/video63").problem
        command = v4l2.v4l2_ctl_command("/dev/video0", "--all")
        seen["command"] = command
        probe = [*command[:command.index(shutil.which("v4l2-ctl"))], "sh", "-c", "chrt -p $$"]
        seen["policy"] = subprocess.run(probe, capture_output=True, text=True).stdout

    assert Path(v4l2.v4l2_ctl_command("/dev/video0")[0]).name == "v4l2-ctl"    # from a normal thread: as is

    thread = threading.Thread(target=realtime_thread)
    thread.start()
    thread.join()
    if seen.get("skip"):
        pytest.skip("this user may not use real-time scheduling")
    assert "/dev/video63 is not there" in seen["problem"]     # the call went through chrt and v4l2-ctl
    assert Path(seen["command"][0]).name == "chrt"
    assert "SCHED_OTHER" in seen["policy"], seen["policy"]      # what that prefix gives a child
