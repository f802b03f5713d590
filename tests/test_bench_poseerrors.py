"""MoveNet's error figures (lalelu.bench_poseerrors): known errors put on a true sequence are
counted as what they are, against the truth and from temporal continuity alone."""

from __future__ import annotations

import numpy as np
import pytest

from lalelu.core.keypoints import Keypoint
from lalelu.bench_poseerrors import (
    _MIRROR,
    against_truth,
    body_scale,
    from_continuity,
    merge,
)
from lalelu.sources.synthetic import SyntheticDrummer

FPS = 100.0
JITTER = 0.02          # shoulder widths


def _truth(seconds: float = 6.0):
    drummer = SyntheticDrummer(fps=FPS, realtime=False)
    t = np.arange(int(seconds * FPS)) / FPS
    xy = np.array([drummer.keypoints_at(ti) for ti in t])
    return t, xy, body_scale(xy)


def _posed(xy, scale, rng):
    """The truth with white jitter on the wrists, one spike, one dropout and one flip."""
    kp = np.concatenate([xy.copy(), np.ones(xy.shape[:2] + (1,))], axis=2)
    for w in (Keypoint.LEFT_WRIST, Keypoint.RIGHT_WRIST):
        kp[:, w, :2] += rng.normal(0.0, JITTER * scale, (len(kp), 2))
    kp[150, Keypoint.RIGHT_WRIST, 1] -= 0.8 * scale          # one frame far off, its neighbours agree
    kp[300:303, Keypoint.LEFT_WRIST, 2] = 0.05              # three frames unseen
    kp[420:426] = kp[420:426][:, _MIRROR]                    # the whole body mirrored for six frames
    return kp


def test_known_errors_are_counted_against_the_truth_and_from_continuity():
    t, xy, scale = _truth()
    kp = _posed(xy, scale, np.random.default_rng(0))
    secs = t[-1] - t[0]
    per_wrist = 1.0 / 2 / secs
    a = against_truth(kp, xy, t, scale)
    assert a.jitter == pytest.approx(JITTER, rel=0.25)
    assert a.dropouts == pytest.approx(per_wrist)
    assert a.flips == pytest.approx(1.0 / secs)
    assert a.jumps == pytest.approx(per_wrist)            # the spike (the flip's frames are left out)
    c = from_continuity(kp, t, scale)
    assert c.jitter == pytest.approx(JITTER, rel=0.35)
    assert c.dropouts == pytest.approx(per_wrist)
    assert c.flips == pytest.approx(1.0 / secs)
    assert c.jumps == pytest.approx(per_wrist)


def test_the_truth_itself_has_no_errors_from_continuity():
    t, xy, scale = _truth()
    kp = np.concatenate([xy, np.ones(xy.shape[:2] + (1,))], axis=2)
    c = from_continuity(kp, t, scale)
    assert c.jumps == 0 and c.dropouts == 0 and c.flips == 0
    assert c.jitter < JITTER / 2                           # what genuine motion adds is small
    m = merge([c, from_continuity(kp[:300], t[:300], scale)])
    assert m.seconds == pytest.approx(c.seconds + t[299] - t[0])
