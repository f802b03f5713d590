"""Fitting the pose-error model (posenoise.py) to what MoveNet did on the filmed share of the corpus.

For each filmed take the MoveNet keypoints are compared with the true keypoints averaged over each
frame's exposure (what a blurred frame shows), in shoulder widths. Frames where MoveNet mirrored the
whole body (flips), and frames where it swapped the wrists, are counted and set aside; the rest give
each keypoint's steady offset in the take (bias), its outliers (farther than OUTLIER from where the
bias puts it), its dropouts (scores below the kit's threshold), and, from the inliers, the jitter:
its spread at rest, how it widens with speed under blur, and how long it stays correlated.
Only the train split is fitted on.
"""

from __future__ import annotations

import math

import numpy as np

from lalelu.core.keypoints import Keypoint
from lalelu.gestures.corpus.posenoise import (
    GROUPS,
    MIN_SCORE,
    GroupParams,
    NoiseParams,
    _mirror_index,
    _speeds,
    blurred_truth,
)

OUTLIER = 0.3          # shoulder widths off the biased position: an outlier, not jitter
LAGS_S = np.arange(-0.01, 0.0201, 0.0025)


def _runs(mask: np.ndarray) -> list[int]:
    """Lengths of the runs of True."""
    out, n = [], 0
    for m in mask:
        if m:
            n += 1
        elif n:
            out.append(n)
            n = 0
    if n:
        out.append(n)
    return out


