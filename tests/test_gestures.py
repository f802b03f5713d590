"""Gestures: kits, the strike detector on scripted keypoint sequences, and the gesture benchmark's targets."""

from __future__ import annotations

import numpy as np
import pytest

from lalelu.errors import LaleluError
from lalelu.gestures.bench import run_bench, run_scenario, score, summary
from lalelu.gestures.detector import Detector
from lalelu.gestures.kit import load_kit, parse_kit
from lalelu.gestures.scenarios import Motion, Stroke, build, conditions
from lalelu.core.keypoints import Keypoint


@pytest.fixture(scope="module")
def kit():
    return load_kit("default")


# --- kits ----------------------------------------------------------------------------------------------

def test_default_kit_is_general_midi(kit):
    notes = {z.name: z.note for z in kit.zones}
    assert notes == {"snare": 38, "hihat_closed": 42, "hihat_open": 46, "tom_high": 48, "tom_low": 45,
                     "ride": 51, "crash": 49, "kick": 36, "hihat_pedal": 44}
    assert kit.channel == 9
    assert kit.foot_zone("right").name == "kick"
    assert kit.foot_zone("left").name == "hihat_pedal"
    assert kit.nearest_hand_zone(0.2, 1.3).name == "snare"
    assert all(z.center is not None for z in kit.hand_zones)


def test_kit_by_path(tmp_path):
    p = tmp_path / "mini.toml"
    p.write_text('name = "mini"\nchannel = 2\n[zones.snare]\nnote = 38\ncenter = [0, 1]\n'
                 '[velocity]\ngamma = 0.5\n[thresholds]\nhand_on_speed = 3.5\n')
    k = load_kit(str(p))
    assert (k.name, k.channel, k.thresholds.hand_on_speed, k.velocity.gamma) == ("mini", 1, 3.5, 0.5)
    assert [z.name for z in k.zones] == ["snare"]


GOOD = """name = "t"
channel = 10

[zones.snare]
note = 38
limb = "hand"
center = [0.2, 1.3]

[zones.kick]
note = 36
limb = "foot"
foot = "right"
"""


@pytest.mark.parametrize("old, new, line, key", [
    ("note = 38", "note = 300", 5, "zones.snare.note"),
    ("note = 36", 'note = "36"', 10, "zones.kick.note"),
    ("center = [0.2, 1.3]", "center = [0.2]", 7, "zones.snare.center"),
    ('foot = "right"', 'foot = "middle"', 12, "zones.kick.foot"),
    ('limb = "hand"', 'limb = "elbow"', 6, "zones.snare.limb"),
    ("channel = 10", "channel = 17", 2, "channel"),
    ("note = 38", "note = 38\nvelocity = 3", 6, "zones.snare.velocity"),
    ("[zones.snare]\nnote = 38", '[zones."floor tom"]\nnote = 300', 5, "zones.floor tom.note"),   # quoted name
])
def test_bad_kit_names_file_line_and_key(tmp_path, old, new, line, key):
    p = tmp_path / "bad.toml"
    p.write_text(GOOD.replace(old, new))
    with pytest.raises(LaleluError) as e:
        load_kit(str(p))
    msg = str(e.value)
    assert f"{p}:{line}" in msg and f"'{key}'" in msg, msg


def test_bad_value_in_an_inline_zone_table_names_its_line(tmp_path):
    p = tmp_path / "inline.toml"
    p.write_text('name = "t"\n\n[zones]\nsnare = { note = 38, limb = "hand", center = [0.2] }\n')
    with pytest.raises(LaleluError, match=r"inline\.toml:4: key 'zones\.snare\.center'"):
        load_kit(str(p))


def test_bad_kit_syntax_and_thresholds(tmp_path):
    p = tmp_path / "syntax.toml"
    p.write_text(GOOD + "[thresholds\n")
    with pytest.raises(LaleluError, match=r"syntax\.toml: not valid TOML: .*line 13"):
        load_kit(str(p))
    with pytest.raises(LaleluError, match=r":15: key 'thresholds.release': 2.0 is out of range"):
        parse_kit(GOOD + "\n[thresholds]\nrelease = 2.0\n", "x.toml")
    with pytest.raises(LaleluError, match="the right foot already plays zone 'kick'"):
        parse_kit(GOOD + '[zones.kick2]\nnote = 35\nlimb = "foot"\nfoot = "right"\n', "x.toml")
    with pytest.raises(LaleluError, match="no file .*built-in kits: default"):
        load_kit("no_such_kit")


