"""The learned strike detector on real parts: its committed weights, the LiteRT and numpy runtimes, TensorFlow
training, the real drummer's dev take (read from the shared data, never copied into the project)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lalelu.errors import LaleluError
from lalelu.gestures.corpus.take import make_take
from lalelu.gestures.detector import Detector
from lalelu.gestures.evaluate import evaluate, play
from lalelu.gestures.factory import make_detector
from lalelu.gestures.kit import load_kit
from lalelu.gestures.learned import WEIGHTS_FILE, Features, LearnedDetector, load_model
from lalelu.gestures.scoring import frame_tolerance_ns, score_take
from lalelu.core.keypoints import Keypoint

REAL_F1_BAR = 0.9         # the default detector on the real dev take, its own +-67 ms rule


@pytest.fixture(scope="module")
def kit():
    return load_kit("default")


def _clean(take, score=0.8):
    kp = take.true_keypoints()
    return np.concatenate([kp, np.full(kp.shape[:2] + (1,), score)], axis=2).astype(np.float32)


def _real_take():
    from lalelu.gestures.real_take import load_take

    try:
        return load_take()
    except LaleluError as exc:       # the shared data is part of the test's set-up: its absence is a failure
        pytest.fail(f"the real drummer's dev take is needed: {exc}")


# --- the real take ---------------------------------------------------------------------------------------

def test_the_real_dev_take_with_the_default_detector(kit):
    take = _real_take()
    tally = evaluate(make_detector(None, kit, take.fps), take.times_ns, take.keypoints, take.strokes,
                     take.tolerance_ns, ambiguous=take.ambiguous)
    assert tally.true == 24                        # 25 annotated, one in the ambiguous window
    assert tally.f1 >= REAL_F1_BAR, (tally.matched, tally.false_positives, tally.timing_ms)


# --- the runtimes ----------------------------------------------------------------------------------------

def test_the_numpy_runtime_matches_the_tflite_export(kit):
    take = _real_take()
    np_model = load_model(runtime="numpy")
    lite = load_model(runtime="litert")
    feats = Features(kit.thresholds.min_score, kit.thresholds.torso_ratio, take.fps)
    outs = []
    for t_ns, kp in list(zip(take.times_ns, take.keypoints))[::7]:
        if feats.push(t_ns * 1e-9, np.asarray(kp, np.float64)):
            win = feats.window(t_ns * 1e-9)
            a, b = np_model(win.copy()), lite(win.copy())
            outs.append(np.abs(a - b).max())
    assert len(outs) > 50
    assert max(outs) < 1e-3


def test_a_broken_or_missing_weights_file_is_a_clear_error(tmp_path, kit):
    with pytest.raises(LaleluError, match="no learned detector at .*lalelu train"):
        LearnedDetector(kit, weights=tmp_path / "none.npz")
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(LaleluError, match="not a learned detector's weights"):
        load_model(bad)
    with pytest.raises(LaleluError, match="unknown detector 'magic'"):
        make_detector("magic", kit, 100.0)
    assert isinstance(make_detector("heuristic", kit, 30.0), Detector)
    assert isinstance(make_detector("learned", kit, 30.0), LearnedDetector)


def test_the_committed_weights_are_small_and_say_how_they_were_made():
    assert WEIGHTS_FILE.stat().st_size < 1_000_000
    assert WEIGHTS_FILE.with_suffix(".tflite").stat().st_size < 1_000_000
    meta = load_model(runtime="numpy").meta
    assert 0.0 < meta["threshold"] < 1.0 and "seed" in meta and meta["trained"]


# --- behaviour -----------------------------------------------------------------------------------------

def test_nothing_sounds_in_silence_or_at_backswing_tops(kit):
    """Clean keypoints of dev takes: fidgeting without playing; sparse accents prepared by long pauses at the
    top of the backswing with an overshoot that settles, and drops to rest; phrases from rest. Drops to
    rest are the learned detector's weak spot (a hand that rebounds and then falls: BENCHMARKS.md): at most
    a quarter of them may sound."""
    drops = drop_hits = 0
    for family, seed in (("silence", 100_000), ("silence", 100_001), ("backswing", 100_000), ("backswing", 100_001),
                         ("from_rest", 100_000)):
        take = make_take(family, seed)
        hits = play(make_detector("learned", kit, take.fps), take.times_ns(), _clean(take))
        tally = score_take(take.truth(), hits, 60_000_000, take.spans())
        assert tally.extras["silence"] == tally.extras["backswing"] == 0, (take.name, tally.extras)
        assert tally.first_found == tally.first_true, take.name          # every first stroke after rest
        assert tally.recall >= 0.9, (take.name, tally.recall)
        drops += sum(1 for span in take.spans() if span.kind == "drop")
        drop_hits += tally.extras["drop"]
    assert drops >= 10 and drop_hits <= drops // 4, (drop_hits, drops)


def test_the_same_strokes_play_at_30_60_and_100_fps(kit):
    for fps in (30.0, 60.0, 100.0):
        take = make_take("grooves", 100_002, fps=fps)
        tally = evaluate(make_detector("learned", kit, fps), take.times_ns(), _clean(take), take.truth(),
                         frame_tolerance_ns(fps), take.spans())
        assert tally.f1 >= 0.85, (fps, tally.f1, tally.recall, tally.precision)


def test_a_mirrored_skeleton_plays_the_same_hands(kit):
    """MoveNet sometimes takes a front for a back: every left keypoint on the right. The learned detector
    mirrors it back (the heuristic does not: see BENCHMARKS.md)."""
    take = make_take("grooves", 100_003)
    kp = _clean(take)
    mirror = [0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15]
    a = play(make_detector("learned", kit, take.fps), take.times_ns(), kp)
    b = play(make_detector("learned", kit, take.fps), take.times_ns(), kp[:, mirror])
    assert [(h.limb, h.drum, h.t_ns) for h in a] == [(h.limb, h.drum, h.t_ns) for h in b]
    assert any(h.limb == "left_hand" for h in a) and any(h.limb == "right_hand" for h in a)


def test_velocity_follows_the_impact_speed(kit):
    tally = None
    for seed in (100_000, 100_001):
        take = make_take("ghosts", seed)
        t = evaluate(make_detector("learned", kit, take.fps), take.times_ns(), _clean(take), take.truth(), 60_000_000)
        tally = t if tally is None else tally.__iadd__(t)
    assert tally.matched > 40
    assert tally.velocity_spearman >= 0.8


# --- training -------------------------------------------------------------------------------------------

def _tiny_examples(kit):
    from lalelu.gestures.training import Examples, take_examples

    parts = []
    for family in ("grooves", "silence"):
        take = make_take(family, 7, duration=4.0, fps=30.0)
        parts.append(take_examples(take.times_ns(), _clean(take), take.truth(), take.fps, kit,
                                   np.random.default_rng(0), take.spans()))
    return Examples.join(parts)


def test_training_is_reproducible(kit):
    from lalelu.gestures.training import fit

    ex = _tiny_examples(kit)
    assert len(ex) > 100 and ex.y[:, 0].sum() > 5
    quiet = lambda _m: None      # noqa: E731
    a = fit(ex, seed=3, epochs=1, say=quiet)
    b = fit(ex, seed=3, epochs=1, say=quiet)
    c = fit(ex, seed=4, epochs=1, say=quiet)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["c1_w"], c["c1_w"])


def test_retraining_for_a_player_from_a_play_along(kit, tmp_path):
    """A play-along whose due times are known: the base detector fine-tuned on it (a few corpus takes beside)."""
    from lalelu.gestures.training import export_tflite_quiet, meta_for, retrain_for_player, save_weights

    take = make_take("grooves", 12, duration=6.0)
    frames = list(zip(take.times_ns(), _clean(take)))
    base = load_model(runtime="numpy")
    weights = retrain_for_player(frames, take.truth(), take.fps, kit, base=base, epochs=1, corpus_takes=1,
                                 say=lambda _m: None)
    assert not np.array_equal(weights["c1_w"], base.w["c1_w"])
    path = save_weights(weights, meta_for(0.5, 0.25, {"player": "ana"}), tmp_path / "ana.learned.npz")
    export_tflite_quiet(weights, path.with_suffix(".tflite"))
    det = LearnedDetector(kit, fps=take.fps, weights=path)
    tally = evaluate(det, take.times_ns(), _clean(take), take.truth(), 60_000_000)
    assert tally.recall >= 0.8


# --- the commands ----------------------------------------------------------------------------------------

def _parser():
    from lalelu.cli import build_parser

    return build_parser()


def test_bench_gestures_compares_both_detectors_on_the_corpus(capsys):
    args = _parser().parse_args(["bench", "gestures", "--split", "dev", "--family", "silence", "--family", "tempo",
                                 "--corpus-json"])
    assert args.func(args) == 0
    out = json.loads(capsys.readouterr().out)
    keys = {(r["detector"], r["family"], r["share"]) for r in out["rows"]}
    assert {("heuristic", "tempo", "modelled"), ("learned", "tempo", "modelled"),
            ("learned", "silence", "modelled")} <= keys
    assert set(out["real"]) == {"heuristic", "learned"}
    assert out["cost"]["learned"]["p99_us"] > 0


def test_replay_with_either_detector(tmp_path, capsys):
    from lalelu.gestures.scenarios import Stroke, build, write_trace

    kit = load_kit("default")
    sc = build("t", kit, [Stroke(1.0 + 0.5 * i, "right_hand", "snare", 100) for i in range(4)], 3.5)
    path = tmp_path / "t.jsonl"
    write_trace(sc, path)
    for kind in ("heuristic", "learned"):
        args = _parser().parse_args(["replay", str(path), "--detector", kind])
        assert args.func(args) == 0
        assert "4 hits over" in capsys.readouterr().out, kind


def test_train_refuses_nonsense():
    from lalelu.cli import build_parser

    args = build_parser().parse_args(["train", "--epochs", "0"])
    with pytest.raises(LaleluError, match="at least one epoch"):
        args.func(args)


def test_keypoints_index_mirror_is_complete():
    from lalelu.gestures.learned import _MIRROR

    assert sorted(_MIRROR) == list(range(17))
    assert _MIRROR[Keypoint.LEFT_WRIST] == Keypoint.RIGHT_WRIST and _MIRROR[Keypoint.NOSE] == Keypoint.NOSE