def fit_noise(pairs) -> NoiseParams:
    """pairs: (take, movenet keypoints (n, 17, 3)) of the filmed train split."""
    mirror = _mirror_index()
    biases = []
    stats = {g: {"resid": [], "speed_e": [], "ac": [], "out_runs": [], "out_time": 0.0, "drop_runs": [],
                 "drop_fast": [0, 0.0], "drop_slow": [0, 0.0], "scores": []} for g in GROUPS}
    flip_runs, flip_time, total_time = [], 0.0, 0.0
    crossed_frames = crossed_swapped = near_frames = near_swapped = 0
    lags = []
    for take, kp in pairs:
        times = take.frame_times()
        period = 1.0 / take.fps
        scale = take.body.scale
        truth = blurred_truth(take, times)
        sharp = take.true_keypoints(times)
        speed = _speeds(sharp, times, scale)
        exposure = take.camera.exposure_s
        seen = kp[:, :, 2] >= MIN_SCORE
        d = (kp[:, :, :2] - truth) / scale
        d_m = (kp[:, mirror, :2] - truth) / scale
        core = [5, 6, 11, 12]
        err = np.median(np.hypot(d[:, core, 0], d[:, core, 1]), axis=1)
        err_m = np.median(np.hypot(d_m[:, core, 0], d_m[:, core, 1]), axis=1)
        flipped = err_m < 0.5 * err
        flip_runs += _runs(flipped)
        flip_time += flipped.sum() * period
        total_time += len(times) * period
        ok = ~flipped
        lw, rw = Keypoint.LEFT_WRIST, Keypoint.RIGHT_WRIST
        e_own = np.hypot(*(kp[:, [lw, rw], :2] - truth[:, [lw, rw]]).transpose(2, 0, 1))
        e_sw = np.hypot(*(kp[:, [lw, rw], :2] - truth[:, [rw, lw]]).transpose(2, 0, 1))
        swapped = ok & (e_sw.max(axis=1) < 0.5 * e_own.min(axis=1)) & seen[:, lw] & seen[:, rw]
        crossed = sharp[:, lw, 0] < sharp[:, rw, 0]
        near = np.hypot(*(sharp[:, lw] - sharp[:, rw]).T) < 0.3 * scale
        crossed_frames += (ok & crossed).sum()
        crossed_swapped += (swapped & crossed).sum()
        near_frames += (ok & near & ~crossed).sum()
        near_swapped += (swapped & near & ~crossed).sum()
        # extra lag of the wrists beyond the exposure's averaging (moving frames only)
        moving = ok & ~swapped & (speed[:, lw] > 2.0) & seen[:, lw]
        if moving.sum() > 20:
            errs = []
            for lag in LAGS_S:
                tr = blurred_truth(take, times - lag)
                errs.append(np.median(np.hypot(*(kp[moving, lw, :2] - tr[moving, lw]).T)))
            lags.append(float(LAGS_S[int(np.argmin(errs))]))
        bias = np.zeros((17, 2))
        for i in range(17):
            use = ok & ~swapped & seen[:, i]
            if use.sum() >= 10:
                bias[i] = np.median(d[use, i], axis=0)
        biases.append(bias)
        for g, idx in GROUPS.items():
            st = stats[g]
            for i in idx:
                use = ok & ~swapped
                r = d[:, i] - bias[i]
                rn = np.hypot(r[:, 0], r[:, 1])
                outlier = use & seen[:, i] & (rn > OUTLIER)
                st["out_runs"] += _runs(outlier)
                st["out_time"] += use.sum() * period
                inl = use & seen[:, i] & ~outlier
                st["resid"].append(r[inl])
                st["speed_e"].append(speed[inl, i] * exposure)
                st["scores"].append(kp[inl, i, 2])
                # lag-1 autocorrelation of the inlier residual, and the frame period it was measured at
                both = inl[1:] & inl[:-1]
                if both.sum() > 20:
                    a, b = r[1:][both].ravel(), r[:-1][both].ravel()
                    c = np.corrcoef(a, b)[0, 1]
                    if np.isfinite(c):
                        st["ac"].append((c, period))
                drop = use & ~seen[:, i]
                st["drop_runs"] += _runs(drop)
                fast = speed[:, i] * exposure > 0.01
                st["drop_fast"][0] += (drop & fast).sum()
                st["drop_fast"][1] += (use & fast).sum() * period
                st["drop_slow"][0] += (drop & ~fast).sum()
                st["drop_slow"][1] += (use & ~fast).sum() * period
    params = NoiseParams()
    b = np.array(biases)
    params.bias_mean = np.round(b.mean(axis=0), 4).tolist()
    params.bias_sd = np.round(b.std(axis=0), 4).tolist()
    params.lag_extra_s = round(float(np.median(lags)), 4) if lags else 0.0
    params.swap_crossed = round(crossed_swapped / max(crossed_frames, 1), 4)
    params.swap_near = round(near_swapped / max(near_frames, 1) / 3.0, 4)    # episodes of about 3 frames
    params.flip_s = round(float(np.mean(flip_runs)) * flip_time / max(sum(flip_runs), 1), 4) if flip_runs else 0.5
    params.flip_rate = round(len(flip_runs) / max(total_time - flip_time, 1e-6), 4)
    for g in GROUPS:
        st = stats[g]
        r = np.concatenate(st["resid"]) if st["resid"] else np.zeros((0, 2))
        se = np.concatenate(st["speed_e"]) if st["speed_e"] else np.zeros(0)
        gp = GroupParams()
        slow = se < 0.005
        if slow.sum() > 50:
            gp.jitter = round(float(1.4826 * np.median(np.abs(r[slow] - np.median(r[slow], axis=0)))), 4)
        fast = se >= 0.02
        if fast.sum() > 50 and slow.sum() > 50:
            sd_fast = float(1.4826 * np.median(np.abs(r[fast] - np.median(r[fast], axis=0))))
            gp.blur_gain = round(max(0.0, (sd_fast - gp.jitter) / float(np.median(se[fast]))), 4)
        else:
            gp.blur_gain = 0.0
        if st["ac"]:
            taus = [-per / math.log(min(max(c, 0.01), 0.99)) for c, per in st["ac"]]
            gp.corr_s = round(float(np.median(taus)), 4)
        gp.outlier_rate = round(len(st["out_runs"]) / max(st["out_time"], 1e-6) / len(GROUPS[g]), 4)
        gp.outlier_frames = round(float(np.mean(st["out_runs"])), 3) if st["out_runs"] else 1.0
        gp.dropout_frames = round(float(np.mean(st["drop_runs"])), 3) if st["drop_runs"] else 1.0
        slow_rate = st["drop_slow"][0] / max(st["drop_slow"][1], 1e-6) / gp.dropout_frames / len(GROUPS[g])
        fast_rate = st["drop_fast"][0] / max(st["drop_fast"][1], 1e-6) / gp.dropout_frames / len(GROUPS[g])
        gp.dropout_rate = round(slow_rate, 4)
        gp.dropout_speed = round(max(0.0, fast_rate - slow_rate) / 0.02, 3)   # per unit of speed * exposure
        sc = np.concatenate(st["scores"]) if st["scores"] else np.array([0.5])
        gp.score = round(float(np.median(sc)), 3)
        gp.score_sd = round(float(np.std(sc)), 3)
        params.groups[g] = gp
    params.fitted_on = f"{len(biases)} filmed train takes"
    return params
