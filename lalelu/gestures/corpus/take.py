"""One take of the corpus: a family, a split and a seed make a player, a camera and what they play.

`make_take(family, seed)` is deterministic. Its true keypoints come at any times (`pose_at`, for the
renderer's sub-frames) or at the camera's frame times (`true_keypoints`); its truth is the strokes'
impacts and speeds, the stretches where nothing may sound (silence, the tops of backswings, drops to
rest) and which strokes are the first after a rest.

Splits are by seed: seeds 0-99999 are train, 100000-199999 dev, 200000-299999 test.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import numpy as np

from lalelu.gestures.corpus.body import Body, body_points, keypoints_from, place
from lalelu.gestures.corpus.families import FAMILIES, LEAD_IN
from lalelu.gestures.corpus.kinematics import (
    HERMITE,
    Stroke,
    Trajectory,
    build_trajectory,
)
from lalelu.gestures.corpus.players import (
    FEET,
    HANDS,
    Camera,
    Player,
    draw_body,
    draw_camera,
    draw_player,
)
from lalelu.gestures.kit import Kit, load_kit
from lalelu.gestures.scoring import Span, TrueStroke

SPLITS = ("train", "dev", "test")
SPLIT_BASE = {"train": 0, "dev": 100_000, "test": 200_000}
MIN_LIMB_GAP_S = 0.09        # two strokes of one limb closer than this cannot both be played
SILENCE_GAP_S = 0.8          # no stroke of any limb for this long: the middle of the gap is silence
T0_NS = 1_000_000_000


def split_of(seed: int) -> str:
    for name in reversed(SPLITS):
        if seed >= SPLIT_BASE[name]:
            return name
    raise ValueError(seed)


@dataclass
class Take:
    family: str
    seed: int
    duration: float
    camera: Camera
    body: Body
    player: Player = field(repr=False)
    strokes: list[Stroke] = field(repr=False)
    paths: dict[str, Trajectory] = field(repr=False)
    silence: list[tuple[float, float]] = field(repr=False)

    @property
    def split(self) -> str:
        return split_of(self.seed)

    @property
    def name(self) -> str:
        return f"{self.family}/{self.seed}"

    @property
    def fps(self) -> float:
        return self.camera.fps

    def frame_times(self) -> np.ndarray:
        """Frame times, s, with a camera's jitter (seeded)."""
        n = int(self.duration * self.camera.fps)
        rng = np.random.default_rng([self.seed, 7])
        t = np.arange(n) / self.camera.fps
        t[1:] += rng.uniform(-0.0003, 0.0003, n - 1)
        return t

    def times_ns(self) -> list[int]:
        return [T0_NS + int(round(t * 1e9)) for t in self.frame_times()]

    def points_at(self, t: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Every point of the body, placed in the picture (pixels), at times t (sorted)."""
        lw = self.paths["left_hand"].at(t)
        rw = self.paths["right_hand"].at(t)
        ll = -self.paths["left_foot"].at(t)[1]
        rl = -self.paths["right_foot"].at(t)[1]
        pts = body_points(self.body, t, lw, rw, np.maximum(ll, 0.0), np.maximum(rl, 0.0), self.duration)
        return place(self.body, t, pts, self.duration)

    def true_keypoints(self, t: np.ndarray | None = None) -> np.ndarray:
        """(n, 17, 2) true keypoint pixels at the frame times (or at t)."""
        return keypoints_from(self.points_at(self.frame_times() if t is None else t))

    def truth(self) -> list[TrueStroke]:
        return [TrueStroke(T0_NS + int(round(s.t * 1e9)), s.limb, s.drum, s.speed,
                           s.first_after_rest and s.limb in HANDS)
                for s in sorted(self.strokes, key=lambda s: s.t)]

    def spans(self) -> list[Span]:
        out = [Span(T0_NS + int(a * 1e9), T0_NS + int(b * 1e9), "silence") for a, b in self.silence]
        for limb, path in self.paths.items():
            for a, b, kind in path.spans:
                out.append(Span(T0_NS + int(a * 1e9), T0_NS + int(b * 1e9), kind, limb))
        return out


def _rng(family: str, seed: int) -> np.random.Generator:
    return np.random.default_rng([zlib.crc32(family.encode()), seed])


def make_take(family: str, seed: int, duration: float = 10.0, kit: Kit | None = None,
              fps: float | None = None) -> Take:
    if family not in FAMILIES:
        raise ValueError(f"unknown corpus family {family!r}; families: {', '.join(FAMILIES)}")
    kit = kit or load_kit("default")
    rng = _rng(family, seed)
    generate, moving = FAMILIES[family]
    camera = draw_camera(rng, fps)
    player = draw_player(rng, kit)
    body = draw_body(rng, camera, moving=moving or (family == "silence" and rng.random() < 0.4))
    strokes = _playable(generate(rng, player, duration), duration)
    strokes = _mark_rests(strokes, player)
    paths = {}
    for limb in HANDS + FEET:
        mine = [s for s in strokes if s.limb == limb]
        if family == "silence" and limb in HANDS:
            paths[limb] = _fidget(rng, player, limb, duration)
        else:
            paths[limb] = build_trajectory(mine, player.rest[limb], feet=limb in FEET)
    silence = _silence(strokes, duration)
    return Take(family, seed, duration, camera, body, player, strokes, paths, silence)


def _playable(strokes: list[Stroke], duration: float) -> list[Stroke]:
    """Strokes inside the take, after its still lead-in, and not too close to the limb's previous one."""
    out = []
    last: dict[str, float] = {}
    for s in sorted(strokes, key=lambda s: s.t):
        if s.t < LEAD_IN or s.t > duration - 0.25:
            continue
        if s.t - last.get(s.limb, -1.0) < MIN_LIMB_GAP_S:
            continue
        last[s.limb] = s.t
        out.append(s)
    return out


def _mark_rests(strokes: list[Stroke], player: Player) -> list[Stroke]:
    """A hand's first stroke, and each after a gap longer than the player's rest gap, comes from rest; the
    stroke before such a gap drops to rest. Feet start and end every stamp on the floor."""
    from dataclasses import replace

    out = []
    by_limb: dict[str, list[Stroke]] = {}
    for s in strokes:
        by_limb.setdefault(s.limb, []).append(s)
    for limb, mine in by_limb.items():
        for i, s in enumerate(mine):
            if limb in FEET:      # every stamp lifts off the floor and ends on it
                out.append(replace(s, last_before_rest=True, first_after_rest=True))
                continue
            first = i == 0 or s.t - mine[i - 1].t > player.rest_gap
            last = i == len(mine) - 1 or mine[i + 1].t - s.t > player.rest_gap
            out.append(replace(s, first_after_rest=first, last_before_rest=last))
    return sorted(out, key=lambda s: s.t)


def _silence(strokes: list[Stroke], duration: float) -> list[tuple[float, float]]:
    times = [0.0] + sorted(s.t for s in strokes) + [duration]
    out = []
    for i, (a, b) in enumerate(zip(times, times[1:])):
        lo = a + (0.3 if i else 0.0)
        hi = b - (0.3 if i < len(times) - 2 else 0.0)
        if b - a >= SILENCE_GAP_S and hi > lo:
            out.append((lo, hi))
    return out


def _fidget(rng, player: Player, limb: str, duration: float) -> Trajectory:
    """A hand that moves without striking: it wanders, rises to the face and comes down, lifts and drops,
    each move starting and ending at rest (smooth, no stop at speed)."""
    rest = player.rest[limb]
    traj = Trajectory(rest=(rest.x, rest.y))
    sign = 1.0 if limb == "left_hand" else -1.0
    t = rng.uniform(0.5, 2.0)
    x, y = rest.x, rest.y
    while t < duration - 0.5:
        kind = rng.random()
        if kind < 0.3:
            tx, ty = rest.x, rest.y
        elif kind < 0.5:
            tx, ty = sign * rng.uniform(0.0, 0.3), rng.uniform(-0.7, -0.3)       # to the face
        else:
            tx, ty = sign * rng.uniform(-0.3, 1.0), rng.uniform(0.2, 1.5)
        dur = rng.uniform(0.35, 1.5)
        traj.add(t, t + dur, HERMITE, (x, y, 0.0, 0.0, tx, ty, 0.0, 0.0))
        if ty > y + 0.2:
            traj.spans.append((t, t + dur + 0.1, "drop"))
        x, y = tx, ty
        t += dur + rng.uniform(0.1, 1.5)
    return traj
