"""Command-line front of the gestures: `lalelu calibrate`, `lalelu replay` and `lalelu bench gestures`.

`register(subparsers)` adds `calibrate` and `replay`; `add_bench_gestures_args(parser)` fills the parser of
`lalelu bench gestures` (its func is `bench_gestures`). Each parser sets `func(args) -> int`.
"""

from __future__ import annotations

import argparse
import json
import sys

from lalelu.errors import LaleluError
from lalelu.gestures.kit import THRESHOLD_RANGES, Kit, load_kit

# --- shared options ------------------------------------------------------------------------------------


def played_kit(kit_name: str, sets: list[str] | None, player: str | None = None) -> Kit:
    """The kit as the detector will play it: --kit, then --player's calibration, then --set KEY=VALUE
    (thresholds) last, so that an override always wins over the calibration."""
    from lalelu.gestures.calibration import load_calibration

    kit = load_kit(kit_name)
    if player:
        kit = load_calibration(player).apply(kit)   # refuses a calibration made for another kit
    if sets:
        changes = {}
        for item in sets:
            key, sep, value = item.partition("=")
            key = key.strip()
            if not sep or key not in THRESHOLD_RANGES:
                raise LaleluError(f"--set {item!r}: give KEY=VALUE with KEY one of "
                                  f"{', '.join(sorted(THRESHOLD_RANGES))}")
            try:
                changes[key] = float(value)
            except ValueError:
                raise LaleluError(f"--set {item!r}: {value!r} is not a number") from None
        try:
            kit = kit.with_thresholds(**changes)
        except ValueError as error:
            raise LaleluError(f"--set: {error}") from None
    return kit


# --- bench ---------------------------------------------------------------------------------------------

def add_bench_gestures_args(p: argparse.ArgumentParser) -> None:
    from lalelu.gestures.scenarios import NOISE_LEVELS

    p.description = ("The strike detector on scripted keypoint sequences with known hits (tempi 60-240 BPM, both "
                     "hands, flams, kicks, zones, MoveNet-level noise, dropouts, a moving player, silent stretches).")
    p.add_argument("--json", action="store_true", help="print a JSON list of rows, one per condition")
    p.add_argument("--noise", action="append", choices=tuple(NOISE_LEVELS),
                   help="noise level(s) to run (repeatable; default: all)")
    p.add_argument("--seconds", type=float, default=8.0, help="length of each condition (default 8)")
    p.add_argument("--kit", default="default", help="kit name or .toml path")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a detector threshold")
    p.add_argument("--fps", type=float, default=100.0, help="frame rate of the sequences (default 100)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--floor", action="store_true",
                   help="also fit the exact stroke template to each hand stroke (an oracle) and print its timing "
                        "error beside the detector's: the floor that noise sets")
    p.set_defaults(func=bench_gestures)


def bench_gestures(args: argparse.Namespace) -> int:
    from lalelu.gestures.bench import format_table, run_bench, summary
    from lalelu.gestures.scenarios import NOISE_LEVELS

    kit = played_kit(args.kit, args.set)
    noises = tuple(args.noise) if args.noise else tuple(NOISE_LEVELS)
    rows = run_bench(kit, noises, seconds=args.seconds, seed=args.seed, fps=args.fps)
    if args.json:
        keys = ("condition", "noise", "precision", "recall", "f1", "timing_mean_ms", "timing_p95_ms",
                "wrong_drum", "silent_hits")
        print(json.dumps([{k: r[k] for k in keys} for r in rows], indent=1))
        return 0
    print(format_table(rows))
    print()
    print(f"noise std per keypoint (shoulder widths): "
          f"{', '.join(f'{n} {NOISE_LEVELS[n]:g}' for n in noises)}; 'late' = hits emitted more than one frame "
          f"after the true bottom; '1frame' = share of hits emitted within one frame of it, early or late (when "
          f"the note sounds)")
    for noise, s in summary(rows).items():
        print(f"{noise:>9s}: worst F1 {s['f1_min']:.3f}, worst timing p95 {s['timing_p95_max_ms']:.1f} ms, "
              f"worst wrong-drum rate {s['wrong_max']:.3f}, hits in silent stretches {s['silent_hits']}, "
              f"sent within one frame {100 * s['sent_within_frame_min']:.0f} % (worst)")
    cost = sorted(r["detector_us_per_frame"] for r in rows)
    print(f"detector cost (Detector.update, all limbs): median {cost[len(cost) // 2]:.1f} us per frame, "
          f"worst condition {cost[-1]:.1f} us")
    if args.floor:
        from lalelu.gestures.bench import p95_abs
        from lalelu.gestures.floor import timing_floor

        print("timing floor: the exact stroke template fitted to the wrist up to one frame past the true bottom "
              "(hand strokes, conditions without dropouts), p95 of |error| against the detector's on the same "
              "strokes:")
        for noise in noises:
            r = timing_floor(kit, noise, seconds=args.seconds, seed=args.seed, fps=args.fps)
            print(f"{noise:>9s}: oracle {p95_abs(r['oracle_ms']):5.1f} ms, "
                  f"detector {p95_abs(r['detector_ms']):5.1f} ms ({r['strokes']} strokes)")
    return 0


