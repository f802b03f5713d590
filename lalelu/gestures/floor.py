"""The timing floor: how closely any detector could place a stroke's bottom under keypoint noise.

An oracle that knows more than a detector can: which stroke it is looking at, and the exact shapes the
scenarios draw (a cosine or late-peaking descent of some length and height that ends at the bottom, the
limb still just after it). It fits that template by least squares to the wrist's heights (in the
detector's own body frame) up to `look` frames past the true bottom (the detector may look one frame
ahead) and takes the fitted end of the descent as the bottom. Its timing error is the noise's doing, not
a detector's: a timing target well below it cannot be met at that noise level.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from lalelu.gestures.bench import score
from lalelu.gestures.detector import Detector, play_frames
from lalelu.gestures.kit import Kit
from lalelu.gestures.scenarios import conditions

_LOOK_BACK_S = 0.16                              # longer than the longest descent the scenarios draw
_ENDS_S = np.arange(-0.06, 0.0205, 0.001)        # candidate bottoms, relative to the newest sample
_LENGTHS_S = np.arange(0.03, 0.1405, 0.005)      # candidate descent lengths (the scenarios: 0.05-0.11 s)


def fit_bottom(ts: np.ndarray, ys: np.ndarray) -> float:
    """The bottom time of the stroke template (either shape, any length and height, flat after the bottom)
    that fits (ts, ys) best, in ts's units."""
    ends = ts[-1] + _ENDS_S[:, None]
    starts = ends - _LENGTHS_S[None, :]
    u = np.clip((ts[None, None, :] - starts[..., None]) / _LENGTHS_S[None, :, None], 0.0, 1.0)
    u2 = u * u
    # (shape, ends, lengths, samples), 0 at the top .. 1 at the bottom: the cosine descent and the
    # late-peaking one (lalelu.sources.synthetic.downstroke, on arrays); lalelu.gestures.scenarios draws both
    shape = np.stack([(1.0 - np.cos(np.pi * u)) * 0.5, u2 * u2 * (3.0 - 2.0 * u2)])
    xc = shape - shape.mean(axis=-1, keepdims=True)
    yc = ys - ys.mean()
    sxx = (xc * xc).sum(axis=-1)
    sxy = (xc * yc).sum(axis=-1)
    # least squares y = a + b * shape for each candidate; residual = syy - sxy^2 / sxx; b must be > 0 (down)
    residual = np.where((sxy > 0.0) & (sxx > 1e-12), (yc @ yc) - sxy * sxy / np.maximum(sxx, 1e-12), np.inf)
    _, i, _ = np.unravel_index(int(np.argmin(residual)), residual.shape)
    return float(ends[i, 0])


def timing_floor(kit: Kit, noise: str, seconds: float = 8.0, seed: int = 0, look: int = 1,
                 fps: float = 100.0) -> dict:
    """The oracle's and the detector's timing errors (ms) on the same hand strokes: those of the playing
    conditions without dropouts or flicker (whose garbage samples the oracle would have to be told about)."""
    oracle, detector = [], []
    for sc in conditions(kit, noise, seconds, seed, fps):
        if sc.name.startswith("silent") or "dropouts" in sc.name:
            continue
        hits, heights = play_frames(Detector(kit, fps=sc.fps), zip(sc.times_ns, sc.keypoints))
        strokes = [h for h in sc.hits if h.limb.endswith("hand")]
        for true in strokes:
            ts, ys = (np.array(v) for v in zip(*heights[true.limb]))
            t_true = true.t_ns * 1e-9
            upto = t_true + look / sc.fps
            m = (ts <= upto) & (ts >= upto - _LOOK_BACK_S)
            oracle.append((fit_bottom(ts[m], ys[m]) - t_true) * 1e3)
        hand_hits = [h for h in hits if h.limb.endswith("hand")]
        detector += score(replace(sc, hits=strokes), hand_hits).timing_errors_ms
    return {"noise": noise, "strokes": len(oracle), "oracle_ms": oracle, "detector_ms": detector}
