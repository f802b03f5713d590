"""One way to drive an engine for a while: headless play, the pipeline benchmark and the window benchmark
all start it, step it (collecting its trace records and messages) until a duration passes or its source
ends, and stop it."""

from __future__ import annotations

import time
from typing import Callable

from lalelu.core.messages import Message
from lalelu.engine.view import EngineView
from lalelu.report import LatencyHistogram
from lalelu.trace import TraceCursor, TraceRecord


class EngineRun:
    """Drives `engine` for `duration_s` seconds (None: until its source ends or stop()).

    Every step() reads the ring from the engine's first record on: the played frames' end-to-end latencies go
    into a histogram of fixed size (`e2e`, for the summary, however long the performance), the records are
    handed to `on_records` if given (the soak benchmark), and kept too when `keep_records` (benchmarks; a
    long performance would grow without end). `reason` says why the run ended, once it has.
    """

    def __init__(self, engine: EngineView, duration_s: float | None = None, keep_records: bool = False,
                 on_records: Callable[[list[TraceRecord]], None] | None = None):
        self.engine = engine
        self.duration_s = duration_s
        self.keep_records = keep_records
        self.on_records = on_records
        self.records: list[TraceRecord] = []
        self.e2e = LatencyHistogram()
        self.sound = LatencyHistogram()   # frame ready -> sound out of each hit whose stamp came back
        self.reason: str | None = None
        self.started = 0.0
        self.stopped: float | None = None
        self._cursor: TraceCursor | None = None

    def start(self) -> None:
        self.engine.start()
        self.attach()

    def attach(self) -> None:
        """Drive an engine that someone else started (the window): the duration counts from now."""
        self.started = time.monotonic()
        self._cursor = TraceCursor(self.engine.ring, 0)   # the ring is the engine's own: from its first record

    @property
    def elapsed_s(self) -> float:
        """Seconds played: until stop() was asked, or until now."""
        return (self.stopped or time.monotonic()) - self.started

    @property
    def lost(self) -> int:
        """Trace records the ring overwrote before this run read them."""
        return self._cursor.lost if self._cursor is not None else 0

    def step(self, timeout_s: float = 0.0) -> list[Message]:
        """Wait up to timeout_s (less when the duration runs out first) for the engine to end, then read what
        came since the last step: trace records and messages."""
        if self.reason is None:
            left = None if self.duration_s is None else self.duration_s - self.elapsed_s
            if self.engine.wait(max(0.0, timeout_s if left is None else min(timeout_s, left))):
                error = self.engine.error
                self.reason = "the source ended" if error is None else f"failed: {error}"
            elif left is not None and self.elapsed_s >= self.duration_s:
                self.reason = f"{self.duration_s:g} s played"
        self._drain()
        return self.engine.messages()

    def stop(self, reason: str = "stopped") -> list[Message]:
        """Stop the engine (keeping the first reason the run ended for), read the rest, and say what it said."""
        self.reason = self.reason or reason
        self.stopped = self.stopped or time.monotonic()
        self.engine.stop()
        self._drain()
        return self.engine.messages()

    def _drain(self) -> None:
        if self._cursor is None:
            return
        records = self._cursor.read()
        self.e2e.add([e2e for e2e in (r.e2e_ns for r in records) if e2e is not None])
        self.sound.add([s.latency_ns for r in records for s in r.sounds])
        if self.on_records is not None:
            self.on_records(records)
        if self.keep_records:
            self.records.extend(records)
