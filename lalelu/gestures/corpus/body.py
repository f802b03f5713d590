"""A player's body: its proportions, how it stands, leans and turns, and the 17 keypoints it shows a camera.

The player's own frame is body units (origin = midpoint of the shoulders, unit = shoulder width, x to
the image's right, y down, facing the camera: the player's left is +x), the frame the kit's zones are
given in. The wrists go where the strokes put them (the elbow follows by two-bone inverse kinematics,
bending outwards and down), the ankles lift with the feet. The body then leans sideways (a roll about the
hips), turns (a yaw: points in front of the body, the hands most, swing across), bobs with the beat, and
is placed in the image at its distance (pixels per shoulder width), all vectorised over time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lalelu.core.keypoints import Keypoint

# depth in front of the body (shoulder widths) of each keypoint: turning swings the hands across most
_DEPTH = np.zeros(17)
_DEPTH[[Keypoint.LEFT_WRIST, Keypoint.RIGHT_WRIST]] = 0.6
_DEPTH[[Keypoint.LEFT_ELBOW, Keypoint.RIGHT_ELBOW]] = 0.3
_DEPTH[[Keypoint.NOSE]] = 0.25
_DEPTH[[Keypoint.LEFT_EYE, Keypoint.RIGHT_EYE]] = 0.2
_DEPTH[[Keypoint.LEFT_KNEE, Keypoint.RIGHT_KNEE]] = 0.1


@dataclass(frozen=True)
class Body:
    """Proportions (shoulder widths) and how the body moves in the image."""
    upper_arm: float = 0.87
    forearm: float = 0.70
    torso: float = 1.45          # shoulders -> hips
    hip_half: float = 0.32
    thigh: float = 1.05
    shin: float = 1.05
    stance: float = 0.34         # ankles this far from the middle
    neck: float = 0.42
    head: float = 0.30
    reach: float = 0.6           # how far in front of the body the hands play
    # placement and motion
    x0: float = 320.0            # shoulder midpoint, pixels
    y0: float = 150.0
    scale: float = 80.0          # pixels per shoulder width (distance to the camera)
    sway: float = 0.0            # sideways travel, shoulder widths
    sway_hz: float = 0.2
    lean_deg: float = 0.0        # sideways lean amplitude (roll about the hips)
    lean_hz: float = 0.15
    turn_deg: float = 0.0        # turn amplitude (yaw)
    turn_hz: float = 0.1
    turn_bias_deg: float = 0.0   # the player stands turned by this much
    bob: float = 0.0             # up-down with the beat, shoulder widths
    bob_hz: float = 1.0
    walk: float = 0.0            # relative change of distance over the take (walking in and out)
    phase: float = 0.0           # phase of the slow motions, radians


def _ik3(sx, sy, wx, wy, wz, a: float, b: float, side: float):
    """A two-bone arm in 3D (z towards the camera) from the shoulder (sx, sy, 0) to the wrist (wx, wy, wz):
    the reachable wrist and the elbow, which hangs down, a little out and back (a real arm seen from the
    front: a raised forearm comes towards the camera instead of folding flat against the upper arm)."""
    dx, dy, dz = wx - sx, wy - sy, wz
    dist = np.sqrt(dx * dx + dy * dy + dz * dz)
    reach = (a + b) * 0.999
    # out of reach in depth first: the hand comes back towards the body before the arm over-stretches
    flat = np.hypot(dx, dy)
    dz = np.where(dist > reach, np.sqrt(np.maximum(reach * reach - flat * flat, 0.0)), dz)
    dist = np.sqrt(dx * dx + dy * dy + dz * dz)
    k = np.where(dist > reach, reach / np.maximum(dist, 1e-9), 1.0)
    dx, dy, dz = dx * k, dy * k, dz * k
    dist = np.clip(dist * k, abs(a - b) + 1e-3, reach)
    ux, uy, uz = dx / dist, dy / dist, dz / dist
    cos_a = np.clip((a * a + dist * dist - b * b) / (2 * a * dist), -1.0, 1.0)
    along, radius = a * cos_a, a * np.sqrt(1.0 - cos_a * cos_a)
    # the elbow's way out of the line shoulder-wrist: as near as it can to down, out and back
    qx, qy, qz = 0.5 * side, 1.0, -0.35
    dot = qx * ux + qy * uy + qz * uz
    px, py, pz = qx - dot * ux, qy - dot * uy, qz - dot * uz
    norm = np.maximum(np.sqrt(px * px + py * py + pz * pz), 1e-6)
    ex = sx + ux * along + px / norm * radius
    ey = sy + uy * along + py / norm * radius
    ez = uz * along + pz / norm * radius
    return ex, ey, ez, sx + dx, sy + dy, dz


def body_points(body: Body, t: np.ndarray, left_wrist, right_wrist, left_lift, right_lift,
                duration: float) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Every keypoint (and the drawing points hands, sticks, toes, head) in the player's own frame, before the
    body's lean and turn: name -> (x, y) arrays over t; "_depth": name -> depth for the arms' points."""
    n = len(t)
    pts: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    one = np.ones(n)
    lwx, lwy = left_wrist
    rwx, rwy = right_wrist
    depth: dict[str, np.ndarray] = {}
    for side, sign, (wx, wy) in (("left", 1.0, (lwx, lwy)), ("right", -1.0, (rwx, rwy))):
        # a raised arm lifts its shoulder a little
        shrug = 0.08 * np.clip(-wy / 1.0, 0.0, 1.0)
        sx, sy = sign * 0.5 * one, -shrug
        # hands that play are in front of the body; hands at rest hang by its sides
        wz = 0.12 + (body.reach - 0.12) * np.clip((1.45 - wy) / 0.35, 0.0, 1.0)
        ex, ey, ez, wx2, wy2, wz2 = _ik3(sx, sy, wx, wy, wz, body.upper_arm, body.forearm, sign)
        pts[f"{side}_shoulder"] = (sx, sy)
        pts[f"{side}_elbow"] = (ex, ey)
        pts[f"{side}_wrist"] = (wx2, wy2)
        depth[f"{side}_elbow"], depth[f"{side}_wrist"] = ez, wz2
        fx, fy, fz = wx2 - ex, wy2 - ey, wz2 - ez
        norm = np.maximum(np.sqrt(fx * fx + fy * fy + fz * fz), 1e-9)
        fx, fy, fz = fx / norm, fy / norm, fz / norm
        pts[f"{side}_hand"] = (wx2 + fx * 0.16, wy2 + fy * 0.16)
        depth[f"{side}_hand"] = wz2 + fz * 0.16
        # the stick leaves the hand along the forearm, tipped forwards and down
        tx, ty, tz = fx, fy + 0.6, fz + 0.5
        tn = np.maximum(np.sqrt(tx * tx + ty * ty + tz * tz), 1e-9)
        pts[f"{side}_stick"] = (wx2 + fx * 0.16 + tx / tn * 0.8, wy2 + fy * 0.16 + ty / tn * 0.8)
        depth[f"{side}_stick"] = wz2 + tz / tn * 0.8
    for side, sign, lift in (("left", 1.0, left_lift), ("right", -1.0, right_lift)):
        hx = sign * body.hip_half * one
        hy = body.torso * one
        kx = hx + sign * (0.03 + 0.10 * lift)
        ky = hy + body.thigh - 0.5 * lift
        ax = sign * body.stance + sign * 0.05 * lift
        ay = hy + body.thigh + body.shin - lift
        pts[f"{side}_hip"] = (hx, hy)
        pts[f"{side}_knee"] = (kx, ky)
        pts[f"{side}_ankle"] = (ax, ay)
        pts[f"{side}_toe"] = (ax + sign * 0.12, ay + 0.12)
    head_y = -(body.neck + body.head * 1.05)
    nod = 0.02 * np.sin(2 * np.pi * body.bob_hz * t + body.phase)
    pts["head"] = (0.0 * one, head_y + nod)
    pts["nose"] = (0.0 * one, head_y + 0.06 + nod)
    pts["left_eye"] = (0.11 * one, head_y - 0.03 + nod)
    pts["right_eye"] = (-0.11 * one, head_y - 0.03 + nod)
    pts["left_ear"] = (body.head * 0.97 * one, head_y + nod)
    pts["right_ear"] = (-body.head * 0.97 * one, head_y + nod)
    pts["_depth"] = depth
    return pts


