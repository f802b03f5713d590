"""Drawing skeletons onto BGR images with OpenCV: `lalelu pose --out`, and the window's live picture (scaled)."""

from __future__ import annotations

import cv2
import numpy as np

from lalelu.core.keypoints import DRAW_MIN_SCORE, SKELETON, Person

_BONE = (80, 220, 80)
_JOINT = (0, 200, 255)


def draw_skeleton(image: np.ndarray, keypoints: np.ndarray, thickness: int, joint_radius: int, scale: float = 1.0,
                  min_score: float = DRAW_MIN_SCORE, bone=_BONE, joint=_JOINT) -> None:
    """Bones and joints of one (17, 3) keypoint array whose points scored at least min_score, in place;
    `scale` maps the keypoints' pixels to the image's (a resized frame)."""
    pts = [(int(x * scale), int(y * scale)) for x, y, _ in keypoints]
    seen = keypoints[:, 2] >= min_score
    for a, b in SKELETON:
        if seen[a] and seen[b]:
            cv2.line(image, pts[a], pts[b], bone, thickness, cv2.LINE_AA)
    for p, s in zip(pts, seen):
        if s:
            cv2.circle(image, p, joint_radius, joint, -1, cv2.LINE_AA)


def draw_people(image: np.ndarray, people: list[Person], min_score: float = DRAW_MIN_SCORE) -> np.ndarray:
    thickness = max(2, image.shape[1] // 320)
    for person in people:
        draw_skeleton(image, person.keypoints, thickness, thickness + 2, min_score=min_score)
        if person.box is not None:
            x0, y0, x1, y1 = (int(v) for v in person.box)
            cv2.rectangle(image, (x0, y0), (x1, y1), (255, 160, 0), 1)
    return image
