"""The `lalelu` command: each part registers its own subcommands; errors a user can fix print one message."""

from __future__ import annotations

import argparse
import os
import sys

from lalelu import __version__
from lalelu.errors import LaleluError


def build_parser() -> argparse.ArgumentParser:
    from lalelu import engine_commands, midi_commands, ui_commands
    from lalelu.gestures import commands as gesture_commands
    from lalelu.pose import bench as pose_bench
    from lalelu.pose import commands as pose_commands
    from lalelu.sources import commands as source_commands

    parser = argparse.ArgumentParser(prog="lalelu", description="Play drums in the air: webcam -> MoveNet -> MIDI.")
    parser.add_argument("--version", action="version", version=f"lalelu {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    pose_commands.register(sub)
    engine_commands.register(sub)
    midi_commands.register(sub)
    source_commands.register(sub)
    gesture_commands.register(sub)
    ui_commands.register(sub)

    bench = sub.add_parser("bench", help="benchmarks that print figures").add_subparsers(dest="bench_command",
                                                                                          required=True)
    pose_bench.add_args(bench.add_parser("inference", help="model x backend inference times"))
    engine_commands.register_bench(bench)
    gesture_commands.add_bench_gestures_args(bench.add_parser("gestures", help="strike detector on scripted keypoints"))
    return parser


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TensorFlow's start-up chatter hides our messages
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except LaleluError as exc:
        print(f"lalelu: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader went away (`lalelu synth --script | head`): not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
