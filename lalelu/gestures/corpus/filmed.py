"""The corpus's filmed share: takes rendered to video and posed by the real MoveNet (Lightning on LiteRT, or
another model and backend to compare: `lalelu bench gestures --pose-model thunder`), cached.

Rendering and MoveNet cost about 10 ms a frame here, so each take's keypoints are computed once and kept
in the cache (`$LALELU_CACHE`, else ~/.cache/lalelu) under a content hash: of every point the renderer
draws at every sub-frame, the take's look and camera, the renderer's source and the pose model file.
Anything that changes the video changes the key, and the take is filmed again; a change elsewhere in
the corpus that leaves a take's video as it was keeps its cached keypoints. Another pose model or backend
(whose precision moves the keypoints a little) is another key.
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

MODEL = "lightning"      # the corpus's own pose model (the default model), and its backend
BACKEND = "litert"


def cache_dir() -> Path:
    return config.cache_dir() / "corpus"


@functools.lru_cache(maxsize=1)
def _code_hash() -> str:
    here = Path(__file__).resolve().parent
    return hashlib.sha256((here / "render.py").read_bytes()).hexdigest()[:16]


@functools.lru_cache(maxsize=4)
def _model_hash(model: str = MODEL, backend: str = BACKEND) -> str:
    try:
        path = resolve_model(model).file_for("tflite")
    except (LaleluError, OSError) as exc:
        raise LaleluError(f"the corpus's filmed share needs MoveNet {model}: {exc}") from None
    weights = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    return weights if backend == BACKEND else f"{weights}-{backend}"


def take_key(renderer, points: dict, model: str = MODEL, backend: str = BACKEND) -> str:
    """The content hash of a take's video, and of the pose model that saw it."""
    h = hashlib.sha256(f"{_code_hash()}|{_model_hash(model, backend)}|{renderer.camera!r}|{renderer.look!r}|"
                       f"{renderer.take.body.scale:.4f}|{renderer.take.seed}".encode())
    for name in sorted(points):
        x, y = points[name]
        h.update(np.round(np.stack([x, y]), 2).astype(np.float32).tobytes())
    return h.hexdigest()[:24]


class Filmer:
    """Renders takes and runs MoveNet on them; one estimator for all."""

    def __init__(self, threads: int = 1, model: str = MODEL, backend: str = BACKEND):
        self.model, self.backend = model, backend
        self.estimator = load_estimator(model, backend, threads)

    def film(self, renderer, times: np.ndarray, points: dict) -> np.ndarray:
        """(n, 17, 3) MoveNet keypoints (camera pixels, score) at the frame times."""
        out = np.zeros((len(times), 17, 3), np.float32)
        for i, frame in enumerate(renderer.frames(times, points)):
            people = self.estimator(frame)
            if people:
                kp = people[0].keypoints
                out[i] = kp
        return out


@functools.lru_cache(maxsize=2)
def shared_filmer(model: str = MODEL, backend: str = BACKEND) -> Filmer:
    """One filmer per pose model for a whole run (loading a model takes seconds)."""
    return Filmer(model=model, backend=backend)


def filmed_keypoints(take, filmer: Filmer | None = None, build: bool = True, say=None, model: str = MODEL,
                     backend: str = BACKEND) -> np.ndarray | None:
    """The take's keypoints from MoveNet `model` on `backend` (a filmer's own, when one is given) at its frame
    times: from the cache, else filmed now (when `build`), else None."""
    if filmer is not None:
        model, backend = filmer.model, filmer.backend
    renderer = Renderer(take)
    times = take.frame_times()
    points = renderer.subframe_points(times)
    path = cache_dir() / f"{take.family}-{take.seed}-{take_key(renderer, points, model, backend)}.npz"
    if path.is_file():
        try:
            with np.load(path) as data:
                return data["keypoints"]
        except (OSError, ValueError, KeyError):
            pass                                  # a torn file: film it again
    if not build:
        return None
    filmer = filmer or shared_filmer(model, backend)
    t0 = time.perf_counter()
    kp = filmer.film(renderer, times, points)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + ".tmp.npz")
    np.savez_compressed(tmp, keypoints=kp)
    tmp.replace(path)
    if say:
        say(f"filmed {take.name}: {len(kp)} frames at {take.fps:g} fps in {time.perf_counter() - t0:.1f} s")
    return kp
