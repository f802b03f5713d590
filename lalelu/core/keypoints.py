"""The 17 COCO keypoints MoveNet predicts, and the Person record every pose backend returns."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np


class Keypoint(IntEnum):
    """Row of a (17, 3) keypoint array, in MoveNet's (COCO) order, as MediaPipe's PoseLandmark names its own."""

    NOSE = 0
    LEFT_EYE = 1
    RIGHT_EYE = 2
    LEFT_EAR = 3
    RIGHT_EAR = 4
    LEFT_SHOULDER = 5
    RIGHT_SHOULDER = 6
    LEFT_ELBOW = 7
    RIGHT_ELBOW = 8
    LEFT_WRIST = 9
    RIGHT_WRIST = 10
    LEFT_HIP = 11
    RIGHT_HIP = 12
    LEFT_KNEE = 13
    RIGHT_KNEE = 14
    LEFT_ANKLE = 15
    RIGHT_ANKLE = 16

    @property
    def label(self) -> str:
        """The lower-case name used in JSON output and drawings ("left_wrist")."""
        return self.name.lower()


KEYPOINT_NAMES = tuple(k.label for k in Keypoint)

# Bones drawn for the skeleton (pairs of keypoints).
SKELETON = (
    (Keypoint.NOSE, Keypoint.LEFT_EYE), (Keypoint.NOSE, Keypoint.RIGHT_EYE),
    (Keypoint.LEFT_EYE, Keypoint.LEFT_EAR), (Keypoint.RIGHT_EYE, Keypoint.RIGHT_EAR),
    (Keypoint.LEFT_SHOULDER, Keypoint.RIGHT_SHOULDER),
    (Keypoint.LEFT_SHOULDER, Keypoint.LEFT_ELBOW), (Keypoint.LEFT_ELBOW, Keypoint.LEFT_WRIST),
    (Keypoint.RIGHT_SHOULDER, Keypoint.RIGHT_ELBOW), (Keypoint.RIGHT_ELBOW, Keypoint.RIGHT_WRIST),
    (Keypoint.LEFT_SHOULDER, Keypoint.LEFT_HIP), (Keypoint.RIGHT_SHOULDER, Keypoint.RIGHT_HIP),
    (Keypoint.LEFT_HIP, Keypoint.RIGHT_HIP),
    (Keypoint.LEFT_HIP, Keypoint.LEFT_KNEE), (Keypoint.LEFT_KNEE, Keypoint.LEFT_ANKLE),
    (Keypoint.RIGHT_HIP, Keypoint.RIGHT_KNEE), (Keypoint.RIGHT_KNEE, Keypoint.RIGHT_ANKLE),
)

# Keypoints scored below this are not drawn (MoveNet's own guess at "not seen"): `lalelu pose` and the window.
DRAW_MIN_SCORE = 0.3


@dataclass
class Person:
    """One detected person.

    keypoints: float32 array (17, 3) of (x, y, score), x and y in the source frame's pixels.
    score: the person's overall score (mean keypoint score for single-pose models).
    box: (x0, y0, x1, y1) in source pixels for multi-pose models, else None.
    """

    keypoints: np.ndarray
    score: float
    box: tuple[float, float, float, float] | None = None

    def to_json(self) -> dict:
        out = {
            "score": round(float(self.score), 4),
            "keypoints": [
                {"name": n, "x": round(float(x), 2), "y": round(float(y), 2), "score": round(float(s), 4)}
                for n, (x, y, s) in zip(KEYPOINT_NAMES, self.keypoints)
            ],
        }
        if self.box is not None:
            out["box"] = [round(float(v), 2) for v in self.box]
        return out
