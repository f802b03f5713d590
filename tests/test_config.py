"""lalelu.config: one order for every choice (flag > environment > user settings > default), and folders that
work from a source checkout and from an installed package."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lalelu import config

REPO = Path(__file__).resolve().parents[1]


def test_a_choice_comes_from_the_flag_then_the_environment_then_the_settings_then_the_default(monkeypatch, tmp_path):
    monkeypatch.setenv("LALELU_SETTINGS", str(tmp_path / "lalelu.ini"))
    monkeypatch.delenv("LALELU_BACKEND", raising=False)
    assert config.resolve("backend") == "litert"
    config.save_user_settings({"backend": "tensorflow", "model": "thunder"})
    assert config.resolve("backend") == "tensorflow" and config.resolve("model") == "thunder"
    monkeypatch.setenv("LALELU_BACKEND", "onnxruntime")
    assert config.resolve("backend") == "onnxruntime"
    assert config.resolve("backend", "litert") == "litert"
    assert config.resolve("threads") == 2 and config.resolve("fps") == 100.0


def test_only_the_known_variables_are_read():
    with pytest.raises(KeyError):
        config.env("LALELU_NO_SUCH_THING")
    assert all(name.startswith("LALELU_") for name in config.ENVIRONMENT)


def test_an_unreadable_settings_file_is_no_settings(tmp_path, monkeypatch):
    broken = tmp_path / "broken.ini"
    broken.write_bytes(b"\xff\xfe[General\x00 nonsense")
    monkeypatch.setenv("LALELU_SETTINGS", str(broken))
    assert config.load_user_settings() == {}
    assert config.resolve("model") == "lightning"


def test_run_headless_plays_on_the_backend_of_the_environment(jack_server):
    """README: `--backend`, or $LALELU_BACKEND; headless play included (it used to play litert regardless)."""
    env = {**os.environ, "LALELU_BACKEND": "onnxruntime"}
    proc = subprocess.run([sys.executable, "-m", "lalelu", "run", "--headless", "--source", "synthetic",
                           "--duration", "1.5"], cwd=REPO, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr
    playing = next(line for line in proc.stdout.splitlines() if line.startswith("playing:"))
    assert "model lightning/onnxruntime on onnxruntime" in playing, playing


def test_the_detector_comes_from_the_flag_then_the_environment_then_the_default(monkeypatch, tmp_path):
    """README: `--detector`, or $LALELU_DETECTOR; heuristic by default."""
    from lalelu.cli import build_parser
    from lalelu.cli.options import engine_config

    monkeypatch.setenv("LALELU_SETTINGS", str(tmp_path / "lalelu.ini"))
    monkeypatch.delenv("LALELU_DETECTOR", raising=False)

    def detector(*flags: str) -> str:
        return engine_config(build_parser().parse_args(["run", "--headless", *flags]))[0].detector

    assert detector() == "heuristic"
    monkeypatch.setenv("LALELU_DETECTOR", "learned")
    assert detector() == "learned"
    assert detector("--detector", "heuristic") == "heuristic"


def test_an_installed_package_finds_its_kits_and_keeps_user_data_in_the_users_folders(tmp_path):
    """Built and installed as a wheel, away from the checkout: the built-in kits come with it, and models,
    calibrations and settings go to the user's folders."""
    wheels = tmp_path / "wheels"
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(REPO)],
                           capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr[-2000:]
    site = tmp_path / "site"
    installed = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site),
                                *map(str, wheels.glob("lalelu-*.whl"))], capture_output=True, text=True, timeout=600)
    assert installed.returncode == 0, installed.stderr[-2000:]
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LALELU_", "XDG_"))}
    env.update(PYTHONPATH=str(site), HOME=str(home))
    probe = ("import json, lalelu, lalelu.config as c; from lalelu.gestures.kit import load_kit; "
             "print(json.dumps({'package': lalelu.__file__, 'kit': load_kit('default').name, "
             "'models': str(c.models_dir()), 'calibration': str(c.calibration_dir()), "
             "'settings': str(c.settings_path()), 'checkout': c.checkout_root() is not None}))")
    run = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    found = json.loads(run.stdout)
    assert found["package"].startswith(str(site)) and not found["checkout"]
    assert found["kit"] == "General MIDI"
    assert found["models"] == str(home / ".local/share/lalelu/models")
    assert found["calibration"] == str(home / ".local/share/lalelu/calibration")
    assert found["settings"] == str(home / ".config/lalelu/lalelu.ini")
