"""`lalelu report FILE`: latency per stage and end to end of a recorded trace."""

from __future__ import annotations

import argparse

from lalelu.errors import LaleluError
from lalelu.report import report_main


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("report", help="latency statistics of a recorded trace",
                              description="Per-stage and end-to-end latency of a trace from "
                                          "`lalelu run --headless --record` or the window.")
    p.add_argument("file", help="trace file")
    p.add_argument("--plot", metavar="OUT.png", help="also draw latency over time and its histogram")
    p.add_argument("--json", action="store_true", help="print the statistics as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        return report_main(args.file, plot=args.plot, as_json=args.json)
    except OSError as exc:
        raise LaleluError(str(exc)) from exc