def test_velocity_curve(kit):
    c = kit.velocity
    assert c.velocity(0.0) == c.min_velocity and c.velocity(100.0) == c.max_velocity
    vals = [c.velocity(s) for s in np.linspace(c.min_speed, c.max_speed, 20)]
    assert vals == sorted(vals) and vals[0] < vals[-1]


# --- the detector ------------------------------------------------------------------------------------

def _play(kit, strokes, seconds, **kw):
    sc = build("test", kit, strokes, seconds, **kw)
    hits, emitted = run_scenario(sc, kit)
    return sc, hits, emitted


def test_one_hit_per_stroke_on_the_right_drum_on_time(kit):
    strokes = [Stroke(1.0 + 0.4 * i, "right_hand" if i % 2 else "left_hand",
                      ("snare", "hihat_closed", "tom_low", "crash", "ride", "tom_high")[i % 6], 90) for i in range(12)]
    sc, hits, emitted = _play(kit, strokes, 6.5)
    assert len(hits) == len(strokes)
    for true, h in zip(sorted(strokes, key=lambda s: s.t), hits):
        assert (h.drum, h.limb) == (true.drum, true.limb)
        assert h.note == kit.zone(true.drum).note and h.channel == 9
        assert abs(h.t_ns - (sc.times_ns[0] + true.t * 1e9)) <= 10e6        # within a frame of the bottom
    assert score(sc, hits, emitted).late == 0                                # emitted at most a frame late


def test_a_stroke_onto_a_lower_drum_without_rising_first(kit):
    """Open hi-hat (high), then the hand drifts down and sideways to the closed hi-hat and strikes it: it never
    rose after the first hit, but it came to rest, so the second stroke plays."""
    strokes = [Stroke(1.0, "left_hand", "hihat_open", 90), Stroke(2.2, "left_hand", "hihat_closed", 44)]
    _, hits, _ = _play(kit, strokes, 3.0)
    assert [h.drum for h in hits] == ["hihat_open", "hihat_closed"]


def _frame_at(sc, seconds: float) -> int:
    return sc.times_ns.index(min(sc.times_ns, key=lambda t: abs(t - (sc.times_ns[0] + seconds * 1e9))))


def test_a_stroke_whose_fast_part_the_camera_lost(kit):
    """The wrist is missing for the middle of the descent (MoveNet loses a blurred, fast hand): still one hit,
    on the right drum, once the wrist is seen again at the bottom."""
    sc = build("gap", kit, [Stroke(1.0, "right_hand", "snare", 100)], 2.0)
    i0 = _frame_at(sc, 0.94)
    for kp in sc.keypoints[i0:i0 + 5]:          # 50 ms of the 100 ms descent, up to 10 ms before the bottom
        kp[Keypoint.RIGHT_WRIST, 2] = 0.05
    hits, emitted = run_scenario(sc, kit)
    assert [h.drum for h in hits] == ["snare"]
    assert emitted[0] - sc.hits[0].t_ns <= 30e6


def test_a_stroke_hidden_by_a_flicker_then_a_dropout(kit):
    """The wrist jumps elsewhere for two frames, then is missing for four: nearly the whole descent is hidden
    and the wrist is seen again near the bottom. Still one hit, on the right drum, at most two frames late."""
    sc = build("hidden", kit, [Stroke(1.0, "left_hand", "hihat_closed", 100)], 2.0)
    i0, wrist, scale = _frame_at(sc, 0.91), Keypoint.LEFT_WRIST, Motion().scale0
    for k, kp in enumerate(sc.keypoints[i0:i0 + 6]):
        if k < 2:   # a flicker: another body part, with a middling score
            kp[wrist, :2] += (-0.6 * scale, 1.0 * scale)
            kp[wrist, 2] = 0.45
        else:       # then lost
            kp[wrist, 2] = 0.05
    hits, emitted = run_scenario(sc, kit)
    assert [h.drum for h in hits] == ["hihat_closed"]
    assert emitted[0] - sc.hits[0].t_ns <= 25e6


