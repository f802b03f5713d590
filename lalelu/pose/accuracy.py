"""How far one pose model's keypoints land from another's on the same frames, and the bars a precision must pass.

Distances are in the pixels of the frame (640 px wide here), over the keypoints both models score at least
MIN_SCORE (a keypoint neither is sure of wanders between the flat peaks of its heatmap). The bars (issue 17):
against the f32 output of the same model, median at most 2 px and p95 at most 6 px.

For scale, the model's own noise floor: f32 against f32 given the same frames with +-1 grey level of noise
(`noise_floor`), far less than a webcam's own sensor noise.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

MIN_SCORE = 0.3
MEDIAN_MAX_PX = 2.0   # against f32, on 640-px frames
P95_MAX_PX = 6.0
GOOGLE_MEDIAN_MAX_PX = 8.0   # against Google's int8 Lightning, as the project's own Lightning is held to

RawRun = Callable[[np.ndarray], np.ndarray]   # a backend's run: model input [1,S,S,3] -> raw output


@dataclass(frozen=True)
class Agreement:
    """Distances between two models' keypoints: median, p95 and max in pixels, over n keypoints."""

    median: float
    p95: float
    max: float
    n: int

    def passes(self, median_max: float = MEDIAN_MAX_PX, p95_max: float = P95_MAX_PX) -> bool:
        return self.n > 0 and self.median <= median_max and self.p95 <= p95_max

    def __str__(self) -> str:
        return f"median {self.median:.2f} px, p95 {self.p95:.2f} px, max {self.max:.1f} px over {self.n} keypoints"

    def to_json(self) -> dict:
        return {"median_px": round(self.median, 3), "p95_px": round(self.p95, 3), "max_px": round(self.max, 2),
                "n": self.n}


def agreement(distances: Sequence[float] | np.ndarray) -> Agreement:
    d = np.asarray(distances, np.float64)
    if d.size == 0:
        return Agreement(float("nan"), float("nan"), float("nan"), 0)
    return Agreement(float(np.median(d)), float(np.percentile(d, 95)), float(d.max()), int(d.size))


def keypoints_px(raw: np.ndarray, frame_shape: tuple[int, ...], size: int) -> np.ndarray:
    """(17, 3) x, y in the frame's pixels and score, from a model's raw output; for MultiPose, its most
    confident person."""
    from lalelu.pose.estimator import Letterbox

    flat = np.asarray(raw, np.float32).reshape(-1)
    if flat.size == 17 * 3:
        kp = flat.reshape(17, 3)
    else:
        rows = flat.reshape(-1, 56)
        kp = rows[int(np.argmax(rows[:, 55])), :51].reshape(17, 3)
    box = Letterbox(frame_shape[0], frame_shape[1], size)
    x, y = box.to_pixels(kp[:, 0], kp[:, 1])
    return np.stack([x, y, kp[:, 2]], axis=1)


def distances(a: np.ndarray, b: np.ndarray, min_score: float = MIN_SCORE) -> np.ndarray:
    """Pixel distances between two (17, 3) keypoint sets, over the keypoints both score at least min_score."""
    good = (a[:, 2] >= min_score) & (b[:, 2] >= min_score)
    return np.hypot(a[good, 0] - b[good, 0], a[good, 1] - b[good, 1])


def outputs_px(run: RawRun, frames: Sequence[np.ndarray], size: int) -> list[np.ndarray]:
    """Each frame's keypoints (pixels) through one model's run function."""
    from lalelu.pose.real_frames import model_input

    return [keypoints_px(np.array(run(model_input(f, size))), f.shape, size) for f in frames]


def compare(reference: Sequence[np.ndarray], other: Sequence[np.ndarray]) -> Agreement:
    """Agreement of two lists of per-frame keypoints (pixels) on the same frames."""
    return agreement(np.concatenate([distances(a, b) for a, b in zip(reference, other)] or [np.zeros(0)]))


def noise_floor(run: RawRun, frames: Sequence[np.ndarray], size: int, seed: int = 0) -> Agreement:
    """The model against itself on the same frames with +-1 grey level of noise added to its input: how far
    its keypoints move for a change no camera could avoid."""
    from lalelu.pose.real_frames import model_input

    rng = np.random.default_rng(seed)
    found = []
    for frame in frames:
        batch = model_input(frame, size)
        clean = keypoints_px(np.array(run(batch)), frame.shape, size)
        noisy = np.clip(batch + rng.integers(-1, 2, batch.shape), 0, 255).astype(batch.dtype)
        found.append(distances(clean, keypoints_px(np.array(run(noisy)), frame.shape, size)))
    return agreement(np.concatenate(found) if found else np.zeros(0))
