"""The `lalelu` command: one module per verb, each with `register(subparsers)` and `run(args)`; errors a user
can fix print one message.

    run  app  report  replay  pose  models  calibrate  cameras  ports  synth  bench  train
"""

from __future__ import annotations

import argparse
import os
import sys

from lalelu import __version__
from lalelu.cli import app, bench, calibrate, cameras, models, pose, ports, replay, report, run, synth, train
from lalelu.cli.options import export_openvino_options
from lalelu.errors import LaleluError

VERBS = (run, app, report, replay, pose, models, calibrate, cameras, ports, synth, bench, train)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lalelu", description="Play drums in the air: webcam -> MoveNet -> MIDI.")
    parser.add_argument("--version", action="version", version=f"lalelu {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for verb in VERBS:
        verb.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TensorFlow's start-up chatter hides our messages
    args = build_parser().parse_args(argv)
    try:
        export_openvino_options(args)   # before any verb runs: its engine or child processes read them
        return int(args.func(args) or 0)
    except LaleluError as exc:
        print(f"lalelu: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader went away (`lalelu synth --script | head`): not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
