"""The window's remembered choices, kept in the per-user place Qt picks for organisation/app "lalelu".

Set LALELU_SETTINGS=/path/file.ini to keep them in one INI file instead (tests use this to stay isolated).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, fields

from PySide6.QtCore import QSettings

from lalelu.midi import DEFAULT_PORT
from lalelu.pose.backends import default_backend

SETTINGS_ENV = "LALELU_SETTINGS"


@dataclass
class UiSettings:
    source: str = "synthetic"          # "synthetic", "camera:N" or "file:PATH"
    model: str = "lightning"
    backend: str = field(default_factory=default_backend)   # $LALELU_BACKEND, else litert
    midi_port: str = DEFAULT_PORT
    kit: str = "default"
    player: str = ""                   # calibration name; "" = none
    trace_dir: str = ""                # where recordings go; "" = the current directory
    geometry: str = ""                 # window geometry, hex of QByteArray


def open_qsettings() -> QSettings:
    path = os.environ.get(SETTINGS_ENV)
    if path:
        return QSettings(path, QSettings.Format.IniFormat)
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "lalelu", "lalelu")


def load_settings() -> UiSettings:
    store = open_qsettings()
    values = {}
    for setting in fields(UiSettings):
        value = store.value(setting.name)
        if value is not None:
            values[setting.name] = str(value)
    return UiSettings(**values)


def save_settings(settings: UiSettings) -> str:
    """Writes the settings and returns the file they went to."""
    store = open_qsettings()
    for name, value in asdict(settings).items():
        store.setValue(name, value)
    store.sync()
    return store.fileName()


def settings_were_saved() -> bool:
    """False on a first run (nothing remembered yet)."""
    return open_qsettings().contains("source")
