"""What the window, headless play and the benchmarks read of an engine, wherever it runs: the Engine in this
process, or lalelu.ui.engine_process.EngineProcess, which runs one in a process of its own."""

from __future__ import annotations

from typing import Protocol

import numpy as np

from lalelu.core.messages import Message
from lalelu.engine.core import EngineConfig, EngineStats, ScriptClock
from lalelu.gestures.kit import Kit
from lalelu.trace import TraceRing


class EngineView(Protocol):
    config: EngineConfig
    ring: TraceRing               # every frame's trace record, appended by the engine, read by anyone
    kit: Kit | None               # the kit as the detector plays it (calibrated); None before start()
    error: object                 # why play stopped, or None

    def start(self) -> None: ...

    def stop(self) -> None: ...

    @property
    def running(self) -> bool: ...

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until play has ended (the source ended, or a failure); True if it has."""

    def stats(self) -> EngineStats: ...

    def messages(self) -> list[Message]: ...

    def latest_image(self) -> tuple[int, np.ndarray] | None: ...

    def script_clock(self) -> ScriptClock | None: ...

    def start_recording(self, path) -> None: ...

    def adjust_camera(self, exposure_ms: float | None = None, gain: float | None = None,
                      auto: bool | None = None):
        """A camera's exposure, gain or auto exposure, changed while playing; returns its CameraState."""

    def stop_recording(self) -> None: ...

    def set_sound(self, on: bool | None = None, volume: float | None = None) -> None:
        """The built-in sound's switch and volume (0..1); OSError when the engine plays none."""

    @property
    def recording_path(self) -> str | None: ...
