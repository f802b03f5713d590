"""The body frame every zone, speed and stroke is measured in: origin = the shoulders' midpoint, unit = one
shoulder width (floored by the torso length when the player turns), x to image right, y down."""

from __future__ import annotations

import math
import statistics

from lalelu.core.keypoints import Keypoint
from lalelu.errors import LaleluError

DEFAULT_TORSO_RATIO = 0.7   # shoulder width / torso length of a player facing the camera

_L_SHOULDER, _R_SHOULDER = int(Keypoint.LEFT_SHOULDER), int(Keypoint.RIGHT_SHOULDER)
_L_HIP, _R_HIP = int(Keypoint.LEFT_HIP), int(Keypoint.RIGHT_HIP)


def shoulder_width(rows) -> float:
    ls, rs = rows[_L_SHOULDER], rows[_R_SHOULDER]
    return math.hypot(ls[0] - rs[0], ls[1] - rs[1])


def torso_length(rows) -> float:
    """Shoulders' midpoint to hips' midpoint, pixels."""
    ls, rs, lh, rh = rows[_L_SHOULDER], rows[_R_SHOULDER], rows[_L_HIP], rows[_R_HIP]
    return math.hypot((lh[0] + rh[0] - ls[0] - rs[0]) * 0.5, (lh[1] + rh[1] - ls[1] - rs[1]) * 0.5)


def shoulder_frame(rows, torso_ratio: float, min_score: float) -> tuple[float, float, float] | None:
    """One frame's body frame from its keypoint rows (x, y, score): the shoulder midpoint and the scale (a
    shoulder width) in pixels, or None without both shoulders. Turning shrinks the shoulder width but not the
    torso, so with both hips seen the torso length times torso_ratio floors the scale."""
    ls, rs = rows[_L_SHOULDER], rows[_R_SHOULDER]
    if ls[2] < min_score or rs[2] < min_score:
        return None
    mx, my = (ls[0] + rs[0]) * 0.5, (ls[1] + rs[1]) * 0.5
    scale = shoulder_width(rows)
    lh, rh = rows[_L_HIP], rows[_R_HIP]
    if lh[2] >= min_score and rh[2] >= min_score:
        scale = max(scale, torso_length(rows) * torso_ratio)
    return mx, my, scale


def neutral_pose(frames, min_score: float = 0.3) -> tuple[float, float]:
    """(shoulder width in pixels, shoulder width / torso length) from (t_ns, keypoints) frames of a player
    standing still, facing the camera."""
    widths, ratios = [], []
    for _, kp in frames:
        if kp[_L_SHOULDER][2] < min_score or kp[_R_SHOULDER][2] < min_score:
            continue
        w = float(shoulder_width(kp))
        widths.append(w)
        if kp[_L_HIP][2] >= min_score and kp[_R_HIP][2] >= min_score:
            torso = float(torso_length(kp))
            if torso > 1.0:
                ratios.append(w / torso)
    if len(widths) < 5:
        raise LaleluError("calibration: the shoulders were not seen in the neutral pose; stand facing the camera, "
                          "whole upper body in the picture, and try again")
    width = statistics.median(widths)
    ratio = statistics.median(ratios) if len(ratios) >= 5 else DEFAULT_TORSO_RATIO
    return width, ratio
