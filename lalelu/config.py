"""Defaults, the LALELU_* variables, the user's settings and the folders, in one place.

A choice is resolved in one order: a command-line flag, else the environment, else the user's settings
(what the window remembers, in one INI file), else the default. Folders work from a source checkout (the
checkout's own `models/`, `calibration/`, `assets/kits/`) and from an installed package (the user's data
folder, and the kits shipped inside the package).
"""

from __future__ import annotations

import configparser
import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent

# Every LALELU_* variable the program reads, and what it sets; config.env() refuses any other name.
ENVIRONMENT = {
    "LALELU_SOURCE": "the source played when none is given (camera:N, file:PATH, synthetic)",
    "LALELU_BACKEND": "the pose backend when none is given",
    "LALELU_DETECTOR": "the strike detector when none is given (heuristic or learned)",
    "LALELU_MIDI_BACKEND": "the MIDI backend that 'auto' means (alsa or jack)",
    "LALELU_SOUNDFONT": "the General MIDI soundfont (.sf2) of the built-in sound",
    "LALELU_AUDIO_DRIVER": "where the built-in sound plays: auto, jack, pulseaudio or alsa",
    "LALELU_MODELS": "the folder of the built MoveNet models",
    "LALELU_CALIBRATION_DIR": "the folder of the players' calibration files",
    "LALELU_CACHE": "the folder for downloads and caches",
    "LALELU_SETTINGS": "the user settings file (INI)",
    "LALELU_SHARED": "the workplace's shared folder (reference model, real takes) for tests and benchmarks",
    "LALELU_OV_PRECISION": "the precision the openvino backend runs (f32, bf16, int8 or auto)",
    "LALELU_OV_DEVICE": "the device the openvino backend runs on (CPU, GPU, NPU or AUTO)",
    "LALELU_TRT_PRECISION": "the TensorRT engine the tensorrt backend runs (fp16 or fp32)",
    "LALELU_TRT_CUDA_GRAPH": "TensorRT: replay each frame's GPU work as a CUDA graph (0, 1 or auto)",
}

# Defaults of the choices a player makes (flags of `lalelu run` / `app`, the window's controls).
DEFAULTS: dict[str, object] = {
    "source": "auto",          # the first webcam that opens, else the scripted drummer
    "model": "lightning",
    "backend": "litert",
    "threads": 2,              # pose inference threads: one thread runs Lightning too close to 10 ms
    "fps": 100.0,
    "kit": "default",
    # the strike detector: the heuristic one plays the scripted drummer through MoveNet with a third of the
    # learned one's delay and on the right drums (BENCHMARKS.md, `lalelu bench pipeline --detector`)
    "detector": "heuristic",
    "player": "",              # no calibration
    "midi_port": "lalelu drums",
    "midi_backend": "auto",
    "sound": True,             # the built-in drum sound (FluidSynth), beside MIDI
    "volume": 80.0,            # its volume, percent
    "audio_driver": "auto",
    "soundfont": "",           # "": Debian's General MIDI soundfont
    "osc": "",                 # HOST:PORT to send hits and the pose to; "": none
}
_ENV_OF = {"source": "LALELU_SOURCE", "backend": "LALELU_BACKEND", "detector": "LALELU_DETECTOR",
           "midi_backend": "LALELU_MIDI_BACKEND",
           "soundfont": "LALELU_SOUNDFONT", "audio_driver": "LALELU_AUDIO_DRIVER"}
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")
SETTINGS_SECTION = "General"   # the section QSettings used for the same file, so old settings still load


def env(name: str) -> str | None:
    """A LALELU_* variable's value; None when unset or empty."""
    if name not in ENVIRONMENT:
        raise KeyError(f"{name} is not a LALELU_* variable this program reads")
    return os.environ.get(name) or None


def resolve(name: str, flag: object = None, settings: dict[str, str] | None = None) -> object:
    """A choice: `flag` if given, else its LALELU_* variable, else the user's saved setting, else the default.
    `settings` saves reading the settings file again when several choices are resolved at once."""
    if flag is not None:
        return flag
    variable = _ENV_OF.get(name)
    if variable and env(variable):
        return env(variable)
    saved = (load_user_settings() if settings is None else settings).get(name)
    if saved:
        return _typed(name, saved)
    return DEFAULTS[name]


