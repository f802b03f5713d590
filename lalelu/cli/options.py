"""The engine's options, declared once for every command that plays or estimates (run, app, calibrate, pose,
bench pipeline), and turned into an EngineConfig in lalelu.config's order: flag > environment > user
settings > default. No option has a default of its own here: None means "not given"."""

from __future__ import annotations

import argparse
import math
import os

from lalelu import config
from lalelu.engine import EngineConfig
from lalelu.errors import LaleluError
from lalelu.gestures.calibration import load_calibration
from lalelu.gestures.factory import DETECTORS
from lalelu.gestures.kit import THRESHOLD_RANGES, Kit, load_kit
from lalelu.midi import BACKENDS as MIDI_BACKENDS
from lalelu.osc import parse_target
from lalelu.pose.backends import BACKENDS
from lalelu.sound.outputs import DRIVERS as AUDIO_DRIVERS
from lalelu.sound.soundfont import soundfont_problem
from lalelu.sources import choose_source
from lalelu.sources.exposure import ExposureRequest

ENGINE_OPTIONS = ("source", "model", "backend", "threads", "kit", "player", "detector", "midi_port", "midi_backend",
                  "cores", "fps", "exposure_ms", "gain", "auto_exposure", "sound", "volume", "soundfont",
                  "audio_driver", "osc")
SOUND_OPTIONS = ("sound", "volume", "soundfont", "audio_driver", "osc")
POSE_OPTIONS = ("model", "backend", "threads")
MAX_FPS = 1000.0      # no camera or scripted drummer plays faster; a larger figure is a typing slip
MAX_THREADS = 64


# --- numbers: every numeric option is checked when it is parsed, so that 0, -1, nan or inf is a clear error
# (argparse prints it with the option's name and exits with status 2), never a traceback or a silent
# misbehaviour further on.

def number(what: str, kind: type = float, lo: float | None = None, hi: float | None = None,
           above: float | None = None):
    """An argparse `type=`: a finite `kind` (float or int) with lo <= v <= hi and v > above (those given);
    `what` names the figure in the error."""
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {'an integer' if kind is int else 'a number'} "
                                             f"({what})") from None
        return check_number(value, what, lo, hi, above, error=argparse.ArgumentTypeError)

    parse.__name__ = what
    return parse


def check_number(value, what: str, lo: float | None = None, hi: float | None = None, above: float | None = None,
                 error: type[Exception] = LaleluError):
    """`value` if it is finite and within the bounds given, else `error` saying what to give instead."""
    wanted = []
    if above is not None:
        wanted.append(f"above {above:g}")
    if lo is not None:
        wanted.append(f"at least {lo:g}")
    if hi is not None:
        wanted.append(f"at most {hi:g}")
    ok = (isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
          and (above is None or value > above) and (lo is None or value >= lo) and (hi is None or value <= hi))
    if not ok:
        shown = f"{value:g}" if isinstance(value, float) else str(value)
        kind = "an integer" if isinstance(value, int) else "a number"
        raise error(f"{shown} is not a usable {what}: give {kind} {' and '.join(wanted) or 'that is finite'}")
    return value


MAX_SECONDS = 1e6    # eleven days and a half
FPS = number("frame rate (frames per second)", lo=1.0, hi=MAX_FPS)
SECONDS = number("number of seconds", above=0.0, hi=MAX_SECONDS)
THREADS = number("thread count", int, lo=1, hi=MAX_THREADS)


def add_engine_options(parser: argparse.ArgumentParser, include: tuple[str, ...] = ENGINE_OPTIONS) -> None:
    """Add the engine options named in `include` (all by default) to `parser`."""
    d = config.DEFAULTS
    declared = {
        "source": dict(help="synthetic, camera:N or file:PATH (default: $LALELU_SOURCE, else the last one used, "
                            "else the first webcam that opens, else the scripted drummer)"),
        "model": dict(help=f"lightning, thunder, multipose or the path of a MoveNet SavedModel folder, .tflite or "
                           f".onnx (default {d['model']})"),
        "backend": dict(choices=BACKENDS, help=f"pose backend (default: $LALELU_BACKEND, else the last one used, "
                                               f"else {d['backend']})"),
        "threads": dict(type=THREADS, help=f"pose inference threads (default {d['threads']})"),
        "kit": dict(help=f"kit name or .toml path (default {d['kit']})"),
        "player": dict(help="a player's calibration: a name (calibration/NAME.toml) or a .toml path"),
        "detector": dict(choices=DETECTORS, help=f"strike detector (default: $LALELU_DETECTOR, else the last one "
                                                 f"used, else {d['detector']})"),
        "midi_port": dict(help=f"virtual output port name or an existing port (default: {d['midi_port']})"),
        "midi_backend": dict(choices=("auto", *MIDI_BACKENDS),
                             help="MIDI backend (default: $LALELU_MIDI_BACKEND, else auto: ALSA, else JACK)"),
        "cores": dict(help="capture,inference cores to pin the threads to (default: the first two usable cores); "
                           "'none' to not pin"),
        "fps": dict(type=FPS, help=f"frame rate asked of the camera, or played by the scripted drummer "
                                     f"(default {d['fps']:g})"),
        "exposure_ms": dict(type=float, metavar="MS",
                            help="a camera's exposure time in ms (default: what was last set for this camera, "
                                 "else 5 ms or half the frame period, with the gain raised to keep it bright)"),
        "gain": dict(type=float, help="a camera's gain, in its own units (`lalelu cameras` lists the range; "
                                      "default: tuned to keep the picture as bright as auto exposure would)"),
        "auto_exposure": dict(action="store_const", const=True,
                              help="leave a camera's exposure to the camera (its frame rate held)"),
        "sound": dict(action=argparse.BooleanOptionalAction,
                      help="the built-in drum sound (FluidSynth), beside MIDI (default: on, or as the window "
                           "last left it)"),
        "volume": dict(type=float, metavar="PERCENT", help=f"its volume, 0-100 (default {d['volume']:g})"),
        "soundfont": dict(metavar="SF2", help="a General MIDI soundfont for it (default: $LALELU_SOUNDFONT, else "
                                              "Debian's TimGM6mb)"),
        "audio_driver": dict(choices=("auto", *AUDIO_DRIVERS),
                             help="where it plays (default: $LALELU_AUDIO_DRIVER, else auto: a JACK server, else "
                                  "PulseAudio/PipeWire, else ALSA, else the set-up's own JACK server)"),
        "osc": dict(metavar="HOST:PORT", help="also send each hit and the limbs' positions and speeds as OSC "
                                              "(/lalelu/hit, /lalelu/pose; see the README)"),
    }
    for name in include:
        parser.add_argument(f"--{name.replace('_', '-')}", **declared[name])


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


