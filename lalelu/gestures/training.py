"""Training the learned detector (lalelu.gestures.learned) on the corpus, with TensorFlow; export.

The examples are the windows the detector itself computes (its own Features class, frame by frame), so
what it is trained on is exactly what it sees when it plays. For every frame and limb the labels are:
- impact: 1 on the frames from the limb's true impact to RECENT_S (80 ms, at least a frame) after it;
  half a frame before it (the detector may fire on a predicted impact) and a short tail are left out
  of the loss. The detector fires on the first frame whose probability passes its
  threshold: a fixed time span, so the probability rises the same way at every frame rate, and the
  threshold trades how soon against how sure;
- how long ago that impact was (ms: the hit's time), and its true speed (log), on the frames around it.
Kept: every frame near an impact, at the top of a backswing, in a drop to rest, and a seeded share of
the others.

`train` fits the network (seeded; TensorFlow's deterministic ops, one thread: the same seed gives the
same weights), chooses the firing threshold that plays best on the dev split, and `export` writes the
weights the numpy runtime reads (.npz) and a TFLite file of the same network.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lalelu.errors import LaleluError
from lalelu.gestures.corpus import build_filmed, takes
from lalelu.gestures.corpus.filmed import filmed_keypoints
from lalelu.gestures.corpus.noisefit import fit_noise
from lalelu.gestures.corpus.posenoise import PARAMS_FILE, PoseNoise
from lalelu.gestures.corpus_bench import take_keypoints
from lalelu.gestures.evaluate import evaluate
from lalelu.gestures.kit import Kit, load_kit
from lalelu.gestures.calibration import calibration_path
from lalelu.gestures.learned import (CHANNELS, FORMAT, GRID_S, LIMBS, STEPS, WEIGHTS_FILE, Features, LearnedDetector,
                                     Model, load_model)
from lalelu.gestures.scoring import Tally, TrueStroke, frame_tolerance_ns

LIMB_INDEX = {name: j for j, (name, *_rest) in enumerate(LIMBS)}
NEAR_S = 0.25               # frames this close to an impact are all kept
RECENT_S = 0.08             # "an impact happened within the last 80 ms" (at least a frame): the class
TAIL_S = 0.04               # after that, this long is left out of the loss
AHEAD_S = 0.0               # ... or is due within this (a prediction; 10 ms was tried: no sooner, less sure)
OTHER_SHARE = 0.12          # share of the remaining frames kept
OFFSET_SCALE_MS = 20.0      # the network predicts (ms since the impact) / 20
SPEED_SHIFT, SPEED_SCALE = 1.6, 0.5    # ... and (log speed - 1.6) / 0.5
STRIDES = (1, 2, 2)
FILTERS = (32, 32, 48)
KERNEL = 5
DENSE = 48


@dataclass
class Examples:
    x: np.ndarray           # (m, STEPS, CHANNELS) float32
    y: np.ndarray           # (m, 5): impact, impact counts, offset (scaled), log speed (scaled), regression counts

    def __len__(self) -> int:
        return len(self.x)

    @staticmethod
    def join(parts: list["Examples"]) -> "Examples":
        return Examples(np.concatenate([p.x for p in parts]), np.concatenate([p.y for p in parts]))


def label_frames(times: np.ndarray, period: float, impacts: dict[str, list[tuple[float, float]]]):
    """Per frame and limb: (impact, counts, offset ms, log speed, regression counts, distance to the nearest
    impact in s), from each limb's true (impact time s, speed)."""
    n = len(times)
    lab = np.zeros((n, 4, 6))
    lab[:, :, 1] = 1.0
    lab[:, :, 5] = np.inf
    for limb, events in impacts.items():
        j = LIMB_INDEX[limb]
        for t_imp, speed in events:
            delta = times - t_imp
            lab[:, j, 5] = np.minimum(lab[:, j, 5], np.abs(delta))
            recent = max(RECENT_S, period)
            near = (delta >= -period) & (delta < recent + TAIL_S)
            pos = (delta >= -AHEAD_S) & (delta < recent)
            free = ((delta >= -0.5 * period - AHEAD_S) & (delta < -AHEAD_S)) | ((delta >= recent) & (delta < recent + TAIL_S))
            lab[free, j, 1] = 0.0                  # a little early (a predicted impact), or the tail: left out
            lab[pos, j, 0] = 1.0                   # the impact is due within AHEAD_S or happened within RECENT_S
            lab[near, j, 2] = delta[near] * 1e3
            lab[near, j, 3] = math.log(max(speed, 0.3))
            lab[near, j, 4] = 1.0
    return lab