# --- replay --------------------------------------------------------------------------------------------

def replay_command(args: argparse.Namespace) -> int:
    from lalelu.gestures.replay import format_hits, plot_replay, replay_trace

    kit = played_kit(args.kit, args.set, args.player)
    rep = replay_trace(args.trace, kit, fps=args.fps)
    print(format_hits(rep))
    if args.plot:
        print(f"plot: {plot_replay(rep, args.plot)}")
    return 0


# --- calibrate -----------------------------------------------------------------------------------------

class CalibrationScript:
    """What the scripted drummer plays for `calibrate --source synthetic`: still, then a few strokes per zone."""

    pattern = "calibration"
    tempo = 100.0

    def __init__(self, kit: Kit, neutral_s: float, zone_s: float, strokes: int = 4):
        from lalelu.sources.script import ScriptedHit

        self.kit = kit
        hits = []
        for i, zone in enumerate(kit.hand_zones):
            start = neutral_s + i * zone_s
            limb = "right_hand" if zone.center[0] < 0.0 else "left_hand"   # no hand crosses the body
            step = (zone_s - 1.0) / strokes
            for k in range(strokes):
                t_s = round(start + 0.7 + k * step, 6)
                hits.append(ScriptedHit(t_s, zone.name, zone.note, limb, 70 + 10 * (k % 3)))
        self.hits = hits
        self.duration = neutral_s + len(kit.hand_zones) * zone_s

    def hits_between(self, start_s: float, end_s: float, loop: bool = False) -> list:
        return [h for h in self.hits if start_s <= h.t_s < end_s]


def calibrate_command(args: argparse.Namespace) -> int:
    from lalelu.gestures.calibration import calibrate, calibration_path, save_calibration

    kit = load_kit(args.kit)
    path = calibration_path(args.player)
    if args.strokes < 2:
        raise LaleluError("--strokes: play at least 2 strokes per zone")
    zone_s = max(args.zone_seconds, 0.6 * args.strokes + 1.0)
    source, estimator = _open_calibration_input(args, kit, zone_s)
    interactive = not args.yes and sys.stdin.isatty()
    say = print
    say(f"Calibrating player {args.player!r} with kit {kit.name!r} from {getattr(source, 'description', args.source)}.")
    if getattr(source, "warning", ""):   # e.g. a camera granting fewer fps than asked
        say(f"warning: {source.warning}")
    try:
        frames = _frames(source, estimator)
        say(f"1. Stand facing the camera in a neutral pose, arms relaxed, for {args.neutral_seconds:g} s.")
        _ready(interactive)
        neutral = _take(frames, args.neutral_seconds)
        strokes: dict[str, list] = {}
        for n, zone in enumerate(kit.hand_zones, 2):
            x, y = zone.center
            where = ("left" if x < -0.3 else "right" if x > 0.3 else "middle") + (
                ", high" if y < 0.6 else ", low" if y > 1.1 else "")
            say(f"{n}. Play {args.strokes} clear strokes on the {zone.name} (image {where}) within {zone_s:g} s.")
            _ready(interactive)
            strokes[zone.name] = _take(frames, zone_s)
    finally:
        source.close()
    # The rate the frames came at (a video's own, what a camera granted), which the detector's windows assume.
    fps = float(getattr(source, "fps", 0) or args.fps)
    cal = calibrate(args.player, kit, neutral, strokes, fps=fps, min_strokes=2)
    save_calibration(cal, path)
    say(f"Saved {path}: shoulder width {cal.shoulder_width_px:.0f} px, torso ratio {cal.torso_ratio:.2f}, "
        f"stroke threshold {cal.hand_on_speed:.2f} shoulder widths/s.")
    for name, (x, y) in cal.zone_centers.items():
        kx, ky = kit.zone(name).center
        say(f"   {name:14s} centre ({x:+.2f}, {y:+.2f})  kit ({kx:+.2f}, {ky:+.2f})  strokes {cal.strokes[name]}")
    say(f"Play with it: lalelu run --player {args.player}")
    return 0