def resolved(args: argparse.Namespace, name: str):
    """One engine option: the flag if given, else lalelu.config's order. A number from the environment or the
    user's settings is checked as a flag is."""
    value = config.resolve(name, getattr(args, name, None))
    if name == "threads":
        check_number(value, "thread count (--threads, or threads in the settings file)", lo=1, hi=MAX_THREADS)
    elif name == "fps":
        check_number(value, "frame rate (--fps, or fps in the settings file)", lo=1.0, hi=MAX_FPS)
    return value


def engine_config(args: argparse.Namespace, **fixed) -> tuple[EngineConfig, str]:
    """(the EngineConfig the options ask for, a sentence saying how the source was chosen). `fixed` sets
    further EngineConfig fields (record, realtime...)."""
    source, note = choose_source(getattr(args, "source", None))
    capture_core, inference_core = parse_cores(getattr(args, "cores", None))
    values = {name: resolved(args, name) for name in ("model", "backend", "threads", "kit", "detector", "midi_port",
                                                      "midi_backend", "fps")}
    player = resolved(args, "player") or None
    exposure = ExposureRequest(getattr(args, "exposure_ms", None), getattr(args, "gain", None),
                               getattr(args, "auto_exposure", None)).validated()
    # A broken kit or calibration is refused now, before anything is started (a JACK server, the model).
    kit = load_kit(values["kit"])
    if player:
        load_calibration(player).apply(kit)
    return EngineConfig(source=source, player=player, capture_core=capture_core, inference_core=inference_core,
                        exposure_ms=exposure.exposure_ms, gain=exposure.gain, auto_exposure=exposure.auto,
                        **values, **sound_options(args), **fixed), note


def sound_options(args: argparse.Namespace) -> dict:
    """The EngineConfig fields of the built-in sound and OSC, checked: sound, volume (0..1), soundfont,
    audio_driver, osc. Options a command does not declare take their defaults."""
    volume = float(resolved(args, "volume"))
    if not 0.0 <= volume <= 100.0:   # also refuses nan
        raise LaleluError(f"--volume {volume:g}: give a percentage from 0 to 100")
    soundfont = resolved(args, "soundfont") or None
    if soundfont is not None and (problem := soundfont_problem(soundfont)):
        raise LaleluError(f"--soundfont: {problem}; give a General MIDI .sf2 file, or leave it out to use "
                          "Debian's (`apt-get install timgm6mb-soundfont`)")
    driver = resolved(args, "audio_driver")
    if driver != "auto" and driver not in AUDIO_DRIVERS:
        raise LaleluError(f"audio driver {driver!r} (from $LALELU_AUDIO_DRIVER or the settings): choose auto, "
                          f"{', '.join(AUDIO_DRIVERS)}")
    osc = resolved(args, "osc") or None
    if osc is not None:
        try:
            parse_target(osc)
        except ValueError as exc:
            raise LaleluError(str(exc)) from None
    return dict(sound=bool(resolved(args, "sound")), volume=volume / 100.0, soundfont=soundfont,
                audio_driver=driver, osc=osc)


# --- the kit as the detector plays it (replay, bench gestures) ---------------------------------------

def add_kit_options(parser: argparse.ArgumentParser, player: bool = True) -> None:
    """--kit, --player (unless player=False) and --set KEY=VALUE (a detector threshold)."""
    parser.add_argument("--kit", default="default", help="kit name or .toml path")
    if player:
        parser.add_argument("--player", help="calibration name or path")
    parser.add_argument("--set", action="append", metavar="KEY=VALUE",
                        help="override a detector threshold (e.g. --set hand_on_speed=3)")


def played_kit(args: argparse.Namespace) -> Kit:
    """The kit as the detector will play it: --kit, then --player's calibration, then --set KEY=VALUE
    (thresholds) last, so that an override always wins over the calibration."""
    kit = load_kit(args.kit)
    player = getattr(args, "player", None)
    if player:
        kit = load_calibration(player).apply(kit)   # refuses a calibration made for another kit
    if args.set:
        changes = {}
        for item in args.set:
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
