"""The gesture corpus: seeded takes whose strokes behave as real ones do, its splits, its filmed share through
the real MoveNet, the pose-error model, and the scoring the benchmark uses."""

from __future__ import annotations

import numpy as np
import pytest

from lalelu.gestures.corpus import FAMILIES, SPLITS, TAKE_S, take_seeds, takes
from lalelu.gestures.corpus.kinematics import RestPlan, Stroke, build_trajectory
from lalelu.gestures.corpus.posenoise import NoiseParams, PoseNoise
from lalelu.gestures.corpus.take import make_take, split_of
from lalelu.gestures.scoring import Detected, Span, TrueStroke, score_take, spearman
from lalelu.core.keypoints import Keypoint


# --- the stroke model ----------------------------------------------------------------------------------

def _speed(traj, t):
    _, y = traj.at(t)
    return np.gradient(y, t)


def test_a_stroke_is_fastest_at_its_impact_and_rebounds():
    s = Stroke(1.0, "right_hand", "snare", 0.2, 1.3, speed=8.0, height=0.8, shape=2.5, decel_s=0.012,
               rebound=0.6, rebound_s=0.02)
    traj = build_trajectory([s], RestPlan(-0.6, 1.6))
    t = np.arange(0.3, 1.3, 0.0005)
    v = _speed(traj, t)
    down = (t > 0.5) & (t < 1.0)
    t_peak = t[down][np.argmax(v[down])]
    assert 1.0 - 0.02 <= t_peak <= 1.0                     # fastest within the short stop before the impact
    assert v[down].max() == pytest.approx(8.0, rel=0.05)     # at the stroke's speed
    _, y = traj.at(np.array([0.9, 1.0, 1.05]))
    assert y[1] == pytest.approx(1.3, abs=1e-6) and y[1] > y[0] and y[1] > y[2]   # the bottom is the impact
    assert v[(t > 1.0) & (t < 1.03)].min() < -0.5 * 8.0 * 0.6  # and the wrist comes back up fast


def test_a_drop_to_rest_slows_smoothly_to_a_stop():
    s = Stroke(1.0, "right_hand", "snare", 0.2, 1.3, speed=6.0, height=0.5, last_before_rest=True)
    rest = RestPlan(-0.6, 1.7, drop_s=0.4, after_s=0.15)
    traj = build_trajectory([s], rest)
    a, b, kind = traj.spans[-1]
    assert kind == "drop"
    t = np.arange(a, b + 0.2, 0.0005)
    v = _speed(traj, t)
    assert v.max() > 1.0                                    # it falls ...
    peak = int(np.argmax(v))
    assert t[peak] < b - 0.15                               # ... fastest well before the end ...
    assert abs(v[-1]) < 0.05                                # ... and comes to rest
    decel = -np.gradient(v, t)[peak:]
    assert decel.max() < 40.0                               # without a stop: even a rounded stroke stops at 60+


def test_a_stroke_can_stop_dead_and_stay_at_the_bottom():
    """An air drummer's stroke: nothing bounces the stick back, the wrist stays down a moment, then lifts."""
    s = Stroke(1.0, "right_hand", "snare", 0.2, 1.3, speed=8.0, height=0.8, decel_s=0.03, rebound=0.1,
               rebound_s=0.03, hold_s=0.04)
    nxt = Stroke(1.5, "right_hand", "snare", 0.2, 1.3, speed=8.0, height=0.8)
    traj = build_trajectory([s, nxt], RestPlan(-0.6, 1.6))
    _, y = traj.at(np.array([0.99, 1.0, 1.02, 1.04, 1.07]))
    assert y[1] == pytest.approx(1.3) and y[2] == pytest.approx(1.3) and y[3] == pytest.approx(1.3)
    assert y[0] < 1.3 and y[4] < 1.3


# --- takes, families, splits ---------------------------------------------------------------------------

def test_a_take_is_the_same_for_the_same_seed():
    a, b = make_take("grooves", 123), make_take("grooves", 123)
    assert [(s.t, s.limb, s.drum, s.speed) for s in a.strokes] == [(s.t, s.limb, s.drum, s.speed) for s in b.strokes]
    assert np.array_equal(a.true_keypoints(), b.true_keypoints())
    noise = PoseNoise()
    assert np.array_equal(noise.apply(a, np.random.default_rng(5)), noise.apply(b, np.random.default_rng(5)))
    c = make_take("grooves", 124)
    assert [s.t for s in c.strokes] != [s.t for s in a.strokes]


