"""The window, offscreen (pytest-qt): every control, driven against the real engine, model and JACK MIDI."""

from __future__ import annotations

import os
import subprocess
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before Qt is imported

import numpy as np
import pytest
import pytestqt  # noqa: F401  (a test dependency: missing, the window's tests fail rather than vanish)

from lalelu import config  # noqa: E402
from lalelu.errors import LaleluError  # noqa: E402
from lalelu.ui import app as ui_app  # noqa: E402
from lalelu.ui.controls import DEFAULT_PORT  # noqa: E402
from lalelu.ui.plots import LivePlots, Ring  # noqa: E402
from lalelu.ui.settings import UiSettings, load_settings, save_settings  # noqa: E402
from lalelu.ui.video_view import FLASH_NS, VideoView, body_frame, zone_radii  # noqa: E402
from lalelu.ui.window import MAX_UI_FPS, MainWindow  # noqa: E402


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path, monkeypatch):
    path = tmp_path / "lalelu.ini"
    monkeypatch.setenv("LALELU_SETTINGS", str(path))
    return path


@pytest.fixture
def window(widgets, tmp_path):
    settings = load_settings()
    settings.trace_dir = str(tmp_path)
    w = widgets(MainWindow(settings=settings))
    w.show()
    yield w
    w.stop_engine()


def test_ring_view_is_the_last_values_in_order():
    ring = Ring(4)
    for v in range(1, 7):
        ring.push(v)
    assert ring.view().tolist() == [3, 4, 5, 6]
    ring.clear()
    assert ring.view().size == 0


def test_body_frame_maps_zone_units_to_pixels():
    kp = np.zeros((17, 3), np.float32)
    kp[5] = (300, 100, 0.9)   # left shoulder (image right)
    kp[6] = (200, 100, 0.9)   # right shoulder
    frame = body_frame(kp)
    assert frame.unit == pytest.approx(100)
    assert frame.to_pixels((0.5, 1.0)) == pytest.approx((300, 200))
    kp[5, 2] = 0.0
    assert body_frame(kp) is None


def test_zones_are_drawn_in_the_detectors_body_frame_when_the_player_turns():
    """Turned sideways the shoulders look narrow; the detector floors its scale by the torso, and the picture
    must place the zones where the detector does."""
    from lalelu.gestures.detector import Detector
    from lalelu.gestures.kit import load_kit

    kit = load_kit("default")
    ratio = kit.thresholds.torso_ratio
    kp = np.zeros((17, 3), np.float32)
    kp[5], kp[6] = (270, 100, 0.9), (230, 100, 0.9)      # shoulders 40 px apart: turned
    kp[11], kp[12] = (265, 300, 0.9), (235, 300, 0.9)    # hips, 200 px below
    frame = body_frame(kp, ratio)
    assert frame.unit == pytest.approx(200 * ratio)
    detector = Detector(kit)
    detector.update(0, kp)
    assert detector._body.scale == pytest.approx(frame.unit)


def test_zone_circles_never_overlap():
    from lalelu.gestures.kit import load_kit

    zones = load_kit("default").hand_zones
    radii = zone_radii(zones)
    for a in zones:
        for b in zones:
            if a.name < b.name:
                gap = np.hypot(a.center[0] - b.center[0], a.center[1] - b.center[1])
                assert radii[a.name] + radii[b.name] < gap


def test_settings_are_remembered_between_runs(widgets, isolated_settings):
    first = widgets(MainWindow())
    c = first.controls
    c.source_kind.setCurrentIndex(1)
    c.camera_index.setValue(3)
    c.model.setCurrentText("thunder")
    c.backend.setCurrentText("onnxruntime")
    c.midi_port.setCurrentText("my synth")
    c.player.setCurrentText("alice")
    first.close()
    assert isolated_settings.exists()
    second = widgets(MainWindow())
    assert second.controls.source_spec() == "camera:3"
    assert second.controls.model.currentText() == "thunder"
    assert second.controls.backend.currentText() == "onnxruntime"
    assert second.controls.midi_port.currentText() == "my synth"
    assert second.controls.player.currentText() == "alice"
    second.close()


def test_the_window_redraws_at_most_60_times_a_second(widgets, isolated_settings):
    fast = widgets(MainWindow(ui_fps=240, remember=False))
    assert fast.timer.interval() >= 1000 / MAX_UI_FPS - 1 and MAX_UI_FPS == 60


