"""Playing recorded or generated frames to a detector and scoring what it returns."""

from __future__ import annotations

import time

from lalelu.gestures.scoring import Detected, Span, Tally, TrueStroke, score_take


def play(detector, times_ns, keypoints, costs: list[int] | None = None) -> list[Detected]:
    """Feed the frames one by one, as the inference thread does; each hit is sent at the frame it came on.
    `costs` (if given) receives each update's duration in ns."""
    out: list[Detected] = []
    clock = time.perf_counter_ns
    for t_ns, kp in zip(times_ns, keypoints):
        if costs is None:
            hits = detector.update(t_ns, kp)
        else:
            c0 = clock()
            hits = detector.update(t_ns, kp)
            costs.append(clock() - c0)
        for h in hits:
            out.append(Detected(h.t_ns, t_ns, h.limb, h.drum, h.velocity))
    return out


def evaluate(detector, times_ns, keypoints, truth: list[TrueStroke], tolerance_ns: int, spans: list[Span] = (),
             ambiguous=(), costs: list[int] | None = None) -> Tally:
    hits = play(detector, times_ns, keypoints, costs)
    return score_take(truth, hits, tolerance_ns, spans, ambiguous, frames=len(times_ns))
