"""The main window: video with skeleton and zones, live plots with their numbers, status, controls.

The engine never waits for this window: a QTimer (at most 60 Hz) takes snapshots of the engine's trace ring
and its newest image; when the window is slow it simply skips.
"""

from __future__ import annotations

import collections
import json
import os
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

import numpy as np
from PySide6.QtCore import QByteArray, QProcess, Qt, QTimer
from PySide6.QtWidgets import (QFileDialog, QFrame, QGroupBox, QHBoxLayout, QLabel, QMainWindow, QScrollArea,
                               QSplitter, QVBoxLayout, QWidget)

from lalelu import config
from lalelu.core.keypoints import Keypoint
from lalelu.core.messages import Level
from lalelu.engine import EngineConfig, EngineStats, keep_off_core
from lalelu.engine.view import EngineView
from lalelu.errors import LaleluError
from lalelu.report import fmt_ms
from lalelu.sources.exposure import ExposureRequest, blur_px, brightness, peak_speed_px_s
from lalelu.ui.calibration_dialog import CalibrationDialog
from lalelu.ui.controls import ControlPanel, available_players
from lalelu.ui.engine_process import EngineProcess
from lalelu.ui.plots import LivePlots
from lalelu.ui.settings import UiSettings, load_settings, save_settings
from lalelu.ui.trace_view import TraceViewer
from lalelu.ui.video_view import VideoView

MAX_UI_FPS = 60.0
PLOT_FPS = 10.0                    # the plots scroll smoothly enough at this rate, at a fraction of the cost
STATUS_EVERY_NS = 250_000_000      # status and numbers: 4 times a second is plenty to read
KEYPOINT_MEMORY = 64               # frames of keypoints kept to match the displayed image
WRIST_MEMORY = 200                 # wrist observations kept for the blur indicator (about a second or two)
CHECK_SECONDS = 5.0                # the camera check plays this long


def short_sound_state(state: str) -> str:
    """The sound's state in a few words: where it plays, or why it does not (the first clause)."""
    if state.startswith("playing through "):
        where = state[len("playing through "):].split(" (")[0]
        return f"on, through {where}"
    return state.split(";")[0]


def default_engine_factory(settings: UiSettings, **overrides) -> EngineProcess:
    """An engine for the window's choices, in a process of its own; `overrides` are further EngineConfig
    fields (threads, cores...)."""
    # The sound is always built (its switch may turn it on later), opened only while switched on.
    config = EngineConfig(source=settings.source, model=settings.model, backend=settings.backend,
                          kit=settings.kit, player=settings.player or None, midi_port=settings.midi_port,
                          sound=True, sound_on=settings.sound, volume=settings.volume / 100.0, **overrides)
    return EngineProcess(config)


