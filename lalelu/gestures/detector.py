"""Strike detector: keypoints in, drum hits out, once per frame on the hot path.

Each limb (both wrists, both ankles) is tracked in body units (origin = shoulder midpoint, unit = shoulder
width, floored by the torso length when the player turns), so a stroke plays the same near and far from
the camera and as the player moves. A stroke arms when the limb comes down fast enough (its peak downward
speed passes an on-threshold) and far enough; it fires once the speed over the last two frames has fallen
below a share of that peak and the predicted bottom is at most half a frame away (or the limb has stopped
dead, or its speed has collapsed below the kit's release share of the peak). The bottom is where the
fitted downward speed reaches zero: of a cubic through the whole descent (smooth strokes) and of a
parabola through the last few samples (sharp stops), the earlier. Hit.t_ns is that estimate (at most half
a frame ahead; one or two frames back for a stop the fits round off); a hit is emitted on the frame of the
bottom or the next one; under keypoint noise the fits scatter, and a hit may
come up to three frames early or late (`lalelu bench gestures` counts the late ones). Hysteresis (the limb
must rise again, move sideways to another drum, or come to rest, before its next hit) and a refractory
time keep one stroke to one hit. Against keypoint flicker: low scores count as missing, a one-frame spike
is replaced by its neighbours' median, and a jump no limb makes in a frame is ignored unless it persists
for three frames. A limb missing for up to eight frames keeps its history, so a stroke whose fast part
the camera lost still plays when the limb is seen again, even far from where it was lost (once four
frames agree on where it is). The feet are muted while the body travels (walking in or out, turning).

Plain Python floats only: `update` allocates no arrays and never logs (about 20 us a frame for all four
limbs on the development VM, median; `lalelu bench gestures` prints it, BENCHMARKS.md keeps it).
"""

from __future__ import annotations

import math

from lalelu.core.body import SmoothedFrame
from lalelu.core.hits import Hit
from lalelu.core.limbs import Limb
from lalelu.gestures.kit import Kit, Zone

# the order the limbs are stepped in each frame, and so the order of a frame's hits
PLAYING_ORDER = (Limb.RIGHT_HAND, Limb.LEFT_HAND, Limb.RIGHT_FOOT, Limb.LEFT_FOOT)

_SMOOTH_S = 0.04       # span of the centred line fit that gives the stroke's speed and height
_FIT_MAX = 16          # most samples of a descent the bottom-predicting cubic looks at
_FIT_MIN = 5
_MAX_GAP_FRAMES = 8    # a limb missing longer than this starts over (a stroke hidden by a shorter gap still plays)
_BODY_MOTION_S = 0.4   # baseline over which the body's own travel is measured
_ZOOM_LIMIT = 0.25     # relative change of scale per second that means walking in or out (or turning)
_FEET_MUTE_S = 0.4     # feet stay muted this long after the body stops travelling
_FLICKER_JUMP = 0.3    # shoulder widths a limb at rest cannot jump in one frame: a keypoint flicker
_FALLING = 0.6         # the speed over the last two frames is below this share of its peak near the bottom
_STOPPED = 0.2         # the limb moved less than this share of its peak speed in the last frame(s): it stopped
_KEEP_ZONE = 0.1       # shoulder widths of advantage for the drum a hand played last
_SPIKE = 0.08          # shoulder widths off both neighbours (at 100 fps): a one-frame spike
_REARM_SIDEWAYS = 0.3  # moving this far sideways after a hit (to another drum) re-arms the limb
_BRIDGE_FRAMES = 4     # frames that must agree before a limb seen again after going missing joins its history
_SETTLED_S = 0.03      # slower than half the on-speed this long after a hit: the stroke is over, re-arm
_MIN_STOP = 20.0       # shoulder widths / s^2: a stroke stops at least this sharply (its peak speed over the
                       # time from the peak to the bottom); a hand lowered or dropped to rest slows more gently
_FOOT_MAX_LIFT = 1.0   # shoulder widths above where the foot rests that a stomp may start from (knee high): an
                       # ankle keypoint seen higher sits on something else (Thunder puts it on a hand at hip
                       # height for a few frames), and its way back down is no stomp
_FOOT_SIDEWAYS = 0.5   # a stomp comes straight down: its ankle moves sideways at most this share of its drop (a
                       # foot at rest whose ankle keypoint wanders moves as much sideways as down: with this rule
                       # the on-speed can stay low enough for soft pedal strokes without phantom kicks)
