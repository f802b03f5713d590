"""Command-line front of the engine: `lalelu run`, `lalelu report`, and `lalelu bench pipeline`.

`register(subparsers)` adds `run` and `report`; `register_bench(bench_subparsers)` adds `pipeline` under
`lalelu bench`. Each parser sets `func(args) -> int`.
"""

from __future__ import annotations

import argparse
import os

from lalelu.engine import DEFAULT_THREADS
from lalelu.errors import LaleluError


def parse_cores(text: str | None) -> tuple[int | None, int | None]:
    """`--cores 0,1` -> (capture core, inference core); None -> the defaults for this machine."""
    if text is None:
        usable = sorted(os.sched_getaffinity(0))
        if len(usable) >= 2:
            return usable[0], usable[1]
        return usable[0], usable[0]
    if text.strip().lower() in ("none", "off", "-"):
        return None, None
    try:
        parts = [int(p) for p in text.split(",")]
    except ValueError:
        parts = []
    if len(parts) != 2 or min(parts) < 0:
        raise LaleluError(f"--cores {text!r}: give two core numbers, capture then inference, e.g. --cores 0,1 "
                          f"(this machine's usable cores: {sorted(os.sched_getaffinity(0))}), or 'none'")
    return parts[0], parts[1]


def _add_engine_arguments(p: argparse.ArgumentParser) -> None:
    # No defaults here: an option not given leaves the window's remembered setting, or the engine's default.
    p.add_argument("--source", help="synthetic, camera:N or file:PATH (default: the first webcam, "
                                    "else the scripted drummer)")
    p.add_argument("--model", help="lightning, thunder, multipose or a model path (default lightning)")
    p.add_argument("--backend", help="litert, onnxruntime, tensorflow or tensorrt (default litert)")
    p.add_argument("--threads", type=int, help=f"pose inference threads (default {DEFAULT_THREADS})")
    p.add_argument("--kit", help="kit name or .toml path (default: default)")
    p.add_argument("--player", help="calibration name (calibration/NAME.toml)")
    p.add_argument("--midi-port", help="virtual output port name or an existing port (default: lalelu drums)")
    p.add_argument("--midi-backend", choices=("auto", "alsa", "jack"), help="default auto: ALSA, else JACK")
    p.add_argument("--cores", help="capture,inference cores to pin the threads to (default: the first two usable "
                                   "cores); 'none' to not pin")
    p.add_argument("--fps", type=float, help="frame rate asked of the camera, or played by the scripted drummer "
                                             "(default 100)")


def register(subparsers: argparse._SubParsersAction) -> None:
    run = subparsers.add_parser("run", help="play: camera frames in, MIDI drum notes out",
                                description="Play the instrument. Without --headless it opens the window.")
    run.add_argument("--headless", action="store_true", help="no window: a status line each second")
    _add_engine_arguments(run)
    run.add_argument("--duration", type=float, help="stop after this many seconds")
    run.add_argument("--record", metavar="FILE", help="write every frame's trace record to FILE (JSON Lines)")
    run.set_defaults(func=run_command)

    report = subparsers.add_parser("report", help="latency statistics of a recorded trace",
                                   description="Per-stage and end-to-end latency of a trace from `lalelu run --headless --record` or the window.")
    report.add_argument("file", help="trace file")
    report.add_argument("--plot", metavar="OUT.png", help="also draw latency over time and its histogram")
    report.add_argument("--json", action="store_true", help="print the statistics as JSON")
    report.set_defaults(func=report_command)


def register_bench(bench_subparsers: argparse._SubParsersAction) -> None:
    p = bench_subparsers.add_parser("pipeline", help="the whole instrument against the scripted drummer",
                                    description="Scripted drummer at 100 fps -> pose -> detector -> MIDI, headless.")
    p.add_argument("--seconds", type=float, default=30.0, help="how long to play (default 30)")
    p.add_argument("--json", action="store_true", help="print the results as one JSON object")
    p.add_argument("--fps", type=float, default=100.0)
    p.add_argument("--threads", type=int, default=DEFAULT_THREADS,
                   help=f"pose inference threads (default {DEFAULT_THREADS})")
    p.add_argument("--model", default="lightning")
    p.add_argument("--backend", default="litert")
    p.add_argument("--cores", help="capture,inference cores (default: the first two usable cores)")
    from lalelu.ui_commands import add_gui_argument

    add_gui_argument(p)
    p.set_defaults(func=bench_pipeline_command)


def run_command(args: argparse.Namespace) -> int:
    if not args.headless:
        if args.record or args.duration:
            raise LaleluError("--record and --duration need --headless (the window has its own record button)")
        from lalelu.ui.app import add_app_arguments, run_app

        window_options = argparse.ArgumentParser(add_help=False)
        add_app_arguments(window_options)
        for name, default in vars(window_options.parse_args([])).items():   # the window's own, at their defaults
            if not hasattr(args, name):
                setattr(args, name, default)
        return run_app(args)

    from lalelu.engine import EngineConfig
    from lalelu.play import play_headless

    if args.threads is not None and args.threads < 1:
        raise LaleluError(f"--threads {args.threads}: give 1 or more")
    if args.duration is not None and args.duration <= 0:
        raise LaleluError(f"--duration {args.duration:g}: give a positive number of seconds")
    capture_core, inference_core = parse_cores(args.cores)
    given = dict(model=args.model, backend=args.backend, threads=args.threads, kit=args.kit,
                 midi_port=args.midi_port, midi_backend=args.midi_backend, fps=args.fps)
    config = EngineConfig(source=args.source or "auto", player=args.player, capture_core=capture_core,
                          inference_core=inference_core, record=args.record,
                          **{name: value for name, value in given.items() if value is not None})
    try:
        return play_headless(config, duration_s=args.duration)
    except OSError as exc:  # MIDI and file problems: the message says what to do
        raise LaleluError(str(exc)) from exc


def report_command(args: argparse.Namespace) -> int:
    from lalelu.report import report_main

    try:
        return report_main(args.file, plot=args.plot, as_json=args.json)
    except OSError as exc:
        raise LaleluError(str(exc)) from exc


def bench_pipeline_command(args: argparse.Namespace) -> int:
    from lalelu.bench_pipeline import bench_pipeline_main

    if args.seconds <= 0:
        raise LaleluError(f"--seconds {args.seconds:g}: give a positive number")
    options = dict(seconds=args.seconds, as_json=args.json, fps=args.fps, threads=args.threads,
                   model=args.model, backend=args.backend, cores=parse_cores(args.cores))
    try:
        if args.gui:
            from lalelu.ui_commands import bench_pipeline_gui_main

            return bench_pipeline_gui_main(**options)
        return bench_pipeline_main(**options)
    except OSError as exc:
        raise LaleluError(str(exc)) from exc
