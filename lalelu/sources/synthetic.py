"""The scripted drummer: a rendered mannequin playing a DrumScript, with every hit's time and drum known.

Motion of one limb between two of its hits (air drumming: no stick bounces off a skin):
rest at the bottom, rise while travelling to the next zone, hover, then a downstroke that speeds up and
decelerates to rest exactly at the hit time, with the wrist exactly on the zone centre (feet: back on the
floor). The downstroke's peak speed is the kit's velocity curve read backwards, so a detector that maps
speed to velocity with the same kit recovers about the scripted velocity.

Clock: frame i shows the drummer at t = i / fps seconds after `t0_ns`.
- realtime=True: frame i is rendered ahead, then handed out at its due time t0_ns + i/fps, and stamped
  with time.monotonic_ns() at that moment (so t_capture - due is the pacing error, sub-millisecond).
- realtime=False: frames come as fast as they render and carry their due time t0_ns + i/fps as
  t_capture (a virtual clock, ahead of the wall clock): timing analysis and a detector's speeds stay
  exact, but latency (t_sent - t_capture) is only meaningful in realtime mode.
A scripted hit at t_s seconds is at t0_ns + int(t_s * 1e9) in both modes.

Any script-like object works (`.hits` of ScriptedHit-like records, `.duration`; optional `.lead_in`,
`.end_s`, `.pattern`, `.tempo`, `.hits_between`), e.g. the calibration routine of `lalelu calibrate`.
"""

from __future__ import annotations

import collections
import math
import time

import cv2
import numpy as np

from lalelu.core.frames import Frame
from lalelu.core.keypoints import Person
from lalelu.core.limbs import Limb
from lalelu.errors import LaleluError
from lalelu.gestures.strokes import PEAK_OVER_MEAN, downstroke, smoothstep
from lalelu.sources.base import BaseSource, sleep_until
from lalelu.sources.mannequin import BodyPose, Mannequin, rest_pose
from lalelu.sources.script import DrumScript

REST_AT_BOTTOM_S = 0.03      # the limb stays down this long after a hit
MAX_UPSTROKE_S = 0.12
DOWNSTROKE_SHARE = 0.45      # a downstroke takes at most this share of the gap to the limb's previous hit
START_LEAD_NS = 5_000_000    # t0 is this far after start(), so frame 0 is rendered before it is due
FIRST_RISE_S = 0.45          # a limb leaves its rest position this long before its first stroke
HAND_LIFT = (0.30, 0.35)     # stroke height (shoulder widths) = a + b * velocity / 127; higher folds the
                             # arm against the shoulder, where MoveNet loses the wrist
FOOT_LIFT = (0.15, 0.25)


