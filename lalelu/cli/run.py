"""`lalelu run`: play. With --headless, a status line each second and a summary at the end; without it, the
window (as `lalelu app`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from lalelu.cli.options import SECONDS, add_engine_options, engine_config, parse_cores, resolved, sound_options
from lalelu.errors import LaleluError
from lalelu.play import play_headless
from lalelu.sources.exposure import ExposureRequest


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("run", help="play: camera frames in, drum sound and MIDI notes out",
                              description="Play the instrument. Without --headless it opens the window.")
    p.add_argument("--headless", action="store_true", help="no window: a status line each second")
    add_engine_options(p)
    p.add_argument("--duration", type=SECONDS, help="stop after this many seconds")
    p.add_argument("--record", metavar="FILE", help="write every frame's trace record to FILE (JSON Lines)")
    p.add_argument("--force", action="store_true", help="let --record overwrite an existing file")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not args.headless:
        if args.record or args.duration:
            raise LaleluError("--record and --duration need --headless (the window has its own record button)")
        return open_window(args)

    if args.record:
        check_record_path(Path(args.record), args.force)
    config, source_note = engine_config(args, record=args.record)
    try:
        return play_headless(config, duration_s=args.duration, source_note=source_note)
    except OSError as exc:  # MIDI and file problems: the message says what to do
        raise LaleluError(str(exc)) from exc


def check_record_path(path: Path, force: bool) -> None:
    """A trace file may be written there: not a folder, and not an existing file unless `force`."""
    if path.is_dir():
        raise LaleluError(f"--record {path}: that is a folder; give a file name, e.g. {path / 'take.jsonl'}")
    if path.exists() and not force:
        raise LaleluError(f"--record {path}: the file exists; give --force to overwrite it, or another name")
    if not path.parent.is_dir():
        raise LaleluError(f"--record {path}: no folder {path.parent}; create it or record elsewhere")


def open_window(args: argparse.Namespace, options=None) -> int:
    """The window with these engine options: the choices it offers (source, model, backend, kit, player, MIDI
    port) start from them, the others (threads, cores, fps, MIDI backend) are passed to its engine."""
    from lalelu.ui.app import AppOptions, run_app   # Qt is loaded only for the window

    choices = {name: getattr(args, name, None) for name in ("source", "model", "backend", "kit", "player",
                                                            "midi_port", "sound", "volume")}
    sound = sound_options(args)   # checked here: a bad --volume or --osc is said before the window opens
    overrides = {name: resolved(args, name) for name in ("threads", "detector", "midi_backend", "fps")}
    exposure = ExposureRequest(getattr(args, "exposure_ms", None), getattr(args, "gain", None),
                               getattr(args, "auto_exposure", None)).validated()
    overrides.update(exposure_ms=exposure.exposure_ms, gain=exposure.gain, auto_exposure=exposure.auto)
    overrides.update({name: sound[name] for name in ("soundfont", "audio_driver", "osc")})
    if getattr(args, "cores", None):
        overrides["capture_core"], overrides["inference_core"] = parse_cores(args.cores)
    return run_app(choices, options or AppOptions(), **overrides)
