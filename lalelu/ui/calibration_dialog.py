"""The calibration flow, guided in the window: stand still, then play each hand zone a few times; the player's
zone centres and thresholds are worked out by lalelu.gestures.calibration and saved as calibration/NAME.toml.

It listens to the running engine's trace ring (the keypoints it already computes); it never drives the engine.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (QDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QProgressBar, QPushButton,
                               QVBoxLayout)

from lalelu.errors import LaleluError
from lalelu.gestures.calibration import calibrate, calibration_path, save_calibration
from lalelu.gestures.kit import load_kit

NEUTRAL_S = 3.0
ZONE_S = 5.0
POLL_MS = 100


class CalibrationDialog(QDialog):
    saved = Signal(str)   # the player's name, once their calibration file is written

    def __init__(self, window, neutral_s: float = NEUTRAL_S, zone_s: float = ZONE_S):
        super().__init__(window)
        self.setWindowTitle("Calibrate a player")
        self.window_ = window
        self.neutral_s, self.zone_s = neutral_s, zone_s
        self.kit = None
        self.steps: list[str] = []        # "neutral", then the hand zones' names
        self.step = 0
        self.frames: dict[str, list] = {}
        self.saved_path = ""
        self._seq = 0
        self._step_end = 0.0
        self._step_len = 0.0

        self.player = QLineEdit(window.settings.player or "")
        self.player.setPlaceholderText("your name (letters, digits, - _ .)")
        self.instruction = QLabel()
        self.instruction.setWordWrap(True)
        self.instruction.setStyleSheet("font-size: 15pt; font-weight: bold")
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.outline = QLabel()
        self.outline.setWordWrap(True)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.record_button = QPushButton("Begin")
        self.close_button = QPushButton("Close")

        form = QFormLayout()
        form.addRow("Player", self.player)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.record_button)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.instruction)
        layout.addWidget(self.progress)
        layout.addWidget(self.outline)
        layout.addWidget(self.message)
        layout.addLayout(buttons)
        self.resize(520, 300)

        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self._collect)
        self.record_button.clicked.connect(self.record_step)
        self.close_button.clicked.connect(self.close)
        self._prepare()

    # --- the flow -----------------------------------------------------------------------------
    def _prepare(self) -> None:
        try:
            self.kit = load_kit(self.window_.settings.kit)
        except LaleluError as exc:
            self._fail(str(exc))
            return
        self.steps = ["neutral"] + [z.name for z in self.kit.hand_zones]
        self.step = 0
        self.frames = {}
        self._show_step()

    def instruction_for(self, step: str) -> str:
        if step == "neutral":
            return f"Stand still facing the camera, arms relaxed ({self.neutral_s:g} s)"
        return f"Play {step.replace('_', ' ')} a few times, clear down-strokes ({self.zone_s:g} s)"

    def _show_step(self) -> None:
        current = self.steps[self.step] if self.step < len(self.steps) else None
        self.instruction.setText(self.instruction_for(current) if current else "Done")
        self.outline.setText(" → ".join(f"<b>{s}</b>" if i == self.step else s for i, s in enumerate(self.steps)))
        self.progress.setValue(0)
        self.record_button.setText("Begin" if self.step == 0 else "Next")

    @property
    def listening(self) -> bool:
        return self.timer.isActive()

    def record_step(self) -> bool:
        """Starts listening for the current step; False (and a message) when it cannot."""
        if self.timer.isActive():
            return False
        engine = self.window_.engine
        if engine is None:
            self._fail("Start playing first (the calibration watches the running camera).")
            return False
        if self.step == 0:
            try:
                calibration_path(self.player.text().strip())
            except LaleluError as exc:
                self._fail(str(exc))
                return False
        self.message.setText("")
        self._seq = engine.ring.seq
        self._step_len = self.neutral_s if self.steps[self.step] == "neutral" else self.zone_s
        self._step_end = time.monotonic() + self._step_len
        self.frames[self.steps[self.step]] = []
        self.record_button.setEnabled(False)
        self.player.setEnabled(False)
        self.timer.start()
        return True

    def _collect(self) -> None:
        engine = self.window_.engine
        step = self.steps[self.step]
        if engine is None:
            self.timer.stop()
            self._fail("Playing stopped; start again and redo this step.")
            return
        self._seq, records = engine.ring.read_since(self._seq)
        self.frames[step].extend((r.t_capture, r.keypoints) for r in records
                                 if not r.dropped and r.keypoints is not None)
        if step != "neutral":
            self.window_.video.flash(step)   # light the zone to play in the video
        left = self._step_end - time.monotonic()
        self.progress.setValue(int(1000 * (1 - max(left, 0.0) / self._step_len)))
        if left > 0:
            return
        self.timer.stop()
        self.record_button.setEnabled(True)
        self.step += 1
        if self.step < len(self.steps):
            self._show_step()
        else:
            self.finish()

    def finish(self) -> None:

        name = self.player.text().strip()
        engine = self.window_.engine
        fps = (engine.stats().fps if engine is not None else None) or 100.0
        try:
            cal = calibrate(name, self.kit, self.frames.get("neutral", []),
                            {z: f for z, f in self.frames.items() if z != "neutral"}, fps=float(fps))
            self.saved_path = str(save_calibration(cal))
        except LaleluError as exc:
            # Go back to the step that failed (a zone named in the message), else start over.
            failed = next((i for i, s in enumerate(self.steps) if f"'{s}'" in str(exc)), 0)
            self.step = failed
            self._show_step()
            self._fail(f"{exc}\nPress Next to redo this step.")
            return
        self.instruction.setText(f"Saved calibration for {name}")
        self.message.setStyleSheet("")
        self.message.setText(f"written to {self.saved_path}; it is now the player in the window "
                             "(it takes effect the next time you press Start)")
        self.record_button.setEnabled(False)
        self.saved.emit(name)

    def _fail(self, text: str) -> None:
        self.message.setStyleSheet("color: #d03030")
        self.message.setText(text)
        self.record_button.setEnabled(bool(self.steps))
        self.player.setEnabled(self.step == 0)

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        self.timer.stop()
        super().closeEvent(event)