def test_source_controls_give_the_source_spec(window, tmp_path):
    c = window.controls
    c.source_kind.setCurrentIndex(0)
    assert c.source_spec() == "synthetic"
    c.source_kind.setCurrentIndex(1)
    c.camera_index.setValue(2)
    assert c.source_spec() == "camera:2"
    assert c.source_detail.currentWidget() is c.camera_index
    c.source_kind.setCurrentIndex(2)
    c.file_path.setText(str(tmp_path / "take.mp4"))
    assert c.source_spec() == f"file:{tmp_path / 'take.mp4'}"
    c.set_source_spec("synthetic")
    assert c.source_kind.currentIndex() == 0


def test_midi_refresh_lists_ports_of_the_running_server(window, jack_server):
    import rtmidi

    synth = rtmidi.MidiIn(rtmidi.API_UNIX_JACK, "ui test synth")
    synth.open_virtual_port("drum input")   # a port lalelu could send to, appearing after the window opened
    try:
        names = window.controls.refresh_midi_ports()
    finally:
        synth.close_port()
        synth.delete()
    assert names[0] == DEFAULT_PORT
    assert any("drum input" in name for name in names), names
    assert window.controls.midi_problem == ""
    assert window.controls.midi_port.count() == len(names)


def test_a_failed_start_is_shown_and_the_window_keeps_working(window, qtbot, tmp_path):
    c = window.controls
    c.source_kind.setCurrentIndex(2)
    c.file_path.setText(str(tmp_path / "missing.mp4"))
    assert window.start_engine() is False
    assert window.engine is None
    assert "Could not start" in window.error
    assert window.status_labels["error"].isVisible()
    assert c.start_button.isEnabled() and not c.stop_button.isEnabled()
    assert not c.record_button.isEnabled()


def test_playing_the_scripted_drummer(window, qtbot, jack_server, tmp_path):
    """Start, see video, skeleton, hits and moving plots, record a trace, stop, and open the trace."""
    c = window.controls
    c.set_source_spec("synthetic")
    c.midi_port.setCurrentText("lalelu ui test")
    qtbot.mouseClick(c.start_button, _left())
    assert window.engine is not None, window.error
    assert window.timer.interval() >= 1000 / MAX_UI_FPS - 1
    assert not c.start_button.isEnabled() and c.stop_button.isEnabled() and not c.model.isEnabled()

    qtbot.waitUntil(lambda: window.plots.e2e_ms().size > 50, timeout=60000)
    assert window.video._raw is not None
    assert window.video._keypoints is not None and (window.video._keypoints[:, 2] > 0.3).sum() >= 10
    assert window.video._zones, "the kit's zones are drawn"
    qtbot.waitUntil(lambda: bool(window.video.flash_counts), timeout=60000)
    assert set(window.video.flash_counts) <= {z.name for z in window.video._zones}
    drum = next(iter(window.video.flash_counts))
    now = time.monotonic_ns()
    window.video.flash(drum, now)
    assert drum in window.video.lit_zones(now)
    first_curve = window.plots.e2e_curve.getData()[1].copy()
    qtbot.waitUntil(lambda: len(window.plots.e2e_curve.getData()[1]) != len(first_curve) or not np.array_equal(
        window.plots.e2e_curve.getData()[1], first_curve), timeout=30000)   # the plots move (deadlines for a
    qtbot.waitUntil(lambda: "fps" in window.status_labels["source"].text(), timeout=30000)   # hang, not speed)
    assert "lalelu ui test" in window.status_labels["midi"].text()
    assert "core" in window.status_labels["cores"].text()
    assert "p99" in window.numbers.text()

    c.record_button.click()
    path = window.engine.recording_path
    assert path and path.startswith(str(tmp_path))
    assert path in c.record_label.text()
    qtbot.wait(500)
    c.record_button.click()
    assert window.engine.recording_path is None
    assert "saved" in c.record_label.text()

    qtbot.mouseClick(c.stop_button, _left())
    assert window.engine is None
    assert c.start_button.isEnabled() and not c.record_button.isEnabled()

    viewer = window.open_trace(path)
    assert viewer is not None, window.error
    qtbot.addWidget(viewer)
    assert viewer.stats["played"] > 10
    assert "frames" in viewer.report.toPlainText()
    assert viewer.plots.e2e_curve.getData()[1].size == viewer.stats["stages"]["e2e"]["n"]