def _typed(name: str, saved: str) -> object:
    """A saved setting as its default's type; one that does not read as that type is the default (the
    settings file is only a memory: a hand-edited mistake in it must not stop play)."""
    kind = type(DEFAULTS[name]) if name in DEFAULTS else str
    if kind is bool:
        word = saved.strip().lower()
        return True if word in _TRUE else False if word in _FALSE else DEFAULTS[name]
    try:
        return kind(saved)
    except ValueError:
        return DEFAULTS[name]


# --- folders ----------------------------------------------------------------------------------------

def checkout_root() -> Path | None:
    """The source checkout lalelu runs from, or None for an installed package."""
    root = PACKAGE_DIR.parent
    return root if (root / "pyproject.toml").is_file() and (root / "assets").is_dir() else None


def _xdg(variable: str, fallback: str) -> Path:
    return Path(os.environ.get(variable) or Path.home() / fallback) / "lalelu"


def _project_folder(variable: str, name: str) -> Path:
    """$variable, else the checkout's own folder, else the user's data folder."""
    given = env(variable)
    if given:
        return Path(given)
    root = checkout_root()
    return root / name if root is not None else _xdg("XDG_DATA_HOME", ".local/share") / name


def models_dir() -> Path:
    return _project_folder("LALELU_MODELS", "models")


def calibration_dir() -> Path:
    return _project_folder("LALELU_CALIBRATION_DIR", "calibration")


def kits_dir() -> Path:
    """The built-in kits, inside the package (in a checkout, lalelu/assets links to the top-level assets/)."""
    return PACKAGE_DIR / "assets" / "kits"


def detectors_dir() -> Path:
    """The built-in learned detector's weights, beside the kits."""
    return PACKAGE_DIR / "assets" / "detectors"


def cache_dir() -> Path:
    given = env("LALELU_CACHE")
    return Path(given) if given else _xdg("XDG_CACHE_HOME", ".cache")


def shared_dir() -> Path | None:
    """The workplace's shared folder beside the checkout (reference files, real data that the project may
    read but not copy): $LALELU_SHARED, else ../shared, else /work/shared; None when there is none."""
    candidates = [env("LALELU_SHARED"), PACKAGE_DIR.parent.parent / "shared", "/work/shared"]
    for candidate in candidates:
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return None


# --- the user's settings ----------------------------------------------------------------------------

def settings_path() -> Path:
    """$LALELU_SETTINGS, else the per-user file the window has always used."""
    given = env("LALELU_SETTINGS")
    return Path(given) if given else _xdg("XDG_CONFIG_HOME", ".config") / "lalelu.ini"


def _read_settings_file() -> configparser.ConfigParser:
    """The whole settings file (empty when missing or unreadable: the settings are only a memory)."""
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(settings_path(), encoding="utf-8")
    except (configparser.Error, OSError, UnicodeDecodeError):
        return configparser.ConfigParser(interpolation=None)
    return parser


def _write_settings_file(parser: configparser.ConfigParser) -> Path:
    """Written whole, then renamed over the old file."""
    path = settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        parser.write(f)
    tmp.replace(path)
    return path


def _section(name: str) -> dict[str, str]:
    parser = _read_settings_file()
    if not parser.has_section(name):
        return {}
    return {key: value.strip('"') for key, value in parser.items(name)}


def _merge(name: str, values: dict[str, object]) -> Path:
    parser = _read_settings_file()
    merged = {**(dict(parser.items(name)) if parser.has_section(name) else {}),
              **{k: str(v) for k, v in values.items()}}
    parser[name] = merged     # the other sections (each camera's) are kept
    return _write_settings_file(parser)


def load_user_settings() -> dict[str, str]:
    """The saved settings (empty on a first run, or when the file cannot be read: they are only a memory)."""
    return _section(SETTINGS_SECTION)


def save_user_settings(values: dict[str, str]) -> Path:
    """Merge `values` into the settings file; returns its path."""
    return _merge(SETTINGS_SECTION, values)


# Each camera's settings (exposure, gain) live in a section of their own, named by the camera's name and serial
# (lalelu.sources.v4l2.Camera.identity), never by its index: /dev/video numbers change with the plugging order.
def _camera_section(identity: str) -> str:
    return "camera " + identity.replace("\n", " ").replace("]", ")")


def load_camera_settings(identity: str) -> dict[str, str]:
    return _section(_camera_section(identity)) if identity else {}


def save_camera_settings(identity: str, values: dict[str, str]) -> Path | None:
    """Merge `values` into this camera's settings; None (nothing written) for a camera without identity."""
    return _merge(_camera_section(identity), values) if identity else None
