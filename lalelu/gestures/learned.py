"""The learned strike detector: a small 1D convolution over each limb's recent motion says "impact now".

Per frame, each limb (both arms: wrist, elbow, shoulder; both legs: ankle, knee, hip) is put in body
units (origin = shoulder midpoint, unit = shoulder width floored by the torso, as the heuristic
detector does; a left limb is mirrored so that one model serves both sides), and its last STEPS * GRID_S
seconds are resampled onto a fixed 10 ms grid that ends at the frame: the same stroke looks the same at
30, 60 or 100 fps, and the frame period is an input too. The model (trained by lalelu.gestures.training;
run by LiteRT from its TFLite export, or by plain numpy from its weights: no TensorFlow on the hot path)
gives per limb:
- the probability that the limb's impact happened within the last 80 ms (a hit fires on the first frame
  whose probability passes the threshold: usually the first or second frame after the impact);
- how long ago the impact was (the hit's time, sharpened to the bottom of the limb's path nearby);
- the impact speed (the note's velocity, through the kit's curve).
A hit fires when the probability passes the threshold the training chose on the dev split; the limb
re-arms once the probability has fallen again. The drum is the kit's hand zone nearest to where the
wrist was lowest around the impact; a foot plays its own zone.

A skeleton that comes mirrored (MoveNet sometimes takes a front for a back: the left shoulder on the
image's left) is mirrored back before anything else. Keypoint flicker (a wrist put on another body part
for a few frames) is left to the network, which the corpus trains on it.

`update` runs a few small numpy operations on preallocated buffers and one LiteRT call, and never logs.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from lalelu import config
from lalelu.core.body import SmoothedFrame
from lalelu.core.hits import Hit
from lalelu.core.keypoints import Keypoint
from lalelu.errors import LaleluError
from lalelu.gestures.kit import Kit

GRID_S = 0.01          # the resampling grid
STEPS = 32             # grid points per window: the last 310 ms
CHANNELS = 12          # per grid point: end x, y; middle x, y; root x, y; end seen; end score; period; is a leg;
                       # the end's velocity x, y (shoulder widths / s / 10: a difference the network need not learn)
CAPACITY = 48          # frames kept per limb (more than the window holds at 100 fps)
WEIGHTS_FILE = config.detectors_dir() / "learned.npz"
FORMAT = 1
MIN_GAP_S = 0.07       # a limb never plays twice within this
REFIRE_S = 0.085       # an impact this long after the limb's last one is a new stroke, re-armed or not
AGO_MAX_S = 0.12       # the hit's time is at most this long before the frame it fires on
BOTTOM_S = 0.05        # the drum is where the wrist was lowest within this before the hit's time
REFINE_S = 0.03        # the hit's time moves to the bottom of the limb's path when that is this near
SPEED_GATE = 0.5       # a hit's estimated impact speed must reach this share of the kit's on-speed

# (limb, end, middle, root, mirrored, is a leg)
LIMBS = (
    ("right_hand", Keypoint.RIGHT_WRIST, Keypoint.RIGHT_ELBOW, Keypoint.RIGHT_SHOULDER, False, False),
    ("left_hand", Keypoint.LEFT_WRIST, Keypoint.LEFT_ELBOW, Keypoint.LEFT_SHOULDER, True, False),
    ("right_foot", Keypoint.RIGHT_ANKLE, Keypoint.RIGHT_KNEE, Keypoint.RIGHT_HIP, False, True),
    ("left_foot", Keypoint.LEFT_ANKLE, Keypoint.LEFT_KNEE, Keypoint.LEFT_HIP, True, True),
)
_MIRROR = list(range(17))
for _a, _b in ((1, 2), (3, 4), (5, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16)):
    _MIRROR[_a], _MIRROR[_b] = _b, _a
_L_SH, _R_SH = Keypoint.LEFT_SHOULDER, Keypoint.RIGHT_SHOULDER


class Features:
    """The limbs' recent motion in body units, and its windows on the fixed grid.

    Samples are kept in a doubled ring (each written twice, `cap` apart), so the last `cap` of them are
    always one contiguous, time-ordered slice."""

    def __init__(self, min_score: float, torso_ratio: float, fps: float):
        self.min_score = min_score
        self.period = 1.0 / fps
        cap = CAPACITY
        self.cap = cap
        self.t = np.zeros(2 * cap)
        self.v = np.zeros((2 * cap, 4, 8))          # per limb: 6 coordinates, seen, score
        self.raw = np.zeros((2 * cap, 4, 2))        # end joint, body units, not mirrored (for the zone)
        self.n = 0                                  # samples written
        self.i = 0                                  # next slot
        self.last = np.zeros((4, 8))                # the last sample per limb (missing joints hold it)
        self.last_raw = np.zeros((4, 2))
        self.offsets = (np.arange(STEPS)[::-1] * GRID_S)
        self.windows = np.zeros((4, STEPS, CHANNELS), np.float32)
        self.windows[2:, :, 9] = 1.0
        self.body = SmoothedFrame(torso_ratio, min_score)

    def reset(self) -> None:
        self.n = 0
        self.i = 0
        self.body.valid = False

    def push(self, t: float, kp: np.ndarray) -> bool:
        """Add a frame's keypoints (17, 3); False when there is no body to measure them against."""
        if kp[_L_SH, 2] >= self.min_score and kp[_R_SH, 2] >= self.min_score:
            width = abs(kp[_L_SH, 0] - kp[_R_SH, 0]) + abs(kp[_L_SH, 1] - kp[_R_SH, 1])
            if kp[_L_SH, 0] < kp[_R_SH, 0] - 0.25 * width:   # mirrored: the player's left is on the image's left
                kp = kp[_MIRROR]
        rows = kp.tolist()
        self.body.update(t, rows)
        if not self.body.valid:
            return False
        if self.n and t - self.t[(self.i - 1) % self.cap] > 0.25:
            self.n = 0                   # the body was lost for a while: its old motion is no history
        inv = 1.0 / self.body.scale
        sample = self.last
        for j, (_, end, mid, root, mirrored, _) in enumerate(LIMBS):
            sign = -1.0 if mirrored else 1.0
            for c, k in enumerate((end, mid, root)):
                x, y, s = rows[k]
                if s >= self.min_score:
                    sample[j, 2 * c] = (x - self.body.ox) * inv * sign
                    sample[j, 2 * c + 1] = (y - self.body.oy) * inv
            s = rows[end][2]
            sample[j, 6] = 1.0 if s >= self.min_score else 0.0
            sample[j, 7] = s
            if s >= self.min_score:
                self.last_raw[j, 0] = (rows[end][0] - self.body.ox) * inv
                self.last_raw[j, 1] = (rows[end][1] - self.body.oy) * inv
        i, cap = self.i, self.cap
        self.t[i] = self.t[i + cap] = t
        self.v[i] = self.v[i + cap] = sample
        self.raw[i] = self.raw[i + cap] = self.last_raw
        self.i = (i + 1) % cap
        self.n += 1
        return True

    def latest(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The kept samples in time order: times, features (m, 4, 8), raw end positions (m, 4, 2)."""
        m = min(self.n, self.cap)
        hi = self.i + self.cap
        return self.t[hi - m:hi], self.v[hi - m:hi], self.raw[hi - m:hi]

    def window(self, t: float) -> np.ndarray:
        """(4, STEPS, CHANNELS) windows ending at t: the limbs' motion resampled on the grid."""
        ts, vs, _ = self.latest()
        grid = t - self.offsets
        m = len(ts)
        win = self.windows
        if m == 1:
            win[:, :, :8] = vs[0][:, None, :]
        else:
            idx = np.searchsorted(ts, grid).clip(1, m - 1)
            t0, t1 = ts[idx - 1], ts[idx]
            w = ((grid - t0) / np.maximum(t1 - t0, 1e-6)).clip(0.0, 1.0)[:, None, None]
            res = vs[idx - 1] * (1.0 - w) + vs[idx] * w           # (STEPS, 4, 8)
            win[:, :, :8] = res.transpose(1, 0, 2)
        win[:, 1:, 10:12] = win[:, 1:, 0:2] - win[:, :-1, 0:2]
        win[:, 1:, 10:12] *= 1.0 / (GRID_S * 10.0)
        win[:, 0, 10:12] = win[:, 1, 10:12]
        win[:, :, 8] = self.period * 10.0
        return win


class Model:
    """The trained network's forward pass in numpy: three convolutions and two dense layers.

    Each convolution is one gather (the windows of its input, by precomputed indices) and one matrix
    product; the input's standardisation is folded into the first convolution's weights."""

    KEYS = ("c1_w", "c1_b", "c2_w", "c2_b", "c3_w", "c3_b", "d1_w", "d1_b", "d2_w", "d2_b")

    def __init__(self, weights: dict[str, np.ndarray], meta: dict):
        self.meta = meta
        self.w = {k: np.asarray(weights[k], np.float32) for k in self.KEYS}
        self.strides = tuple(meta.get("strides", (1, 2, 2)))
        self.mean = np.asarray(weights["in_mean"], np.float32)
        self.std = np.asarray(weights["in_std"], np.float32)
        self.out_scale = np.asarray(weights["out_scale"], np.float32)
        self.out_shift = np.asarray(weights["out_shift"], np.float32)
        # (x - mean) / std, then the first convolution: the same as the convolution with scaled weights
        w1 = self.w["c1_w"] / self.std[None, :, None]
        b1 = self.w["c1_b"] - np.einsum("kio,i->o", w1, self.mean)
        self._layers = []
        steps = STEPS
        for (w, b), stride in zip(((w1, b1), (self.w["c2_w"], self.w["c2_b"]), (self.w["c3_w"], self.w["c3_b"])),
                                  self.strides):
            k = w.shape[0]
            out_steps = (steps - k) // stride + 1
            idx = np.arange(out_steps)[:, None] * stride + np.arange(k)[None, :]
            self._layers.append((idx, w.reshape(-1, w.shape[2]).astype(np.float32), b.astype(np.float32)))
            steps = out_steps

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """(batch, STEPS, CHANNELS) windows -> (batch, 3): impact logit, ms since the impact, log speed."""
        h = x
        n = x.shape[0]
        for idx, w, b in self._layers:
            cols = h[:, idx].reshape(n, idx.shape[0], -1)       # (batch, steps', k * in)
            h = cols @ w
            h += b
            np.maximum(h, 0.0, out=h)
        h = h.reshape(n, -1) @ self.w["d1_w"]
        h += self.w["d1_b"]
        np.maximum(h, 0.0, out=h)
        out = h @ self.w["d2_w"]
        out += self.w["d2_b"]
        out *= self.out_scale
        out += self.out_shift
        return out


class LiteModel:
    """The same network from its TFLite export, run by LiteRT (a few times faster than numpy here: one
    call instead of some twenty small array operations). Same call and meta as Model."""

    def __init__(self, tflite: Path, meta: dict, batch: int = 4):
        from ai_edge_litert.interpreter import Interpreter

        self.meta = meta
        self._it = Interpreter(model_path=str(tflite), num_threads=1)
        self._in = self._it.get_input_details()[0]["index"]
        self._it.resize_tensor_input(self._in, [batch, STEPS, CHANNELS])
        self._it.allocate_tensors()
        self._out = self._it.get_output_details()[0]["index"]

    def __call__(self, x: np.ndarray) -> np.ndarray:
        self._it.set_tensor(self._in, x)
        self._it.invoke()
        return self._it.get_tensor(self._out)


_LOADED: dict[tuple, object] = {}


def load_model(path: str | Path | None = None, runtime: str = "auto"):
    """The detector's network from its weights file (.npz, with its meta); runtime "litert" runs the TFLite
    export beside it (same name, .tflite), "numpy" the weights themselves, "auto" LiteRT where it can."""
    path = Path(path) if path else WEIGHTS_FILE
    if not path.is_file():
        raise LaleluError(f"no learned detector at {path}: train one with `lalelu train`, or play with "
                          "--detector heuristic")
    key = (str(path), path.stat().st_mtime_ns, runtime)
    if key in _LOADED and runtime == "numpy":
        return _LOADED[key]
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            weights = {k: data[k] for k in data.files if k != "meta"}
    except (OSError, ValueError, KeyError) as exc:
        raise LaleluError(f"{path}: not a learned detector's weights ({exc}); train it again with "
                          "`lalelu train`") from None
    if meta.get("format") != FORMAT or meta.get("grid_s") != GRID_S or meta.get("steps") != STEPS \
            or meta.get("channels") != CHANNELS:
        raise LaleluError(f"{path}: made for another version of the learned detector; train it again with "
                          "`lalelu train`")
    tflite = path.with_suffix(".tflite")
    if runtime in ("auto", "litert") and tflite.is_file():
        try:
            return LiteModel(tflite, meta)
        except (ImportError, ValueError, RuntimeError) as exc:
            if runtime == "litert":
                raise LaleluError(f"{tflite}: LiteRT cannot run it ({exc})") from None
    elif runtime == "litert":
        raise LaleluError(f"no TFLite export beside {path}: train again with `lalelu train`")
    model = Model(weights, meta)
    _LOADED[key] = model
    return model


class LearnedDetector:
    """Same interface as the heuristic Detector: update(t_ns, keypoints (17, 3)) -> hits; `kit`."""

    def __init__(self, kit: Kit, calibration=None, fps: float = 100.0, model: Model | None = None,
                 weights: str | Path | None = None):
        if calibration is not None:
            kit = calibration.apply(kit)
        self.kit = kit
        self.fps = float(fps)
        self.model = model if model is not None else load_model(weights)
        th = kit.thresholds
        self.threshold = float(self.model.meta.get("threshold", 0.5))
        self.rearm = float(self.model.meta.get("rearm", 0.3))
        self.features = Features(th.min_score, th.torso_ratio, self.fps)
        self._armed = [True] * 4
        self._last_hit = [-math.inf] * 4
        self._last_zone = [None, None]
        self._foot_zone = [None, None, kit.foot_zone("right"), kit.foot_zone("left")]
        # the kit's on-speeds (the heuristic arms at them) gate the estimated impact speed, at half: a
        # player's calibration or a --set override keeps its meaning
        self._gate = [SPEED_GATE * th.hand_on_speed] * 2 + [SPEED_GATE * th.foot_on_speed] * 2
        self._period = 1.0 / self.fps
        self.last_output = np.zeros((4, 3), np.float32)

    def to_body(self, x: float, y: float) -> tuple[float, float] | None:
        f = self.features
        if not f.body.valid:
            return None
        return (x - f.body.ox) / f.body.scale, (y - f.body.oy) / f.body.scale

    def update(self, t_ns: int, keypoints) -> list[Hit]:
        t = t_ns * 1e-9
        kp = np.asarray(keypoints, dtype=np.float64)
        f = self.features
        if not f.push(t, kp):
            return []
        out = self.model(f.window(t))
        self.last_output = out
        hits: list[Hit] = []
        for j in range(4):
            logit = float(out[j, 0])
            p = 1.0 / (1.0 + math.exp(-logit)) if logit > -30.0 else 0.0
            if not self._armed[j] and p < self.rearm:
                self._armed[j] = True
            if p < self.threshold or (j >= 2 and self._foot_zone[j] is None):
                continue
            ago = min(max(float(out[j, 1]) * 1e-3, -self._period), AGO_MAX_S)
            t_hit = t - ago
            # a new impact: the limb re-armed, or the impact is a new one (a double: the probability had no
            # time to fall between the two)
            if not (self._armed[j] or t_hit - self._last_hit[j] >= REFIRE_S) or t_hit - self._last_hit[j] < MIN_GAP_S:
                continue
            self._armed[j] = False
            self._last_hit[j] = t_hit
            speed = math.exp(float(out[j, 2]))
            if speed < self._gate[j]:
                continue                 # softer than the kit (or the player's calibration, or --set) lets play
            hit = self._hit(j, t, t_hit, speed)
            if hit is not None:
                hits.append(hit)
        return hits

    def _hit(self, j: int, t: float, t_hit: float, speed: float) -> Hit | None:
        name = LIMBS[j][0]
        ts, _, raw = self.features.latest()
        if j < 2:
            # where the wrist was lowest around the impact
            lo = np.searchsorted(ts, t_hit - BOTTOM_S)
            seg = raw[lo:, j]
            k = int(np.argmax(seg[:, 1])) if len(seg) else -1
            x, y = (float(seg[k, 0]), float(seg[k, 1])) if len(seg) else (float(raw[-1, j, 0]), float(raw[-1, j, 1]))
            zone = self.kit.nearest_hand_zone(x, y, keep=self._last_zone[j], advantage=0.1)
            self._last_zone[j] = zone
        else:
            x, y = float(raw[-1, j, 0]), float(raw[-1, j, 1])
            zone = self._foot_zone[j]
        if zone is None:
            return None
        t_hit = _refine(ts, raw[:, j, 1], t_hit)
        return Hit(drum=zone.name, note=zone.note, velocity=self.kit.velocity.velocity(speed), channel=self.kit.channel,
                   t_ns=int(round(t_hit * 1e9)), limb=name, speed=speed, x=x, y=y)


def _refine(ts: np.ndarray, ys: np.ndarray, t_hit: float) -> float:
    """The network says about when the impact was; where the limb's path has a clear bottom near that time
    (its lowest sample, with a sample on either side), the vertex of the parabola through the three is
    the sharper estimate."""
    lo = int(np.searchsorted(ts, t_hit - REFINE_S))
    hi = int(np.searchsorted(ts, t_hit + REFINE_S, side="right"))
    if hi - lo < 3:
        return t_hit
    k = lo + int(np.argmax(ys[lo:hi]))
    if k == 0 or k >= len(ts) - 1:
        return t_hit                          # no sample after it yet: not a clear bottom
    (t0, t1, t2), (y0, y1, y2) = ts[k - 1:k + 2], ys[k - 1:k + 2]
    d0, d2 = t0 - t1, t2 - t1
    den = d0 * d2 * (d0 - d2)
    if den == 0.0:
        return t_hit
    a = ((y0 - y1) * d2 - (y2 - y1) * d0) / den
    b = ((y2 - y1) * d0 * d0 - (y0 - y1) * d2 * d2) / den
    if a >= 0.0:
        return t_hit                          # not a bottom (image y grows downwards: a bottom is a maximum)
    t_v = t1 - b / (2.0 * a)
    return t_v if abs(t_v - t_hit) <= REFINE_S and d0 <= t_v - t1 <= d2 else t_hit