TWO_ZONE_KIT = """
format = 1
name = "two hands"
channel = 10
[zones.snare]
note = 38
center = [0.20, 1.30]
[zones.hihat_closed]
note = 42
center = [0.80, 1.00]
[zones.kick]
note = 36
limb = "foot"
foot = "right"
"""


def test_guided_calibration_against_the_scripted_drummer(window, qtbot, jack_server, tmp_path, monkeypatch):
    """The basic groove plays snare and hi-hat: calibrating a two-zone kit on it saves the player's file."""
    monkeypatch.setenv("LALELU_CALIBRATION_DIR", str(tmp_path / "calibration"))
    kit = tmp_path / "two.toml"
    kit.write_text(TWO_ZONE_KIT)
    c = window.controls
    c.set_source_spec("synthetic:pattern=basic")
    c.kit.setCurrentText(str(kit))
    c.midi_port.setCurrentText("lalelu calibration test")

    dialog = window.open_calibration(neutral_s=0.8, zone_s=3.0)
    qtbot.addWidget(dialog)
    assert dialog.steps == ["neutral", "snare", "hihat_closed"]
    assert dialog.record_step() is False and "Start playing first" in dialog.message.text()

    assert window.start_engine(), window.error
    dialog.player.setText("no spaces allowed")
    assert dialog.record_step() is False and "player name" in dialog.message.text()
    dialog.player.setText("ui-tester")
    for step in dialog.steps:
        assert step.replace("_", " ") in dialog.instruction.text() or step == "neutral"
        assert dialog.record_step()
        qtbot.waitUntil(lambda: not dialog.listening, timeout=60000)
        if step != "neutral":
            assert dialog.frames[step], (dialog.message.text(), window.error, window.video._message)
    assert dialog.saved_path, (dialog.message.text(), {k: len(v) for k, v in dialog.frames.items()})
    assert (tmp_path / "calibration" / "ui-tester.toml").exists()
    assert c.player.currentText() == "ui-tester"
    from lalelu.gestures.calibration import load_calibration

    cal = load_calibration("ui-tester")
    assert set(cal.zone_centers) == {"snare", "hihat_closed"}
    assert all(n >= 2 for n in cal.strokes.values()), cal.strokes
    # (the scripted drummer keeps both hands going, so the centres are not checked against the kit here)


def test_an_engine_that_dies_is_reported(window, qtbot, jack_server):
    window.controls.set_source_spec("synthetic")
    window.controls.midi_port.setCurrentText("lalelu crash test")
    assert window.start_engine(), window.error
    qtbot.waitUntil(lambda: window.plots.e2e_ms().size > 5, timeout=60000)
    window.engine._proc.kill()   # as a crash of the engine process would
    qtbot.waitUntil(lambda: window.engine is None, timeout=60000)
    assert "ended unexpectedly" in window.error
    assert window.controls.start_button.isEnabled()


def test_opening_something_that_is_not_a_trace_says_so(window, tmp_path):
    bogus = tmp_path / "notes.txt"
    bogus.write_text("hello\n")
    assert window.open_trace(str(bogus)) is None
    assert "not a lalelu trace" in window.error