def take_examples(times_ns, keypoints, truth, fps: float, kit: Kit, rng: np.random.Generator,
                  spans=(), keep_all: bool = False) -> Examples:
    """Run the detector's feature extraction over one take and label its windows."""
    th = kit.thresholds
    feats = Features(th.min_score, th.torso_ratio, fps)
    times = np.asarray(times_ns, np.float64) * 1e-9
    period = 1.0 / fps
    impacts: dict[str, list[tuple[float, float]]] = {}
    for s in truth:
        impacts.setdefault(s.limb, []).append((s.t_ns * 1e-9, s.speed if np.isfinite(s.speed) else 3.0))
    lab = label_frames(times, period, impacts)
    special = np.zeros((len(times), 4), bool)
    for sp in spans:
        if sp.kind == "silence":
            continue
        inside = (times >= sp.t0_ns * 1e-9) & (times <= sp.t1_ns * 1e-9)
        if sp.limb:
            special[inside, LIMB_INDEX[sp.limb]] = True
        else:
            special[inside] = True
    xs, ys = [], []
    for k, (t, kp) in enumerate(zip(times, keypoints)):
        if not feats.push(t, np.asarray(kp, np.float64)):
            continue
        keep = keep_all | (lab[k, :, 5] <= NEAR_S) | special[k] | (rng.random(4) < OTHER_SHARE)
        if not keep.any():
            continue
        win = feats.window(t)
        for j in np.nonzero(keep)[0]:
            xs.append(win[j].copy())
            ys.append(lab[k, j, :5].copy())
    if not xs:
        return Examples(np.zeros((0, STEPS, CHANNELS), np.float32), np.zeros((0, 5), np.float32))
    y = np.array(ys, np.float32)
    y[:, 2] /= OFFSET_SCALE_MS
    y[:, 3] = (y[:, 3] - SPEED_SHIFT) / SPEED_SCALE
    return Examples(np.array(xs, np.float32), y)


# --- the network ------------------------------------------------------------------------------------

def _tf():
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

    return tf


def build_network(mean: np.ndarray, std: np.ndarray, seed: int):
    tf = _tf()
    keras = tf.keras
    init = keras.initializers.GlorotUniform
    inp = keras.Input((STEPS, CHANNELS), name="windows")
    h = keras.layers.Lambda(lambda z: (z - mean) / std, name="standardise")(inp)
    for i, (f, s) in enumerate(zip(FILTERS, STRIDES)):
        h = keras.layers.Conv1D(f, KERNEL, strides=s, activation="relu", kernel_initializer=init(seed + i),
                                name=f"c{i + 1}")(h)
    h = keras.layers.Flatten()(h)
    h = keras.layers.Dense(DENSE, activation="relu", kernel_initializer=init(seed + 10), name="d1")(h)
    out = keras.layers.Dense(3, kernel_initializer=init(seed + 11), name="d2")(h)
    return keras.Model(inp, out)


