"""A real window on a real (virtual) X server: `lalelu app` plays the scripted drummer and its screenshots show
video, skeleton and plots that move. The screenshots are kept in test-artifacts/ui/ for people to look at."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "test-artifacts" / "ui"
SHOT_TIMES = (3.0, 4.5)


def free_display() -> int:
    for n in range(90, 190):
        if not Path(f"/tmp/.X{n}-lock").exists() and not Path(f"/tmp/.X11-unix/X{n}").exists():
            return n
    raise RuntimeError("no free X display number between :90 and :189")


@pytest.fixture
def xvfb():
    if shutil.which("Xvfb") is None:
        pytest.fail("Xvfb not found: `apt-get install xvfb` (the real-window test needs it)")
    n = free_display()
    server = subprocess.Popen(["Xvfb", f":{n}", "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while not Path(f"/tmp/.X11-unix/X{n}").exists():
        if server.poll() is not None:
            pytest.fail(f"Xvfb :{n} exited: {server.stderr.read().decode(errors='replace')}")
        if time.monotonic() > deadline:
            server.kill()
            pytest.fail(f"Xvfb :{n} did not start within 10 s")
        time.sleep(0.05)
    try:
        yield f":{n}"
    finally:
        server.terminate()
        server.wait(5)


def load_rgb(path: Path) -> np.ndarray:
    from PySide6.QtGui import QImage

    image = QImage(str(path)).convertToFormat(QImage.Format.Format_RGB888)
    w, h = image.width(), image.height()
    data = np.frombuffer(image.constBits(), np.uint8, image.bytesPerLine() * h).reshape(h, image.bytesPerLine())
    return data[:, : w * 3].reshape(h, w, 3).copy()


def crop(rgb: np.ndarray, rect: list[int]) -> np.ndarray:
    x, y, w, h = rect
    return rgb[y:y + h, x:x + w]


def test_real_window_plays_the_scripted_drummer(xvfb, jack_server, tmp_path):
    if ARTIFACTS.exists():
        shutil.rmtree(ARTIFACTS)
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    env.update(DISPLAY=xvfb, LALELU_SETTINGS=str(tmp_path / "settings.ini"), PYTHONPATH=str(REPO))
    command = [sys.executable, "-m", "lalelu", "app", "--source", "synthetic", "--midi-port", "lalelu xvfb test",
               "--screenshot-dir", str(ARTIFACTS), "--screenshot-at", *map(str, SHOT_TIMES),
               "--quit-after", str(SHOT_TIMES[-1] + 0.5)]
    run = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]

    shots = [ARTIFACTS / f"window-{i}.png" for i in range(len(SHOT_TIMES))]
    layouts = [json.loads((ARTIFACTS / f"window-{i}.json").read_text()) for i in range(len(SHOT_TIMES))]
    assert all(p.exists() for p in shots), run.stderr[-3000:]
    assert not layouts[-1]["error"], layouts[-1]["error"]
    first, last = load_rgb(shots[0]), load_rgb(shots[1])
    assert first.shape[1] >= 1000 and first.shape[0] >= 700, "the window has a musician's size"

    for rgb, layout in ((first, layouts[0]), (last, layouts[1])):
        video = crop(rgb, layout["video"])
        assert video.size and video.std() > 20, "the video region shows a picture"
        # the skeleton's bones are drawn in bright green (80, 230, 120): the scripted drummer has limbs
        bones = (np.abs(video.astype(int) - (80, 230, 120)).sum(axis=2) < 60).sum()
        assert bones > 300, f"only {bones} skeleton pixels in the video region"
        plots = crop(rgb, layout["plots"])
        assert plots.std() > 10, "the plots region shows plots"

    assert layouts[0]["plots"] == layouts[1]["plots"], "the layout stays put while playing"
    plots_first, plots_last = crop(first, layouts[0]["plots"]), crop(last, layouts[1]["plots"])
    changed = (np.abs(plots_first.astype(int) - plots_last.astype(int)).sum(axis=2) > 30).mean()
    assert changed > 0.005, f"the plots did not move between the screenshots ({changed:.4f} of pixels changed)"
    assert layouts[1]["redraws"] > layouts[0]["redraws"]
