"""The control column: source, model and backend, MIDI port, kit and player, the sound's switch and volume,
start/stop, the camera (its exposure and the camera check), trace, calibration."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFileDialog, QFormLayout, QGroupBox, QHBoxLayout, QLabel,
                               QLineEdit, QPushButton, QSlider, QSpinBox, QStackedWidget, QVBoxLayout, QWidget)

from lalelu.config import calibration_dir
from lalelu.gestures.kit import available_kits as kit_names
from lalelu.midi import DEFAULT_PORT, list_all_ports
from lalelu.pose.backends import BACKENDS
from lalelu.pose.models import MODEL_SPECS
from lalelu.ui.camera_panel import CameraPanel
from lalelu.ui.settings import UiSettings

SOURCE_KINDS = (("Scripted drummer", "synthetic"), ("Camera", "camera"), ("Video file", "file"))
MODELS = tuple(MODEL_SPECS)


def available_kits() -> list[str]:
    return sorted({"default", *kit_names()}, key=lambda n: (n != "default", n))


def available_players() -> list[str]:
    return sorted(p.stem for p in calibration_dir().glob("*.toml"))


def available_midi_ports() -> tuple[list[str], str]:
    """(output port names over the usable backends, why a backend is unusable or "")."""
    try:
        found = list_all_ports("auto")
    except (OSError, ImportError, RuntimeError, ValueError) as exc:
        return [], str(exc)
    names, problems, usable = [], [], False
    for backend, ports in found.items():
        if isinstance(ports, Exception):
            problems.append(str(ports))
        else:
            usable = True
            names += [p for p in ports.outputs if p not in names]
    return names, "" if usable else "; ".join(problems)


def _combo(items, editable: bool = False) -> QComboBox:
    box = QComboBox()
    box.setEditable(editable)
    box.addItems(list(items))
    return box


def _set_combo_text(box: QComboBox, text: str) -> None:
    index = box.findText(text)
    if index >= 0:
        box.setCurrentIndex(index)
    elif box.isEditable():
        box.setEditText(text)


class ControlPanel(QWidget):
    start_requested = Signal()
    stop_requested = Signal()
    record_toggled = Signal(bool)
    open_trace_requested = Signal()
    calibrate_requested = Signal()
    sound_changed = Signal(bool, int)     # the sound's switch, its volume (percent); also while playing

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)

        play = QGroupBox("Play")
        form = QFormLayout(play)
        self.source_kind = _combo(label for label, _ in SOURCE_KINDS)
        self.camera_index = QSpinBox()
        self.camera_index.setRange(0, 63)
        self.file_path = QLineEdit()
        self.file_path.setPlaceholderText("video file")
        self.browse_button = QPushButton("…")
        self.browse_button.setToolTip("Choose a video file")
        file_row = QWidget()
        file_layout = QHBoxLayout(file_row)
        file_layout.setContentsMargins(0, 0, 0, 0)
        file_layout.addWidget(self.file_path)
        file_layout.addWidget(self.browse_button)
        self.source_detail = QStackedWidget()
        self.source_detail.addWidget(QLabel("plays a scripted groove"))
        self.source_detail.addWidget(self.camera_index)
        self.source_detail.addWidget(file_row)
        self.source_kind.currentIndexChanged.connect(self.source_detail.setCurrentIndex)
        form.addRow("Source", self.source_kind)
        form.addRow("", self.source_detail)
        self.model = _combo(MODELS, editable=True)
        self.backend = _combo(BACKENDS)
        form.addRow("Model", self.model)
        form.addRow("Backend", self.backend)
        self.midi_port = _combo([DEFAULT_PORT], editable=True)
        self.midi_refresh = QPushButton("Refresh")
        port_row = QWidget()
        port_layout = QHBoxLayout(port_row)
        port_layout.setContentsMargins(0, 0, 0, 0)
        port_layout.addWidget(self.midi_port, 1)
        port_layout.addWidget(self.midi_refresh)
        form.addRow("MIDI port", port_row)
        self.kit = _combo(available_kits(), editable=True)
        self.player = _combo([""] + available_players(), editable=True)
        self.player.lineEdit().setPlaceholderText("no calibration")
        form.addRow("Kit", self.kit)
        form.addRow("Player", self.player)
        self.sound = QCheckBox("on")
        self.sound.setToolTip("The built-in drum sound (FluidSynth), beside MIDI")
        self.volume = QSlider(Qt.Orientation.Horizontal)
        self.volume.setRange(0, 100)
        self.volume.setToolTip("Volume of the built-in sound")
        sound_row = QWidget()
        sound_layout = QHBoxLayout(sound_row)
        sound_layout.setContentsMargins(0, 0, 0, 0)
        sound_layout.addWidget(self.sound)
        sound_layout.addWidget(self.volume, 1)
        form.addRow("Sound", sound_row)
        self.start_button = QPushButton("Start")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.stop_button)
        form.addRow(buttons)
        layout.addWidget(play)

        self.camera = CameraPanel()
        self.camera.camera_chosen.connect(lambda index: self.set_source_spec(f"camera:{index}"))
        self.camera_index.valueChanged.connect(self.camera.select_index)
        layout.addWidget(self.camera)

        trace = QGroupBox("Trace")
        trace_layout = QVBoxLayout(trace)
        self.record_button = QPushButton("Record trace")
        self.record_button.setCheckable(True)
        self.record_button.setEnabled(False)
        self.record_label = QLabel("not recording")
        self.record_label.setWordWrap(True)
        self.open_trace_button = QPushButton("Open trace…")
        trace_layout.addWidget(self.record_button)
        trace_layout.addWidget(self.record_label)
        trace_layout.addWidget(self.open_trace_button)
        layout.addWidget(trace)

        self.calibrate_button = QPushButton("Calibrate player…")
        layout.addWidget(self.calibrate_button)
        layout.addStretch(1)

        self.start_button.clicked.connect(self.start_requested)
        self.stop_button.clicked.connect(self.stop_requested)
        self.record_button.toggled.connect(self.record_toggled)
        self.open_trace_button.clicked.connect(self.open_trace_requested)
        self.calibrate_button.clicked.connect(self.calibrate_requested)
        self.midi_refresh.clicked.connect(self.refresh_midi_ports)
        self.sound.toggled.connect(self._emit_sound)
        self.volume.valueChanged.connect(self._emit_sound)
        self.browse_button.clicked.connect(self._browse_video)
        self.midi_problem = ""
        self.synthetic_spec = "synthetic"

    # --- values -------------------------------------------------------------------------------
    def source_spec(self) -> str:
        kind = SOURCE_KINDS[self.source_kind.currentIndex()][1]
        if kind == "camera":
            return f"camera:{self.camera_index.value()}"
        if kind == "file":
            return f"file:{self.file_path.text().strip()}"
        return self.synthetic_spec

    def set_source_spec(self, spec: str) -> None:
        kind, _, rest = spec.partition(":")
        if kind == "synthetic":
            self.synthetic_spec = spec   # keeps options such as synthetic:pattern=basic,tempo=120
        kinds = [k for _, k in SOURCE_KINDS]
        self.source_kind.setCurrentIndex(kinds.index(kind) if kind in kinds else 0)
        if kind == "camera" and rest.isdigit():
            self.camera_index.setValue(int(rest))
        elif kind == "file":
            self.file_path.setText(rest)

    def apply_settings(self, settings: UiSettings) -> None:
        self.set_source_spec(settings.source)
        _set_combo_text(self.model, settings.model)
        _set_combo_text(self.backend, settings.backend)
        _set_combo_text(self.midi_port, settings.midi_port)
        _set_combo_text(self.kit, settings.kit)
        _set_combo_text(self.player, settings.player)
        for widget in (self.sound, self.volume):
            widget.blockSignals(True)
        self.sound.setChecked(settings.sound)
        self.volume.setValue(int(round(settings.volume)))
        for widget in (self.sound, self.volume):
            widget.blockSignals(False)

    def store_settings(self, settings: UiSettings) -> UiSettings:
        settings.source = self.source_spec()
        settings.model = self.model.currentText().strip() or MODELS[0]
        settings.backend = self.backend.currentText()
        settings.midi_port = self.midi_port.currentText().strip() or DEFAULT_PORT
        settings.kit = self.kit.currentText().strip() or "default"
        settings.player = self.player.currentText().strip()
        settings.sound = self.sound.isChecked()
        settings.volume = float(self.volume.value())
        return settings

    def _emit_sound(self, *_) -> None:
        self.sound_changed.emit(self.sound.isChecked(), self.volume.value())

    # --- state --------------------------------------------------------------------------------
    def set_running(self, running: bool) -> None:
        self.start_button.setEnabled(not running)
        self.stop_button.setEnabled(running)
        self.record_button.setEnabled(running)
        for widget in (self.source_kind, self.source_detail, self.model, self.backend, self.midi_port,
                       self.midi_refresh, self.kit, self.player):
            widget.setEnabled(not running)
        self.camera.set_running(running)
        if not running and self.record_button.isChecked():
            self.record_button.blockSignals(True)
            self.record_button.setChecked(False)
            self.record_button.blockSignals(False)

    def refresh_midi_ports(self) -> list[str]:
        current = self.midi_port.currentText()
        ports, self.midi_problem = available_midi_ports()
        names = [DEFAULT_PORT] + [p for p in ports if p != DEFAULT_PORT]
        self.midi_port.blockSignals(True)
        self.midi_port.clear()
        self.midi_port.addItems(names)
        self.midi_port.blockSignals(False)
        _set_combo_text(self.midi_port, current or DEFAULT_PORT)
        self.midi_port.setToolTip(self.midi_problem or f"{len(ports)} MIDI port(s) found")
        return names

    def _browse_video(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a video file", "",
                                              "Video (*.mp4 *.avi *.mov *.mkv *.webm);;All files (*)")
        if path:
            self.file_path.setText(path)
