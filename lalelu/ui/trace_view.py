"""A recorded trace, opened in a window: the report `lalelu report` prints, and the same plots as live."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QDialog, QPlainTextEdit, QVBoxLayout, QWidget

from lalelu.errors import LaleluError
from lalelu.report import format_report, latency_stats
from lalelu.trace import read_trace
from lalelu.ui.plots import LivePlots


class TraceViewer(QDialog):
    def __init__(self, path: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)   # a closed viewer frees its copy of the trace
        self.header, self.records = read_trace(path)
        if not self.records:
            raise LaleluError(f"{path} holds no trace records (the run ended before its first frame)")
        self.stats = latency_stats(self.records)
        self.setWindowTitle(f"lalelu trace — {path}")
        self.report = QPlainTextEdit(format_report(self.stats, self.header))
        self.report.setReadOnly(True)
        self.report.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.report.setMaximumHeight(190)
        self.plots = LivePlots(capacity=max(len(self.records), 16))
        self.plots.set_records(self.records)
        layout = QVBoxLayout(self)
        layout.addWidget(self.report)
        layout.addWidget(self.plots, 1)
        self.resize(1000, 640)

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        self.plots.close()   # empties the plots' scene first (see MainWindow.closeEvent)
        super().closeEvent(event)
