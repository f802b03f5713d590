"""`lalelu calibrate --player NAME`: fit the zones and thresholds to a player, guided by prompts (stand still,
then a few strokes per zone); the result goes to calibration/NAME.toml for `lalelu run --player NAME`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator

import numpy as np

from lalelu.cli.options import SECONDS, add_engine_options, number, resolved
from lalelu.core.protocols import Detector as StrikeDetector
from lalelu.core.protocols import PoseEstimator, Source
from lalelu.errors import LaleluError, SourceInterrupted
from lalelu.gestures.calibration import calibrate, calibration_path, save_calibration
from lalelu.gestures.factory import make_detector
from lalelu.gestures.kit import Kit, load_kit
from lalelu.gestures.training import retrain_from_script
from lalelu.pose import load_estimator
from lalelu.sources import choose_source, open_source
from lalelu.sources.script import CalibrationScript
from lalelu.sources.synthetic import SyntheticDrummer

Frames = Iterator[tuple[int, np.ndarray]]


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "calibrate", help="fit zones and thresholds to a player (writes calibration/NAME.toml)",
        description="Headless, guided by prompts: stand still in a neutral pose, then play a few strokes in each "
                    "zone. The result goes to calibration/NAME.toml; `lalelu run --player NAME` uses it.")
    p.add_argument("--player", required=True, help="the player's name (file calibration/NAME.toml)")
    add_engine_options(p, ("source", "model", "backend", "threads", "kit", "detector", "fps"))
    p.add_argument("--neutral-seconds", type=SECONDS, default=3.0, help="length of the neutral pose (default 3)")
    p.add_argument("--zone-seconds", type=SECONDS, default=4.0, help="time to play each zone (default 4)")
    p.add_argument("--strokes", type=number("number of strokes", int, lo=2, hi=100), default=4,
                   help="strokes to play per zone (default 4)")
    p.add_argument("--yes", action="store_true", help="do not wait for Enter: each step starts after its prompt")
    p.add_argument("--retrain", action="store_true",
                   help="also retrain the learned detector for this player from the play-along (needs a source "
                        "that knows when each stroke was due: the scripted drummer here)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    kit = load_kit(resolved(args, "kit"))
    path = calibration_path(args.player)
    if args.strokes < 2:
        raise LaleluError("--strokes: play at least 2 strokes per zone")
    zone_s = max(args.zone_seconds, 0.6 * args.strokes + 1.0)
    source, estimator = _open_input(args, kit, zone_s)
    interactive = not args.yes and sys.stdin.isatty()
    say = print
    say(f"Calibrating player {args.player!r} with kit {kit.name!r} from {source.description}.")
    if source.warning:   # e.g. a camera granting fewer fps than asked
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
    fps = float(source.fps or resolved(args, "fps"))
    def detector(listening: Kit, at_fps: float) -> StrikeDetector:
        return make_detector(args.detector, listening, at_fps)

    # The strokes are found by the heuristic detector unless another is asked for: the thresholds a
    # calibration fits are its own.
    cal = calibrate(args.player, kit, neutral, strokes, fps=fps, min_strokes=2,
                    detector=detector if args.detector else None)
    save_calibration(cal, path)
    if args.retrain:
        if not isinstance(source, SyntheticDrummer):
            raise LaleluError("--retrain needs to know when each stroke of the play-along was due: use --source "
                              "synthetic (the window's play-along is to come)")
        frames = list(neutral) + [f for zone in strokes.values() for f in zone]
        retrain_from_script(args.player, cal.apply(kit), source.script, source.t0_ns, frames, fps, say=say)
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


def _open_input(args: argparse.Namespace, kit: Kit, zone_s: float) -> tuple[Source, PoseEstimator]:
    estimator = load_estimator(resolved(args, "model"), resolved(args, "backend"), resolved(args, "threads"))
    name, note = choose_source(args.source)
    if note:
        print(note)
    fps = resolved(args, "fps")
    if name == "synthetic":
        # the scripted drummer plays the calibration routine itself, as fast as it renders
        script = CalibrationScript(kit, args.neutral_seconds, zone_s, args.strokes)
        source = SyntheticDrummer(script, kit, fps=fps, realtime=False, loop=False)
    else:
        source = open_source(name, fps=fps, realtime=True, loop=False)
    source.start()
    return source, estimator


def _frames(source: Source, estimator: PoseEstimator) -> Frames:
    """(t_capture, keypoints) of each frame, the first person's; frames with nobody are skipped."""
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


def _take(frames: Frames, seconds: float) -> list:
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
