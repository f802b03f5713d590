"""`lalelu app`: the window (video with skeleton and zones, live latency plots, every control)."""

from __future__ import annotations

import argparse

from lalelu.cli.options import SECONDS, add_engine_options, number
from lalelu.cli.run import open_window


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("app", help="open the lalelu window (video, live latency plots, controls)",
                              description="The window. Its choices start from the options given here, else "
                                          "from what was used last.")
    add_engine_options(p)
    p.add_argument("--no-start", action="store_true", help="open the window without starting to play")
    p.add_argument("--ui-fps", type=number("window redraws per second", above=0.0, hi=60.0), default=30.0, help="window redraws per second (at most 60)")
    p.add_argument("--quit-after", type=SECONDS, help="close the window after this many seconds")
    p.add_argument("--screenshot-dir", help=argparse.SUPPRESS)   # for tests and docs: window pictures ...
    p.add_argument("--screenshot-at", type=SECONDS, nargs="*", default=[], help=argparse.SUPPRESS)  # ... at s
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from lalelu.ui.app import AppOptions

    return open_window(args, AppOptions(start=not args.no_start, ui_fps=args.ui_fps, quit_after=args.quit_after,
                                        screenshot_dir=args.screenshot_dir, screenshot_at=args.screenshot_at))