_FLOOR_RISE = 0.5      # shoulder widths per second the foot's resting height may rise (follows it down at once)


class _Body(SmoothedFrame):
    """The moving body frame, plus how fast the body travels (a travelling body mutes the feet)."""

    __slots__ = ("hist", "moving_until", "motion_limit")

    def __init__(self, torso_ratio: float, min_score: float, motion_limit: float):
        super().__init__(torso_ratio, min_score)
        self.motion_limit = motion_limit     # shoulder widths per second of travel that mute the feet
        self.hist: list[tuple[float, float, float, float]] = []   # (t, ox, oy, log scale), short
        self.moving_until = -1.0

    def update(self, t: float, rows: list) -> bool:
        if not super().update(t, rows):
            return self.valid
        if self.fresh:
            self.hist.clear()
            self.moving_until = t + _FEET_MUTE_S
        hist = self.hist
        hist.append((t, self.ox, self.oy, math.log(self.scale)))
        while len(hist) > 2 and t - hist[1][0] >= _BODY_MOTION_S:
            hist.pop(0)
        t0, ox0, oy0, ls0 = hist[0]
        span = t - t0
        if span >= _BODY_MOTION_S * 0.75:
            # the body's own travel (shoulder widths per second) and zoom (walking in or out, turning)
            travel = math.hypot(self.ox - ox0, self.oy - oy0) / self.scale / span
            zoom = abs(math.log(self.scale) - ls0) / span
            if travel > self.motion_limit or zoom > _ZOOM_LIMIT:
                self.moving_until = t + _FEET_MUTE_S
        return True


class _Limb:
    """One wrist or ankle: its recent heights, and the state of the stroke it is in."""

    __slots__ = ("name", "index", "foot_zone", "on_speed", "min_travel", "ts", "xs", "ys", "t_last", "alt",
                 "top", "top_i", "peak", "armed", "rearmed", "bottom", "bottom_x", "refractory_until", "n",
                 "v_max", "t_pred", "last_zone", "slow_since", "missing", "alt_after_missing", "t_peak",
                 "floor", "hit_y", "hit_peak")

    def __init__(self, name: Limb, foot_zone: Zone | None, on_speed: float, min_travel: float):
        self.name, self.index = name, int(name.keypoint)
        self.foot_zone = foot_zone   # the zone a foot plays; None for a hand (it plays the nearest hand zone)
        self.on_speed, self.min_travel = on_speed, min_travel
        self.ts: list[float] = []
        self.xs: list[float] = []
        self.ys: list[float] = []
        self.n = 0                   # samples pushed since the last reset (indexes the descent start)
        self.t_last = -1.0
        self.alt: list[tuple[float, float, float]] = []   # rejected samples that agree with each other
        self.missing = False         # the latest frame had no usable sample of this limb
        self.alt_after_missing = False   # the run in `alt` began right after missing frames
        self.refractory_until = -1.0
        self.last_zone: Zone | None = None
        self.hit_y = 0.0             # height where the last hit was heard
        self.hit_peak = 0.0          # and the peak speed of its stroke
        self.floor = -math.inf       # feet: the height the foot rests at (kept across resets)
        self.reset()

    def push(self, t: float, x: float, y: float) -> None:
        self.ts.append(t)
        self.xs.append(x)
        self.ys.append(y)
        if len(self.ts) > _FIT_MAX:
            del self.ts[0], self.xs[0], self.ys[0]
        self.n += 1
        self.t_last = t

    def reset(self) -> None:
        self.ts.clear()
        self.xs.clear()
        self.ys.clear()
        self.alt.clear()
        self.n = 0
        self.top = math.inf          # highest (smallest y) smoothed height of the current descent
        self.top_i = 0
        self.peak = 0.0              # fastest downward speed of the current descent
        self.armed = False
        self.rearmed = True
        self.bottom = -math.inf
        self.bottom_x = 0.0
        self.v_max = 0.0             # fastest recent speed, either way (decays)
        self.t_pred = 0.0            # predicted time of the armed stroke's bottom (0: none)
        self.t_peak = 0.0            # when the current descent was fastest
        self.slow_since = math.inf   # since when the limb has been slow after its last hit