def test_live_plots_summary_and_redraw(widgets):
    """The curves and the numbers beside them."""
    from lalelu.trace import TraceRecord

    plots = widgets(LivePlots())
    t0 = 10_000_000_000
    def record(i, cap, i0, i1, det, sent):
        return TraceRecord(index=i, t_capture=cap, t_infer_start=i0, t_infer_end=i1, t_detect=det, t_sent=sent)

    records = [record(i, t0 + i * 10_000_000, t0 + i * 10_000_000 + 1_000_000, t0 + i * 10_000_000 + 6_000_000,
                      t0 + i * 10_000_000 + 6_100_000, t0 + i * 10_000_000 + 6_200_000) for i in range(100)]
    records.append(TraceRecord(index=100, t_capture=t0 + 100 * 10_000_000, dropped=True))
    plots.add_records(records)
    plots.redraw()
    summary = plots.summary()
    assert summary["fps"] == pytest.approx(100, rel=0.01)
    assert summary["drops"] == 1
    assert summary["e2e_p50_ms"] == pytest.approx(6.2)
    x, y = plots.e2e_curve.getData()
    assert len(x) == 100 and x[-1] == 0
    assert plots.jitter_curve.getData()[1] == pytest.approx(np.full(100, 10.0))

    # the numbers cover the last 10 s while live (the history holds more), the whole of a trace: 15 s at
    # 100 fps, 20 ms end to end for the first 5 s (and a drop there), 6 ms after. (The same widget again:
    # once, a later LivePlots() segfaulted in the suite, a known pyqtgraph/PySide6 fragility; fewer
    # pyqtgraph widgets, fewer chances.)
    plots.reset()
    records = []
    for i in range(1500):
        t = t0 + i * 10_000_000
        e2e = 20_000_000 if i < 500 else 6_000_000
        records.append(record(i, t, t + 1_000, t + 2_000, t + 3_000, t + e2e))
    records.insert(200, TraceRecord(index=200, t_capture=t0 + 2_005_000_000, dropped=True))
    plots.add_records(records)
    live = plots.summary()
    assert live["over"] == "last 10 s" and live["drops"] == 0
    assert live["e2e_p99_ms"] == pytest.approx(6.0)
    plots.set_records(records)
    whole = plots.summary()
    assert whole["over"] == "the whole trace" and whole["drops"] == 1
    assert whole["e2e_p99_ms"] == pytest.approx(20.0)
    plots.reset()
    assert plots.summary()["over"] == "last 10 s"    # live again after a trace was shown


def test_a_hit_flash_goes_out_when_the_picture_stalls(widgets):
    from lalelu.gestures.kit import load_kit
    from lalelu.sources.mannequin import Mannequin, rest_pose

    view = widgets(VideoView())
    view.resize(640, 480)
    mannequin = Mannequin((640, 480))
    keypoints = np.concatenate([mannequin.keypoints(rest_pose()), np.ones((17, 1), np.float32)], axis=1)
    view.set_zones(load_kit("default").zones)
    t = time.monotonic_ns() + 3600 * 10 ** 9      # the clock is the test's: a busy machine changes nothing
    view.flash("snare", now_ns=t)
    view.set_frame(mannequin.render(rest_pose()), keypoints)
    lit = view._composed.copy()
    view.expire_flashes(now_ns=t + FLASH_NS - 1)  # still lit: nothing to redraw
    assert np.array_equal(view._composed, lit)
    view.expire_flashes(now_ns=t + FLASH_NS)      # no new frame came: the picture is redrawn unlit
    assert not view.lit_zones(now_ns=t + FLASH_NS)
    assert np.abs(view._composed.astype(int) - lit).sum() > 0


def test_the_picture_shows_the_seen_keypoints_scaled_to_the_widget(widgets):
    from lalelu.core.keypoints import Keypoint
    from lalelu.core.keypoints import DRAW_MIN_SCORE as MIN_SCORE
    from lalelu.ui.video_view import BONE_BGR, JOINT_BGR

    view = widgets(VideoView())
    view.resize(320, 240)                          # half the frame's size
    keypoints = np.zeros((17, 3), np.float32)
    keypoints[Keypoint.LEFT_SHOULDER] = (400, 100, 0.9)
    keypoints[Keypoint.LEFT_ELBOW] = (400, 300, 0.9)
    keypoints[Keypoint.LEFT_WRIST] = (200, 300, MIN_SCORE - 0.01)   # not seen
    view.set_frame(np.zeros((480, 640, 3), np.uint8), keypoints)
    out = view._composed
    assert out.shape == (240, 320, 3)
    assert tuple(out[100, 200]) == BONE_BGR        # halfway along the upper arm, at half scale
    assert tuple(out[50, 200]) == JOINT_BGR        # the shoulder
    assert not out[150, 150].any()                 # the unseen wrist and its forearm are not drawn


def test_app_without_a_display_says_what_to_do(monkeypatch):
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    with pytest.raises(LaleluError, match="xvfb-run.*QT_QPA_PLATFORM=offscreen"):
        ui_app.check_display()


