"""How a limb moves through its strokes: piecewise trajectories built from what real strokes do.

A hand stroke (body units, y down): from the top of its backswing the wrist accelerates into the impact
(position ~ u^shape, fastest at the end), stops within a few tens of milliseconds (the stick's impact; the
bottom is the impact time) and rebounds upwards at a share of its impact speed (or, as an air drummer
with nothing to bounce off does, stays at the bottom for a moment and lifts off slowly), then rises, travelling
sideways to the next drum, to the top of the next stroke. Before the first stroke of a phrase the hand
lifts from rest (and often pauses at the top, sometimes inside a cymbal's zone, with a small overshoot
that settles back down: a soft, slow downward motion that is no stroke); after the last one it drops to
rest, slowing smoothly to a stop (a soft landing, not a hit). A foot lifts and stamps down onto the floor,
stopping dead.

Everything is vectorised: `Trajectory.at(times)` evaluates a limb at any times (frames, or the sub-frames
of an exposure) in one pass over its segments.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

# segment kinds
HERMITE, POWER, HOLD, EASE = 0, 1, 2, 3


@dataclass(frozen=True)
class Stroke:
    t: float                 # impact (bottom) time, s
    limb: str                # right_hand | left_hand | right_foot | left_foot
    drum: str
    x: float                 # impact position, body units (feet: x is ignored, y = 0 is the floor)
    y: float
    speed: float             # downward speed into the impact (its peak), shoulder widths / s
    height: float            # wanted backswing height above the impact, shoulder widths
    shape: float = 2.0       # exponent of the descent (> 1: accelerating into the impact)
    decel_s: float = 0.02    # the wrist stops within this after the speed peak (the bottom is the impact)
    rebound: float = 0.5     # upward speed right after the impact, share of the impact speed
    rebound_s: float = 0.02
    hold_s: float = 0.0      # the wrist stops dead at the bottom and stays this long before it rebounds (an air
                             # drummer who stops the stick: nothing bounces it back)
    pause_s: float = 0.0     # held at the top of the backswing before the downstroke
    settle: float = 0.0      # overshoot above the top that settles back down during the pause
    top_dx: float = 0.0      # the downstroke comes in on an arc: its top is this far sideways
    first_after_rest: bool = False
    last_before_rest: bool = False
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class RestPlan:
    """Where a limb rests between phrases and how it gets there and back."""
    x: float
    y: float
    drop_s: float = 0.4      # the drop to rest after a phrase
    drop_skew: float = 0.8   # < 1: falls fast and is caught gently
    lift_s: float = 0.5      # the lift from rest before a phrase
    after_s: float = 0.15    # the rebound settles for this long before the drop


@dataclass
class Trajectory:
    """A limb's path: segments (t0, t1, kind, params) covering time; before the first and after the last
    the limb is at rest."""

    rest: tuple[float, float]
    segs_t: list[tuple[float, float]] = field(default_factory=list)
    segs_kind: list[int] = field(default_factory=list)
    segs_p: list[tuple[float, ...]] = field(default_factory=list)
    spans: list[tuple[float, float, str]] = field(default_factory=list)   # (t0, t1, backswing|drop)

    def add(self, t0: float, t1: float, kind: int, params: tuple[float, ...]) -> None:
        if t1 > t0:
            self.segs_t.append((t0, t1))
            self.segs_kind.append(kind)
            self.segs_p.append(params)

    def at(self, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(x, y) at the given times (sorted ascending)."""
        times = np.asarray(times, np.float64)
        x = np.full(times.shape, self.rest[0])
        y = np.full(times.shape, self.rest[1])
        if not self.segs_t:
            return x, y
        starts = [t0 for t0, _ in self.segs_t[1:]] + [np.inf]
        for i, ((t0, t1), kind, p) in enumerate(zip(self.segs_t, self.segs_kind, self.segs_p)):
            i0, i1, i2 = np.searchsorted(times, (t0, t1, starts[i]), side="left")
            if i1 > i0:
                u = (times[i0:i1] - t0) / (t1 - t0)
                x[i0:i1], y[i0:i1] = _evaluate(kind, p, u, t1 - t0)
            if i2 > i1:           # between segments the limb stays where the last one left it
                x[i1:i2], y[i1:i2] = self._end_point(i)
        return x, y

    def _end_point(self, i: int) -> tuple[float, float]:
        (t0, t1), kind, p = self.segs_t[i], self.segs_kind[i], self.segs_p[i]
        x, y = _evaluate(kind, p, np.array([1.0]), t1 - t0)
        return float(x[0]), float(y[0])