class _LimbTrack:
    """The strokes of one limb over one loop, precomputed for quick lookups by time."""

    def __init__(self, script: DrumScript, limb: str, kit, lead_in: float):
        hits = [h for h in script.hits if h.limb == limb]
        self.period = script.duration
        self.times = np.array([h.t_s - lead_in for h in hits], dtype=np.float64)   # within the loop
        hand = limb.endswith("hand")
        rest = rest_pose()
        self.rest = np.array(rest.left_wrist if limb == "left_hand" else rest.right_wrist if hand else (0.0, 0.0))
        self.targets = [np.array(kit.zone(h.drum).center if hand else (0.0, 0.0), dtype=np.float64) for h in hits]
        self.heights, self.downs = [], []
        lift = HAND_LIFT if hand else FOOT_LIFT
        for i, h in enumerate(hits):
            gap = (h.t_s - hits[i - 1].t_s) % self.period or self.period   # to the previous stroke (wrapping)
            speed = kit.velocity.speed(h.velocity)
            wanted = lift[0] + lift[1] * h.velocity / 127
            down = min(PEAK_OVER_MEAN * wanted / speed, DOWNSTROKE_SHARE * gap)
            self.downs.append(down)
            self.heights.append(speed * down / PEAK_OVER_MEAN)   # keeps the peak speed when time is short

    def at(self, t: float) -> tuple[float, float]:
        """The limb's point (x, y) in body units at t seconds into the loops (t < 0: the lead-in).

        Feet use x = 0 and y = -lift. Before its first stroke a limb is at rest, then rises into it.
        """
        n = len(self.times)
        if t < self.times[0]:   # the very first stroke, coming from the rest position
            return self._between(self.rest, 0, t - (self.times[0] - FIRST_RISE_S), FIRST_RISE_S, rest=0.0)
        tl = t % self.period
        i = int(np.searchsorted(self.times, tl, side="right")) - 1      # previous hit (-1: last of the loop before)
        t_a = self.times[i] if i >= 0 else self.times[-1] - self.period
        j = (i + 1) % n
        t_b = self.times[j] if i + 1 < n else self.times[0] + self.period
        gap = t_b - t_a if t_b > t_a else self.period
        return self._between(self.targets[i], j, tl - t_a, gap, rest=min(REST_AT_BOTTOM_S, 0.1 * gap))

    def _between(self, a: np.ndarray, j: int, s: float, gap: float, rest: float) -> tuple[float, float]:
        """s seconds after the limb was at point a, with stroke j's bottom due gap seconds after it:
        rest at a, rise while travelling to above stroke j's zone, then its downstroke.

        The limb never comes down fast between strokes: when stroke j's top is lower than a, it glides
        down over the whole travel time.
        """
        b, height, down = self.targets[j], self.heights[j], min(self.downs[j], 0.5 * gap)
        travel = max(gap - rest - down, 1e-6)           # time to move from a to above b
        up = min(MAX_UPSTROKE_S, 0.6 * travel)
        top_y = b[1] - height
        if s <= rest:
            return float(a[0]), float(a[1])
        if s < gap - down:
            p = (s - rest) / travel
            x = a[0] + (b[0] - a[0]) * smoothstep(p)
            rise = smoothstep((s - rest) / up) if top_y < a[1] else smoothstep(p)
            return float(x), float(a[1] + (top_y - a[1]) * rise)
        u = (s - (gap - down)) / down
        return float(b[0]), float(top_y + height * downstroke(u))


class DrummerMotion:
    """The mannequin's pose as a function of time for a script (periodic over script.duration)."""

    def __init__(self, script: DrumScript, kit=None):
        kit = kit if kit is not None else script.kit
        self.script = script
        self.lead_in = float(getattr(script, "lead_in", 0.0))   # scripts without one start at time zero
        self.tracks = {}
        for limb in Limb:
            if any(h.limb == limb for h in script.hits):
                self.tracks[limb] = _LimbTrack(script, limb, kit, self.lead_in)

    def pose(self, t: float) -> BodyPose:
        rest = rest_pose()
        wrists = {"left_hand": rest.left_wrist, "right_hand": rest.right_wrist}
        lifts = {"left_foot": 0.0, "right_foot": 0.0}
        for limb, track in self.tracks.items():
            x, y = track.at(t - self.lead_in)
            if limb in wrists:
                wrists[limb] = (x, y)
            else:
                lifts[limb] = -y
        return BodyPose(wrists["left_hand"], wrists["right_hand"], lifts["left_foot"], lifts["right_foot"])