def test_startup_source_falls_back_to_the_scripted_drummer_without_a_webcam(monkeypatch):
    from lalelu.sources import choose_source

    def saved(source):   # what the window remembers, or nothing on a first run
        config.settings_path().unlink(missing_ok=True)
        if source:
            save_settings(UiSettings(source=source))

    monkeypatch.delenv("LALELU_SOURCE", raising=False)
    saved(None)
    assert choose_source(None, has_camera=lambda i: False)[0] == "synthetic"
    assert choose_source(None, has_camera=lambda i: True)[0] == "camera:0"
    saved("camera:2")
    source, note = choose_source(None, has_camera=lambda i: i != 2)
    assert source == "synthetic" and "/dev/video2" in note
    saved("file:/x.mp4")
    assert choose_source(None)[0] == "file:/x.mp4"
    saved("synthetic")
    assert choose_source("camera:5", has_camera=lambda i: False)[0] == "camera:5"
    saved(None)
    monkeypatch.setenv("LALELU_SOURCE", "synthetic:tempo=120")     # as headless play chooses it
    assert choose_source(None, has_camera=lambda i: True)[0] == "synthetic:tempo=120"


def test_app_command_is_registered():
    from lalelu.cli import app, build_parser

    args = build_parser().parse_args(["app", "--source", "synthetic", "--no-start", "--ui-fps", "20"])
    assert args.func is app.run
    assert (args.source, args.no_start, args.ui_fps) == ("synthetic", True, 20.0)


def test_pipeline_benchmark_with_the_window_open(jack_server, qapp):
    """The `bench pipeline --gui` half that runs with the window: the headless benchmark's form, and redraws."""
    from lalelu.bench_pipeline import JSON_KEYS
    from lalelu.ui.bench import run_pipeline_with_window

    result = run_pipeline_with_window(seconds=1.5, ui_fps=30)
    assert set(JSON_KEYS) <= set(result)
    assert result["frames"] > 20 and result["e2e_ms"]["p99"] > 0
    assert result["ui_redraws_per_s"] > 1


def test_lalelu_run_keeps_the_remembered_settings_it_is_not_given(isolated_settings):
    from lalelu.cli import build_parser

    save_settings(UiSettings(source="synthetic", model="thunder", backend="onnxruntime", kit="default",
                             midi_port="my synth"))
    settings, _ = ui_app.settings_for_run(vars(build_parser().parse_args(["run"])))
    assert (settings.model, settings.backend, settings.midi_port) == ("thunder", "onnxruntime", "my synth")
    settings, _ = ui_app.settings_for_run(vars(build_parser().parse_args(["run", "--model", "lightning"])))
    assert (settings.model, settings.backend) == ("lightning", "onnxruntime")


def test_saved_settings_file_round_trip(isolated_settings):
    save_settings(UiSettings(source="camera:1", kit="default", player="bob"))
    loaded = load_settings()
    assert (loaded.source, loaded.player) == ("camera:1", "bob")


def _left():
    from PySide6.QtCore import Qt

    return Qt.MouseButton.LeftButton


def test_a_late_answer_from_the_engine_process_is_not_taken_for_the_next_one(monkeypatch):
    """The window asks the engine process to start or stop recording over a pipe; an answer that comes
    after the question timed out must not be read as the answer to the next question."""
    import multiprocessing
    import threading

    from lalelu.engine import EngineConfig
    from lalelu.ui import engine_process

    monkeypatch.setattr(engine_process, "ASK_TIMEOUT_S", 0.3)
    proc = engine_process.EngineProcess(EngineConfig())
    ours, theirs = multiprocessing.Pipe()
    proc._commands, proc._proc = ours, object()   # only the pipe is used here: the child is this thread

    timed_out, answered_late = threading.Event(), threading.Event()

    def child():
        command, serial, path = theirs.recv()
        timed_out.wait(60)                                   # too late for the first question
        theirs.send((serial, "ok", "/late/first.jsonl"))
        answered_late.set()
        command, serial = theirs.recv()
        theirs.send((serial, "ok", "/on/time.jsonl"))

    helper = threading.Thread(target=child)
    helper.start()
    with pytest.raises(OSError, match="did not answer 'record' within 0.3 s"):
        proc.start_recording("/tmp/first.jsonl")
    timed_out.set()
    assert answered_late.wait(60)                            # the late answer is now waiting in the pipe
    assert proc._ask("stop_record") == "/on/time.jsonl"
    helper.join()


