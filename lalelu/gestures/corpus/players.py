"""A drawn player: where they put each drum, how they stroke, how loud, where they rest, their body and camera.

Everything comes from one seeded generator, so a take is the same every time it is made.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from lalelu.gestures.corpus.body import Body
from lalelu.gestures.corpus.kinematics import RestPlan, Stroke
from lalelu.gestures.kit import Kit

HANDS = ("right_hand", "left_hand")
FEET = ("right_foot", "left_foot")


@dataclass(frozen=True)
class Camera:
    """What the camera does to the picture (and, through the pose model, to the keypoints)."""
    fps: float = 100.0
    exposure_s: float = 0.004      # motion blur: the frame averages the scene over this long
    exposure_end: float = 1.0      # where the frame time sits in the exposure: 1 = at its end, 0 = at its start
    sensor_noise: float = 3.0      # std of the sensor noise, 8-bit levels
    jpeg: int = 85                 # JPEG quality the frames went through (0: none)
    light: float = 0.0             # relative change of the light over the take (auto exposure, a cloud)
    width: int = 640
    height: int = 480


@dataclass
class Player:
    kit: Kit
    offsets: dict[str, tuple[float, float]]      # the player's own place for each hand drum
    scatter: float                               # stroke-to-stroke scatter of where a hand lands
    speed_range: tuple[float, float]             # impact speed of the softest and the loudest stroke
    height_range: tuple[float, float]            # backswing height of the softest and the loudest
    shape: tuple[float, float]                   # exponent of the accelerating descent (range)
    decel: tuple[float, float]                   # stop time at the bottom (range), s
    rebound: tuple[float, float]                 # rebound share of the impact speed (range)
    timing_sd: float                             # how far off the grid the player plays, s
    rest: dict[str, RestPlan]
    rest_gap: float                              # gaps longer than this: the hand drops to rest
    foot_speed: tuple[float, float]
    foot_lift: tuple[float, float]
    settle: float                                # typical overshoot at the top of a backswing
    arc: float = 0.07                            # how far sideways a downstroke starts from where it lands
    rng: np.random.Generator = field(repr=False, default=None)

    def stroke(self, t: float, limb: str, drum: str, loud: float, **kw) -> Stroke:
        """A stroke of loudness 0 (ghost) .. 1 (accent) at time t (before the player's timing error)."""
        rng = self.rng
        loud = float(np.clip(loud + rng.normal(0.0, 0.05), 0.0, 1.0))
        t = t + rng.normal(0.0, self.timing_sd)
        if limb.endswith("foot"):
            speed = self.foot_speed[0] + (self.foot_speed[1] - self.foot_speed[0]) * loud
            height = self.foot_lift[0] + (self.foot_lift[1] - self.foot_lift[0]) * loud
            args = dict(shape=rng.uniform(1.5, 2.5), decel_s=rng.uniform(0.006, 0.016), rebound=rng.uniform(0.0, 0.1),
                        rebound_s=0.015)
            args.update(kw)
            return Stroke(t, limb, drum, 0.0, 0.0, speed, height, **args)
        cx, cy = self.kit.zone(drum).center
        ox, oy = self.offsets[drum]
        x = cx + ox + rng.normal(0.0, self.scatter)
        y = cy + oy + rng.normal(0.0, self.scatter)
        speed = self.speed_range[0] + (self.speed_range[1] - self.speed_range[0]) * loud ** 1.2
        speed *= rng.uniform(0.92, 1.08)
        height = self.height_range[0] + (self.height_range[1] - self.height_range[0]) * loud
        height = kw.pop("height", height) * rng.uniform(0.85, 1.15)
        lo, hi = self.decel                      # log-uniform: as many sharp stops as rounded ones
        decel = lo * (hi / lo) ** rng.uniform(0.0, 1.0) * (1.0 + 0.5 * (1.0 - loud))
        args = dict(shape=rng.uniform(*self.shape), decel_s=decel, rebound=rng.uniform(*self.rebound),
                    rebound_s=rng.uniform(0.015, 0.06), top_dx=rng.normal(0.0, self.arc),
                    settle=abs(rng.normal(0.0, self.settle)))
        args.update(kw)
        return Stroke(t, limb, drum, x, y, speed, height, **args)


def draw_player(rng: np.random.Generator, kit: Kit) -> Player:
    offsets = {z.name: (rng.normal(0.0, 0.05), rng.normal(0.0, 0.05)) for z in kit.hand_zones}
    rest = {}
    style = rng.integers(3)       # hands hang at the sides, rest on the thighs, or are held at the waist
    for hand, sign in (("right_hand", -1.0), ("left_hand", 1.0)):
        if style == 0:
            x, y = sign * rng.uniform(0.55, 0.75), rng.uniform(1.45, 1.75)
        elif style == 1:
            x, y = sign * rng.uniform(0.3, 0.5), rng.uniform(1.55, 1.85)
        else:
            x, y = sign * rng.uniform(0.25, 0.5), rng.uniform(1.15, 1.4)
        rest[hand] = RestPlan(x, y, drop_s=rng.uniform(0.22, 0.7), drop_skew=rng.uniform(0.6, 1.2),
                              lift_s=rng.uniform(0.3, 0.8), after_s=rng.uniform(0.08, 0.25))
    for foot in FEET:
        rest[foot] = RestPlan(0.0, 0.0, drop_s=0.05, lift_s=0.15, after_s=0.05)
    # the softest strokes an air drummer plays are still a visible motion of the wrist (a real ghost note
    # moves the stick tip a few cm, the wrist less: air drummers play them bigger)
    v_lo = rng.uniform(2.2, 3.0)
    return Player(
        kit=kit, offsets=offsets, scatter=rng.uniform(0.02, 0.05),
        speed_range=(v_lo, rng.uniform(9.0, 14.0)), height_range=(rng.uniform(0.12, 0.2), rng.uniform(0.7, 1.1)),
        # the stop at the bottom: sharp (a stick on a skin) to rounded (an air stroke the arm itself catches)
        shape=(rng.uniform(1.5, 2.0), rng.uniform(2.2, 3.2)),
        decel=(rng.uniform(0.008, 0.015), rng.uniform(0.04, 0.2)),
        rebound=(rng.uniform(0.15, 0.35), rng.uniform(0.5, 1.0)), timing_sd=rng.uniform(0.004, 0.015),
        rest=rest, rest_gap=rng.uniform(0.9, 2.0), foot_speed=(rng.uniform(2.5, 3.5), rng.uniform(6.0, 10.0)),
        foot_lift=(rng.uniform(0.07, 0.1), rng.uniform(0.15, 0.3)), settle=rng.uniform(0.0, 0.04),
        arc=rng.uniform(0.03, 0.35), rng=rng)


def draw_body(rng: np.random.Generator, camera: Camera, moving: bool = False) -> Body:
    """Proportions, distance and place in the picture; `moving`: the player leans, turns, sways and bobs."""
    upper_arm, forearm = rng.uniform(0.8, 0.95), rng.uniform(0.62, 0.78)
    torso, hip_half = rng.uniform(1.3, 1.6), rng.uniform(0.27, 0.36)
    thigh, shin, neck, head = rng.uniform(0.95, 1.1), rng.uniform(0.95, 1.1), rng.uniform(0.36, 0.46), rng.uniform(0.26, 0.33)
    above = neck + 2.2 * head                      # shoulders -> top of the head
    below = torso + thigh + shin + 0.15            # shoulders -> soles
    walk = rng.uniform(-0.2, 0.25) if moving else 0.0
    # pixels per shoulder width: the player frames themselves head to feet in 70-92 % of the picture's
    # height, nearer or farther (walking in never takes the feet out of the picture)
    scale = rng.uniform(0.70, 0.92) * camera.height / (above + below) / (1.0 + max(walk, 0.0))
    x0 = camera.width * 0.5 + rng.uniform(-0.25, 0.25) * (camera.width - 3.0 * scale)
    free = camera.height - (above + below) * scale * (1.0 + max(walk, 0.0))
    y0 = above * scale + rng.uniform(0.1, 0.9) * max(free, 0.0)
    kw = {}
    if moving:
        kw = dict(sway=rng.uniform(0.1, 0.5), sway_hz=rng.uniform(0.1, 0.4), lean_deg=rng.uniform(5.0, 18.0),
                  lean_hz=rng.uniform(0.08, 0.3), turn_deg=rng.uniform(10.0, 40.0), turn_hz=rng.uniform(0.05, 0.2),
                  turn_bias_deg=rng.uniform(-15.0, 15.0), bob=rng.uniform(0.02, 0.08), bob_hz=rng.uniform(0.5, 2.0),
                  walk=walk)
    else:
        kw = dict(sway=rng.uniform(0.0, 0.1), lean_deg=rng.uniform(0.0, 4.0), turn_deg=rng.uniform(0.0, 8.0),
                  turn_bias_deg=rng.uniform(-8.0, 8.0), bob=rng.uniform(0.0, 0.03), bob_hz=rng.uniform(0.5, 2.0))
    return Body(upper_arm=upper_arm, forearm=forearm, torso=torso, hip_half=hip_half, thigh=thigh, shin=shin,
                stance=rng.uniform(0.22, 0.45), neck=neck, head=head, reach=rng.uniform(0.4, 0.8), x0=x0, y0=y0,
                scale=scale,
                phase=rng.uniform(0.0, 6.283), **kw)


def draw_camera(rng: np.random.Generator, fps: float | None = None) -> Camera:
    fps = fps or float(rng.choice([30.0, 60.0, 100.0]))
    period = 1.0 / fps
    exposure = min(rng.uniform(0.001, 0.010), 0.9 * period)
    width, height = ((640, 480), (640, 480), (800, 600))[rng.integers(3)]
    return Camera(fps=fps, exposure_s=exposure, exposure_end=float(rng.choice([1.0, 1.0, 0.5, 0.0])),
                  sensor_noise=rng.uniform(0.5, 10.0), jpeg=int(rng.integers(40, 96)) if rng.random() < 0.8 else 0,
                  light=rng.uniform(0.0, 0.35), width=width, height=height)