class SyntheticDrummer(BaseSource):
    """Frames of the mannequin playing `script`, at `fps`, looping the script unless loop=False."""

    renders_in_python = True   # read() draws the frame: the capture thread yields to inference after it

    def __init__(self, script: DrumScript | None = None, kit=None, fps: float = 100.0,
                 size: tuple[int, int] = (640, 480), realtime: bool = True, loop: bool = True):
        self.script = script if script is not None else DrumScript(kit=kit)
        self.kit = kit if kit is not None else self.script.kit
        self.fps = float(fps)
        self.size = (int(size[0]), int(size[1]))
        self.realtime = realtime
        self.loop = loop
        self.motion = DrummerMotion(self.script, self.kit)
        self.mannequin = Mannequin(self.size)
        self.t0_ns = 0
        self._index = 0
        self._started = False
        self._shown: collections.deque[tuple[np.ndarray, float]] = collections.deque(maxlen=8)
        end_s = getattr(self.script, "end_s", self.motion.lead_in + self.script.duration)
        self._end_index = math.inf if loop else int(math.floor(end_s * self.fps + 1e-9))
        self.description = (f"scripted drummer {self.size[0]}x{self.size[1]} @ {self.fps:g} fps "
                            f"({getattr(self.script, 'pattern', 'script')}, {getattr(self.script, 'tempo', 0):g} BPM"
                            f"{'' if realtime else ', as fast as possible'})")

    def start(self) -> None:
        # Time zero a little ahead, so that frame 0 is rendered before it is due, like every later one.
        self.t0_ns = time.monotonic_ns() + START_LEAD_NS
        self._index = 0
        self._started = True

    def time_of(self, index: int) -> float:
        """Seconds after t0 that frame `index` shows."""
        return index / self.fps

    def due_ns(self, index: int) -> int:
        return self.t0_ns + int(round(index * 1e9 / self.fps))

    def pose_at(self, t: float) -> BodyPose:
        return self.motion.pose(t)

    def render(self, t: float) -> np.ndarray:
        """The frame at t seconds, a new array (deterministic: the same t gives the same image)."""
        return self.mannequin.render(self.motion.pose(t))

    def keypoints_at(self, t: float) -> np.ndarray:
        """True (17, 2) keypoint pixels at t seconds."""
        return self.mannequin.keypoints(self.motion.pose(t))

    def hits_between(self, start_s: float, end_s: float):
        return self.script.hits_between(start_s, end_s, loop=self.loop)

    def read(self) -> Frame | None:
        if not self._started:
            self.start()
        i = self._index
        if i >= self._end_index:
            return None
        image = self.render(self.time_of(i))   # a fresh array: the consumer may keep it
        self._shown.append((image, self.time_of(i)))
        due = self.due_ns(i)
        if self.realtime:
            sleep_until(due)
            t_capture = time.monotonic_ns()
        else:
            t_capture = due
        self._index = i + 1
        return Frame(i, t_capture, image)


class TruePose:
    """A pose estimator that is never wrong: the scripted drummer's own keypoints for the frames it handed out
    lately (scores 1). It stands in for MoveNet where a test or a diagnosis is about everything after the pose
    model (the engine, the detector, MIDI) and should not wait on inference."""

    name = "true pose"

    def __init__(self, drummer: SyntheticDrummer):
        self.drummer = drummer

    def __call__(self, image: np.ndarray) -> list[Person]:
        # a copy (one C call, under the GIL): the capture thread appends to the deque while this runs
        for shown, t in reversed(self.drummer._shown.copy()):
            if shown is image:
                xy = self.drummer.keypoints_at(t)
                return [Person(np.hstack([xy, np.ones((len(xy), 1), np.float32)]), 1.0)]
        return []   # not one of the drummer's recent frames (warm-up): nobody


def render_video(script, path: str, seconds: float, fps: float = 100.0, size: tuple[int, int] = (640, 480)) -> int:
    """Write `seconds` of the drummer playing `script` to `path` (mp4v codec); returns the frames written."""
    src = SyntheticDrummer(script, fps=fps, size=size, realtime=False, loop=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    if not writer.isOpened():
        raise LaleluError(f"cannot write video {path!r}: OpenCV has no mp4v encoder for it; try a .mp4 or .avi name")
    frames = int(round(seconds * fps))
    try:
        for i in range(frames):
            writer.write(src.render(src.time_of(i)))
    finally:
        writer.release()
    return frames