def _loss(pos_weight: float):
    tf = _tf()

    def loss(y_true, y_pred):
        label, counts, off, spd, reg = (y_true[:, i] for i in range(5))
        logit = y_pred[:, 0]
        bce = tf.nn.weighted_cross_entropy_with_logits(labels=label, logits=logit, pos_weight=pos_weight)
        cls = tf.reduce_sum(bce * counts) / tf.maximum(tf.reduce_sum(counts), 1.0)
        huber = tf.keras.losses.Huber(delta=1.0, reduction="none")
        r = huber(off[:, None], y_pred[:, 1:2]) + huber(spd[:, None], y_pred[:, 2:3])
        regl = tf.reduce_sum(r * reg) / tf.maximum(tf.reduce_sum(reg), 1.0)
        return cls + 0.5 * regl

    return loss


def fit(examples: Examples, seed: int = 0, epochs: int = 14, batch: int = 512, say=print,
        init_weights: dict[str, np.ndarray] | None = None, learning_rate: float = 2e-3) -> dict[str, np.ndarray]:
    """Train the network; returns its weights in the numpy runtime's layout (see learned.Model)."""
    tf = _tf()
    tf.keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    try:
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:
        pass                                     # already set in this process
    x, y = examples.x, examples.y
    if init_weights is not None:
        mean, std = init_weights["in_mean"], init_weights["in_std"]
    else:
        flat = x.reshape(-1, CHANNELS)
        mean = flat.mean(axis=0).astype(np.float32)
        std = np.maximum(flat.std(axis=0), 1e-3).astype(np.float32)
    net = build_network(mean, std, seed)
    if init_weights is not None:
        _set_weights(net, init_weights)
    counted = y[:, 1] > 0
    pos = float((y[counted, 0] > 0).sum())
    neg = float(counted.sum() - pos)
    # a mild weight: a heavy one inflates the probability of every uncertain frame around an impact, and
    # the probability must fall between two strokes for the limb to re-arm
    pos_weight = min(max(neg / max(pos, 1.0) * 0.05, 1.0), 3.0)
    steps = max(1, math.ceil(len(x) / batch)) * epochs
    schedule = tf.keras.optimizers.schedules.CosineDecay(learning_rate, steps, alpha=0.05)
    net.compile(optimizer=tf.keras.optimizers.Adam(schedule), loss=_loss(pos_weight))
    t0 = time.perf_counter()
    order = np.random.default_rng(seed).permutation(len(x))
    hist = net.fit(x[order], y[order], batch_size=batch, epochs=epochs, shuffle=True, verbose=0)
    say(f"trained on {len(x)} windows ({int(pos)} impacts, positive weight {pos_weight:.1f}), {epochs} epochs "
        f"in {time.perf_counter() - t0:.0f} s; loss {hist.history['loss'][0]:.4f} -> {hist.history['loss'][-1]:.4f}")
    return _get_weights(net, mean, std)


def _get_weights(net, mean, std) -> dict[str, np.ndarray]:
    w = {}
    for name in ("c1", "c2", "c3", "d1", "d2"):
        kernel, bias = net.get_layer(name).get_weights()
        w[f"{name}_w"], w[f"{name}_b"] = kernel.astype(np.float32), bias.astype(np.float32)
    w["in_mean"], w["in_std"] = np.asarray(mean, np.float32), np.asarray(std, np.float32)
    w["out_scale"] = np.array([1.0, OFFSET_SCALE_MS, SPEED_SCALE], np.float32)
    w["out_shift"] = np.array([0.0, 0.0, SPEED_SHIFT], np.float32)
    return w


def _set_weights(net, w: dict[str, np.ndarray]) -> None:
    for name in ("c1", "c2", "c3", "d1", "d2"):
        net.get_layer(name).set_weights([w[f"{name}_w"], w[f"{name}_b"]])


def meta_for(threshold: float, rearm: float, info: dict) -> dict:
    return {"format": FORMAT, "grid_s": GRID_S, "steps": STEPS, "channels": CHANNELS, "strides": list(STRIDES),
            "threshold": threshold, "rearm": rearm, **info}


def save_weights(weights: dict[str, np.ndarray], meta: dict, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + ".tmp.npz")
    np.savez(tmp, meta=np.array(json.dumps(meta, sort_keys=True)), **weights)
    tmp.replace(path)
    return path


