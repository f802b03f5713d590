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
    "LALELU_MIDI_BACKEND": "the MIDI backend that 'auto' means (alsa or jack)",
    "LALELU_MODELS": "the folder of the built MoveNet models",
    "LALELU_CALIBRATION_DIR": "the folder of the players' calibration files",
    "LALELU_CACHE": "the folder for downloads and caches",
    "LALELU_SETTINGS": "the user settings file (INI)",
    "LALELU_SHARED": "the workplace's shared folder (reference model, real takes) for tests and benchmarks",
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
    "player": "",              # no calibration
    "midi_port": "lalelu drums",
    "midi_backend": "auto",
}
_ENV_OF = {"source": "LALELU_SOURCE", "backend": "LALELU_BACKEND", "midi_backend": "LALELU_MIDI_BACKEND"}
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
        if name not in DEFAULTS:
            return saved
        try:
            return type(DEFAULTS[name])(saved)
        except ValueError:   # a hand-edited settings file: the settings are only a memory, the default plays
            pass
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


def load_user_settings() -> dict[str, str]:
    """The saved settings (empty on a first run, or when the file cannot be read: they are only a memory)."""
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(settings_path(), encoding="utf-8")
    except (configparser.Error, OSError, UnicodeDecodeError):
        return {}
    if not parser.has_section(SETTINGS_SECTION):
        return {}
    return {key: value.strip('"') for key, value in parser.items(SETTINGS_SECTION)}


def save_user_settings(values: dict[str, str]) -> Path:
    """Merge `values` into the settings file (written whole, then renamed over the old one); returns its path."""
    path = settings_path()
    merged = {**load_user_settings(), **{k: str(v) for k, v in values.items()}}
    parser = configparser.ConfigParser(interpolation=None)
    parser[SETTINGS_SECTION] = merged
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        parser.write(f)
    tmp.replace(path)
    return path
