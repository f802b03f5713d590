"""`lalelu replay TRACE`: re-run the detector over a recorded trace with another kit, calibration or
thresholds, and list or plot the hits (tuning without the performer)."""

from __future__ import annotations

import argparse

from lalelu.cli.options import FPS, add_engine_options, add_kit_options, played_kit
from lalelu.gestures.factory import player_weights
from lalelu.gestures.replay import format_hits, plot_replay, replay_trace


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "replay", help="re-run the detector on a recorded trace and list or plot the hits",
        description="Tuning without the performer: re-run the strike detector over a trace from "
                    "`lalelu run --headless --record` with another kit, calibration or thresholds.")
    p.add_argument("trace", metavar="TRACE", help="trace file (JSON Lines)")
    add_kit_options(p)
    add_engine_options(p, ("detector",))
    p.add_argument("--fps", type=FPS, help="frame rate (default: from the trace's frame times)")
    p.add_argument("--plot", metavar="OUT.png", help="draw the hits over the wrist and ankle trajectories")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    rep = replay_trace(args.trace, played_kit(args), fps=args.fps, detector=args.detector,
                       weights=player_weights(args.player))
    print(format_hits(rep))
    if args.plot:
        print(f"plot: {plot_replay(rep, args.plot)}")
    return 0