def place(body: Body, t: np.ndarray, pts: dict, duration: float):
    """Lean, turn, bob and place the points in the image: name -> (x px, y px), and the body frame the
    truth is measured in: (origin x, origin y, pixels per shoulder width) per time."""
    w = 2 * np.pi
    lean = math.radians(body.lean_deg) * np.sin(w * body.lean_hz * t + body.phase)
    yaw = math.radians(body.turn_bias_deg) + math.radians(body.turn_deg) * np.sin(w * body.turn_hz * t + 1.3 * body.phase)
    scale = body.scale * (1.0 + body.walk * (0.5 - 0.5 * np.cos(w * t / max(duration, 1e-3))))
    ox = body.x0 + body.sway * body.scale * np.sin(w * body.sway_hz * t + 0.7 * body.phase)
    oy = body.y0 + body.bob * body.scale * np.sin(w * body.bob_hz * t + body.phase) ** 2
    cy, sy_ = np.cos(yaw), np.sin(yaw)
    cl, sl = np.cos(lean), np.sin(lean)
    out = {}
    hip_y = body.torso
    depths = pts.get("_depth", {})
    for name, xy in pts.items():
        if name == "_depth":
            continue
        x, y = xy
        i = Keypoint[name.upper()] if name.upper() in Keypoint.__members__ else None
        depth = depths[name] if name in depths else (_DEPTH[i] if i is not None else 0.0)
        xr = x * cy + depth * sy_
        # lean: rotate about the hips (the legs stay)
        if name.endswith(("hip", "knee", "ankle", "toe")):
            xl, yl = xr, y
        else:
            dy = y - hip_y
            xl, yl = xr * cl - dy * sl, xr * sl + dy * cl + hip_y
        out[name] = (ox + xl * scale, oy + yl * scale)
    return out


def keypoints_from(placed: dict[str, tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """(n, 17, 2) keypoint pixels from placed points."""
    n = len(next(iter(placed.values()))[0])
    kp = np.zeros((n, 17, 2), np.float64)
    for i in Keypoint:
        kp[:, i, 0], kp[:, i, 1] = placed[i.label]
    return kp