class Detector:
    """Feed one frame's keypoints per call; get back the hits whose bottom was just passed: usually on the
    frame after the bottom, up to three frames after it for a stroke the fits see late."""

    def __init__(self, kit: Kit, calibration=None, fps: float = 100.0):
        if calibration is not None:
            kit = calibration.apply(kit)
        self.kit = kit
        self.fps = float(fps)
        th = kit.thresholds
        self._min_score = th.min_score
        self._release = th.release
        self._rearm = th.rearm_travel
        self._refractory = th.refractory_ms / 1000.0
        self._max_step = th.max_speed
        # windows in frames, from times: the same stroke spans fewer frames at a lower frame rate
        self._smooth = max(3, min(5, int(round(_SMOOTH_S * self.fps)) + 1))
        self._lag = 1 if self.fps >= 60.0 else 0       # the newest sample waits for a neighbour to vouch
        self._recent = 2 if self.fps >= 60.0 else 1
        self._quad = 5 if self.fps >= 60.0 else 4
        self._spike = _SPIKE * max(1.0, 100.0 / self.fps)
        self._max_gap = _MAX_GAP_FRAMES / self.fps
        half = (self._smooth - 1) * 0.5
        norm = sum((i - half) ** 2 for i in range(self._smooth))
        self._slope_w = tuple((i - half) / norm for i in range(self._smooth))
        self._body = _Body(th.torso_ratio, th.min_score, th.body_motion_speed)
        limbs = [_Limb(hand, None, th.hand_on_speed, th.hand_min_travel) for hand in PLAYING_ORDER[:2]]
        for foot in PLAYING_ORDER[2:]:
            zone = kit.foot_zone(foot.side)
            if zone is not None:
                limbs.append(_Limb(foot, zone, th.foot_on_speed, th.foot_min_travel))
        self._limbs = limbs

    def to_body(self, x: float, y: float) -> tuple[float, float] | None:
        """A pixel position in body units, in the body frame of the latest update (None when there is none)."""
        body = self._body
        if not body.valid:
            return None
        return (x - body.ox) / body.scale, (y - body.oy) / body.scale

    def update(self, t_ns: int, keypoints) -> list[Hit]:
        t = t_ns * 1e-9
        rows = keypoints.tolist() if hasattr(keypoints, "tolist") else keypoints
        body = self._body
        if not body.update(t, rows):
            for limb in self._limbs:
                if limb.n:
                    limb.reset()
            return []
        hits: list[Hit] = []
        feet_muted = t < body.moving_until
        for limb in self._limbs:
            hit = self._step(limb, t, rows[limb.index], body)
            if hit is not None and not (feet_muted and limb.foot_zone is not None):
                hits.append(hit)
        return hits

    # --- one limb, one frame -------------------------------------------------------------------------

    def _step(self, limb: _Limb, t: float, kp: list, body: _Body) -> Hit | None:
        if kp[2] < self._min_score:
            limb.missing = True
            if limb.armed and limb.t_pred and t - 1.5 / self.fps <= limb.t_pred <= t + 0.5 / self.fps:
                # lost at the bottom of an armed stroke whose bottom was predicted for about now: play it
                return self._fire(limb, t, limb.t_pred, limb.xs[-1], limb.ys[-1])
            if limb.n and t - limb.t_last > self._max_gap:
                limb.reset()
            return None
        was_missing, limb.missing = limb.missing, False
        inv = 1.0 / body.scale
        x = (kp[0] - body.ox) * inv
        y = (kp[1] - body.oy) * inv
        ts, xs, ys = limb.ts, limb.xs, limb.ys
        if limb.n:
            dt = t - limb.t_last
            if dt <= 0.0:
                return None
            # a limb seen again after missing frames is judged by when it reappeared (it may take a few
            # frames to confirm)
            back = limb.alt[0][0] if limb.alt and limb.alt_after_missing else t
            if back - limb.t_last > self._max_gap:
                limb.reset()
            elif (math.hypot(x - xs[-1], y - ys[-1]) > min(self._max_step, _FLICKER_JUMP / dt + 2.0 * limb.v_max) * dt
                  and not self._believe_jump(limb, t, x, y, dt, was_missing)):
                return None             # faster than an arm moves: a flicker, until frames agree it is not
        limb.alt.clear()
        if len(ys) >= 2:
            # a one-frame spike (the previous sample far off both its neighbours) becomes their median
            a, b = ys[-2], ys[-1]
            med = max(min(a, b), min(max(a, b), y))
            if abs(b - med) > self._spike:
                ys[-1] = med
        limb.push(t, x, y)
        m = len(ys)
        w = self._smooth
        end = m - self._lag
        start = end - w
        if start < 0 or m < self._quad or m <= self._recent:
            return None

        # centred line fit over the last samples (spikes removed; at high frame rates without the newest,
        # which only counts once its neighbour has vouched for it): height and downward speed
        span = ts[end - 1] - ts[start]
        if span <= 0.0:
            return None
        y_sum = slope = 0.0
        for i, wi in enumerate(self._slope_w):
            yi = ys[start + i]
            y_sum += yi
            slope += wi * yi
        y_mid = y_sum / w
        period = span / (w - 1)
        speed = slope / period                  # slope of the least-squares line, per second
        limb.v_max = max(abs(speed), limb.v_max * 0.8)
        if limb.foot_zone is not None:
            limb.floor = max(y_mid, limb.floor - _FLOOR_RISE * (ts[-1] - ts[-2]))

        if not limb.rearmed:
            if y_mid > limb.bottom:
                limb.bottom = y_mid         # the (smoothed) bottom, still coming in after the hit
            if abs(speed) >= 0.5 * limb.on_speed:
                limb.slow_since = math.inf
            elif limb.slow_since > t:
                limb.slow_since = t
            # the limb rose, moved to another drum, or came to rest (perhaps above a lower drum it goes to next);
            # or a hand goes on down faster than the stroke it was heard in, a stroke's travel below where it
            # was heard: that hit came at a hitch mid-stroke (the pose model's wrist stalls for a frame or two
            # under blur), and the stroke, which accelerates into its impact, has its real bottom still to come
            # (a hand dropping to rest after a hit goes down slower than its stroke)
            if (y_mid < limb.bottom - self._rearm or speed < -limb.on_speed
                    or abs(x - limb.bottom_x) > _REARM_SIDEWAYS or t - limb.slow_since >= _SETTLED_S
                    or (limb.foot_zone is None and speed > max(limb.on_speed, limb.hit_peak)
                        and y_mid - limb.hit_y >= limb.min_travel)):
                limb.rearmed = True
                limb.top, limb.top_i, limb.peak, limb.armed = y_mid, limb.n, 0.0, False
            return None

        if y_mid < limb.top or speed <= 0.0 and not limb.armed:
            # still rising (or at rest): this is where the next descent starts
            limb.top, limb.top_i, limb.peak = y_mid, limb.n, 0.0
            return None
        if speed > limb.peak:
            limb.peak = speed
            limb.t_peak = (ts[start] + ts[end - 1]) * 0.5      # the middle of the fit that measured it
        if not limb.armed:
            if (limb.peak >= limb.on_speed and y_mid - limb.top >= limb.min_travel
                    and (limb.foot_zone is None or limb.floor - limb.top <= _FOOT_MAX_LIFT)):
                limb.armed = True
            else:
                return None
        if t < limb.refractory_until:
            return None

        limb.t_pred = 0.0
        # the speed over the last two frames (one frame late) sees a sharp stop in time
        r = self._recent
        recent = (ys[-1] - ys[-1 - r]) / (ts[-1] - ts[-1 - r])
        if recent > _FALLING * limb.peak:
            return None                 # not decelerating yet: the bottom is still frames away
        # two views of where the speed reaches zero: the cubic through the whole descent (right for smooth,
        # symmetric strokes) and the parabola through the last few samples (right for a sharp stop);
        # the earlier one wins, so a sharp stop is never heard late
        k = min(m, limb.n - limb.top_i + 3, _FIT_MAX)     # the descent, and a little before it
        u_bottom = _bottom_from_cubic(ts, ys, max(k, _FIT_MIN))
        u_local = _bottom_from_quadratic(ts, ys, self._quad)
        if u_local is not None and (u_bottom is None or u_local < u_bottom):
            u_bottom = u_local
        if u_bottom is not None and 0.5 < u_bottom <= 2.0:
            limb.t_pred = t + u_bottom * period
        if u_bottom is None:
            # the descent does not look like a stroke yet; the speed collapsing is enough
            if speed > self._release * limb.peak:
                return None
            u_bottom = -2.0
        elif u_bottom > 0.5:
            if recent <= _STOPPED * limb.peak:
                # the limb has stopped dead (a sharp stop the fits round off): the bottom is behind us,
                # at the last frame it came down fast into
                u_bottom = -1.0 if ys[-2] - ys[-3] > 2.0 * abs(ys[-1] - ys[-2]) else 0.0
            elif speed > self._release * limb.peak or u_bottom > 2.0:
                return None
            else:
                u_bottom = 0.5
        if u_bottom < -3.0:
            u_bottom = -3.0
        t_bottom = t + u_bottom * period
        # the drum is the one under the bottom of the stroke, not under where the limb is now (firing ahead
        # of the bottom, the hand is still above it; a stroke that comes in on a slant is still travelling)
        bx, by = _point_at(ts, xs, ys, t_bottom)
        if limb.foot_zone is not None and not self._stamps_down(limb):
            # an ankle keypoint that slid down on a slant: MoveNet's ankle wandering on a foot at rest (or
            # jumping to something else), or a foot shifting its weight; not a stomp
            self._fire(limb, t, t_bottom, bx, by)
            return None
        if limb.peak < _MIN_STOP * max(t_bottom - limb.t_peak, period):
            # it slowed down gently to its bottom: a hand lowered or dropped to rest, not a stroke
            self._fire(limb, t, t_bottom, bx, by)
            return None
        return self._fire(limb, t, t_bottom, bx, by)

    @staticmethod
    def _stamps_down(limb: _Limb) -> bool:
        """A foot's descent came straight down (a stomp): across the descent the ankle moved sideways by at
        most _FOOT_SIDEWAYS of the way it moved up and down."""
        k = min(len(limb.xs), limb.n - limb.top_i + 3)     # the descent, and a little before it
        xs, ys = limb.xs[-k:], limb.ys[-k:]
        return max(xs) - min(xs) <= _FOOT_SIDEWAYS * (max(ys) - min(ys))

    def _believe_jump(self, limb: _Limb, t: float, x: float, y: float, dt: float, after_missing: bool) -> bool:
        """A sample too far from the last one: keep it aside until frames agree that the limb is there.
        If the limb had gone missing just before them (the camera lost it in a fast move), four frames
        must agree (longer than a flicker that follows a dropout lasts) and they join the limb's history,
        so a stroke whose descent was hidden still plays; otherwise three frames start the limb over from
        them (a flicker that persisted, or a limb that really moved)."""
        alt = limb.alt
        if alt and math.hypot(x - alt[-1][1], y - alt[-1][2]) > _FLICKER_JUMP + 2.0 * limb.v_max * dt:
            alt.clear()
        if not alt:
            limb.alt_after_missing = after_missing
        alt.append((t, x, y))
        bridge = limb.alt_after_missing and alt[0][0] - limb.t_last <= self._max_gap
        if len(alt) < (_BRIDGE_FRAMES if bridge else 3):
            return False
        seed = alt[:-1]
        if not bridge:
            limb.reset()
        for ta, xa, ya in seed:
            limb.push(ta, xa, ya)
        return True

    def _fire(self, limb: _Limb, t: float, t_bottom: float, x: float, y: float) -> Hit | None:
        limb.armed = False
        limb.t_pred = 0.0
        limb.rearmed = False
        limb.bottom = -math.inf
        limb.bottom_x = x
        limb.slow_since = math.inf
        limb.refractory_until = t + self._refractory
        speed = limb.peak
        limb.hit_y, limb.hit_peak = y, speed
        limb.peak = 0.0
        limb.top = math.inf
        zone = limb.foot_zone
        if zone is None:
            # the drum this hand played last wins a near tie: a hand keeps to its pattern, and MoveNet's
            # wrist drifts towards the other hand when both strike at once
            zone = self.kit.nearest_hand_zone(x, y, keep=limb.last_zone, advantage=_KEEP_ZONE)
            limb.last_zone = zone
        if zone is None:
            return None
        return Hit(drum=zone.name, note=zone.note, velocity=self.kit.velocity.velocity(speed),
                   channel=self.kit.channel, t_ns=int(round(t_bottom * 1e9)), limb=limb.name,
                   speed=speed, x=x, y=y)


