"""The 17 COCO keypoints MoveNet predicts, and the Person record every backend returns."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

KEYPOINT_NAMES = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle",
)
KP = {name: i for i, name in enumerate(KEYPOINT_NAMES)}

# Bones drawn for the skeleton (pairs of keypoint indices).
SKELETON = (
    (0, 1), (0, 2), (1, 3), (2, 4), (5, 6), (5, 7), (7, 9), (6, 8), (8, 10),
    (5, 11), (6, 12), (11, 12), (11, 13), (13, 15), (12, 14), (14, 16),
)


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