def _evaluate(kind: int, p: tuple[float, ...], u: np.ndarray, dur: float) -> tuple[np.ndarray, np.ndarray]:
    if kind == HERMITE:
        x0, y0, vx0, vy0, x1, y1, vx1, vy1 = p
        u2, u3 = u * u, u * u * u
        h00, h10, h01, h11 = 2 * u3 - 3 * u2 + 1, u3 - 2 * u2 + u, -2 * u3 + 3 * u2, u3 - u2
        return (h00 * x0 + h10 * dur * vx0 + h01 * x1 + h11 * dur * vx1,
                h00 * y0 + h10 * dur * vy0 + h01 * y1 + h11 * dur * vy1)
    if kind == POWER:
        x0, y0, x1, y1, shape = p
        s = u ** shape
        sx = u * u * (3.0 - 2.0 * u)
        return x0 + (x1 - x0) * sx, y0 + (y1 - y0) * s
    if kind == HOLD:
        x0, y0, settle, drift = p
        bump = np.sin(np.pi * u) ** 2
        return np.full(u.shape, x0), y0 - settle * bump + drift * u
    if kind == EASE:
        x0, y0, x1, y1, skew = p
        w = u ** skew
        s = w * w * (3.0 - 2.0 * w)
        return x0 + (x1 - x0) * s, y0 + (y1 - y0) * s
    raise ValueError(kind)


def _descent(s: Stroke, room: float) -> tuple[float, float]:
    """(duration, height) of a stroke's accelerating descent, which takes at most `room` seconds: the
    descent's end speed is the stroke's speed, so a stroke with less time is lower."""
    v, tau, p = s.speed, s.decel_s, s.shape
    stop = v * tau * 0.5                                  # the distance of the stop at the bottom
    dur = tau + p * max(s.height - stop, 0.02) / v
    dur = min(dur, room)
    height = v * (dur - tau) / p + stop
    return dur, max(height, stop + 0.01)