def play_frames(det: Detector, frames) -> tuple[list[Hit], dict[str, list[tuple[float, float]]]]:
    """Play (t_ns, keypoints) frames to a detector (offline: calibration, replay, benchmarks): its hits, and
    each limb's (time s, height in body units) in the body frame of that moment, where it was seen."""
    hits: list[Hit] = []
    heights: dict[str, list[tuple[float, float]]] = {limb: [] for limb in PLAYING_ORDER}
    min_score = det.kit.thresholds.min_score
    for t_ns, kp in frames:
        hits.extend(det.update(t_ns, kp))
        for limb in PLAYING_ORDER:
            i = limb.keypoint
            at = det.to_body(float(kp[i][0]), float(kp[i][1])) if kp[i][2] >= min_score else None
            if at is not None:
                heights[limb].append((t_ns * 1e-9, at[1]))
    return hits, heights


def _point_at(ts: list[float], xs: list[float], ys: list[float], t: float) -> tuple[float, float]:
    """The limb's position at time t: between two samples, on the line through them; after the last one,
    carried on along the last two samples' motion for at most one frame."""
    n = len(ts)
    if n < 2:
        return xs[-1], ys[-1]
    i = n - 1
    while i > 1 and ts[i - 1] > t:
        i -= 1
    t0, t1 = ts[i - 1], ts[i]
    if t1 <= t0:
        return xs[i], ys[i]
    u = (t - t0) / (t1 - t0)
    u = 0.0 if u < 0.0 else 2.0 if u > 2.0 else u
    return xs[i - 1] + (xs[i] - xs[i - 1]) * u, ys[i - 1] + (ys[i] - ys[i - 1]) * u


