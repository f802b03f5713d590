"""The kick rules against an ankle keypoint that leaves the foot: a stomp starts at most knee high, and it
comes straight down.

MoveNet Thunder, on the scripted drummer, parks the right ankle on a hand at hip height for a few frames and
then brings it back down the leg: before the rule, that way back down played a kick (79 phantom kicks in 30 s).
MoveNet's ankle on a foot at rest wanders as much sideways as down; a stomp moves straight down.
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


ANKLE_X = 282.0


def frame(ankle_y: float | None, ankle_x: float = ANKLE_X) -> np.ndarray:
    """A still, front-facing body (shoulders, hips, wrists at rest) with the right ankle at ankle_y (None:
    scored too low to count, as MoveNet does with a keypoint it is unsure of)."""
    kp = np.zeros((17, 3), np.float32)
    kp[:, 2] = 0.8
    points = {"left_shoulder": (370, SHOULDERS_Y), "right_shoulder": (270, SHOULDERS_Y),
              "left_hip": (352, SHOULDERS_Y + 145), "right_hip": (288, SHOULDERS_Y + 145),
              "left_wrist": (395, SHOULDERS_Y + 110), "right_wrist": (245, SHOULDERS_Y + 110),
              "left_ankle": (358, REST_Y), "right_ankle": (ankle_x, REST_Y if ankle_y is None else ankle_y),
              "nose": (320, SHOULDERS_Y - 60)}
    for name, (x, y) in points.items():
        kp[Keypoint[name.upper()], :2] = (x, y)
    if ankle_y is None:
        kp[Keypoint.RIGHT_ANKLE, 2] = 0.1
    return kp


def play(ankle_heights: list[float | None], ankle_xs: list[float] | None = None) -> list:
    detector = Detector(load_kit("default"), fps=FPS)
    hits = []
    xs = ankle_xs or [ANKLE_X] * len(ankle_heights)
    path = list(zip(ankle_heights, xs))
    for i, (y, x) in enumerate([path[0]] * 100 + path + [path[-1]] * 30):   # a second standing still first
        hits.extend(h for h in detector.update(int(i * 1e9 / FPS), frame(y, x)) if h.limb == "right_foot")
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


def test_a_soft_pedal_stomp_plays():
    """A low, soft stomp (0.2 shoulder widths; its measured peak speed about 4.4 shoulder widths per second,
    below the 5.5 that the kit asked before the straight-down rule)."""
    hits = play(stomp(0.2))
    assert [h.drum for h in hits] == ["kick"]


def test_an_ankle_sliding_down_on_a_slant_is_no_kick():
    """The same soft stomp's path, but the ankle moves as far sideways as down (MoveNet's ankle wandering over
    a foot at rest): no kick. Straight down, or nearly so, it plays."""
    heights = stomp(0.2)
    slanted = [ANKLE_X + (REST_Y - y) for y in heights]            # 1 sideways per 1 down
    assert play(heights, slanted) == []
    nearly = [ANKLE_X + 0.2 * (REST_Y - y) for y in heights]       # 0.2 sideways per 1 down
    assert [h.drum for h in play(heights, nearly)] == ["kick"]
