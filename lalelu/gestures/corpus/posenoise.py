"""The pose model's errors, as a model fitted to what MoveNet does on the corpus's filmed share.

MoveNet's errors are not Gaussian. Measured against the true keypoints (filmed share, see `fit`):
- blur: under an exposure of E the keypoint follows the scene averaged over the exposure (a lag of
  about E/2 behind a frame time stamped at the exposure's end), and jitters more at speed;
- bias: per take, each keypoint sits off its true place by a steady amount (MoveNet's idea of a joint
  on that body);
- jitter: correlated from frame to frame (consecutive frames look alike), wider at speed under blur;
- outliers: a keypoint jumps to another body part (a wrist to its elbow, to the other wrist, to a hip)
  for a few frames;
- swaps: wrists swap labels while the hands are crossed or close together;
- flips: the whole body's left and right swap for a while (MoveNet sees a back where a front is);
- dropouts: the score collapses for a few frames, the position is garbage.
A share of the modelled takes also goes through a smoothing tracker (a One-Euro filter, as MediaPipe's
pose pipeline smooths its landmarks): lag and rounded bottoms of another kind.

`PoseNoise.apply(take, rng)` turns a take's true keypoints into what a detector would see; the parameters
live in posenoise.json next to this file, written by `fit_noise` (`lalelu corpus fit-noise`).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from lalelu.core.keypoints import Keypoint

PARAMS_FILE = Path(__file__).with_name("posenoise.json")
GROUPS = {"head": [0, 1, 2, 3, 4], "shoulder": [5, 6], "elbow": [7, 8], "wrist": [9, 10], "hip": [11, 12],
          "knee": [13, 14], "ankle": [15, 16]}
GROUP_OF = {i: g for g, idx in GROUPS.items() for i in idx}
PAIRS = [(1, 2), (3, 4), (5, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16)]
# where an outlier of a keypoint lands: other body parts MoveNet mistakes it for
CONFUSIONS = {
    Keypoint.LEFT_WRIST: [Keypoint.LEFT_ELBOW, Keypoint.RIGHT_WRIST, Keypoint.LEFT_HIP, Keypoint.NOSE],
    Keypoint.RIGHT_WRIST: [Keypoint.RIGHT_ELBOW, Keypoint.LEFT_WRIST, Keypoint.RIGHT_HIP, Keypoint.NOSE],
    Keypoint.LEFT_ELBOW: [Keypoint.LEFT_WRIST, Keypoint.LEFT_SHOULDER, Keypoint.LEFT_HIP],
    Keypoint.RIGHT_ELBOW: [Keypoint.RIGHT_WRIST, Keypoint.RIGHT_SHOULDER, Keypoint.RIGHT_HIP],
    Keypoint.LEFT_ANKLE: [Keypoint.RIGHT_ANKLE, Keypoint.LEFT_KNEE],
    Keypoint.RIGHT_ANKLE: [Keypoint.LEFT_ANKLE, Keypoint.RIGHT_KNEE],
    Keypoint.LEFT_KNEE: [Keypoint.RIGHT_KNEE, Keypoint.LEFT_ANKLE, Keypoint.LEFT_HIP],
    Keypoint.RIGHT_KNEE: [Keypoint.LEFT_KNEE, Keypoint.RIGHT_ANKLE, Keypoint.RIGHT_HIP],
}
MIN_SCORE = 0.15


@dataclass
class GroupParams:
    jitter: float = 0.03          # std of the frame-to-frame error, shoulder widths
    corr_s: float = 0.02          # the error's correlation time, s
    blur_gain: float = 0.5        # extra std per (speed * exposure) (shoulder widths)
    outlier_rate: float = 0.2     # outlier episodes per second
    outlier_frames: float = 2.0   # their mean length, frames
    dropout_rate: float = 0.1     # dropout episodes per second (at rest)
    dropout_speed: float = 0.0    # extra dropout episodes per second per (speed * exposure)
    dropout_frames: float = 2.0
    score: float = 0.5            # median score when seen
    score_sd: float = 0.12


@dataclass
class NoiseParams:
    groups: dict[str, GroupParams] = field(default_factory=lambda: {g: GroupParams() for g in GROUPS})
    bias_mean: list[list[float]] = field(default_factory=lambda: [[0.0, 0.0] for _ in range(17)])
    bias_sd: list[list[float]] = field(default_factory=lambda: [[0.03, 0.03] for _ in range(17)])
    lag_extra_s: float = 0.0      # lag beyond the exposure's own averaging
    swap_crossed: float = 0.5     # share of frames with crossed hands whose wrists follow the image side
    swap_near: float = 0.05       # per frame, wrists closer than 0.3 shoulder widths swap
    flip_rate: float = 0.02       # whole-body flips per second
    flip_s: float = 0.5           # their mean length, s
    smoothing_share: float = 0.1  # share of modelled takes seen through a smoothing tracker
    # MoveNet sees the drawn players worse than people: each modelled take draws how much of the fitted
    # error it gets (jitter, bias, outliers, dropouts, swaps, flips scale with it) from this range
    severity: tuple[float, float] = (0.25, 1.1)
    fitted_on: str = "defaults"

    @classmethod
    def load(cls, path: Path = PARAMS_FILE) -> "NoiseParams":
        if not path.is_file():
            return cls()
        data = json.loads(path.read_text(encoding="utf-8"))
        data["groups"] = {g: GroupParams(**v) for g, v in data["groups"].items()}
        if "severity" in data:
            data["severity"] = tuple(data["severity"])
        return cls(**data)

    def save(self, path: Path = PARAMS_FILE) -> None:
        data = json.loads(json.dumps(asdict(self), default=float))
        path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")


def blurred_truth(take, times: np.ndarray, samples: int = 5) -> np.ndarray:
    """(n, 17, 2) true keypoints averaged over each frame's exposure (the scene a blurred frame shows)."""
    cam = take.camera
    offsets = (np.arange(samples) + 0.5) / samples * cam.exposure_s - cam.exposure_end * cam.exposure_s
    acc = np.zeros((len(times), 17, 2))
    for off in offsets:
        acc += take.true_keypoints(times + off)
    return acc / samples


