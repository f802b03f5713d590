"""The window's camera group: the webcams found (with their best mode), exposure and gain sliders, a live
brightness and motion-blur indicator, and the camera check."""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QGridLayout, QGroupBox, QHBoxLayout, QLabel, QPushButton,
                               QSlider, QWidget)

from lalelu.sources.exposure import DARK
from lalelu.sources.v4l2 import Camera, V4L2Error, list_cameras

ADJUST_DELAY_MS = 200       # a slider dragged sends one change when it rests, not one per pixel
EXPOSURE_STEP_MS = 0.1      # the V4L2 unit
BLUR_WARN_PX = 8.0          # a wrist smeared over more than this at its fastest: MoveNet places it late and wide


def camera_label(camera: Camera) -> str:
    best = camera.best
    mode = f" — best {best.width}x{best.height} @ {best.fps:g} fps" if best else ""
    return f"camera:{camera.index} {camera.name}{mode}" + (" (problem)" if camera.problem else "")


class CameraPanel(QGroupBox):
    camera_chosen = Signal(int)          # a camera's index, chosen in the list
    adjust_requested = Signal(dict)      # {"exposure_ms": ms} | {"gain": g} | {"auto": bool}
    check_requested = Signal()

    def __init__(self, lister: Callable[[], list[Camera]] = list_cameras, parent: QWidget | None = None):
        super().__init__("Camera", parent)
        self.lister = lister
        self.cameras: list[Camera] = []
        self.state = None
        grid = QGridLayout(self)
        self.camera_list = QComboBox()
        self.camera_list.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.camera_list.setMinimumContentsLength(16)   # long names are cut; the tooltip has the rest
        self.camera_refresh = QPushButton("Refresh")
        row = QWidget()
        row_layout = QHBoxLayout(row)
        row_layout.setContentsMargins(0, 0, 0, 0)
        row_layout.addWidget(self.camera_list, 1)
        row_layout.addWidget(self.camera_refresh)
        grid.addWidget(row, 0, 0, 1, 3)

        self.auto = QCheckBox("Auto exposure")
        self.auto.setToolTip("Leave the exposure to the camera (its frame rate held). Off: a short exposure, "
                             "sharp strokes")
        grid.addWidget(self.auto, 1, 0, 1, 3)
        self.exposure = QSlider(Qt.Orientation.Horizontal)
        self.exposure_value = QLabel("–")
        self.gain = QSlider(Qt.Orientation.Horizontal)
        self.gain_value = QLabel("–")
        for r, (name, slider, value) in enumerate((("Exposure", self.exposure, self.exposure_value),
                                                   ("Gain", self.gain, self.gain_value)), start=2):
            grid.addWidget(QLabel(name), r, 0)
            grid.addWidget(slider, r, 1)
            value.setMinimumWidth(56)
            grid.addWidget(value, r, 2)
        self.indicator = QLabel("brightness – · blur –")
        self.indicator.setWordWrap(True)
        grid.addWidget(self.indicator, 4, 0, 1, 3)
        self.check_button = QPushButton("Check camera")
        self.check_button.setToolTip("Play the chosen source for 5 s: fps, jitter, exposure, brightness, and "
                                     "whether you are in the picture from head to ankles")
        grid.addWidget(self.check_button, 5, 0, 1, 3)
        self.check_result = QLabel("")
        self.check_result.setWordWrap(True)
        self.check_result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        grid.addWidget(self.check_result, 6, 0, 1, 3)

        self._pending: dict = {}
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(ADJUST_DELAY_MS)
        self._timer.timeout.connect(self._send)
        self.exposure.valueChanged.connect(self._exposure_moved)
        self.gain.valueChanged.connect(self._gain_moved)
        self.auto.toggled.connect(lambda on: self.adjust_requested.emit({"auto": on}))
        self.camera_refresh.clicked.connect(self.refresh_cameras)
        self.camera_list.activated.connect(self._chosen)
        self.check_button.clicked.connect(self.check_requested)
        self.set_state(None)

    # --- the cameras found ----------------------------------------------------------------------------
    def refresh_cameras(self) -> list[Camera]:
        try:
            self.cameras = self.lister()
            problem = ""
        except V4L2Error as error:
            self.cameras, problem = [], str(error)
        self.camera_list.clear()
        for camera in self.cameras:
            self.camera_list.addItem(camera_label(camera), camera.index)
            self.camera_list.setItemData(self.camera_list.count() - 1, camera.problem or camera.identity,
                                         Qt.ItemDataRole.ToolTipRole)
        if not self.cameras:
            self.camera_list.addItem("no webcam found")
        self.camera_list.setEnabled(bool(self.cameras))
        self.camera_list.setToolTip(problem or f"{len(self.cameras)} webcam(s) found")
        return self.cameras

    def _chosen(self, row: int) -> None:
        index = self.camera_list.itemData(row)
        if index is not None:
            self.camera_chosen.emit(int(index))

    def select_index(self, index: int) -> None:
        row = self.camera_list.findData(index)
        if row >= 0:
            self.camera_list.setCurrentIndex(row)

    # --- exposure and gain ----------------------------------------------------------------------------
    def set_state(self, state) -> None:
        """Show a CameraState (None: no camera playing): ranges, values, what can be changed. Does not emit."""
        self.state = state
        limits = getattr(state, "limits", None)
        exposure_range = getattr(limits, "exposure_ms", None)
        gain_range = getattr(limits, "gain", None)
        for widget in (self.exposure, self.gain, self.auto):
            widget.blockSignals(True)
        self.auto.setEnabled(bool(limits and limits.auto))
        self.auto.setChecked(bool(getattr(state, "auto", False)))
        manual = not getattr(state, "auto", False)
        self.exposure.setEnabled(exposure_range is not None and manual)
        if exposure_range is not None:
            self.exposure.setRange(round(exposure_range[0] / EXPOSURE_STEP_MS), round(exposure_range[1] / EXPOSURE_STEP_MS))
            if state.exposure_ms is not None:
                self.exposure.setValue(round(state.exposure_ms / EXPOSURE_STEP_MS))
        self.gain.setEnabled(gain_range is not None)
        if gain_range is not None:
            self.gain.setRange(int(gain_range[0]), int(gain_range[1]))
            if state.gain is not None:
                self.gain.setValue(int(round(state.gain)))
        for widget in (self.exposure, self.gain, self.auto):
            widget.blockSignals(False)
        self.exposure_value.setText("auto" if getattr(state, "auto", False) else
                                    f"{state.exposure_ms:.1f} ms" if getattr(state, "exposure_ms", None) else "–")
        self.gain_value.setText(f"{state.gain:g}" if getattr(state, "gain", None) is not None else "–")

    def busy(self) -> bool:
        """A slider change is waiting to be sent: the engine's reports must not move the slider meanwhile."""
        return self._timer.isActive()

    def _exposure_moved(self, value: int) -> None:
        self.exposure_value.setText(f"{value * EXPOSURE_STEP_MS:.1f} ms")
        self._pending["exposure_ms"] = round(value * EXPOSURE_STEP_MS, 1)
        self._timer.start()

    def _gain_moved(self, value: int) -> None:
        self.gain_value.setText(str(value))
        self._pending["gain"] = float(value)
        self._timer.start()

    def _send(self) -> None:
        pending, self._pending = self._pending, {}
        if pending:
            self.adjust_requested.emit(pending)

    def show_indicator(self, brightness: float | None, blur_px: float | None) -> str:
        light = "–" if brightness is None else f"{brightness:.0f}/255" + (" (dark)" if brightness < DARK else "")
        blur = "–" if blur_px is None else f"{blur_px:.0f} px at the fastest wrist" + (
            " (smears: shorter exposure)" if blur_px > BLUR_WARN_PX else "")
        text = f"brightness {light} · blur {blur}"
        self.indicator.setText(text)
        return text

    def set_running(self, running: bool) -> None:
        """While playing: the sliders (if the camera has them); when stopped: the list and the check."""
        self.camera_list.setEnabled(not running and bool(self.cameras))
        self.camera_refresh.setEnabled(not running)
        self.check_button.setEnabled(not running)
        if not running:
            self.set_state(None)
