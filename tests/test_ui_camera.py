"""The window's camera group, offscreen (pytest-qt): the webcams listed with their best mode, exposure and gain
sliders that reach the playing camera and are remembered for it, the brightness/blur indicator, and the camera
check. No webcam exists here: a real MJPG video plays through CameraSource's own code (tests/file_camera.py),
described as a recorded real camera, with a stand-in for its exposure controls."""

from __future__ import annotations

import os
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before Qt is imported

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from lalelu import config  # noqa: E402
from lalelu.engine import Engine, EngineConfig  # noqa: E402
from lalelu.sources.v4l2 import V4L2Error  # noqa: E402
from lalelu.ui.settings import load_settings  # noqa: E402
from lalelu.ui.window import MainWindow  # noqa: E402
from tests.file_camera import (ARDUCAM_LIMITS, RecordedArducam, StandInControls, recorded_arducam,  # noqa: E402
                               write_mjpg_video)

IDENTITY = "Arducam B0589 4K HDR|Arducam_20250812_0001"


class PacedArducam(RecordedArducam):
    """The recorded camera at its frame rate (a file is read as fast as it decodes; a camera is not), so that
    the video lasts the test and the camera is not 'unplugged' and set up again meanwhile."""

    def read(self):
        time.sleep(1 / 30)
        return super().read()


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path, monkeypatch):
    path = tmp_path / "lalelu.ini"
    monkeypatch.setenv("LALELU_SETTINGS", str(path))
    return path


@pytest.fixture(scope="module")
def movenet():
    from lalelu.pose import load_estimator

    return load_estimator(model="lightning", backend="litert", threads=1)


def test_the_webcams_found_are_listed_with_their_best_mode(widgets):
    window = widgets(MainWindow(remember=False))
    panel = window.controls.camera
    panel.lister = lambda: [recorded_arducam(0), recorded_arducam(2)]
    panel.refresh_cameras()
    assert panel.camera_list.count() == 2
    assert panel.camera_list.itemText(0) == "camera:0 Arducam B0589 4K HDR — best 640x480 @ 60 fps"
    panel.camera_list.activated.emit(1)
    assert window.controls.source_spec() == "camera:2"
    window.controls.camera_index.setValue(0)
    assert panel.camera_list.currentIndex() == 0

    def no_tool():
        raise V4L2Error("v4l2-ctl is not installed: install Debian's v4l-utils")

    panel.lister = no_tool
    panel.refresh_cameras()
    assert panel.camera_list.itemText(0) == "no webcam found" and not panel.camera_list.isEnabled()
    assert "v4l-utils" in panel.camera_list.toolTip()


def test_sliders_reach_the_playing_camera_and_are_remembered_for_it(widgets, qtbot, tmp_path, movenet):
    video = write_mjpg_video(tmp_path / "cam.avi", 400)
    controls = StandInControls(ARDUCAM_LIMITS)

    def factory(settings):
        camera = PacedArducam(video, controls=controls)
        return Engine(EngineConfig(midi_port=None, fps=30.0), source=camera, estimator=movenet)

    settings = load_settings()
    window = widgets(MainWindow(engine_factory=factory, settings=settings))
    window.show()
    panel = window.controls.camera
    assert not panel.exposure.isEnabled() and not panel.gain.isEnabled()   # nothing plays yet
    assert window.start_engine(), window.error
    try:
        qtbot.waitUntil(lambda: panel.state is not None, timeout=10_000)
        assert panel.exposure.isEnabled() and panel.gain.isEnabled() and panel.auto.isEnabled()
        assert (panel.exposure.minimum(), panel.exposure.maximum()) == (10, 660)   # 1-66 ms in 0.1 ms steps
        assert panel.exposure.value() == 50 and panel.exposure_value.text() == "5.0 ms"
        assert not panel.camera_list.isEnabled() and not panel.check_button.isEnabled()

        controls.calls.clear()
        panel.gain.setValue(12)
        panel.exposure.setValue(31)          # dragged: one change sent when it rests
        qtbot.waitUntil(lambda: ("gain", 12.0) in controls.calls, timeout=5_000)
        assert controls.calls == [("manual", 3.1), ("gain", 12.0)]
        assert config.load_camera_settings(IDENTITY) == {"exposure_ms": "3.1", "gain": "12"}
        panel.auto.setChecked(True)
        qtbot.waitUntil(lambda: controls.calls[-1] == ("auto",), timeout=5_000)
        assert config.load_camera_settings(IDENTITY)["auto_exposure"] == "1"
        assert not panel.exposure.isEnabled()      # the camera chooses now

        qtbot.waitUntil(lambda: "brightness 1" in panel.indicator.text(), timeout=10_000)
    finally:
        window.stop_engine()
    assert panel.state is None and not panel.gain.isEnabled() and panel.check_button.isEnabled()


def test_the_indicator_reads_brightness_and_the_wrists_smear(widgets):
    from lalelu.engine import EngineStats
    from lalelu.sources.camera_controls import CameraState

    window = widgets(MainWindow(remember=False))
    window._last_image = np.full((480, 640, 3), 20, np.uint8)
    kp = np.zeros((2, 3))
    for i in range(5):                         # the right wrist moves 30 px every 10 ms: 3000 px/s
        kp = kp.copy()
        kp[:, 2] = 0.9
        kp[1, 0] = 30.0 * i
        window._wrists.append((i * 10_000_000, kp))
    state = CameraState(identity=IDENTITY, auto=False, exposure_ms=5.0, gain=3.0, limits=ARDUCAM_LIMITS)
    text = window._show_camera(EngineStats(source="camera", camera=state))
    assert text == "brightness 20/255 (dark) · blur 15 px at the fastest wrist (smears: shorter exposure)"
    assert window.controls.camera.gain_value.text() == "3"


def test_the_camera_check_from_the_window(widgets, qtbot):
    settings = load_settings()
    settings.source = "synthetic"
    window = widgets(MainWindow(settings=settings, remember=False))
    window.check_seconds = 1.5
    window.controls.camera.check_button.click()
    assert not window.controls.start_button.isEnabled()      # no play while the check holds the source
    qtbot.waitUntil(lambda: window.last_check is not None, timeout=180_000)
    assert window.last_check["framing"]["in_frame"], window.last_check
    assert "in frame: yes: head to ankles" in window.controls.camera.check_result.text()
    assert window.controls.start_button.isEnabled()

    window.last_check = None
    window.controls.set_source_spec("camera:61")
    window.controls.camera.check_button.click()
    qtbot.waitUntil(lambda: window.last_check is not None, timeout=180_000)
    assert "no camera at index 61" in window.last_check["error"]
    assert "Check failed" in window.controls.camera.check_result.text()


def test_the_engine_process_answers_a_camera_command(qapp):
    from lalelu.ui.engine_process import EngineProcess

    engine = EngineProcess(EngineConfig(source="synthetic", midi_port=None, fps=30.0))
    engine.start()
    try:
        assert engine.stats().camera is None
        with pytest.raises(OSError, match="only a camera has"):
            engine.adjust_camera(exposure_ms=3.0)
        assert engine.running     # a refused command leaves play going
    finally:
        engine.stop()