def _bottom_from_cubic(ts: list[float], ys: list[float], k: int) -> float | None:
    """Fit y = c0 + c1 u + c2 u^2 + c3 u^3 to the last k samples (u in frames, 0 = now) and return the u
    where the fitted downward speed falls to zero after its peak, or None when the fit shows no such fall."""
    n = len(ts)
    if k > n:
        k = n
    t_now = ts[-1]
    period = (t_now - ts[n - k]) / (k - 1)
    if period <= 0.0:
        return None
    inv = 1.0 / period
    # normal equations for the cubic (sums of powers of u); k is at most 16 so this stays cheap
    s1 = s2 = s3 = s4 = s5 = s6 = 0.0
    b0 = b1 = b2 = b3 = 0.0
    for i in range(n - k, n):
        u = (ts[i] - t_now) * inv
        y = ys[i]
        u2 = u * u
        u3 = u2 * u
        s1 += u
        s2 += u2
        s3 += u3
        s4 += u2 * u2
        s5 += u2 * u3
        s6 += u3 * u3
        b0 += y
        b1 += u * y
        b2 += u2 * y
        b3 += u3 * y
    a = [[float(k), s1, s2, s3, b0], [s1, s2, s3, s4, b1], [s2, s3, s4, s5, b2], [s3, s4, s5, s6, b3]]
    c = _solve(a)
    if c is None:
        return None
    _, c1, c2, c3 = c
    # speed v(u) = c1 + 2 c2 u + 3 c3 u^2; a stroke's speed is a hump: c3 < 0 (v'' < 0)
    if c3 >= 0.0:
        if c2 >= 0.0:
            return None
        return -c1 / (2.0 * c2)          # decelerating, no curvature: linear speed reaches zero here
    qa, qb, qc = 3.0 * c3, 2.0 * c2, c1
    disc = qb * qb - 4.0 * qa * qc
    if disc < 0.0:
        return None
    r = math.sqrt(disc)
    # with qa < 0 the larger root is where the speed falls through zero after the peak
    return max((-qb + r) / (2.0 * qa), (-qb - r) / (2.0 * qa))