def test_a_flicker_after_a_dropout_is_no_hit(kit):
    """Standing still, an ankle is lost for four frames and then flickers 0.5 shoulder widths down for three:
    no kick (a reappearing limb only joins its history once four frames agree)."""
    sc = build("still", kit, [], 2.0, noise="low", silent=[(0.0, 2.0)])
    i0, ankle, scale = _frame_at(sc, 1.0), Keypoint.RIGHT_ANKLE, Motion().scale0
    for kp in sc.keypoints[i0:i0 + 4]:
        kp[ankle, 2] = 0.05
    for kp in sc.keypoints[i0 + 4:i0 + 7]:
        kp[ankle, 1] += 0.5 * scale
        kp[ankle, 2] = 0.45
    hits, _ = run_scenario(sc, kit)
    assert hits == []


def test_velocity_follows_stroke_speed(kit):
    vels = [30, 50, 70, 90, 110, 127]
    strokes = [Stroke(1.0 + 0.6 * i, "right_hand", "snare", v) for i, v in enumerate(vels)]
    _, hits, _ = _play(kit, strokes, 5.0)
    assert len(hits) == len(vels)
    got = [h.velocity for h in hits]
    assert got == sorted(got) and got[-1] - got[0] > 60, got


def test_kicks_and_hihat_pedal(kit):
    strokes = [Stroke(1.0 + 0.5 * i, "right_foot" if i % 2 == 0 else "left_foot",
                      "kick" if i % 2 == 0 else "hihat_pedal", 100) for i in range(8)]
    _, hits, _ = _play(kit, strokes, 5.5, noise="realistic")
    assert [h.drum for h in hits] == ["kick", "hihat_pedal"] * 4
    assert [h.note for h in hits] == [36, 44] * 4


def test_same_hits_near_and_far_from_the_camera(kit):
    strokes = [Stroke(1.0 + 0.5 * i, "right_hand", ("snare", "tom_low")[i % 2], 80) for i in range(6)]
    results = []
    for scale in (40.0, 160.0):
        _, hits, _ = _play(kit, strokes, 4.5, motion=Motion(scale0=scale))
        results.append([(h.drum, round(h.t_ns / 1e7)) for h in hits])
    assert results[0] == results[1] and len(results[0]) == 6


@pytest.mark.parametrize("name", ["silent: standing still", "silent: flicker + dropouts",
                                  "silent: walking in and out", "silent: turning"])
def test_nothing_fires_without_playing(kit, name):
    for noise in ("none", "realistic"):
        sc = next(s for s in conditions(kit, noise, seconds=6.0) if s.name == name)
        hits, _ = run_scenario(sc, kit)
        assert hits == [], (noise, hits)


def test_missing_and_garbage_keypoints(kit):
    det = Detector(kit, fps=100.0)
    rng = np.random.default_rng(1)
    for i in range(300):
        kp = np.zeros((17, 3), np.float32)
        if i % 3 == 0:   # a low-score frame full of garbage positions
            kp[:, :2] = rng.uniform(0, 640, (17, 2))
            kp[:, 2] = 0.1
        assert det.update(1_000_000_000 + i * 10_000_000, kp) == []


def test_detector_update_takes_a_list_too(kit):
    sc = build("list", kit, [Stroke(1.0, "right_hand", "snare", 100)], 2.0)
    det = Detector(kit, fps=100.0)
    hits = [h for t, kp in zip(sc.times_ns, sc.keypoints) for h in det.update(t, kp.tolist())]
    assert [h.drum for h in hits] == ["snare"]


# --- the benchmark ----------------------------------------------------------------------------------

