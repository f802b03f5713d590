"""The corpus's filmed share: takes rendered to video and posed by the real MoveNet Lightning, cached.

Rendering and MoveNet cost about 10 ms a frame here, so each take's keypoints are computed once and kept
in the cache (`$LALELU_CACHE`, else ~/.cache/lalelu) under a content hash: of every point the renderer
draws at every sub-frame, the take's look and camera, the renderer's source and the pose model file.
Anything that changes the video changes the key, and the take is filmed again; a change elsewhere in
the corpus that leaves a take's video as it was keeps its cached keypoints.
"""

from __future__ import annotations

import functools
import hashlib
import time
from pathlib import Path

import numpy as np

from lalelu import config
from lalelu.errors import LaleluError
from lalelu.gestures.corpus.render import Renderer
from lalelu.pose import load_estimator
from lalelu.pose.models import resolve_model

MODEL = "lightning"


def cache_dir() -> Path:
    return config.cache_dir() / "corpus"


@functools.lru_cache(maxsize=1)
def _code_hash() -> str:
    here = Path(__file__).resolve().parent
    return hashlib.sha256((here / "render.py").read_bytes()).hexdigest()[:16]


@functools.lru_cache(maxsize=1)
def _model_hash() -> str:

    try:
        path = resolve_model(MODEL).file_for("tflite")
    except (LaleluError, OSError) as exc:
        raise LaleluError(f"the corpus's filmed share needs MoveNet {MODEL}: {exc}") from None
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def take_key(renderer, points: dict) -> str:
    """The content hash of a take's video."""
    h = hashlib.sha256(f"{_code_hash()}|{_model_hash()}|{renderer.camera!r}|{renderer.look!r}|"
                       f"{renderer.take.body.scale:.4f}|{renderer.take.seed}".encode())
    for name in sorted(points):
        x, y = points[name]
        h.update(np.round(np.stack([x, y]), 2).astype(np.float32).tobytes())
    return h.hexdigest()[:24]


class Filmer:
    """Renders takes and runs MoveNet on them; one estimator for all."""

    def __init__(self, threads: int = 1):

        self.estimator = load_estimator(MODEL, "litert", threads)

    def film(self, renderer, times: np.ndarray, points: dict) -> np.ndarray:
        """(n, 17, 3) MoveNet keypoints (camera pixels, score) at the frame times."""
        out = np.zeros((len(times), 17, 3), np.float32)
        for i, frame in enumerate(renderer.frames(times, points)):
            people = self.estimator(frame)
            if people:
                kp = people[0].keypoints
                out[i] = kp
        return out


def filmed_keypoints(take, filmer: Filmer | None = None, build: bool = True, say=None) -> np.ndarray | None:
    """The take's MoveNet keypoints at its frame times: from the cache, else filmed now (when `build`),
    else None."""

    renderer = Renderer(take)
    times = take.frame_times()
    points = renderer.subframe_points(times)
    path = cache_dir() / f"{take.family}-{take.seed}-{take_key(renderer, points)}.npz"
    if path.is_file():
        try:
            with np.load(path) as data:
                return data["keypoints"]
        except (OSError, ValueError, KeyError):
            pass                                  # a torn file: film it again
    if not build:
        return None
    filmer = filmer or Filmer()
    t0 = time.perf_counter()
    kp = filmer.film(renderer, times, points)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + ".tmp.npz")
    np.savez_compressed(tmp, keypoints=kp)
    tmp.replace(path)
    if say:
        say(f"filmed {take.name}: {len(kp)} frames at {take.fps:g} fps in {time.perf_counter() - t0:.1f} s")
    return kp
