"""Calibration (pure logic and its file), offline replay of a trace, and the gesture commands."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from lalelu.errors import LaleluError
from lalelu.cli import build_parser
from lalelu.gestures.calibration import (Calibration, calibrate, calibration_path, load_calibration,
                                         save_calibration)
from lalelu.gestures.detector import Detector
from lalelu.gestures.kit import load_kit, parse_kit
from lalelu.gestures.replay import plot_replay, replay_trace
from lalelu.gestures.scenarios import Motion, Stroke, build, write_trace

SHIFT = (0.25, -0.3)    # this player plays every drum right of and above the kit's centres


@pytest.fixture(scope="module")
def kit():
    return load_kit("default")


@pytest.fixture()
def cal_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("LALELU_CALIBRATION_DIR", str(tmp_path / "calibration"))
    return tmp_path / "calibration"


def _player_kit(kit):
    zones = tuple(replace(z, center=(z.center[0] + SHIFT[0], z.center[1] + SHIFT[1])) if z.center else z
                  for z in kit.zones)
    return replace(kit, zones=zones)


def _session(kit):
    """Frames of a calibration session: a still neutral pose, then 3 strokes per hand zone."""
    player = _player_kit(kit)
    neutral = build("neutral", player, [], 2.0, noise="realistic")
    phases = {}
    for i, z in enumerate(kit.hand_zones):
        hand = "right_hand" if z.center[0] <= 0.2 else "left_hand"
        strokes = [Stroke(0.8 + 0.6 * k, hand, z.name, 60 + 20 * k) for k in range(3)]
        sc = build(f"zone {z.name}", player, strokes, 2.6, noise="realistic", seed=i)
        phases[z.name] = list(zip(sc.times_ns, sc.keypoints))
    return list(zip(neutral.times_ns, neutral.keypoints)), phases


def test_calibration_finds_the_players_zones(kit):
    neutral, phases = _session(kit)
    cal = calibrate("ana", kit, neutral, phases)
    assert set(cal.zone_centers) == {z.name for z in kit.hand_zones}
    for z in kit.hand_zones:
        x, y = cal.zone_centers[z.name]
        assert abs(x - (z.center[0] + SHIFT[0])) < 0.06 and abs(y - (z.center[1] + SHIFT[1])) < 0.06, (z.name, x, y)
        assert cal.strokes[z.name] == 3
    assert 70 < cal.shoulder_width_px < 90           # the scenarios draw 80 px per shoulder width
    assert 0.5 < cal.torso_ratio < 0.9
    assert 1.0 <= cal.hand_on_speed <= 4.5
    played = cal.apply(kit)
    assert played.zone("snare").center == cal.zone_centers["snare"]
    assert played.thresholds.hand_on_speed == cal.hand_on_speed


def test_calibration_travel_is_measured_in_the_moving_body_frame(kit):
    """A player who walks in and out while calibrating gets about the stroke travel of one who stands still
    (each wrist height is taken in the body frame of its own moment, not the last one)."""
    def travel(motion):
        neutral = build("neutral", kit, [], 2.0, noise="realistic")
        phases = {}
        for i, z in enumerate(kit.hand_zones):
            hand = "right_hand" if z.center[0] <= 0.2 else "left_hand"
            strokes = [Stroke(0.8 + 0.6 * k, hand, z.name, 40 + 10 * k) for k in range(3)]
            sc = build(f"zone {z.name}", kit, strokes, 2.6, noise="realistic", seed=i, motion=motion)
            phases[z.name] = list(zip(sc.times_ns, sc.keypoints))
        return calibrate("ana", kit, list(zip(neutral.times_ns, neutral.keypoints)), phases).hand_min_travel

    still, walking = travel(None), travel(Motion(walk=0.6))
    assert 0.08 < still < 0.18
    assert abs(walking / still - 1.0) < 0.3, (still, walking)


def test_calibration_needs_strokes_in_every_zone(kit):
    neutral, phases = _session(kit)
    phases["crash"] = phases["crash"][:50]   # stopped before the first stroke
    with pytest.raises(LaleluError, match="saw 0 strokes in zone 'crash'"):
        calibrate("ana", kit, neutral, phases)
    with pytest.raises(LaleluError, match="shoulders were not seen"):
        calibrate("ana", kit, [], phases)


def test_calibration_round_trip_and_detector_uses_it(kit, cal_dir):
    neutral, phases = _session(kit)
    cal = calibrate("ana", kit, neutral, phases)
    path = save_calibration(cal)
    assert path == cal_dir / "ana.toml" == calibration_path("ana")
    back = load_calibration("ana")
    assert back == cal
    assert load_calibration(str(path)) == cal
    # a stroke the player aims at their own snare lands nearer the kit's hi-hat than its snare:
    # only with the calibration is it the snare
    sc = build("aim", _player_kit(kit), [Stroke(1.0, "right_hand", "snare", 90)], 2.0)
    played = {}
    for calibration in (None, back):
        det = Detector(kit, calibration)
        played[calibration is None] = [h.drum for t, kp in zip(sc.times_ns, sc.keypoints) for h in det.update(t, kp)]
    assert played[False] == ["snare"]
    assert len(played[True]) == 1 and played[True] != ["snare"]


def test_calibration_of_a_zone_whose_name_needs_quotes_round_trips(kit, cal_dir):
    cal = Calibration("ana", "mine", 80.0, 0.7, {"floor tom": (-0.9, 1.1), "snare": (0.2, 1.3)}, 3.0, 0.1,
                      "now", {"floor tom": 3, "snare": 2})
    assert load_calibration(save_calibration(cal)) == cal


@pytest.mark.parametrize("old, new, match", [
    ("format = 1", "format = 0", r"ana\.toml:2: key 'format': .*format 1, the file has 0 \(stale\)"),
    ("hand_on_speed = ", "hand_on_speed = -", r"ana\.toml:12: key 'thresholds.hand_on_speed': .* out of range"),
    ("torso_ratio = ", 'torso_ratio = "x" #', r"key 'body.torso_ratio': expected a number"),
    ("[zones]", "[zones", r"broken calibration file"),
])
def test_broken_or_stale_calibration_is_refused(kit, cal_dir, old, new, match):
    cal = Calibration("ana", kit.name, 80.0, 0.7, {z.name: z.center for z in kit.hand_zones}, 3.0, 0.1, "now")
    path = save_calibration(cal)
    path.write_text(path.read_text().replace(old, new, 1))
    with pytest.raises(LaleluError, match=match) as e:
        load_calibration("ana")
    assert "lalelu calibrate --player ana" in str(e.value)


def test_missing_calibration_and_wrong_kit(kit, cal_dir):
    with pytest.raises(LaleluError, match="no calibration for player 'bob'.*lalelu calibrate --player bob"):
        load_calibration("bob")
    with pytest.raises(LaleluError, match="player name"):
        calibration_path("../etc")
    cal = Calibration("ana", kit.name, 80.0, 0.7, {"snare": (0.0, 1.0)}, 3.0, 0.1)
    with pytest.raises(LaleluError, match="was made with kit"):
        Detector(kit, cal)


# --- replay ---------------------------------------------------------------------------------------------

@pytest.fixture()
def trace(tmp_path, kit):
    strokes = [Stroke(1.0 + 0.5 * i, ("right_hand", "left_hand")[i % 2], ("snare", "hihat_closed")[i % 2], 90)
               for i in range(6)] + [Stroke(1.25, "right_foot", "kick", 100)]
    sc = build("replay", kit, strokes, 4.5, noise="low")
    path = tmp_path / "take.jsonl"
    write_trace(sc, path)
    return path, sc


def test_replay_finds_the_hits_and_other_kits_change_them(kit, trace, tmp_path):
    path, sc = trace
    rep = replay_trace(path, kit)
    assert [h.drum for h in rep.hits] == ["snare", "kick", "hihat_closed", "snare", "hihat_closed", "snare",
                                          "hihat_closed"]
    assert abs(rep.fps - 100.0) < 1.0
    # one kit with a single hand zone: every hand hit lands there, with its own note
    mono = parse_kit('name = "mono"\n[zones.cowbell]\nnote = 56\ncenter = [0, 1]\n', "mono.toml")
    rep2 = replay_trace(path, mono)
    assert [h.note for h in rep2.hits] == [56] * 6
    # a threshold above every stroke's speed plays nothing
    assert replay_trace(path, kit.with_thresholds(hand_on_speed=50.0, foot_on_speed=50.0)).hits == []
    out = plot_replay(rep, tmp_path / "hits.png")
    assert out.stat().st_size > 10_000 and out.read_bytes()[:4] == b"\x89PNG"


def test_replay_refuses_a_file_that_is_no_trace(tmp_path, kit):
    p = tmp_path / "x.jsonl"
    p.write_text('{"hello": 1}\n')
    with pytest.raises(LaleluError):
        replay_trace(p, kit)


# --- the commands ---------------------------------------------------------------------------------------

def _parser():
    return build_parser()


def test_replay_command(trace, tmp_path, capsys, cal_dir):
    path, _ = trace
    png = tmp_path / "p.png"
    args = _parser().parse_args(["replay", str(path), "--plot", str(png), "--set", "refractory_ms=80"])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "7 hits over" in out and "snare" in out and png.exists()
    args = _parser().parse_args(["replay", str(path), "--set", "nonsense=1"])
    with pytest.raises(LaleluError, match="--set 'nonsense=1'"):
        args.func(args)
    args = _parser().parse_args(["replay", str(path), "--set", "release=1.5"])   # the kit file's range holds
    with pytest.raises(LaleluError, match=r"--set: release = 1.5 is out of range \[0.01, 0.99\]"):
        args.func(args)
    args = _parser().parse_args(["replay", str(path), "--player", "nobody"])
    with pytest.raises(LaleluError, match="no calibration for player 'nobody'"):
        args.func(args)


def test_replay_with_a_player_and_overrides(trace, kit, capsys, cal_dir):
    """--player plays the player's calibration; --set still wins over it."""
    path, _ = trace
    save_calibration(Calibration("ana", kit.name, 80.0, 0.7, {z.name: z.center for z in kit.hand_zones}, 3.0,
                                 0.1, "now"))
    args = _parser().parse_args(["replay", str(path), "--player", "ana"])
    assert args.func(args) == 0
    assert "7 hits over" in capsys.readouterr().out
    args = _parser().parse_args(["replay", str(path), "--player", "ana", "--set", "hand_on_speed=50"])
    assert args.func(args) == 0
    assert "1 hits over" in capsys.readouterr().out       # the kick only: no hand stroke is that fast


def test_bench_gestures_floor_at_the_asked_frame_rate(kit, capsys):
    from lalelu.report import p95_abs
    from lalelu.gestures.floor import timing_floor

    args = _parser().parse_args(["bench", "gestures", "--noise", "none", "--seconds", "4", "--fps", "40", "--floor"])
    assert args.func(args) == 0
    line = [ln for ln in capsys.readouterr().out.splitlines() if "oracle" in ln][-1]
    at_40 = timing_floor(kit, "none", seconds=4, fps=40.0)
    oracle, detector = p95_abs(at_40["oracle_ms"]), p95_abs(at_40["detector_ms"])
    assert f"oracle {oracle:5.1f} ms, detector {detector:5.1f} ms" in line


def test_bench_gestures_json(capsys):
    args = _parser().parse_args(["bench", "gestures", "--json", "--noise", "none", "--seconds", "4"])
    assert args.func(args) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) >= 10
    assert all(set(r) == {"condition", "noise", "precision", "recall", "f1", "timing_mean_ms", "timing_p95_ms",
                          "wrong_drum", "silent_hits"} for r in rows)
    assert all(r["silent_hits"] == 0 for r in rows)