class MainWindow(QMainWindow):
    def __init__(self, engine_factory: Callable[[UiSettings], EngineView] = default_engine_factory,
                 settings: UiSettings | None = None, ui_fps: float = 30.0, remember: bool = True):
        super().__init__()
        self.setWindowTitle("lalelu — air drums")
        self.engine_factory = engine_factory
        self.settings = settings if settings is not None else load_settings()
        self.remember = remember   # False: leave the user's saved settings alone (benchmarks)
        self.engine: EngineView | None = None
        self._gui_affinity: set[int] | None = None
        self.error = ""
        self._seq = 0
        self._keypoints: dict[int, Any] = {}
        self._last_keypoints = None
        self._last_image_index: int | None = None
        self._next_status_ns = 0
        self._captured_at: tuple[float, int] | None = None
        self._delivered: float | None = None
        self._wrists: collections.deque = collections.deque(maxlen=WRIST_MEMORY)   # (t_capture, 2 x (x, y, score))
        self._last_image = None
        self._check: QProcess | None = None
        self.check_seconds = CHECK_SECONDS
        self.last_check: dict | None = None   # the last camera check's result (JSON), or {"error": ...}
        self.redraws = 0

        self.video = VideoView()
        self.plots = LivePlots()
        self.controls = ControlPanel()
        self.controls.refresh_midi_ports()
        self.controls.camera.refresh_cameras()
        self.controls.apply_settings(self.settings)

        status_box = QGroupBox("Status")
        status_layout = QVBoxLayout(status_box)
        self.status_labels: dict[str, QLabel] = {}
        for key in ("source", "model", "cores", "midi", "sound", "note", "error"):
            label = QLabel("–")
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            status_layout.addWidget(label)
            self.status_labels[key] = label
        self.status_labels["error"].setStyleSheet("color: #ff6b6b; font-weight: bold")
        self.status_labels["error"].hide()
        self.status_labels["note"].setStyleSheet("color: #8a6d00")
        self.status_labels["note"].hide()
        # The sound's state changes while playing (starting, playing, a server gone): two lines, always, so that
        # nothing below it moves; the whole sentence is its tooltip.
        sound_label = self.status_labels["sound"]
        sound_label.setFixedHeight(2 * sound_label.fontMetrics().lineSpacing() + 2)

        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.addWidget(status_box)
        side_layout.addWidget(self.controls, 1)
        # the column scrolls rather than squeezing the plots when the window is short
        side_scroll = QScrollArea()
        side_scroll.setWidget(side)
        side_scroll.setWidgetResizable(True)
        side_scroll.setFrameShape(QFrame.Shape.NoFrame)
        side_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        side_scroll.setFixedWidth(345)

        self.numbers = QLabel()
        self.numbers.setTextFormat(Qt.TextFormat.RichText)
        self.numbers.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.numbers.setFixedWidth(165)   # a fixed width: changing numbers must not shift the plots
        self.numbers.setStyleSheet("font-size: 13pt")

        top = QWidget()
        top_layout = QHBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(self.video, 1)
        top_layout.addWidget(side_scroll)
        bottom = QWidget()
        bottom_layout = QHBoxLayout(bottom)
        bottom_layout.setContentsMargins(0, 0, 0, 0)
        bottom_layout.addWidget(self.plots, 1)
        bottom_layout.addWidget(self.numbers)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(top)
        splitter.addWidget(bottom)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([530, 250])   # the picture first; the control column scrolls if it needs more
        self.setCentralWidget(splitter)
        self.resize(1240, 780)
        if self.settings.geometry:
            self.restoreGeometry(QByteArray.fromHex(self.settings.geometry.encode()))

        self.controls.start_requested.connect(self.start_engine)
        self.controls.stop_requested.connect(self.stop_engine)
        self.controls.record_toggled.connect(self.set_recording)
        self.controls.open_trace_requested.connect(self._choose_trace)
        self.controls.calibrate_requested.connect(self.open_calibration)
        self.controls.camera.adjust_requested.connect(self.adjust_camera)
        self.controls.camera.check_requested.connect(self.check_camera)
        self.controls.sound_changed.connect(self.set_sound)

        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(max(int(round(1000.0 / min(ui_fps, MAX_UI_FPS))), 17))
        self.timer.timeout.connect(self.refresh)
        self._plot_every = max(1, round(min(ui_fps, MAX_UI_FPS) / PLOT_FPS))
        self._show_numbers(EngineStats())
        self._show_status(EngineStats())

    # --- engine life --------------------------------------------------------------------------
    def start_engine(self) -> bool:
        """Starts playing with the controls' choices; on failure the window stays and says why."""
        if self.engine is not None:
            return True
        self.controls.store_settings(self.settings)
        self.save()
        self.show_error("")
        self.video.set_message("Starting…")
        self._reset_view()
        engine = None
        try:
            engine = self.engine_factory(self.settings)
            engine.start()
        except Exception as exc:  # no camera, no MIDI backend, a missing model: the window stays usable
            self.engine = None
            self.show_error(f"Could not start: {exc}")
            self.video.set_message(f"Could not start.\n{exc}")
            self.controls.set_running(False)
            return False
        self.engine = engine
        # Only now that the engine's process was started: a child inherits the affinity of the thread
        # that starts it (the engine pins its own threads).
        self._gui_affinity = keep_off_core(engine.config.inference_core)
        kit = engine.kit   # the kit as the engine plays it (calibrated)
        self.video.set_zones(kit.zones, kit.thresholds.torso_ratio)
        self.video.set_message("")
        self.controls.set_running(True)
        self.timer.start()
        return True

    def stop_engine(self) -> None:
        self.timer.stop()
        engine, self.engine = self.engine, None
        if engine is not None:
            try:
                engine.stop()
            except Exception as exc:
                self.show_error(f"Stopping: {exc}")
        if self._gui_affinity is not None:
            os.sched_setaffinity(0, self._gui_affinity)
            self._gui_affinity = None
        self.controls.set_running(False)
        self.controls.record_label.setText("not recording")
        self.video.set_message("Stopped. Press Start to play")

    def _reset_view(self) -> None:
        self._seq = 0
        self._captured_at = self._delivered = None
        self._keypoints.clear()
        self._last_keypoints = None
        self._last_image_index = None
        self._wrists.clear()
        self._last_image = None
        self.plots.reset()

    # --- the timer: snapshots from the engine -------------------------------------------------
    def refresh(self) -> None:
        engine = self.engine
        if engine is None:
            return
        self._seq, records = engine.ring.read_since(self._seq)
        now = time.monotonic_ns()
        for rec in records:
            if rec.keypoints is not None:
                self._keypoints[rec.index] = rec.keypoints
                self._last_keypoints = rec.keypoints
                self._wrists.append((rec.t_capture, rec.keypoints[[Keypoint.LEFT_WRIST, Keypoint.RIGHT_WRIST]]))
            for hit in rec.hits:
                self.video.flash(hit.drum, now)
        while len(self._keypoints) > KEYPOINT_MEMORY:
            del self._keypoints[next(iter(self._keypoints))]
        self.plots.add_records(records)
        latest = engine.latest_image()
        if latest is not None and latest[0] != self._last_image_index:
            index, image = latest
            self._last_image_index = index
            self._last_image = image
            # The image may be a frame or two newer than the last pose: show the pose of that frame if known.
            self.video.set_frame(image, self._keypoints.get(index, self._last_keypoints))
        else:
            self.video.expire_flashes(now)
        if self.redraws % self._plot_every == 0:
            self.plots.redraw()
        self.redraws += 1
        if now >= self._next_status_ns:
            self._next_status_ns = now + STATUS_EVERY_NS
            self._poll_status(engine)

    def _poll_status(self, engine) -> None:
        stats = engine.stats()
        recording = engine.recording_path
        if recording:
            try:
                size = os.path.getsize(recording)
            except OSError:
                size = 0
            self.controls.record_label.setText(f"recording to <b>{recording}</b> ({size / 1e6:.1f} MB)")
        self._show_status(stats)
        self._show_numbers(stats)
        self._show_camera(stats)
        for message in engine.messages():
            if message.level is Level.ERROR:
                self.show_error(str(message))
            else:   # warnings and news (real-time priority, pinning, MIDI back): the latest one stays shown
                self.status_labels["note"].setText(str(message))
                self.status_labels["note"].setVisible(True)
        if not engine.running:
            error = engine.error
            self.stop_engine()
            self.video.set_message(f"The source stopped: {error}" if error else "The source ended.")
            if error:
                self.show_error(f"The source stopped: {error}")

    def _delivered_fps(self, stats: EngineStats) -> float | None:
        """Frames the source really delivers per second (captured, dropped ones included)."""
        captured, now = stats.captured, time.monotonic()
        previous, self._captured_at = self._captured_at, (now, captured)
        if previous is None or now - previous[0] < 0.1 or captured < previous[1]:
            return self._delivered
        self._delivered = (captured - previous[1]) / (now - previous[0])
        return self._delivered

    def _show_status(self, stats: EngineStats) -> None:
        """The status lines; an EngineStats() (nothing played yet) shows the chosen settings."""
        started = bool(stats.source)
        fps, delivered = stats.fps, self._delivered_fps(stats) if started else None
        fps_text = (f" — delivers {delivered:.1f} fps" if delivered else "") + (
            f", {fps:.1f} fps played" if fps else "")
        self.status_labels["source"].setText(f"<b>Source</b> {stats.source or self.settings.source}{fps_text}")
        self.status_labels["model"].setText(f"<b>Model</b> {stats.model or self.settings.model} on "
                                            f"{stats.backend or self.settings.backend}")
        pinned = stats.cores_text() if started else "–"
        self.status_labels["cores"].setText(f"<b>Cores</b> {pinned}")
        midi_state = stats.midi if started else "not started"
        self.status_labels["midi"].setText(f"<b>MIDI</b> {self.settings.midi_port} — {midi_state}")
        sound_state = stats.sound if started else ("on" if self.settings.sound else "off")
        osc = f"; <b>OSC</b> {stats.osc}" if stats.osc != "off" else ""
        self.status_labels["sound"].setText(f"<b>Sound</b> {short_sound_state(sound_state)}{osc}")
        self.status_labels["sound"].setToolTip(sound_state)

    def _show_numbers(self, stats: EngineStats) -> None:
        live = self.plots.summary()
        started = bool(stats.source)
        fps = stats.fps if started else live["fps"]
        self.numbers.setText(
            "<table cellspacing=4>"
            f"<tr><td>fps</td><td align=right><b>{fmt_ms(fps, 1)}</b></td></tr>"
            f"<tr><td>frames</td><td align=right>{stats.frames}</td></tr>"
            f"<tr><td>drops</td><td align=right>{stats.drops if started else live['drops']}</td></tr>"
            f"<tr><td>hits</td><td align=right>{stats.hits}</td></tr>"
            f"<tr><td>p50</td><td align=right><b>{fmt_ms(live['e2e_p50_ms'], 1)}</b> ms</td></tr>"
            f"<tr><td>p99</td><td align=right><b>{fmt_ms(live['e2e_p99_ms'], 1)}</b> ms</td></tr>"
            f"<tr><td>sound</td><td align=right><b>{fmt_ms(live['sound_p50_ms'], 1)}</b> ms</td></tr>"
            f"</table><small>end to end (sound: p50 to the<br>sound out), {live['over']}</small>")

    # --- the camera: exposure, the brightness and blur indicator, the check ----------------------------
    def wrist_speed_px_s(self) -> float | None:
        """The fastest either wrist moved over the last second or two of played frames (px/s)."""
        if len(self._wrists) < 2:
            return None
        times = np.array([t for t, _ in self._wrists], np.int64)
        wrists = np.array([w for _, w in self._wrists], np.float64)
        speeds = [peak_speed_px_s(times, wrists[:, side]) for side in (0, 1)]
        speeds = [v for v in speeds if v is not None]
        return max(speeds) if speeds else None

    def _show_camera(self, stats: EngineStats) -> str:
        panel = self.controls.camera
        state = stats.camera
        if not panel.busy() and state != panel.state:
            panel.set_state(state)
        light = brightness(self._last_image) if self._last_image is not None else None
        return panel.show_indicator(light, blur_px(getattr(state, "exposure_ms", None), self.wrist_speed_px_s()))

    def adjust_camera(self, changes: dict) -> None:
        """A slider moved: the camera changes in the engine's process; what the player chose is remembered for
        this camera (by its name and serial)."""
        engine = self.engine
        if engine is None:
            return
        try:
            state = engine.adjust_camera(**changes)
        except (OSError, LaleluError) as exc:
            self.show_error(f"Camera: {exc}")
            return
        self.controls.camera.set_state(state)
        if self.remember and state is not None and state.identity:
            chosen = ExposureRequest(exposure_ms=state.exposure_ms if "exposure_ms" in changes else None,
                                     gain=state.gain if "gain" in changes else None,
                                     auto=state.auto if "auto" in changes else None)
            config.save_camera_settings(state.identity, chosen.to_settings())

    def check_camera(self) -> None:
        """The camera check (`lalelu cameras --check`) on the chosen source, in a process of its own: the
        window stays responsive, and the model it loads goes away with it."""
        if self._check is not None or self.engine is not None:
            return
        self.controls.store_settings(self.settings)
        process = QProcess(self)
        process.setProgram(sys.executable)
        process.setArguments(["-m", "lalelu", "cameras", "--check", self.settings.source, "--json", "--seconds",
                              f"{self.check_seconds:g}", "--model", self.settings.model,
                              "--backend", self.settings.backend])
        process.finished.connect(self._check_done)
        self._check = process
        panel = self.controls.camera
        panel.check_button.setEnabled(False)
        self.controls.start_button.setEnabled(False)
        panel.check_result.setText(f"checking {self.settings.source} for {self.check_seconds:g} s…")
        process.start()

    def _check_done(self, exit_code: int = 0, _status=None) -> None:
        process, self._check = self._check, None
        if process is None:
            return
        out = bytes(process.readAllStandardOutput()).decode(errors="replace")
        err = bytes(process.readAllStandardError()).decode(errors="replace")
        process.deleteLater()
        try:
            result = json.loads(out) if exit_code in (0, 1) else None
        except json.JSONDecodeError:
            result = None
        if result is None:
            said = [line for line in err.splitlines() if line.startswith("lalelu:")] or err.splitlines()[-1:]
            self.last_check = {"error": said[-1] if said else f"the check ended with exit code {exit_code}"}
            text = f"<b>Check failed</b>: {self.last_check['error']}"
        else:
            self.last_check = result
            text = check_summary(result)
        panel = self.controls.camera
        panel.check_result.setText(text)
        panel.check_button.setEnabled(self.engine is None)
        self.controls.start_button.setEnabled(self.engine is None)

    def show_error(self, text: str) -> None:
        self.error = text
        label = self.status_labels["error"]
        label.setText(text)
        label.setVisible(bool(text))

    # --- the built-in sound -----------------------------------------------------------------------
    def set_sound(self, on: bool, volume: int) -> None:
        """The sound's switch and volume: remembered, and passed to the engine while it plays."""
        self.settings.sound, self.settings.volume = on, float(volume)
        engine = self.engine
        if engine is None:
            return
        try:
            engine.set_sound(on, volume / 100.0)
        except OSError as exc:
            self.show_error(f"Sound: {exc}")

    # --- trace recording and viewing ----------------------------------------------------------
    def new_trace_path(self) -> Path:
        folder = Path(self.settings.trace_dir or ".")
        return folder / f"lalelu-{datetime.now():%Y%m%d-%H%M%S}.trace.jsonl"

    def set_recording(self, on: bool) -> None:
        engine = self.engine
        label = self.controls.record_label
        if engine is None:
            return
        try:
            if on:
                path = self.new_trace_path()
                engine.start_recording(path)
                label.setText(f"recording to <b>{engine.recording_path}</b>")
            else:
                path = engine.recording_path
                engine.stop_recording()
                label.setText(f"saved {path}" if path else "not recording")
        except OSError as exc:
            self.show_error(str(exc))
            label.setText("not recording")
            self.controls.record_button.blockSignals(True)
            self.controls.record_button.setChecked(False)
            self.controls.record_button.blockSignals(False)

    def _choose_trace(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a lalelu trace", self.settings.trace_dir or ".",
                                              "lalelu traces (*.jsonl *.trace);;All files (*)")
        if path:
            self.open_trace(path)

    def open_trace(self, path: str):
        """Shows a recorded trace's report and plots in a window of its own; returns it (None on error)."""
        try:
            viewer = TraceViewer(path, self)    # the window, its parent, keeps it until it is closed
        except Exception as exc:  # unreadable or not a trace: say so, keep the window
            self.show_error(f"Could not open the trace: {exc}")
            return None
        viewer.show()
        return viewer

    # --- calibration ----------------------------------------------------------------------------
    def open_calibration(self, **step_lengths):
        self.controls.store_settings(self.settings)   # calibrate for the kit chosen now
        dialog = CalibrationDialog(self, **step_lengths)
        dialog.saved.connect(self._use_player)
        dialog.show()
        return dialog

    def _use_player(self, name: str) -> None:
        self.controls.player.clear()
        self.controls.player.addItems([""] + available_players())
        self.controls.player.setCurrentText(name)
        self.settings.player = name

    # --- closing --------------------------------------------------------------------------------
    def save(self) -> str:
        self.controls.store_settings(self.settings)
        self.settings.geometry = bytes(self.saveGeometry().toHex()).decode()
        return save_settings(self.settings) if self.remember else ""

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        if self._check is not None:   # nothing the window started outlives it
            self._check.kill()
            self._check.waitForFinished(2000)
        self.stop_engine()
        self.save()
        # Empties the plots' scene while every item in it is whole: left to the garbage collector, an axis can
        # outlive its view and Qt aborts the process ("pure virtual method called").
        self.plots.close()
        super().closeEvent(event)


def check_summary(result: dict) -> str:
    """A camera check's result (lalelu cameras --check --json) in a few lines for the window."""
    exposure = ("auto" if result.get("auto_exposure") else
                f"{result['exposure_ms']:g} ms" if result.get("exposure_ms") is not None else "–")
    light = f"{result['brightness']:.0f}/255" if result.get("brightness") is not None else "–"
    jitter = result.get("interval_ms", {}).get("std")
    lines = [f"{result['fps_delivered']:g} of {result['fps_granted']:g} fps, jitter {fmt_ms(jitter, 1)} ms, "
             f"exposure {exposure}, brightness {light}",
             f"in frame: {result['framing']['summary']}"]
    problems = result.get("problems") or []
    lines += [f"• {p}" for p in problems] if problems else ["<b>fit for drumming</b>"]
    return "<br>".join(lines)
