"""A front-facing mannequin drawn with OpenCV, posed by its wrists and feet.

The figure stands facing the camera, so its left side is on the image's right (as MoveNet expects).
Geometry is in body-normalised units (origin = midpoint of the shoulders, unit = shoulder width, y down),
the same units the kit's zone centres use, mapped to pixels by `Mannequin.to_px`.

Drawing is cheap, so that it fits beside the capture thread's other work at 100 fps: a cached background is
copied, then a few filled shapes are drawn on it. The look (long sleeves, a vest of another colour, outlined
tapered arms, drumsticks) was chosen by measuring MoveNet Lightning on it: see the comments by the constants.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from lalelu.core.keypoints import Keypoint

# Plain colours (BGR).
BACKGROUND = (205, 200, 190)
SKIN = (140, 175, 225)
SHIRT = (50, 50, 150)    # a vest in a colour that the sleeves stand out against
TROUSERS = (70, 60, 50)
SHOES = (30, 30, 30)
HAIR = (40, 50, 70)
EYE = (40, 30, 30)
SLEEVE = (170, 80, 40)   # long sleeves: MoveNet finds the wrist where the sleeve meets the hand
OUTLINE = (40, 35, 30)   # a dark edge keeps an arm visible in front of the body
STICK_COLOUR = (120, 180, 210)

# Body proportions in shoulder widths.
UPPER_ARM = 0.87         # reach 1.54: the kit's far zones (snare for the right hand) stay reachable
FOREARM = 0.67           # longer forearms make MoveNet place the wrist short of the hand
HIP_HALF_WIDTH = 0.32
TORSO_LENGTH = 1.45      # shoulders -> hips
THIGH = 1.05
SHIN = 1.05
NECK = 0.42              # shoulders -> chin
SHOULDER_DROP = 0.0      # arm joints below the shoulder keypoints (0.07 fixes a bias of the estimated shoulders
                         # but, measured end to end, costs more strokes than it saves)
HEAD_RADIUS = 0.30
UPPER_ARM_WIDTH = 0.30    # tapered arms: MoveNet then tells the elbow from the wrist more often
FOREARM_WIDTH = 0.18
HAND_RADIUS = 0.16
HAND_OFFSET = 0.16        # wrist -> centre of the hand
STICK = 0.8               # drumstick length: MoveNet scores a hand that holds one higher (wrist score 0.27 -> 0.43
                          # when the look was chosen)


@dataclass(frozen=True)
class BodyPose:
    """What moves: wrists (body units) and how far each foot is lifted (body units, >= 0)."""

    left_wrist: tuple[float, float]
    right_wrist: tuple[float, float]
    left_foot_lift: float = 0.0
    right_foot_lift: float = 0.0


def rest_pose() -> BodyPose:
    return BodyPose(left_wrist=(0.75, 1.1), right_wrist=(-0.75, 1.1))


def elbow_position(shoulder: np.ndarray, wrist: np.ndarray, side: float) -> tuple[np.ndarray, np.ndarray]:
    """Two-bone inverse kinematics: (elbow, reachable wrist); the elbow bends outwards (side = +1 or -1)."""
    reach = UPPER_ARM + FOREARM - 1e-3
    delta = wrist - shoulder
    dist = float(np.hypot(*delta))
    if dist > reach:  # out of reach: the arm points at the target, fully stretched
        wrist = shoulder + delta * (reach / dist)
        dist = reach
    dist = max(dist, abs(UPPER_ARM - FOREARM) + 1e-3)
    direction = delta / max(float(np.hypot(*delta)), 1e-9)
    cos_a = (UPPER_ARM ** 2 + dist ** 2 - FOREARM ** 2) / (2 * UPPER_ARM * dist)
    angle = float(np.arccos(np.clip(cos_a, -1.0, 1.0)))
    candidates = []
    for sign in (1.0, -1.0):
        c, s = np.cos(sign * angle), np.sin(sign * angle)
        rotated = np.array([c * direction[0] - s * direction[1], s * direction[0] + c * direction[1]])
        candidates.append(shoulder + UPPER_ARM * rotated)
    # The natural one: out from the body and below the line from shoulder to wrist.
    elbow = max(candidates, key=lambda e: side * (e[0] - shoulder[0]) + 0.8 * (e[1] - shoulder[1]))
    return elbow, wrist


def _ipt(xy) -> tuple[int, int]:
    """A pixel position rounded to the integer point OpenCV draws at."""
    return int(round(xy[0])), int(round(xy[1]))


class Mannequin:
    """Renders the figure into frames of `size` (width, height)."""

    def __init__(self, size: tuple[int, int] = (640, 480)):
        self.width, self.height = int(size[0]), int(size[1])
        # Scale so that head to feet (about 4.6 shoulder widths) fills ~85% of the height.
        self.unit = min(self.height * 0.185, self.width * 0.2)
        self.origin = np.array([self.width / 2.0, self.height * 0.29])
        self._background = np.empty((self.height, self.width, 3), np.uint8)
        self._background[:] = BACKGROUND

    # --- geometry -------------------------------------------------------------------------------
    def to_px(self, xy) -> np.ndarray:
        """Body units -> pixel coordinates (float)."""
        return self.origin + np.asarray(xy, dtype=np.float64) * self.unit

    def joints(self, pose: BodyPose) -> dict[str, np.ndarray]:
        """All joint positions in body units (keypoint names plus a few drawing points)."""
        j: dict[str, np.ndarray] = {}
        # The drawing's frame has the arm joints at (+-0.5, 0); the shoulder keypoints sit SHOULDER_DROP
        # above them, and the body frame (the pose's and the kit's units) is centred between the keypoints.
        j["left_arm_root"] = np.array([0.5, 0.0])
        j["right_arm_root"] = np.array([-0.5, 0.0])
        j["left_shoulder"] = np.array([0.5, -SHOULDER_DROP])
        j["right_shoulder"] = np.array([-0.5, -SHOULDER_DROP])
        for side_name, side, target in (("left", 1.0, pose.left_wrist), ("right", -1.0, pose.right_wrist)):
            target = np.asarray(target, float) + np.array([0.0, -SHOULDER_DROP])
            elbow, wrist = elbow_position(j[f"{side_name}_arm_root"], target, side)
            j[f"{side_name}_elbow"] = elbow
            j[f"{side_name}_wrist"] = wrist
            forearm = wrist - elbow
            j[f"{side_name}_hand"] = wrist + forearm / max(float(np.hypot(*forearm)), 1e-9) * HAND_OFFSET
        for side_name, side, lift in (("left", 1.0, pose.left_foot_lift), ("right", -1.0, pose.right_foot_lift)):
            hip = np.array([side * HIP_HALF_WIDTH, TORSO_LENGTH])
            # Seen from the front, a leg lifting forward shortens: the knee rises by about half the lift.
            knee = hip + np.array([side * 0.04 + side * 0.10 * lift, THIGH - 0.5 * lift])
            ankle = hip + np.array([side * 0.08 + side * 0.05 * lift, THIGH + SHIN - lift])
            j[f"{side_name}_hip"], j[f"{side_name}_knee"], j[f"{side_name}_ankle"] = hip, knee, ankle
            j[f"{side_name}_toe"] = ankle + np.array([side * 0.12, 0.12])
        chin = np.array([0.0, -NECK])
        head = chin + np.array([0.0, -HEAD_RADIUS * 1.05])
        j["head"] = head
        j["nose"] = head + np.array([0.0, 0.06])
        j["left_eye"] = head + np.array([0.11, -0.03])
        j["right_eye"] = head + np.array([-0.11, -0.03])
        j["left_ear"] = head + np.array([HEAD_RADIUS * 0.97, 0.0])
        j["right_ear"] = head + np.array([-HEAD_RADIUS * 0.97, 0.0])
        return j

    def keypoints(self, pose: BodyPose) -> np.ndarray:
        """The true (17, 2) keypoint positions in pixels, MoveNet order."""
        j = self.joints(pose)
        out = np.zeros((17, 2), np.float32)
        for keypoint in Keypoint:
            out[keypoint] = self.to_px(j[keypoint.label])
        return out

    # --- drawing --------------------------------------------------------------------------------
    def render(self, pose: BodyPose, onto: np.ndarray | None = None) -> np.ndarray:
        """Draw the figure into a new frame (over a copy of `onto`, e.g. someone else drawn behind it)."""
        img = (self._background if onto is None else onto).copy()
        j = {name: self.to_px(p) for name, p in self.joints(pose).items()}
        u = self.unit

        def pt(name: str) -> tuple[int, int]:
            return _ipt(j[name])

        def limb(a: str, b: str, thickness: float, colour) -> None:
            cv2.line(img, pt(a), pt(b), colour, max(1, int(thickness * u)), cv2.LINE_AA)

        # Legs (behind the torso).
        for s in ("left", "right"):
            limb(f"{s}_hip", f"{s}_knee", 0.30, TROUSERS)
            limb(f"{s}_knee", f"{s}_ankle", 0.24, TROUSERS)
            limb(f"{s}_ankle", f"{s}_toe", 0.16, SHOES)
        # Torso: a trapezoid from the shoulders to the hips.
        torso = np.array([
            j["left_arm_root"] + [0.08 * u, -0.05 * u], j["right_arm_root"] + [-0.08 * u, -0.05 * u],
            j["right_hip"] + [-0.14 * u, 0.05 * u], j["left_hip"] + [0.14 * u, 0.05 * u],
        ]).round().astype(np.int32)
        cv2.fillConvexPoly(img, torso, SHIRT, cv2.LINE_AA)
        # Neck and head.
        cv2.line(img, pt("head"), _ipt(self.origin - [0.0, 0.05 * u]), SKIN, int(0.22 * u), cv2.LINE_AA)
        head_r = int(round(HEAD_RADIUS * u))
        for s in ("left", "right"):
            cv2.circle(img, pt(f"{s}_ear"), max(2, int(0.07 * u)), SKIN, -1, cv2.LINE_AA)
        cv2.ellipse(img, pt("head"), (head_r, int(head_r * 1.12)), 0, 0, 360, SKIN, -1, cv2.LINE_AA)
        cv2.ellipse(img, pt("head"), (head_r, int(head_r * 1.12)), 0, 190, 350, HAIR, -1, cv2.LINE_AA)
        for s in ("left", "right"):
            cv2.circle(img, pt(f"{s}_eye"), max(1, int(0.04 * u)), EYE, -1, cv2.LINE_AA)
        cv2.circle(img, pt("nose"), max(1, int(0.03 * u)), (100, 130, 190), -1, cv2.LINE_AA)
        mouth = _ipt(j["head"] + [0.0, 0.15 * u])
        cv2.ellipse(img, mouth, (int(0.08 * u), max(1, int(0.02 * u))), 0, 0, 360, (90, 90, 160), -1, cv2.LINE_AA)
        # Arms in front of the torso: long sleeves, then the hand.
        for s in ("left", "right"):
            limb(f"{s}_arm_root", f"{s}_elbow", UPPER_ARM_WIDTH + 0.05, OUTLINE)
            limb(f"{s}_elbow", f"{s}_wrist", FOREARM_WIDTH + 0.05, OUTLINE)
        for s in ("left", "right"):
            limb(f"{s}_arm_root", f"{s}_elbow", UPPER_ARM_WIDTH, SLEEVE)
            limb(f"{s}_elbow", f"{s}_wrist", FOREARM_WIDTH, SLEEVE)
            cv2.circle(img, pt(f"{s}_hand"), int(HAND_RADIUS * u), SKIN, -1, cv2.LINE_AA)
            # The stick continues the forearm (whose drawn length is always FOREARM).
            tip = j[f"{s}_hand"] + (j[f"{s}_wrist"] - j[f"{s}_elbow"]) * (STICK / FOREARM)
            cv2.line(img, pt(f"{s}_hand"), _ipt(tip), STICK_COLOUR, max(2, int(0.06 * u)), cv2.LINE_AA)
        return img
