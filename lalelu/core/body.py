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


class SmoothedFrame:
    """The body frame followed over frames, as both strike detectors see it: the shoulder midpoint smoothed
    over 30 ms and the scale over 0.3 s; a shoulder that flickers for a frame (the scale jumping out of
    0.6x-1.6x) is ignored; the last frame stands in for missing shoulders for HOLD_S, and after that the
    frame starts afresh from the next one seen (`fresh`)."""

    __slots__ = ("ox", "oy", "scale", "valid", "fresh", "t_seen", "torso_ratio", "min_score")

    HOLD_S = 0.5

    def __init__(self, torso_ratio: float, min_score: float):
        self.torso_ratio = torso_ratio
        self.min_score = min_score
        self.valid = False
        self.fresh = False           # the last update started the frame afresh
        self.ox = self.oy = 0.0
        self.scale = 1.0
        self.t_seen = 0.0

    def update(self, t: float, rows) -> bool:
        """Follow this frame's shoulders; True when the frame moved to them (`valid` says whether there is one)."""
        frame = shoulder_frame(rows, self.torso_ratio, self.min_score)
        if frame is None:
            if self.valid and t - self.t_seen > self.HOLD_S:
                self.valid = False
            return False
        mx, my, scale = frame
        if scale < 1.0:
            return False
        self.fresh = not self.valid or t - self.t_seen > self.HOLD_S
        if self.fresh:
            self.ox, self.oy, self.scale = mx, my, scale
        else:
            r = scale / self.scale
            if r < 0.6 or r > 1.6:          # a shoulder flickered: keep the last frame
                return False
            dt = t - self.t_seen
            if dt < 0.0:                    # older than the last frame (a trace out of order): keep the last
                return False
            a_o = 1.0 - math.exp(-dt / 0.03)
            a_s = 1.0 - math.exp(-dt / 0.3)
            self.ox += (mx - self.ox) * a_o
            self.oy += (my - self.oy) * a_o
            self.scale += (scale - self.scale) * a_s
        self.valid = True
        self.t_seen = t
        return True


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
