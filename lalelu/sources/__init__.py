"""Frame sources chosen by name: `camera:N`, `file:PATH`, `synthetic` (the scripted drummer).

    src = open_source("synthetic", fps=100.0, realtime=True)
    src.start(); frame = src.read(); src.close()      # read() blocks until the next frame, None at the end

`synthetic` takes options after a colon: `synthetic:tempo=120,pattern=basic,seconds=20,passerby=1`.
Which source plays when none is given: lalelu.config's order ($LALELU_SOURCE, the saved setting), then the
first webcam that opens, else the scripted drummer (choose_source).
"""

from __future__ import annotations

import math

from lalelu import config
from lalelu.core.protocols import Source
from lalelu.errors import LaleluError
from lalelu.gestures.kit import Kit
from lalelu.sources.camera import CameraSource, camera_available
from lalelu.sources.exposure import ExposureRequest
from lalelu.sources.passerby import DrummerWithPasserby
from lalelu.sources.script import DrumScript
from lalelu.sources.synthetic import SyntheticDrummer
from lalelu.sources.video import VideoFileSource

__all__ = ["open_source", "choose_source"]


def _synthetic_options(text: str) -> dict[str, str]:
    options = {}
    for item in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = item.partition("=")
        if not sep or key not in ("tempo", "pattern", "seconds", "passerby"):
            raise LaleluError(f"synthetic source option {item!r} not understood: use tempo=BPM, pattern=NAME, "
                              "seconds=N, passerby=1 (someone walks by behind), e.g. synthetic:tempo=120,pattern=basic")
        options[key] = value
    return options


def _positive(name: str, opts: dict[str, str], key: str, default: float | None, hi: float = math.inf):
    """A synthetic option's number: finite, above 0 (and at most `hi`)."""
    if key not in opts:
        return default
    try:
        value = float(opts[key])
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and 0 < value <= hi):
        raise LaleluError(f"synthetic source {name!r}: {key}={opts[key]!r}: give a number above 0"
                          + (f" and at most {hi:g}" if hi < math.inf else ""))
    return value


def open_source(name: str, fps: float = 100.0, realtime: bool = True, loop: bool | None = None,
                size: tuple[int, int] = (640, 480), kit: Kit | None = None,
                exposure: ExposureRequest | None = None) -> Source:
    """A source by name. loop=None: the source's own habit (the scripted drummer loops, files do not).
    `exposure` is for a camera (the others have none to set)."""
    kind, _, rest = name.partition(":")
    if kind == "camera":
        try:
            index = int(rest or 0)
        except ValueError:
            raise LaleluError(f"camera source {name!r}: the index must be a number, e.g. camera:0") from None
        return CameraSource(index, fps=fps, size=size, exposure=exposure)
    if kind == "file":
        if not rest:
            raise LaleluError("file source needs a path: --source file:PATH")
        return VideoFileSource(rest, realtime=realtime, loop=bool(loop))
    if kind == "synthetic":
        opts = _synthetic_options(rest)
        script = DrumScript(tempo=_positive(name, opts, "tempo", 100.0), pattern=opts.get("pattern", "rock"),
                            duration=_positive(name, opts, "seconds", None, hi=1e6), kit=kit)
        drummer = DrummerWithPasserby if opts.get("passerby", "0") not in ("0", "no", "off", "") else SyntheticDrummer
        return drummer(script, kit=kit, fps=fps, size=size, realtime=realtime, loop=True if loop is None else loop)
    raise LaleluError(f"unknown source {name!r}: use camera:N, file:PATH or synthetic")


def choose_source(given: str | None = None, has_camera=None) -> tuple[str, str]:
    """(source name, a sentence saying which and why, "" when it was simply given): the flag, else
    $LALELU_SOURCE, else the saved setting, else the first webcam if it opens (asked of has_camera(index), by
    default lalelu.sources.camera.camera_available), else the scripted drummer. A camera that does not open
    falls back to the scripted drummer."""
    if given:
        return given, ""
    has_camera = has_camera or camera_available
    from_env = config.env("LALELU_SOURCE")
    chosen = str(config.resolve("source"))
    why = " (from LALELU_SOURCE)" if from_env else " (the last one used)"
    if chosen == "auto":
        chosen, why = "camera:0", " (the first webcam)"
    kind, _, rest = chosen.partition(":")
    if kind == "camera":
        index = int(rest) if rest.isdigit() else 0
        if not has_camera(index):
            return "synthetic", f"no webcam at /dev/video{index}: playing the scripted drummer (source synthetic)"
    return chosen, f"source {chosen}{why}"
