"""The kick rule against an ankle keypoint that leaves the foot: a stomp starts at most knee high.

MoveNet Thunder, on the scripted drummer, parks the right ankle on a hand at hip height for a few frames and
then brings it back down the leg: before the rule, that way back down played a kick (79 phantom kicks in 30 s).
"""

from __future__ import annotations

import numpy as np
import pytest

from lalelu.gestures.detector import Detector
from lalelu.gestures.kit import load_kit
from lalelu.core.keypoints import Keypoint

FPS = 100.0
UNIT = 100.0            # one shoulder width in pixels
SHOULDERS_Y = 100.0
REST_Y = SHOULDERS_Y + 3.5 * UNIT   # the ankle standing on the floor


def frame(ankle_y: float | None) -> np.ndarray:
    """A still, front-facing body (shoulders, hips, wrists at rest) with the right ankle at ankle_y (None:
    scored too low to count, as MoveNet does with a keypoint it is unsure of)."""
    kp = np.zeros((17, 3), np.float32)
    kp[:, 2] = 0.8
    points = {"left_shoulder": (370, SHOULDERS_Y), "right_shoulder": (270, SHOULDERS_Y),
              "left_hip": (352, SHOULDERS_Y + 145), "right_hip": (288, SHOULDERS_Y + 145),
              "left_wrist": (395, SHOULDERS_Y + 110), "right_wrist": (245, SHOULDERS_Y + 110),
              "left_ankle": (358, REST_Y), "right_ankle": (282, REST_Y if ankle_y is None else ankle_y),
              "nose": (320, SHOULDERS_Y - 60)}
    for name, (x, y) in points.items():
        kp[Keypoint[name.upper()], :2] = (x, y)
    if ankle_y is None:
        kp[Keypoint.RIGHT_ANKLE, 2] = 0.1
    return kp


def play(ankle_heights: list[float | None]) -> list:
    detector = Detector(load_kit("default"), fps=FPS)
    hits = []
    first, last = ankle_heights[0], ankle_heights[-1]
    for i, y in enumerate([first] * 100 + ankle_heights + [last] * 30):   # a second standing still first
        hits.extend(h for h in detector.update(int(i * 1e9 / FPS), frame(y)) if h.limb == "right_foot")
    return hits


def stomp(lift: float) -> list[float]:
    """Lift the foot `lift` shoulder widths over 0.25 s, hold it 0.1 s, stamp it down in 0.06 s."""
    up = [REST_Y - lift * UNIT * (1 - np.cos(np.pi * k / 25)) / 2 for k in range(25)]
    down = [REST_Y - lift * UNIT * (1 - (k / 6) ** 2) for k in range(1, 7)]
    return up + [REST_Y - lift * UNIT] * 10 + down


def test_a_stomp_plays_a_kick():
    hits = play(stomp(0.35))
    assert [h.drum for h in hits] == ["kick"]


# The right ankle as MoveNet Thunder (f32) placed it on the scripted drummer at 1.05-1.30 s, in shoulder widths
# below the shoulders (its frames' own body frame): on the foot, then for six frames on the right hand at hip
# height, then two frames scored below the kit's min_score (None), then back on the foot. Before the rule, the
# detector joined the frames after the gap to the limb's history (a stroke whose fast part the camera lost) and
# played the way down from the hand as a kick.
THUNDER_ANKLE = [3.267, 3.333, 3.171, 3.077, 1.520, 1.472, 1.474, 1.475, 1.476, 1.494, None, None, 3.112,
                 3.125, 3.135, 3.146, 3.116, 3.220, 3.222, 3.226, 3.223, 3.223]


def test_an_ankle_parked_on_a_hand_and_back_is_no_kick():
    """Fast and far enough for a stomp, but from a height no foot reaches: no kick."""
    assert play([None if y is None else SHOULDERS_Y + y * UNIT for y in THUNDER_ANKLE]) == []


def test_a_knee_high_stomp_still_plays():
    hits = play(stomp(0.9))
    assert [h.drum for h in hits] == ["kick"]