def _speeds(truth: np.ndarray, times: np.ndarray, scale: float) -> np.ndarray:
    """(n, 17) speed of each keypoint, shoulder widths per second."""
    v = np.gradient(truth, times, axis=0)
    return np.hypot(v[..., 0], v[..., 1]) / scale


def _episodes(rng, n: int, rate_per_frame: np.ndarray | float, mean_len: float) -> np.ndarray:
    """(n,) bool: frames inside episodes that start with the given per-frame probability."""
    out = np.zeros(n, bool)
    p = np.broadcast_to(np.asarray(rate_per_frame, float), (n,))
    starts = np.nonzero(rng.random(n) < p)[0]
    for s in starts:
        length = 1 + rng.geometric(1.0 / max(mean_len, 1.0)) - 1
        out[s:s + max(1, length)] = True
    return out


class PoseNoise:
    def __init__(self, params: NoiseParams | None = None):
        self.p = params or NoiseParams.load()

    def apply(self, take, rng: np.random.Generator, smoothing: bool | None = None,
              severity: float | None = None) -> np.ndarray:
        """(n, 17, 3) keypoints (pixels, score) of the take as a pose model would report them; `severity`
        scales the fitted errors (None: drawn from the model's range)."""
        p = self.p
        k_sev = rng.uniform(*p.severity) if severity is None else severity
        times = take.frame_times()
        n = len(times)
        period = 1.0 / take.fps
        scale = take.body.scale
        truth = blurred_truth(take, times - p.lag_extra_s)
        sharp = take.true_keypoints(times)
        speed = _speeds(sharp, times, scale)
        kp = np.zeros((n, 17, 3))
        bias = np.asarray(p.bias_mean) + k_sev * np.asarray(p.bias_sd) * rng.normal(size=(17, 2))
        kp[:, :, :2] = truth + bias * scale
        exposure = take.camera.exposure_s
        # correlated jitter: an AR(1) process per keypoint and axis, of unit variance
        rho = np.array([math.exp(-period / max(p.groups[GROUP_OF[i]].corr_s, 1e-4)) for i in range(17)])[:, None]
        gain = np.sqrt(1.0 - rho * rho)
        w = rng.normal(size=(n, 17, 2))
        e = np.empty_like(w)
        e[0] = w[0]
        for k in range(1, n):
            e[k] = rho * e[k - 1] + gain * w[k]
        for g, idx in GROUPS.items():
            gp = p.groups[g]
            for i in idx:
                sd = k_sev * (gp.jitter + gp.blur_gain * speed[:, i] * exposure)
                kp[:, i, :2] += e[:, i] * sd[:, None] * scale
                kp[:, i, 2] = np.clip(rng.normal(gp.score, gp.score_sd, n), MIN_SCORE + 0.01, 0.98)
                if i in CONFUSIONS:
                    out = _episodes(rng, n, k_sev * gp.outlier_rate * period, gp.outlier_frames)
                    if out.any():
                        target = CONFUSIONS[i][int(rng.integers(len(CONFUSIONS[i])))]
                        kp[out, i, :2] = kp[out, target, :2] + rng.normal(0, 0.05 * scale, (out.sum(), 2))
                        kp[out, i, 2] = np.clip(rng.normal(gp.score * 0.8, gp.score_sd, out.sum()), 0.16, 0.9)
                drop = _episodes(rng, n, k_sev * (gp.dropout_rate + gp.dropout_speed * speed[:, i] * exposure) * period,
                                 gp.dropout_frames)
                if drop.any():
                    kp[drop, i, 2] = rng.uniform(0.01, MIN_SCORE, drop.sum())
                    kp[drop, i, :2] += rng.normal(0, 0.4 * scale, (drop.sum(), 2))
        lw, rw = Keypoint.LEFT_WRIST, Keypoint.RIGHT_WRIST
        crossed = sharp[:, lw, 0] < sharp[:, rw, 0]
        near = np.hypot(*(sharp[:, lw] - sharp[:, rw]).T) < 0.3 * scale
        swap = (crossed & (rng.random() < k_sev * p.swap_crossed)) | _episodes(rng, n, near * k_sev * p.swap_near, 3.0)
        if swap.any():
            kp[np.ix_(swap, [lw, rw])] = kp[np.ix_(swap, [rw, lw])]
        flip = _episodes(rng, n, k_sev * p.flip_rate * period, p.flip_s / period)
        if flip.any():
            kp[flip] = kp[flip][:, _mirror_index()]
        if smoothing is None:
            smoothing = rng.random() < p.smoothing_share
        if smoothing:
            kp = one_euro(kp, times, min_cutoff=rng.uniform(1.0, 4.0), beta=rng.uniform(0.3, 3.0) / scale)
        return kp.astype(np.float32)


