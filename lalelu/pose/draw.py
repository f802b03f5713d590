"""Drawing skeletons onto BGR images with OpenCV, for `lalelu pose --out` (the window draws its own, scaled)."""

from __future__ import annotations

import cv2
import numpy as np

from lalelu.pose.keypoints import SKELETON, Person

MIN_SCORE = 0.3
_BONE = (80, 220, 80)
_JOINT = (0, 200, 255)


def draw_people(image: np.ndarray, people: list[Person], min_score: float = MIN_SCORE) -> np.ndarray:
    thickness = max(2, image.shape[1] // 320)
    for person in people:
        kp = person.keypoints
        for a, b in SKELETON:
            if kp[a, 2] >= min_score and kp[b, 2] >= min_score:
                cv2.line(image, (int(kp[a, 0]), int(kp[a, 1])), (int(kp[b, 0]), int(kp[b, 1])), _BONE, thickness,
                         cv2.LINE_AA)
        for x, y, s in kp:
            if s >= min_score:
                cv2.circle(image, (int(x), int(y)), thickness + 2, _JOINT, -1, cv2.LINE_AA)
        if person.box is not None:
            x0, y0, x1, y1 = (int(v) for v in person.box)
            cv2.rectangle(image, (x0, y0), (x1, y1), (255, 160, 0), 1)
    return image
