"""The instrument's engine: a capture thread and an inference thread joined by a latest-frame slot.

    core.py        the Engine, its configuration and its stats; the hot path (_play)
    parts.py       the parts built from the configuration by name (source, pose, detector, note sinks)
    scheduling.py  pinning, real-time priority, the real-time throttling guard
    driver.py      EngineRun: start, step and stop an engine for a while (headless play, benchmarks)
    view.py        EngineView: what readers see of an engine, here or in a process of its own
"""

from lalelu.engine.core import DEFAULT_THREADS, Engine, EngineConfig, EngineStats, ScriptClock
from lalelu.engine.scheduling import keep_off_core

__all__ = ["DEFAULT_THREADS", "Engine", "EngineConfig", "EngineStats", "ScriptClock", "keep_off_core"]