def _mirror_index() -> list[int]:
    idx = list(range(17))
    for a, b in PAIRS:
        idx[a], idx[b] = b, a
    return idx


def one_euro(kp: np.ndarray, times: np.ndarray, min_cutoff: float, beta: float, d_cutoff: float = 1.0) -> np.ndarray:
    """A One-Euro filter on every keypoint position (what smoothing pose trackers do): steady keypoints
    are smoothed hard, fast ones less (cut-off frequency rises with speed)."""
    out = kp.copy()
    x_prev = kp[0, :, :2].copy()
    dx_prev = np.zeros_like(x_prev)
    for k in range(1, len(kp)):
        dt = max(times[k] - times[k - 1], 1e-4)
        x = kp[k, :, :2]
        a_d = 1.0 / (1.0 + 1.0 / (2 * math.pi * d_cutoff * dt))
        dx = a_d * (x - x_prev) / dt + (1 - a_d) * dx_prev
        cutoff = min_cutoff + beta * np.hypot(dx[:, 0], dx[:, 1])[:, None]
        a = 1.0 / (1.0 + 1.0 / (2 * math.pi * cutoff * dt))
        x_new = a * x + (1 - a) * x_prev
        out[k, :, :2] = x_new
        x_prev, dx_prev = x_new, dx
    return out