def build_trajectory(strokes: list[Stroke], rest: RestPlan, feet: bool = False) -> Trajectory:
    """The path of one limb through its strokes (sorted by time). Strokes flagged first_after_rest start
    with a lift from rest; those flagged last_before_rest end with a drop to rest."""
    traj = Trajectory(rest=(rest.x, rest.y))
    strokes = sorted(strokes, key=lambda s: s.t)
    prev_t = -math.inf
    px, py, pvx, pvy = rest.x, rest.y, 0.0, 0.0      # where the limb is at prev_t, and its velocity
    at_rest = True
    for i, s in enumerate(strokes):
        gap = s.t - prev_t
        if at_rest:
            room = 0.6 * (gap if math.isfinite(gap) else 10.0)
            dur, height = _descent(s, min(room, 0.35))
        else:
            dur, height = _descent(s, 0.55 * gap)
        top_x, top_y = s.x + s.top_dx, s.y - height
        t_top = s.t - dur                                   # the descent starts here
        pause = s.pause_s
        if at_rest:
            lift = rest.lift_s
            t_lift = t_top - pause - lift
            if math.isfinite(prev_t) and t_lift < prev_t + 0.05:   # no time for the whole lift
                t_lift = prev_t + 0.05
                lift = max(t_top - pause - t_lift, 0.08)
                pause = max(t_top - t_lift - lift, 0.0)
            traj.add(t_lift, t_lift + lift, HERMITE, (px, py, 0.0, 0.0, top_x, top_y, 0.0, 0.0))
        else:
            up_room = t_top - prev_t
            pause = min(pause, max(0.0, up_room - 0.35 * gap))
            t_up_end = t_top - pause
            up = t_up_end - prev_t
            # a rebound that would fly far above the top is damped: the player catches the stick
            rise = py - top_y
            if pvy < 0.0 and up > 0.0 and -pvy * up * 0.5 > 1.2 * max(rise, 0.02):
                pvy = -2.4 * max(rise, 0.02) / up
            traj.add(prev_t, t_up_end, HERMITE, (px, py, pvx, pvy, top_x, top_y, 0.0, 0.0))
        if pause > 0.0:
            traj.add(t_top - pause, t_top, HOLD, (top_x, top_y, s.settle, 0.0))
        if not feet:
            # the top of the backswing, and the slow start of the descent: nothing may sound here
            traj.spans.append((t_top - pause - 0.05, t_top + 0.3 * dur, "backswing"))
        # the accelerating descent, the stop at the bottom (the impact), the rebound
        v, tau = s.speed, s.decel_s
        y_a = s.y - v * tau * 0.5
        traj.add(t_top, s.t - tau, POWER, (top_x, top_y, s.x, y_a, max(1.0, v * (dur - tau) / max(y_a - top_y, 1e-3))))
        traj.add(s.t - tau, s.t, HERMITE, (s.x, y_a, 0.0, v, s.x, s.y, 0.0, 0.0))
        rv = s.rebound * v
        y_b = s.y - rv * s.rebound_s * 0.5
        t_up = s.t
        # a held stroke stays down at most a quarter of the way to the limb's next stroke
        hold = min(s.hold_s, 0.25 * (strokes[i + 1].t - s.t)) if i + 1 < len(strokes) else s.hold_s
        if hold > 0.0:
            traj.add(s.t, s.t + hold, HOLD, (s.x, s.y, 0.0, 0.0))
            t_up = s.t + hold
        traj.add(t_up, t_up + s.rebound_s, HERMITE, (s.x, s.y, 0.0, 0.0, s.x, y_b, 0.0, -rv))
        prev_t = t_up + s.rebound_s
        px, py, pvx, pvy = s.x, y_b, 0.0, -rv
        at_rest = False
        nxt = strokes[i + 1] if i + 1 < len(strokes) else None
        if s.last_before_rest or nxt is None:
            # the rebound dies out a little above the bottom, then the limb drops to rest
            settle_y = s.y - min(0.5 * rv * rest.after_s * 0.5, 0.25)
            t_settle = prev_t + rest.after_s
            traj.add(prev_t, t_settle, HERMITE, (px, py, 0.0, pvy, s.x, settle_y, 0.0, 0.0))
            if abs(settle_y - rest.y) < 0.03 and abs(s.x - rest.x) < 0.03:   # a foot: back on the floor
                px, py, pvx, pvy = rest.x, rest.y, 0.0, 0.0
                prev_t, at_rest = t_settle, True
                continue
            t_drop_end = t_settle + rest.drop_s
            if nxt is not None:
                t_drop_end = min(t_drop_end, nxt.t - 0.3)
            if t_drop_end > t_settle + 0.1:
                traj.add(t_settle, t_drop_end, EASE, (s.x, settle_y, rest.x, rest.y, rest.drop_skew))
                if rest.y - settle_y > 0.1:
                    traj.spans.append((t_settle, t_drop_end + 0.1, "drop"))
                px, py, pvx, pvy = rest.x, rest.y, 0.0, 0.0
                prev_t = t_drop_end
                at_rest = True
            else:
                px, py, pvx, pvy = s.x, settle_y, 0.0, 0.0
                prev_t = t_settle
    return traj


def descent_speed_profile_check(s: Stroke) -> float:
    """The peak downward speed the built trajectory reaches (for tests of the stroke model)."""
    traj = build_trajectory([s], RestPlan(s.x, s.y + 0.3))
    t = np.arange(s.t - 0.5, s.t + 0.05, 0.0005)
    _, y = traj.at(t)
    return float(np.max(np.diff(y) / 0.0005))