def export_tflite(weights: dict[str, np.ndarray], path: str | Path) -> Path:
    """The same network as a TFLite file (float32), outputs scaled as the numpy runtime's."""
    tf = _tf()
    net = build_network(weights["in_mean"], weights["in_std"], 0)
    _set_weights(net, weights)
    scale, shift = weights["out_scale"], weights["out_shift"]
    out = tf.keras.layers.Lambda(lambda z: z * scale + shift, name="scale")(net.output)
    full = tf.keras.Model(net.input, out)
    conv = tf.lite.TFLiteConverter.from_keras_model(full)
    data = conv.convert()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def runtime_model(weights: dict[str, np.ndarray], threshold: float = 0.5, rearm: float = 0.3) -> Model:
    return Model(weights, meta_for(threshold, rearm, {}))


# --- the corpus, the threshold, the whole build ---------------------------------------------------------

def corpus_examples(split: str, kit: Kit, say=print, families=None, modelled: int | None = None,
                    filmed: int | None = None, build: bool = True) -> Examples:
    """Examples from a split of the corpus: its modelled takes (through the fitted pose-error model) and
    its filmed ones (MoveNet on video, filmed now if not cached and `build`)."""

    noise = PoseNoise()
    parts = []
    t0 = time.perf_counter()
    for share, count in (("modelled", modelled), ("filmed", filmed)):
        if count == 0:
            continue
        for take in takes(split, share, families, count):
            kp = take_keypoints(take, share, noise, build=build)
            if kp is None:
                continue
            rng = np.random.default_rng([take.seed, 29])
            parts.append(take_examples(take.times_ns(), kp, take.truth(), take.fps, kit, rng, take.spans()))
    ex = Examples.join(parts)
    say(f"{split}: {len(ex)} windows from {len(parts)} takes in {time.perf_counter() - t0:.0f} s")
    return ex


def choose_threshold(weights: dict[str, np.ndarray], kit: Kit, split: str = "dev", families=None,
                     candidates=(0.25, 0.35, 0.45, 0.55, 0.65, 0.75), say=print) -> tuple[float, float]:
    """The firing threshold (and re-arm level) that plays best (F1, one-frame rule) on a split, never test."""
    if split == "test":
        raise ValueError("never tune on the test split")

    noise = PoseNoise()
    played = []
    for share in ("modelled", "filmed"):
        for take in takes(split, share, families):
            kp = take_keypoints(take, share, noise)
            if kp is not None:
                played.append((take, kp))
    best = (-1.0, 0.5, 0.3)
    for th in candidates:
        rearm = th * 0.5
        model = runtime_model(weights, th, rearm)
        tally = Tally()
        for take, kp in played:
            det = LearnedDetector(kit, fps=take.fps, model=model)
            tally += evaluate(det, take.times_ns(), kp, take.truth(), frame_tolerance_ns(take.fps), take.spans())
        say(f"threshold {th:.2f}: {split} F1 {tally.f1:.3f} (precision {tally.precision:.3f}, recall {tally.recall:.3f})")
        if tally.f1 > best[0]:
            best = (tally.f1, th, rearm)
    return best[1], best[2]


