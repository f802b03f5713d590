"""Scripted keypoint sequences with known hits: what the gesture benchmark and tests play to the detector.

A stick figure in body units (origin = shoulder midpoint, unit = shoulder width, x to image right, y down;
the player faces the camera, so their left is +x) is placed in the image, moved, turned and played; each
hand stroke is a smooth cosine descent onto its zone's centre (or, in one condition, the scripted
drummer's late-peaking downstroke with its sharp stop) and a rise to the next stroke; a foot stomp lifts
the ankle and brings it down on the floor.

Noise is Gaussian per keypoint and frame, in shoulder widths, at levels measured on Google's int8 MoveNet
Lightning: on a still photograph (skimage's astronaut, sub-pixel camera shake and sensor noise, 60
frames) keypoints scored >= 0.5 jitter by 0.009-0.013 (std), shoulders, elbows and hips scored 0.3-0.5 by
0.019-0.036. Hence "low" 0.01 (a well-seen keypoint), "realistic" 0.02 and "high" 0.035 (a poorly seen
one). (MoveNet sees the cartoon mannequin of lalelu.sources.synthetic worse than a person, its wrists
jittering by 0.05-0.075: that is the pipeline benchmark's business, not a level here.) Dropouts: a keypoint's score collapses for 1-5 frames with garbage positions. Flickers: a
wrist or ankle jumps 0.35-0.8 shoulder widths (to another body part, as MoveNet does) for 1-2 frames with
a middling score. Everything is seeded: the same arguments give the same frames.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import numpy as np

from lalelu.core.keypoints import Keypoint
from lalelu.gestures.kit import Kit
from lalelu.gestures.strokes import PEAK_OVER_MEAN, downstroke
from lalelu.trace import TraceRecord, trace_header

NOISE_LEVELS = {"none": 0.0, "low": 0.01, "realistic": 0.02, "high": 0.035}

# the stick figure, body units, facing the camera (left_* at +x)
_BODY = {
    "nose": (0.0, -0.55), "left_eye": (0.1, -0.63), "right_eye": (-0.1, -0.63),
    "left_ear": (0.22, -0.6), "right_ear": (-0.22, -0.6),
    "left_shoulder": (0.5, 0.0), "right_shoulder": (-0.5, 0.0),
    "left_hip": (0.3, 1.45), "right_hip": (-0.3, 1.45),
    "left_knee": (0.32, 2.4), "right_knee": (-0.32, 2.4),
    "left_ankle": (0.32, 3.3), "right_ankle": (-0.32, 3.3),
}
_HAND_DEPTH = 0.6      # wrists are in front of the body: they swing across when the player turns
_REST = {"right_hand": (-0.45, 0.75), "left_hand": (0.45, 0.75)}


@dataclass(frozen=True)
class TrueHit:
    t_ns: int
    drum: str
    limb: str
    velocity: int


@dataclass
class Scenario:
    name: str
    noise: str
    fps: float
    times_ns: list[int]
    keypoints: list[np.ndarray]                         # (17, 3) float32 per frame, pixels
    hits: list[TrueHit]
    silent: list[tuple[int, int]] = field(default_factory=list)   # stretches where nothing is played


@dataclass(frozen=True)
class Stroke:
    t: float              # bottom time, seconds
    limb: str             # right_hand | left_hand | right_foot | left_foot
    drum: str
    velocity: int


def _cos_ease(s: float) -> float:
    s = 0.0 if s < 0.0 else 1.0 if s > 1.0 else s
    return (1.0 - math.cos(math.pi * s)) * 0.5


class _HandPath:
    """Piecewise trajectory of one wrist through its strokes (body units)."""

    def __init__(self, kit: Kit, strokes: list[Stroke], limb: str, shape: str = "cosine"):
        self.rest = _REST[limb]
        self.segments: list[tuple[float, float, tuple[float, float], tuple[float, float], float]] = []
        strokes = sorted(strokes, key=lambda s: s.t)
        prev_t, prev_p = 0.0, self.rest
        for i, s in enumerate(strokes):
            gap = s.t - (strokes[i - 1].t if i else s.t - 1.0)
            td = min(0.11, max(0.05, 0.45 * gap))
            speed = kit.velocity.speed(s.velocity)
            if shape == "cosine":
                amp = speed * 2.0 * td / math.pi     # cosine descent: peak speed = amp * pi / (2 td)
            else:
                amp = speed * td / PEAK_OVER_MEAN    # the scripted drummer's downstroke
            cx, cy = kit.zone(s.drum).center
            top, bottom = (cx, cy - amp), (cx, cy)
            t_top = s.t - td
            self.segments.append((prev_t, t_top, prev_p, top, 0.0))   # rise / move to the stroke's top
            self.segments.append((t_top, s.t, top, bottom, 1.0 if shape == "cosine" else 2.0))   # the stroke
            prev_t, prev_p = s.t, bottom
        self.segments.append((prev_t, prev_t + 0.6, prev_p, self.rest, 0.0))    # arms down, unhurried

    def at(self, t: float) -> tuple[float, float]:
        for t0, t1, p0, p1, kind in self.segments:
            if t0 <= t <= t1:
                u = (t - t0) / (t1 - t0) if t1 > t0 else 1.0
                s = downstroke(u) if kind == 2.0 else _cos_ease(u)
                return p0[0] + (p1[0] - p0[0]) * s, p0[1] + (p1[1] - p0[1]) * s
        return self.rest        # before the first segment or after the last one


class _FootPath:
    """Stomps: the ankle lifts (0.15 s), then comes down onto the floor fast (0.07 s)."""

    def __init__(self, kit: Kit, strokes: list[Stroke]):
        self.stomps = []
        for s in sorted(strokes, key=lambda s: s.t):
            speed = kit.velocity.speed(s.velocity)
            td = 0.07
            lift = speed * 2.0 * td / math.pi
            self.stomps.append((s.t - td - 0.15, s.t - td, s.t, lift))

    def lift(self, t: float) -> float:
        for t0, t1, t2, h in self.stomps:
            if t0 <= t <= t1:
                return h * _cos_ease((t - t0) / (t1 - t0))
            if t1 < t <= t2:
                return h * (1.0 - _cos_ease((t - t1) / (t2 - t1)))
        return 0.0


@dataclass
class Motion:
    """How the body moves in the image over time (all functions of t in seconds)."""

    x0: float = 320.0
    y0: float = 110.0
    scale0: float = 80.0          # pixels per shoulder width
    sway: float = 0.0             # sideways travel amplitude, shoulder widths
    sway_hz: float = 0.25
    walk: float = 0.0             # scale change factor over the scenario (walking in/out)
    step_hz: float = 0.0          # footsteps per second while walking (ankles lift, body bobs)
    turn_deg: float = 0.0         # peak turn angle
    turn_hz: float = 0.0


def _frame(t: float, hands: dict[str, tuple[float, float]], lifts: dict[str, float], motion: Motion,
           duration: float, sigma: float, rng: np.random.Generator, extra: dict) -> np.ndarray:
    scale = motion.scale0
    if motion.walk:
        # walk in and out again: scale follows a smooth triangle
        phase = 0.5 - 0.5 * math.cos(2.0 * math.pi * t / duration)
        scale *= 1.0 + motion.walk * phase
    ox = motion.x0 + motion.sway * scale * math.sin(2.0 * math.pi * motion.sway_hz * t)
    oy = motion.y0
    step_lift = {"left_ankle": 0.0, "right_ankle": 0.0}
    swing = 0.0
    if motion.step_hz:
        oy += 0.04 * scale * math.sin(4.0 * math.pi * motion.step_hz * t)
        ph = math.sin(2.0 * math.pi * motion.step_hz * t)
        step_lift["left_ankle"] = 0.2 * max(0.0, ph)
        step_lift["right_ankle"] = 0.2 * max(0.0, -ph)
        swing = 0.12 * ph
    theta = math.radians(motion.turn_deg) * math.sin(math.pi * motion.turn_hz * t) ** 2 if motion.turn_hz else 0.0
    ct, st = math.cos(theta), math.sin(theta)
    kp = np.zeros((17, 3), np.float32)
    pts: dict[str, tuple[float, float]] = dict(_BODY)
    for name in ("left_ankle", "right_ankle"):
        foot = "left_foot" if name.startswith("left") else "right_foot"
        x, y = pts[name]
        lift = lifts.get(foot, 0.0) + step_lift[name]
        pts[name] = (x, y - lift)
        knee = name.replace("ankle", "knee")
        kx, ky = pts[knee]
        pts[knee] = (kx, ky - 0.5 * lift)
    for hand, wrist, shoulder, elbow in (("right_hand", "right_wrist", "right_shoulder", "right_elbow"),
                                         ("left_hand", "left_wrist", "left_shoulder", "left_elbow")):
        wx, wy = hands[hand]
        wy += abs(swing) * 0.5 if swing else 0.0       # arm swing while walking: wrist bobs in projection
        sx, sy = _BODY[shoulder]
        side = 1.0 if sx > 0 else -1.0
        pts[wrist] = (wx, wy)
        pts[elbow] = ((sx + wx) * 0.5 + 0.25 * side, (sy + wy) * 0.5 + 0.15)
    for name, (x, y) in pts.items():
        depth = _HAND_DEPTH if name.endswith("wrist") else (_HAND_DEPTH * 0.5 if name.endswith("elbow") else 0.0)
        xr = x * ct + depth * st
        i = Keypoint[name.upper()]
        kp[i, 0] = ox + xr * scale
        kp[i, 1] = oy + y * scale
    kp[:, 2] = rng.uniform(0.55, 0.9, 17)
    if sigma:
        kp[:, :2] += rng.normal(0.0, sigma * scale, (17, 2))
    # dropouts: a keypoint's score collapses and its position is garbage for a few frames
    for i, until in list(extra.get("dropouts", {}).items()):
        if t < until:
            kp[i, 2] = rng.uniform(0.02, 0.2)
            kp[i, :2] += rng.normal(0.0, 0.8 * scale, 2)
        else:
            del extra["dropouts"][i]
    for i, (until, dx, dy) in list(extra.get("flickers", {}).items()):
        if t < until:
            kp[i, 0] += dx * scale
            kp[i, 1] += dy * scale
            kp[i, 2] = rng.uniform(0.35, 0.5)
        else:
            del extra["flickers"][i]
    return kp


def build(name: str, kit: Kit, strokes: list[Stroke], duration: float, noise: str = "none",
          motion: Motion | None = None, fps: float = 100.0, dropout_rate: float = 0.0,
          flicker_rate: float = 0.0, seed: int = 0, silent: list[tuple[float, float]] | None = None,
          shape: str = "cosine") -> Scenario:
    """Render strokes into keypoint frames. dropout_rate / flicker_rate: events per second per limb keypoint."""
    motion = motion or Motion()
    sigma = NOISE_LEVELS[noise]
    rng = np.random.default_rng([seed, sum(map(ord, name)), int(sigma * 1000)])
    hands = {h: _HandPath(kit, [s for s in strokes if s.limb == h], h, shape)
             for h in ("right_hand", "left_hand")}
    feet = {f: _FootPath(kit, [s for s in strokes if s.limb == f]) for f in ("right_foot", "left_foot")}
    extra: dict = {"dropouts": {}, "flickers": {}}
    limb_kps = [Keypoint.LEFT_WRIST, Keypoint.RIGHT_WRIST, Keypoint.LEFT_ANKLE, Keypoint.RIGHT_ANKLE]
    period = 1.0 / fps
    times, frames = [], []
    t0_ns = 1_000_000_000
    n = int(duration * fps)
    for k in range(n):
        # real cameras do not tick exactly: +-0.3 ms of jitter on each frame's time
        t = k * period + (rng.uniform(-0.0003, 0.0003) if k else 0.0)
        for i in limb_kps:
            if dropout_rate and rng.random() < dropout_rate * period and i not in extra["dropouts"]:
                extra["dropouts"][i] = t + rng.integers(1, 6) * period
            if flicker_rate and rng.random() < flicker_rate * period and i not in extra["flickers"]:
                extra["flickers"][i] = (t + rng.integers(1, 3) * period, rng.uniform(-0.5, 0.5), rng.uniform(0.35, 0.8))
        pos = {h: p.at(t) for h, p in hands.items()}
        lifts = {f: p.lift(t) for f, p in feet.items()}
        frames.append(_frame(t, pos, lifts, motion, duration, sigma, rng, extra))
        times.append(t0_ns + int(round(t * 1e9)))
    hits = [TrueHit(t0_ns + int(round(s.t * 1e9)), s.drum, s.limb, s.velocity) for s in strokes]
    hits.sort(key=lambda h: h.t_ns)
    quiet = [(t0_ns + int(a * 1e9), t0_ns + int(b * 1e9)) for a, b in (silent or [])]
    return Scenario(name=name, noise=noise, fps=fps, times_ns=times, keypoints=frames, hits=hits, silent=quiet)


# --- the conditions of the benchmark -------------------------------------------------------------------

_HAND_DRUMS = ("snare", "hihat_closed", "tom_high", "tom_low", "ride", "crash", "hihat_open")


def _pattern(kit: Kit, bpm: float, start: float, end: float, mode: str, seed: int) -> list[Stroke]:
    """mode: alternating | together | right | flam | zones."""
    rng = np.random.default_rng(seed)
    beat = 60.0 / bpm
    drums = [d for d in _HAND_DRUMS if any(z.name == d for z in kit.zones)]
    out: list[Stroke] = []
    t, i = start, 0
    while t < end:
        vel = int(rng.integers(40, 127))
        if mode == "alternating":
            limb = "right_hand" if i % 2 == 0 else "left_hand"
            drum = ("snare", "hihat_closed")[i % 2] if i % 8 < 4 else ("tom_low", "tom_high")[i % 2]
            out.append(Stroke(t, limb, drum, vel))
        elif mode == "right":
            out.append(Stroke(t, "right_hand", "snare", vel))
        elif mode == "together":
            out.append(Stroke(t, "right_hand", "ride" if i % 2 else "snare", vel))
            out.append(Stroke(t, "left_hand", "hihat_closed", int(rng.integers(40, 127))))
        elif mode == "flam":
            out.append(Stroke(t, "left_hand", "hihat_closed", max(30, vel - 40)))   # grace note
            out.append(Stroke(t + 0.03, "right_hand", "snare", vel))
        elif mode == "zones":
            drum = drums[i % len(drums)]
            x = kit.zone(drum).center[0]
            out.append(Stroke(t, "right_hand" if x <= 0.2 else "left_hand", drum, vel))
        t += beat
        i += 1
    return out


def _feet(bpm: float, start: float, end: float, seed: int) -> list[Stroke]:
    rng = np.random.default_rng(seed)
    beat = 60.0 / bpm
    out, t, i = [], start, 0
    while t < end:
        if i % 2 == 0:
            out.append(Stroke(t, "right_foot", "kick", int(rng.integers(60, 127))))
        else:
            out.append(Stroke(t, "left_foot", "hihat_pedal", int(rng.integers(60, 127))))
        t += beat
        i += 1
    return out


def conditions(kit: Kit, noise: str = "none", seconds: float = 8.0, seed: int = 0, fps: float = 100.0) -> list[Scenario]:
    """The benchmark's conditions at one noise level; each opens with 1.5 s of standing still."""
    quiet = 1.5
    end = seconds - 0.3
    sil = [(0.0, quiet - 0.2)]
    out = []
    for bpm in (60, 120, 180, 240):
        out.append(build(f"alternating {bpm} bpm", kit, _pattern(kit, bpm, quiet, end, "alternating", seed + bpm),
                         seconds, noise, fps=fps, seed=seed, silent=sil))
    out.append(build("late-peak strokes 150 bpm", kit, _pattern(kit, 150, quiet, end, "alternating", seed + 8),
                     seconds, noise, fps=fps, seed=seed, silent=sil, shape="late"))
    out.append(build("one hand 240 bpm", kit, _pattern(kit, 240, quiet, end, "right", seed + 1), seconds, noise,
                     fps=fps, seed=seed, silent=sil))
    for bpm in (90, 200):
        out.append(build(f"both hands together {bpm} bpm", kit, _pattern(kit, bpm, quiet, end, "together", seed + bpm),
                         seconds, noise, fps=fps, seed=seed, silent=sil))
    out.append(build("flams 80 bpm", kit, _pattern(kit, 80, quiet, end, "flam", seed + 2), seconds, noise,
                     fps=fps, seed=seed, silent=sil))
    if kit.foot_zone("right") is not None:
        feet = [s for s in _feet(120, quiet, end, seed + 3) if kit.foot_zone(s.limb.split("_")[0])]
        out.append(build("kicks + hands 120 bpm", kit,
                         feet + _pattern(kit, 120, quiet + 0.25, end, "alternating", seed + 4),
                         seconds, noise, fps=fps, seed=seed, silent=sil))
    out.append(build("zone tour 100 bpm", kit, _pattern(kit, 100, quiet, end, "zones", seed + 5), seconds, noise,
                     fps=fps, seed=seed, silent=sil))
    out.append(build("dropouts + flicker 120 bpm", kit, _pattern(kit, 120, quiet, end, "alternating", seed + 6),
                     seconds, noise, dropout_rate=0.5, flicker_rate=0.5, fps=fps, seed=seed, silent=sil))
    out.append(build("player sways 120 bpm", kit, _pattern(kit, 120, quiet, end, "alternating", seed + 7), seconds,
                     noise, motion=Motion(sway=0.4, walk=0.3), fps=fps, seed=seed, silent=sil))
    whole = [(0.0, seconds)]
    out.append(build("silent: standing still", kit, [], seconds, noise, fps=fps, seed=seed, silent=whole))
    out.append(build("silent: flicker + dropouts", kit, [], seconds, noise, dropout_rate=2.0, flicker_rate=2.0,
                     fps=fps, seed=seed, silent=whole))
    out.append(build("silent: walking in and out", kit, [], seconds, noise, motion=Motion(walk=0.8, step_hz=1.8),
                     fps=fps, seed=seed, silent=whole))
    out.append(build("silent: turning", kit, [], seconds, noise, motion=Motion(turn_deg=70, turn_hz=0.25),
                     fps=fps, seed=seed, silent=whole))
    return out


def write_trace(scenario: Scenario, path, kit_name: str = "default") -> None:
    """Write a scenario as a trace file (the format of `lalelu run --record`), for replay and its tests."""
    header = trace_header(source=f"scenario: {scenario.name} ({scenario.noise} noise)", model="scripted keypoints",
                          backend="none", kit=kit_name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(json.dumps(header) + "\n")
        for i, (t, kp) in enumerate(zip(scenario.times_ns, scenario.keypoints)):
            f.write(json.dumps(TraceRecord(index=i, t_capture=t, keypoints=kp).to_json()) + "\n")
