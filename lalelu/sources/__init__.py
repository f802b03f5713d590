"""Frame sources chosen by name: `camera:N`, `file:PATH`, `synthetic` (the scripted drummer).

    src = open_source("synthetic", fps=100.0, realtime=True)
    src.start(); frame = src.read(); src.close()      # read() blocks until the next frame, None at the end

`synthetic` takes options after a colon: `synthetic:tempo=120,pattern=basic,seconds=20`.
The environment variable LALELU_SOURCE names the source used when none is given.
"""

from __future__ import annotations

import os

from lalelu.errors import LaleluError
from lalelu.sources.base import Frame, Source

__all__ = ["Frame", "Source", "open_source", "choose_default_source"]


def _synthetic_options(text: str) -> dict[str, str]:
    options = {}
    for item in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = item.partition("=")
        if not sep or key not in ("tempo", "pattern", "seconds"):
            raise LaleluError(f"synthetic source option {item!r} not understood: use tempo=BPM, pattern=NAME, "
                              "seconds=N, e.g. synthetic:tempo=120,pattern=basic")
        options[key] = value
    return options


def open_source(name: str, fps: float = 100.0, realtime: bool = True, loop: bool | None = None,
                size: tuple[int, int] = (640, 480), kit=None) -> Source:
    """A source by name. loop=None: the source's own habit (the scripted drummer loops, files do not)."""
    kind, _, rest = name.partition(":")
    if kind == "camera":
        from lalelu.sources.camera import CameraSource
        try:
            index = int(rest or 0)
        except ValueError:
            raise LaleluError(f"camera source {name!r}: the index must be a number, e.g. camera:0") from None
        return CameraSource(index, fps=fps, size=size)
    if kind == "file":
        from lalelu.sources.video import VideoFileSource
        if not rest:
            raise LaleluError("file source needs a path: --source file:PATH")
        return VideoFileSource(rest, realtime=realtime, loop=bool(loop))
    if kind == "synthetic":
        from lalelu.sources.script import DrumScript
        from lalelu.sources.synthetic import SyntheticDrummer
        opts = _synthetic_options(rest)
        try:
            script = DrumScript(tempo=float(opts.get("tempo", 100.0)), pattern=opts.get("pattern", "rock"),
                                duration=float(opts["seconds"]) if "seconds" in opts else None, kit=kit)
        except ValueError as e:
            raise LaleluError(f"synthetic source {name!r}: {e}") from None
        return SyntheticDrummer(script, kit=kit, fps=fps, size=size, realtime=realtime,
                                loop=True if loop is None else loop)
    raise LaleluError(f"unknown source {name!r}: use camera:N, file:PATH or synthetic")


def choose_default_source(has_camera=None) -> tuple[str, str]:
    """(source name, a sentence saying which and why): LALELU_SOURCE, else the first webcam if it opens (asked
    of has_camera(index), by default lalelu.sources.camera.camera_available), else the scripted drummer."""
    env = os.environ.get("LALELU_SOURCE")
    if env:
        return env, f"source {env} (from LALELU_SOURCE)"
    if has_camera is None:
        from lalelu.sources.camera import camera_available as has_camera
    if has_camera(0):
        return "camera:0", "source camera:0 (the first webcam)"
    return "synthetic", "no webcam at /dev/video0: playing the scripted drummer (source synthetic)"