def train_detector(kit: Kit | None = None, seed: int = 0, epochs: int = 14, out: str | Path | None = None,
                   tflite: str | Path | None = None, refit_noise: bool = False, say=print,
                   modelled: int | None = None, filmed: int | None = None) -> Path:
    """The whole build of the learned detector: film what is missing, fit the pose-error model if asked
    (or if it was never fitted), gather the train split, fit, choose the threshold on dev, write the
    weights and the TFLite export."""

    kit = kit or load_kit("default")
    t0 = time.perf_counter()
    build_filmed(("train", "dev"), say=say)
    if refit_noise or not PARAMS_FILE.is_file():
        fit_pose_noise(say=say)
    examples = corpus_examples("train", kit, say=say, modelled=modelled, filmed=filmed)
    weights = fit(examples, seed=seed, epochs=epochs, say=say)
    threshold, rearm = choose_threshold(weights, kit, "dev", say=say)
    info = {"seed": seed, "epochs": epochs, "windows": len(examples),
            "trained": "corpus train split (modelled and filmed)", "threshold_from": "dev split, F1 within one frame"}
    path = save_weights(weights, meta_for(threshold, rearm, info), out or WEIGHTS_FILE)
    tfl = export_tflite_quiet(weights, tflite or Path(path).with_suffix(".tflite"))
    say(f"wrote {path} ({path.stat().st_size // 1024} KB) and {tfl} ({tfl.stat().st_size // 1024} KB); threshold "
        f"{threshold:.2f}; {time.perf_counter() - t0:.0f} s in all")
    return path


def fit_pose_noise(say=print):
    """Fit the pose-error model to the filmed train split and write posenoise.json."""

    pairs = []
    for take in takes("train", "filmed"):
        kp = filmed_keypoints(take, build=True, say=say)
        pairs.append((take, kp))
    params = fit_noise(pairs)
    params.save()
    say(f"pose-error model fitted on {len(pairs)} filmed train takes")
    return params


def export_tflite_quiet(weights, path) -> Path:
    """export_tflite without the converter's chatter on stdout."""
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        return export_tflite(weights, path)


def retrain_for_player(frames, truth, fps: float, kit: Kit, base: Model | None = None, seed: int = 0,
                       epochs: int = 6, corpus_takes: int = 3, say=print) -> dict[str, np.ndarray]:
    """A player's own detector, from a calibration play-along: `frames` (t_ns, keypoints) of the player
    following a pattern whose true impact times are `truth` (lalelu.gestures.scoring.TrueStroke). The
    base detector is fine-tuned on the player's windows beside a few corpus takes (so that it does not
    forget what the player did not play), at a lower learning rate."""

    base = base or load_model()
    rng = np.random.default_rng(seed)
    times = [t for t, _ in frames]
    mine = take_examples(times, [kp for _, kp in frames], truth, fps, kit, rng, keep_all=True)
    if len(mine) == 0:

        raise LaleluError("the play-along has no frames with a body in them: stand in the picture and play again")
    fams = None
    corpus = corpus_examples("train", kit, say=say, families=fams, modelled=corpus_takes, filmed=0, build=False)
    reps = max(1, len(corpus) // max(len(mine), 1) // 2)       # the player's own windows weigh as much as half
    ex = Examples.join([corpus] + [mine] * reps)
    weights = {k: base.w[k] for k in Model.KEYS}
    weights.update(in_mean=base.mean, in_std=base.std)
    return fit(ex, seed=seed, epochs=epochs, say=say, init_weights=weights, learning_rate=5e-4)


def retrain_from_script(player: str, kit: Kit, script, t0_ns: int, frames, fps: float, say=print) -> Path:
    """Retrain the learned detector on a calibration play-along whose due times a script gives (the scripted
    drummer's, or the window's play-along pattern started at t0_ns), and save it beside the player's
    calibration (lalelu.gestures.factory.player_weights finds it there)."""
    frames = sorted(frames, key=lambda f: f[0])
    t_end = frames[-1][0]
    truth = [TrueStroke(t0_ns + int(round(h.t_s * 1e9)), h.limb, h.drum) for h in script.hits
             if t0_ns + h.t_s * 1e9 <= t_end]
    base = load_model()
    weights = retrain_for_player(frames, truth, fps, kit, base=base, say=say)
    meta = meta_for(base.meta.get("threshold", 0.5), base.meta.get("rearm", 0.3),
                    {"player": player, "trained": "corpus detector fine-tuned on the player's play-along",
                     "strokes": len(truth)})
    path = save_weights(weights, meta, calibration_path(player).with_suffix(".learned.npz"))
    say(f"Saved {path}: the learned detector retrained on {len(truth)} strokes of the play-along")
    return path
