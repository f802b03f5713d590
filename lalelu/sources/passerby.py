"""Someone walking across the picture behind the scripted drummer: a second mannequin, a little smaller (farther
back), drawn first so that the drummer stands in front of it. The player must stay the player while it passes
(lalelu.pose.tracking), whoever the pose model scores higher.

`synthetic:passerby=1` plays it (with a model that sees several people: `--model multipose`).
"""

from __future__ import annotations

import math

import numpy as np

from lalelu.sources.mannequin import BodyPose, Mannequin, rest_pose
from lalelu.sources.synthetic import SyntheticDrummer

CROSSING_S = 4.0      # one walk from one side to the other
SCALE = 0.85          # of the drummer's size: a step behind
STRIDE_HZ = 1.8       # steps a second


class Passerby:
    """A figure walking across a frame of `size`, back and forth, `CROSSING_S` seconds each way."""

    def __init__(self, size: tuple[int, int], scale: float = SCALE, crossing_s: float = CROSSING_S):
        self.mannequin = Mannequin(size)
        self.width = size[0]
        self.crossing_s = crossing_s
        m = self.mannequin
        m.unit *= scale
        m.origin = m.origin + np.array([0.0, -0.06 * size[1]])    # its feet a little higher: farther back

    def x_at(self, t: float) -> float:
        """Its centre's x in pixels at t seconds: from beyond the left edge to beyond the right one and back."""
        u = (t / self.crossing_s) % 2.0
        u = u if u <= 1.0 else 2.0 - u
        margin = 1.2 * self.mannequin.unit
        return -margin + u * (self.width + 2 * margin)

    def pose_at(self, t: float) -> BodyPose:
        swing = math.sin(2 * math.pi * STRIDE_HZ * t)
        rest = rest_pose()
        return BodyPose(left_wrist=(rest.left_wrist[0] - 0.1, rest.left_wrist[1] + 0.15 * swing),
                        right_wrist=(rest.right_wrist[0] + 0.1, rest.right_wrist[1] - 0.15 * swing),
                        left_foot_lift=0.12 * max(0.0, swing), right_foot_lift=0.12 * max(0.0, -swing))

    def render(self, t: float) -> np.ndarray:
        self.mannequin.origin = np.array([self.x_at(t), self.mannequin.origin[1]])
        return self.mannequin.render(self.pose_at(t))

    def keypoints_at(self, t: float) -> np.ndarray:
        self.mannequin.origin = np.array([self.x_at(t), self.mannequin.origin[1]])
        return self.mannequin.keypoints(self.pose_at(t))


class DrummerWithPasserby(SyntheticDrummer):
    """The scripted drummer with a passer-by crossing behind it (see SyntheticDrummer for the clock)."""

    def __init__(self, *args, passerby_offset_s: float = 0.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.passerby = Passerby(self.size)
        self.passerby_offset_s = passerby_offset_s
        self.description += ", a passer-by crossing behind"

    def render(self, t: float) -> np.ndarray:
        behind = self.passerby.render(t + self.passerby_offset_s)
        return self.mannequin.render(self.motion.pose(t), onto=behind)