def test_bench_targets(kit):
    rows = run_bench(kit, ("none", "realistic"), seconds=6.0)
    s = summary(rows)
    assert s["none"]["f1_min"] >= 0.98 and s["realistic"]["f1_min"] >= 0.95, s
    assert s["none"]["timing_p95_max_ms"] <= 10.0, s
    assert s["none"]["sent_within_frame_min"] >= 0.95, s        # when the note sounds, not just its estimate
    assert s["none"]["silent_hits"] == 0 and s["realistic"]["silent_hits"] == 0
    assert s["none"]["wrong_max"] == 0.0
    assert set(rows[0]) >= {"condition", "noise", "precision", "recall", "f1", "timing_mean_ms", "timing_p95_ms",
                            "wrong_drum", "silent_hits"}


def test_timing_floor(kit):
    """The oracle recovers an exact stroke's bottom; under realistic noise even it misses by more than a
    frame at p95 (the reason the detector's timing target is met without noise but not at that level)."""
    from lalelu.report import p95_abs
    from lalelu.gestures.floor import fit_bottom, timing_floor

    ts = np.arange(0.0, 0.2, 0.01)
    bottom, length = 0.1234, 0.08
    u = np.clip((ts - (bottom - length)) / length, 0.0, 1.0)
    ys = 0.7 + 0.4 * (1.0 - np.cos(np.pi * u)) / 2.0
    assert abs(fit_bottom(ts[ts <= bottom + 0.01], ys[ts <= bottom + 0.01]) - bottom) <= 0.001
    clean, noisy = timing_floor(kit, "none", seconds=6.0), timing_floor(kit, "realistic", seconds=6.0)
    assert clean["strokes"] == noisy["strokes"] > 100
    assert p95_abs(clean["oracle_ms"]) < 5.0 < 10.0 < p95_abs(noisy["oracle_ms"])


def test_scenarios_are_deterministic(kit):
    a = conditions(kit, "realistic", seconds=3.0)[0]
    b = conditions(kit, "realistic", seconds=3.0)[0]
    assert np.array_equal(np.stack(a.keypoints), np.stack(b.keypoints)) and a.times_ns == b.times_ns


def test_score_counts_wrong_drums_and_silent_hits(kit):
    sc = build("s", kit, [Stroke(1.0, "right_hand", "snare", 90)], 2.0, silent=[(0.0, 0.5)])
    hits, _ = run_scenario(sc, kit)
    from dataclasses import replace
    wrong = [replace(h, drum="ride") for h in hits]
    ghost = replace(hits[0], t_ns=sc.times_ns[0] + 200_000_000)
    s = score(sc, wrong + [ghost], [sc.hits[0].t_ns + 25_000_000, sc.times_ns[0] + 200_000_000])
    assert (s.matched, s.wrong_drum, s.silent_hits) == (1, 1, 1)
    assert s.sent_errors_ms == [25.0] and s.row()["sent_within_frame"] == 0.0


def test_works_at_a_camera_frame_rate(kit):
    """At 40 fps a stroke spans only a few frames: still one hit each, at most a frame late."""
    strokes = [Stroke(1.0 + 0.45 * i, ("right_hand", "left_hand", "right_foot")[i % 3],
                      ("snare", "hihat_closed", "kick")[i % 3], 100) for i in range(9)]
    sc = build("40 fps", kit, strokes, 5.5, noise="low", fps=40.0)
    hits, emitted = run_scenario(sc, kit)
    assert [h.drum for h in hits] == [s.drum for s in strokes]
    assert score(sc, hits, emitted).late == 0
    assert all(abs(h.t_ns - t.t_ns) <= 25e6 for h, t in zip(hits, sc.hits))


def test_a_frame_older_than_the_last_is_no_error():
    """A trace whose times go back (damaged, or edited): the body frame keeps the last one; found by the fuzz
    test (a jump back of 2e10 s overflowed the smoothing's exp)."""
    from lalelu.gestures.factory import make_detector

    kp = np.zeros((17, 3))
    kp[:, 2] = 0.9
    kp[5, :2], kp[6, :2], kp[11, :2], kp[12, :2] = (300, 200), (200, 200), (290, 350), (210, 350)
    for kind in ("heuristic", "learned"):
        detector = make_detector(kind, load_kit(), 100.0)
        assert detector.update(22_303_481_387 * 10**9, kp) == []
        assert detector.update(1_000_000_000, kp) == []