def test_the_sound_plays_and_its_switch_and_volume_reach_the_playing_engine(window, qtbot, jack_server):
    """On by default: the hits sound (their latency to the sound shows as dots and a number); the switch and
    the volume go to the engine's process while it plays, and are remembered."""
    c = window.controls
    c.set_source_spec("synthetic")
    c.midi_port.setCurrentText("lalelu ui sound")
    assert c.sound.isChecked() and c.volume.value() == 80
    qtbot.mouseClick(c.start_button, _left())
    assert window.engine is not None, window.error
    qtbot.waitUntil(lambda: "on, through JACK" in window.status_labels["sound"].text(), timeout=15000)
    assert "playback latency" in window.status_labels["sound"].toolTip()
    qtbot.waitUntil(lambda: window.plots.sound_curve.getData()[1] is not None
                    and len(window.plots.sound_curve.getData()[1]) > 0, timeout=20000)
    assert window.plots.summary()["sound_p50_ms"] > 0
    assert "sound" in window.numbers.text()
    c.volume.setValue(30)
    c.sound.setChecked(False)
    qtbot.waitUntil(lambda: "switched off" in window.engine.stats().sound, timeout=5000)
    assert (window.settings.sound, window.settings.volume) == (False, 30.0)
    c.sound.setChecked(True)
    qtbot.waitUntil(lambda: window.engine.stats().sound_connected, timeout=5000)
    qtbot.mouseClick(c.stop_button, _left())
    window.save()
    saved = load_settings()
    assert (saved.sound, saved.volume) == (True, 30.0)


def test_sound_choices_from_the_command_line_and_the_settings(isolated_settings):
    from lalelu.cli import build_parser

    save_settings(UiSettings(source="synthetic", kit="default", sound=False, volume=40.0))
    loaded = load_settings()
    assert (loaded.sound, loaded.volume) == (False, 40.0)
    settings, _ = ui_app.settings_for_run(vars(build_parser().parse_args(["run"])))
    assert (settings.sound, settings.volume) == (False, 40.0)
    settings, _ = ui_app.settings_for_run(vars(build_parser().parse_args(["app", "--sound", "--volume", "55"])))
    assert (settings.sound, settings.volume) == (True, 55.0)
    isolated_settings.write_text("[General]\nsound = perhaps\nvolume = loud\n")
    assert (load_settings().sound, load_settings().volume) == (True, 80.0)   # a broken memory: the defaults


def test_live_plots_show_each_hits_latency_to_its_sound(widgets):
    from lalelu.trace import SoundStamp, TraceRecord

    plots = widgets(LivePlots())
    t0 = 10_000_000_000
    records = [TraceRecord(index=i, t_capture=t0 + i * 10_000_000, t_infer_start=t0 + i * 10_000_000 + 1,
                           t_infer_end=t0 + i * 10_000_000 + 2, t_detect=t0 + i * 10_000_000 + 3,
                           t_sent=t0 + i * 10_000_000 + 5_000_000,
                           sounds=[SoundStamp(i - 1, 0, t0 + (i - 1) * 10_000_000,
                                              t0 + (i - 1) * 10_000_000 + 9_000_000)] if i % 10 == 1 else [])
               for i in range(100)]
    plots.add_records(records)
    plots.redraw()
    x, y = plots.sound_curve.getData()
    assert len(y) == 10 and y == pytest.approx(np.full(10, 9.0))
    assert plots.summary()["sound_p50_ms"] == pytest.approx(9.0)


WINDOWS_OPENED_AND_DROPPED = """
import os
import subprocess
import sys
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from PySide6.QtWidgets import QApplication
app = QApplication([])
from lalelu.ui.window import MainWindow

def open_and_close():
    first = MainWindow()
    first.close()
    second = MainWindow()
    second.close()

for _ in range(40):
    open_and_close()       # the windows are dropped closed; the garbage collector frees them when it runs
    app.processEvents()
print("all closed")
"""


def test_windows_closed_and_dropped_never_abort_the_process(tmp_path):
    """Once aborted the whole suite: a closed window freed later by the garbage collector, an axis of its plots
    asked for its size after its view was gone ("pure virtual method called"). Closing empties the plots first."""
    env = {**os.environ, "LALELU_SETTINGS": str(tmp_path / "lalelu.ini"), "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run([sys.executable, "-c", WINDOWS_OPENED_AND_DROPPED], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0 and "all closed" in done.stdout, done.stderr[-2000:]