def test_splits_are_by_seed_and_disjoint():
    assert [split_of(s) for s in (0, 99_999, 100_000, 199_999, 200_000)] == ["train", "train", "dev", "dev", "test"]
    seen = {}
    for split in SPLITS:
        for share in ("modelled", "filmed"):
            for seed in take_seeds(split, share):
                assert split_of(seed) == split
                assert seed not in seen
                seen[seed] = share


def _family_takes(family, n=4):
    return [make_take(family, s) for s in take_seeds("dev", "modelled", n)]


def test_the_families_play_what_they_promise():
    assert set(FAMILIES) == {"grooves", "ghosts", "backswing", "from_rest", "rudiments", "crossing", "lean_turn",
                             "tempo", "silence"}
    for family in FAMILIES:
        for take in _family_takes(family, 2):
            assert take.duration == TAKE_S
            assert (len(take.strokes) == 0) == (family == "silence")
    ghosts = [s for t in _family_takes("ghosts") for s in t.strokes if s.drum == "snare"]
    assert min(s.speed for s in ghosts) < 3.5 < 8.0 < max(s.speed for s in ghosts)    # ghosts beside accents
    back = [s for t in _family_takes("backswing") for s in t.strokes]
    assert sum(s.pause_s > 0.1 for s in back) >= 5
    tops = [s.y - s.height for s in back if s.pause_s > 0.1]
    assert min(tops) < 0.5                                   # up where the cymbals are
    rest = _family_takes("from_rest")
    assert sum(s.first_after_rest for t in rest for s in t.strokes) >= 8
    assert sum(kind == "drop" for t in rest for p in t.paths.values() for *_, kind in p.spans) >= 6
    rud = [t for t in _family_takes("rudiments", 6)]
    same_hand = [b.t - a.t for t in rud for limb in ("right_hand", "left_hand")
                 for a, b in zip(*(lambda ss: (ss, ss[1:]))([s for s in t.strokes if s.limb == limb]))]
    assert min(same_hand) < 0.16                             # doubles
    flams = [abs(a.t - b.t) for t in rud for a in t.strokes for b in t.strokes
             if a.limb == "right_hand" and b.limb == "left_hand" and 0.015 < abs(a.t - b.t) < 0.05]
    assert flams                                             # flams: the other hand a few tens of ms before
    crossed = 0
    for take in _family_takes("crossing"):
        kp = take.true_keypoints()
        crossed += int((kp[:, Keypoint.LEFT_WRIST, 0] < kp[:, Keypoint.RIGHT_WRIST, 0]).sum())
    assert crossed > 50                                      # hands crossing over
    lean = _family_takes("lean_turn", 2)
    assert all(t.body.lean_deg >= 5 and t.body.turn_deg >= 10 for t in lean)
    slowest = 0.0
    for take in _family_takes("tempo", 3):                   # the tempo changes within each take ...
        gaps = np.diff([s.t for s in take.strokes if s.limb.endswith("hand")])
        assert gaps.min() < 0.16 and gaps.max() > 2.0 * gaps.min()
        slowest = max(slowest, gaps.max())
    assert slowest > 0.4                                     # ... from eighths below 75 BPM to 190 BPM or more
    feet = sum(s.limb.endswith("foot") for f in ("grooves", "ghosts", "crossing") for t in _family_takes(f) for s in t.strokes)
    assert feet > 40                                         # kicks and the hi-hat pedal under it
    fps = {t.fps for f in FAMILIES for t in _family_takes(f, 3)}
    assert fps == {30.0, 60.0, 100.0}


def test_takes_list_the_corpus():
    dev = takes("dev", "modelled", families=["silence"], count=2)
    assert [t.seed for t in dev] == take_seeds("dev", "modelled", 2)
    assert all(t.family == "silence" and t.split == "dev" for t in dev)


# --- the pose-error model ------------------------------------------------------------------------------

