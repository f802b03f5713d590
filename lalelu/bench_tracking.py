"""`lalelu bench tracking`: what keeping the player costs on the hot path, and what it keeps.

Cost: PlayerTracker.pick over 3000 frames of the scripted drummer's true keypoints, alone and with the passer-by's.
What it keeps: MultiPose on the scripted drummer with a passer-by crossing behind it, frames where the passer-by
played, by the old rule (the highest-scored person) and by the tracker; a frame's person is the passer-by when
its body keypoints are nearer the passer-by's true ones than the drummer's.
"""

from __future__ import annotations

import time

import numpy as np

from lalelu.core.keypoints import Person
from lalelu.gestures.kit import load_kit
from lalelu.pose.tracking import BODY, PlayerTracker
from lalelu.sources.passerby import DrummerWithPasserby


def _person(xy: np.ndarray) -> Person:
    return Person(np.hstack([xy, np.full((len(xy), 1), 0.8, np.float32)]).astype(np.float32), 0.7)


def pick_cost_us(scene: DrummerWithPasserby, people: int, frames: int = 3000) -> tuple[float, float]:
    """(median, p99) microseconds of one pick() with `people` (1: the drummer; 2: and the passer-by)."""
    shown = [(i / 100.0, _person(scene.keypoints_at(i / 100.0)), _person(scene.passerby.keypoints_at(i / 100.0)))
             for i in range(frames)]
    tracker, times = PlayerTracker(), []
    for t, drummer, other in shown:
        candidates = [drummer, other][:people]
        start = time.perf_counter_ns()
        tracker.pick(candidates, int(t * 1e9))
        times.append(time.perf_counter_ns() - start)
    times.sort()
    return times[len(times) // 2] / 1e3, times[int(0.99 * len(times))] / 1e3


def is_passer_by(scene: DrummerWithPasserby, keypoints: np.ndarray, t: float) -> bool:
    body = list(BODY)
    seen = keypoints[body, 2] >= 0.2
    if not seen.any():
        return False

    def off(truth: np.ndarray) -> float:
        return float(np.median(np.hypot(*(keypoints[body][seen, :2] - truth[body][seen]).T)))

    return off(scene.passerby.keypoints_at(t)) < off(scene.keypoints_at(t))


def kept_by_multipose(scene: DrummerWithPasserby, seconds: float, fps: float) -> dict[str, int]:
    from lalelu.pose import load_estimator

    multipose = load_estimator("multipose", "litert", 2)
    tracker = PlayerTracker()
    out = {"frames": 0, "found": 0, "old_rule_passer_by": 0, "tracker_passer_by": 0, "tracker_nobody": 0}
    for i in range(int(seconds * fps)):
        t = i / fps
        people = multipose(scene.render(t))
        out["frames"] += 1
        if not people:
            continue
        out["found"] += 1
        out["old_rule_passer_by"] += is_passer_by(scene, max(people, key=lambda p: p.score).keypoints, t)
        player = tracker.pick(people, int(t * 1e9))
        if player is None:
            out["tracker_nobody"] += 1
        else:
            out["tracker_passer_by"] += is_passer_by(scene, player.keypoints, t)
    return out


def bench_tracking_main(seconds: float = 8.0, fps: float = 25.0) -> int:
    scene = DrummerWithPasserby(kit=load_kit(), fps=fps, realtime=False)
    for people in (1, 2):
        median, p99 = pick_cost_us(scene, people)
        print(f"PlayerTracker.pick, {people} {'person' if people == 1 else 'people'}: median {median:.1f} us, "
              f"p99 {p99:.1f} us")
    r = kept_by_multipose(scene, seconds, fps)
    print(f"MultiPose, {seconds:g} s at {fps:g} fps, a passer-by crossing behind the drummer: someone found in "
          f"{r['found']} of {r['frames']} frames; the passer-by played in {r['old_rule_passer_by']} by the old rule "
          f"(highest score), in {r['tracker_passer_by']} by the tracker (which played nobody in "
          f"{r['tracker_nobody']})")
    return 0