def _bottom_from_quadratic(ts: list[float], ys: list[float], q: int) -> float | None:
    """Vertex of a parabola through the last q samples (u in frames, 0 = now), when it opens downwards
    in height (decelerating descent); None otherwise."""
    t_now = ts[-1]
    period = (t_now - ts[-q]) / (q - 1)
    if period <= 0.0:
        return None
    inv = 1.0 / period
    s1 = s2 = s3 = s4 = b0 = b1 = b2 = 0.0
    for i in range(-q, 0):
        u = (ts[i] - t_now) * inv
        y = ys[i]
        u2 = u * u
        s1 += u
        s2 += u2
        s3 += u2 * u
        s4 += u2 * u2
        b0 += y
        b1 += u * y
        b2 += u2 * y
    a = [[float(q), s1, s2, b0], [s1, s2, s3, b1], [s2, s3, s4, b2]]
    c = _solve(a)
    if c is None or c[2] >= 0.0:
        return None
    return -c[1] / (2.0 * c[2])


def _solve(a: list[list[float]]) -> list[float] | None:
    """Gauss-Jordan with partial pivoting on an n x (n+1) augmented matrix (in place); None if singular."""
    n = len(a)
    for col in range(n):
        piv = max(range(col, n), key=lambda r: abs(a[r][col]))
        if abs(a[piv][col]) < 1e-12:
            return None
        if piv != col:
            a[col], a[piv] = a[piv], a[col]
        row = a[col]
        p = 1.0 / row[col]
        for r in range(n):
            if r != col:
                other = a[r]
                f = other[col] * p
                if f != 0.0:
                    for j in range(col, n + 1):
                        other[j] -= f * row[j]
    return [a[i][n] / a[i][i] for i in range(n)]
