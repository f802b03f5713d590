"""A stroke heard at a hitch mid-descent still plays at its real bottom.

Under motion blur the pose model's wrist stalls for a frame or two while the stick accelerates down; the
detector hears a bottom there. The hand then goes on down faster than before, a stroke's travel further: it
re-arms, and the real impact plays too (before, it was lost until the hand rose again).
"""

from __future__ import annotations

import numpy as np

from lalelu.core.keypoints import Keypoint
from lalelu.gestures.detector import Detector
from lalelu.gestures.kit import load_kit

FPS = 100.0
UNIT = 100.0            # one shoulder width in pixels
SHOULDERS_Y = 100.0
TOP, BOTTOM = 0.5, 1.3  # the stroke's top and bottom, shoulder widths below the shoulders (the snare)
NEAR_NS = 2e9 / FPS     # a hit this close to the impact is the impact's (the fits may state it a frame late)


def frame(wrist_y: float) -> np.ndarray:
    """A still, front-facing body; the right wrist at wrist_y shoulder widths below the shoulders."""
    kp = np.zeros((17, 3), np.float32)
    kp[:, 2] = 0.8
    points = {"left_shoulder": (370, SHOULDERS_Y), "right_shoulder": (270, SHOULDERS_Y),
              "left_hip": (352, SHOULDERS_Y + 145), "right_hip": (288, SHOULDERS_Y + 145),
              "left_wrist": (395, SHOULDERS_Y + 110), "right_wrist": (300, SHOULDERS_Y + wrist_y * UNIT),
              "left_ankle": (358, SHOULDERS_Y + 350), "right_ankle": (282, SHOULDERS_Y + 350),
              "nose": (320, SHOULDERS_Y - 60)}
    for name, (x, y) in points.items():
        kp[Keypoint[name.upper()], :2] = (x, y)
    return kp


def stroke(stall: int) -> tuple[list[float], int]:
    """Lift from the snare over 0.3 s, wait, come down accelerating (fastest at the impact) in 0.14 s with the
    wrist stalled `stall` frames after 8 frames of it, rebound. Returns the heights and the impact's index."""
    up = [BOTTOM - (BOTTOM - TOP) * (1 - np.cos(np.pi * k / 30)) / 2 for k in range(30)]
    down = [TOP + (BOTTOM - TOP) * (k / 14) ** 2 for k in range(1, 15)]
    down = down[:8] + [down[7]] * stall + down[8:]
    rebound = [BOTTOM - 0.3 * (1 - np.cos(np.pi * k / 20)) / 2 for k in range(1, 20)]
    heights = [BOTTOM] * 100 + up + [TOP] * 5 + down + rebound + [rebound[-1]] * 30
    return heights, 100 + 30 + 5 + len(down) - 1


def right_hand_hits(heights: list[float]) -> list:
    detector = Detector(load_kit("default"), fps=FPS)
    hits = []
    for i, y in enumerate(heights):
        hits.extend(h for h in detector.update(int(i * 1e9 / FPS), frame(y)) if h.limb == "right_hand")
    return hits


def test_a_clean_stroke_plays_once():
    heights, impact = stroke(0)
    hits = right_hand_hits(heights)
    assert [h.drum for h in hits] == ["snare"]
    assert abs(hits[0].t_ns - impact * 1e9 / FPS) <= NEAR_NS


def test_a_stroke_with_a_stall_mid_way_still_plays_its_impact():
    heights, impact = stroke(2)
    hits = right_hand_hits(heights)
    at_impact = [h for h in hits if abs(h.t_ns - impact * 1e9 / FPS) <= NEAR_NS]
    assert [h.drum for h in at_impact] == ["snare"]
    assert len(hits) <= 2            # at most the early note at the stall besides it