def _ready(interactive: bool) -> None:
    if interactive:
        input("   press Enter to start ")
    else:
        print("   starting now", flush=True)


def _open_calibration_input(args: argparse.Namespace, kit: Kit, zone_s: float):
    from lalelu.pose import load_estimator

    estimator = load_estimator(args.model, args.backend, args.threads)
    if args.source == "synthetic":
        # the scripted drummer plays the calibration routine itself, as fast as it renders
        from lalelu.sources.synthetic import SyntheticDrummer

        script = CalibrationScript(kit, args.neutral_seconds, zone_s, args.strokes)
        source = SyntheticDrummer(script, kit, fps=args.fps, realtime=False, loop=False)
    else:
        from lalelu.sources import open_source

        source = open_source(args.source, fps=args.fps, realtime=True, loop=False)
    source.start()
    return source, estimator


def _frames(source, estimator):
    """(t_capture, keypoints) of each frame, the first person's; frames with nobody are skipped."""
    from lalelu.sources.base import SourceInterrupted

    while True:
        try:
            frame = source.read()
        except SourceInterrupted as exc:   # a gap would spoil the routine's timing: start again instead
            raise LaleluError(f"calibration stopped: {exc}; plug it in and calibrate again") from None
        if frame is None:
            return
        people = estimator(frame.image)
        if people:
            yield frame.t_capture, people[0].keypoints


def _take(frames, seconds: float) -> list:
    """The frames of the next `seconds` (by their capture times)."""
    out = []
    start = None
    for t, kp in frames:
        if start is None:
            start = t
        out.append((t, kp))
        if t - start >= seconds * 1e9 - 1:
            return out
    if not out:
        raise LaleluError("calibration: the source ended before the calibration did; use a longer video or a camera")
    return out


# --- registration --------------------------------------------------------------------------------------

def register(subparsers: argparse._SubParsersAction) -> None:
    cal = subparsers.add_parser(
        "calibrate", help="fit zones and thresholds to a player (writes calibration/NAME.toml)",
        description="Headless, guided by prompts: stand still in a neutral pose, then play a few strokes in each "
                    "zone. The result goes to calibration/NAME.toml; `lalelu run --player NAME` uses it.")
    cal.add_argument("--player", required=True, help="the player's name (file calibration/NAME.toml)")
    cal.add_argument("--kit", default="default", help="kit name or .toml path")
    cal.add_argument("--source", default="camera:0", help="camera:N, file:PATH or synthetic (default camera:0)")
    cal.add_argument("--model", default="lightning")
    cal.add_argument("--backend", default=None, help="pose backend (default: $LALELU_BACKEND, else litert)")
    cal.add_argument("--threads", type=int, default=1)
    cal.add_argument("--fps", type=float, default=100.0)
    cal.add_argument("--neutral-seconds", type=float, default=3.0, help="length of the neutral pose (default 3)")
    cal.add_argument("--zone-seconds", type=float, default=4.0, help="time to play each zone (default 4)")
    cal.add_argument("--strokes", type=int, default=4, help="strokes to play per zone (default 4)")
    cal.add_argument("--yes", action="store_true", help="do not wait for Enter: each step starts after its prompt")
    cal.set_defaults(func=calibrate_command)

    rep = subparsers.add_parser(
        "replay", help="re-run the detector on a recorded trace and list or plot the hits",
        description="Tuning without the performer: re-run the strike detector over a trace from "
                    "`lalelu run --headless --record` with another kit, calibration or thresholds.")
    rep.add_argument("trace", metavar="TRACE", help="trace file (JSON Lines)")
    rep.add_argument("--kit", default="default", help="kit name or .toml path")
    rep.add_argument("--player", help="calibration name or path")
    rep.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a detector threshold "
                     "(e.g. --set hand_on_speed=3)")
    rep.add_argument("--fps", type=float, help="frame rate (default: from the trace's frame times)")
    rep.add_argument("--plot", metavar="OUT.png", help="draw the hits over the wrist and ankle trajectories")
    rep.set_defaults(func=replay_command)