def test_the_fitted_pose_error_model_is_not_gaussian():
    params = NoiseParams.load()
    assert params.fitted_on != "defaults", "posenoise.json was not fitted: run `lalelu train --film-only --refit-noise`"
    take = make_take("crossing", 100_003)
    kp = PoseNoise(params).apply(take, np.random.default_rng(0), smoothing=False)
    truth = take.true_keypoints()
    scale = take.body.scale
    lw = Keypoint.LEFT_WRIST
    err = np.hypot(*(kp[:, lw, :2] - truth[:, lw]).T) / scale
    seen = kp[:, lw, 2] >= 0.15
    assert (~seen).any()                                    # dropouts
    big = err[seen] > 0.3
    assert big.any() and np.median(err[seen]) < 0.2         # heavy tails around a modest core
    # the fitted swaps: with hands crossed, the labels follow the image side in some takes
    assert 0.0 <= params.swap_crossed <= 1.0 and params.flip_rate >= 0.0


# --- the filmed share ----------------------------------------------------------------------------------

def test_a_take_filmed_through_the_real_movenet_is_cached_by_content(tmp_path, monkeypatch):
    from lalelu.errors import LaleluError
    from lalelu.gestures.corpus.filmed import filmed_keypoints

    monkeypatch.setenv("LALELU_CACHE", str(tmp_path))
    take = make_take("silence", 100_001, duration=1.0, fps=30.0)
    try:
        kp = filmed_keypoints(take)
    except LaleluError as exc:
        pytest.fail(f"the filmed share needs the MoveNet Lightning model: {exc}")
    assert kp.shape == (30, 17, 3)
    truth = take.true_keypoints()
    shoulders = [Keypoint.LEFT_SHOULDER, Keypoint.RIGHT_SHOULDER]
    err = np.hypot(*(kp[:, shoulders, :2] - truth[:, shoulders]).transpose(2, 0, 1)) / take.body.scale
    assert np.median(err) < 0.35                            # MoveNet found the drawn player
    files = list((tmp_path / "corpus").glob("*.npz"))
    assert len(files) == 1
    again = filmed_keypoints(take, build=False)             # from the cache
    assert np.array_equal(again, kp)
    other = make_take("silence", 100_002, duration=1.0, fps=30.0)
    assert filmed_keypoints(other, build=False) is None     # another video, another key
    # another pose model sees the same video under a key of its own, filmed by that model
    assert filmed_keypoints(take, build=False, model="thunder") is None
    thunder = filmed_keypoints(take, model="thunder")
    assert thunder.shape == (30, 17, 3) and not np.array_equal(thunder, kp)
    assert len(list((tmp_path / "corpus").glob("*.npz"))) == 2
    assert np.array_equal(filmed_keypoints(take, build=False, model="thunder"), thunder)


# --- scoring -------------------------------------------------------------------------------------------

def test_scoring_matches_within_the_tolerance_and_classifies_the_extras():
    truth = [TrueStroke(1_000_000_000, "right_hand", "snare", 5.0, True),
             TrueStroke(2_000_000_000, "right_hand", "snare", 9.0),
             TrueStroke(3_000_000_000, "left_hand", "hihat_closed", 3.0)]
    hits = [Detected(1_004_000_000, 1_010_000_000, "right_hand", "snare", 60),
            Detected(2_030_000_000, 2_040_000_000, "right_hand", "snare", 100),      # 30 ms off: no match
            Detected(3_001_000_000, 3_010_000_000, "right_hand", "snare", 50),       # the wrong limb
            Detected(5_000_000_000, 5_010_000_000, "left_hand", "crash", 30)]
    spans = [Span(4_900_000_000, 5_100_000_000, "backswing", "left_hand"), Span(2_020_000_000, 2_100_000_000, "drop")]
    tally = score_take(truth, hits, 10_500_000, spans)
    assert (tally.true, tally.matched, tally.false_positives) == (3, 1, 3)
    assert tally.extras == {"silence": 0, "backswing": 1, "drop": 1, "other": 1}
    assert tally.first_found == tally.first_true == 1
    assert tally.sent_ms == [10.0] and tally.timing_ms == [4.0]
    wide = score_take(truth, hits, 67_000_000, spans, ambiguous=[(2_900_000_000, 3_100_000_000)])
    assert (wide.true, wide.matched, wide.ignored) == (2, 2, 1)   # the stroke in the ambiguous window is optional
    assert wide.f1 == pytest.approx(2 * 2 / (2 * 2 + 1))


def test_spearman():
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    assert spearman([1, 2, 2, 3], [1, 2, 3, 4]) == pytest.approx(0.9487, abs=1e-3)
