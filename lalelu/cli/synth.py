"""`lalelu synth`: print the scripted drummer's part, or render it to a video file.

    lalelu synth --script [--tempo 100] [--pattern rock] [--seconds N]     the hits as a table
    lalelu synth --out drummer.mp4 --seconds 10 [--fps 100] [--size 640x480]
"""

from __future__ import annotations

import argparse
import sys
import time

from lalelu.cli.options import FPS, SECONDS, number
from lalelu.errors import LaleluError
from lalelu.gestures.kit import load_kit
from lalelu.sources.script import PATTERNS, DrumScript
from lalelu.sources.synthetic import render_video


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size {text!r}: write WIDTHxHEIGHT, e.g. 640x480") from None
    if w < 64 or h < 64:
        raise argparse.ArgumentTypeError(f"size {text!r} is too small (at least 64x64)")
    return w, h


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser("synth", help="the scripted drummer: print its part or render it to a video",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--script", action="store_true", help="print the hits (time, drum, note, limb, velocity)")
    p.add_argument("--out", metavar="FILE.mp4", help="render the drummer into this video file")
    p.add_argument("--tempo", type=number("tempo (beats per minute)", above=0.0), default=100.0, help="beats per minute (default 100)")
    p.add_argument("--pattern", default="rock", choices=sorted(PATTERNS), help="drum pattern (default rock)")
    p.add_argument("--seconds", type=SECONDS, default=None,
                   help="length: --script prints this many seconds (the loop repeats), --out renders them "
                        "(default: the lead-in and one loop of the pattern)")
    p.add_argument("--kit", default="default", help="kit name or .toml path (default: default)")
    p.add_argument("--fps", type=FPS, default=100.0, help="frames per second for --out (default 100)")
    p.add_argument("--size", type=_size, default=(640, 480), help="frame size for --out (default 640x480)")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    if not args.script and not args.out:
        raise LaleluError("synth: give --script (print the hits) or --out FILE.mp4 (render a video)")
    kit = load_kit(args.kit)
    script = DrumScript(tempo=args.tempo, pattern=args.pattern, kit=kit)
    seconds = args.seconds if args.seconds is not None else script.end_s
    if args.script:
        print(script.table(seconds))
    if args.out:
        started = time.perf_counter()
        frames = render_video(script, args.out, seconds, fps=args.fps, size=args.size)
        print(f"wrote {frames} frames ({seconds:g} s at {args.fps:g} fps, {args.size[0]}x{args.size[1]}) to "
              f"{args.out} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return 0
