"""The window's choices, kept in the user's settings file (lalelu.config: $LALELU_SETTINGS, else the per-user
INI file), and resolved like every other choice: a flag, else the environment, else what was saved."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from lalelu import config

ENGINE_CHOICES = ("model", "backend", "midi_port", "kit", "player")   # the window's choices that configure play
SOUND_CHOICES = ("sound", "volume")   # the window's sound switch and volume (percent)


def _resolved(name: str):
    return field(default_factory=lambda: str(config.resolve(name)))


@dataclass
class UiSettings:
    source: str = "synthetic"          # "synthetic", "camera:N" or "file:PATH"
    model: str = _resolved("model")
    backend: str = _resolved("backend")   # $LALELU_BACKEND, else the saved one, else litert
    midi_port: str = _resolved("midi_port")
    kit: str = _resolved("kit")
    player: str = _resolved("player")  # calibration name; "" = none
    sound: bool = field(default_factory=lambda: bool(config.resolve("sound")))
    volume: float = field(default_factory=lambda: float(config.resolve("volume")))   # percent
    trace_dir: str = ""                # where recordings go; "" = the current directory
    geometry: str = ""                 # window geometry, hex of QByteArray


def load_settings() -> UiSettings:
    saved = config.load_user_settings()
    return UiSettings(source=saved.get("source") or "synthetic",
                      **{name: str(config.resolve(name, settings=saved)) for name in ENGINE_CHOICES},
                      sound=bool(config.resolve("sound", settings=saved)),
                      volume=min(100.0, max(0.0, float(config.resolve("volume", settings=saved)))),
                      trace_dir=saved.get("trace_dir", ""), geometry=saved.get("geometry", ""))


def save_settings(settings: UiSettings) -> str:
    """Writes the settings and returns the file they went to."""
    return str(config.save_user_settings(asdict(settings)))
