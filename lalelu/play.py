"""`lalelu run --headless`: play with no window, a status line each second, a summary at the end."""

from __future__ import annotations

import signal
import time
from typing import Any

from lalelu.engine import Engine, EngineConfig
from lalelu.report import summarize_ns
from lalelu.trace import TraceCursor


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def status_line(elapsed_s: float, stats: dict[str, Any]) -> str:
    midi = "off" if stats["midi"] == "off" else "ok" if stats["midi_connected"] else "down"
    return (f"{elapsed_s:6.1f} s  fps {stats['fps']:5.1f}  drops {stats['drops']}  "
            f"e2e p50 {_ms(stats['e2e_p50_ms'])} ms p99 {_ms(stats['e2e_p99_ms'])} ms  "
            f"hits {stats['hits']}  MIDI {midi}")


class _Collector:
    """Reads the engine's ring once a second to keep every end-to-end latency for the summary."""

    def __init__(self, engine: Engine) -> None:
        self._cursor = TraceCursor(engine.ring, 0)  # the ring is the engine's own: from its first record
        self.e2e_ns: list[int] = []

    def drain(self) -> None:
        self.e2e_ns.extend(e2e for e2e in (r.e2e_ns for r in self._cursor.read()) if e2e is not None)


def cores_text(stats: dict[str, Any]) -> str:
    def one(role: str) -> str:
        core = stats["cores"][role]
        where = "unpinned" if core is None else f"core {core}"
        rt = "real-time" if stats["realtime"][role] else "normal priority"
        if role == "inference" and stats.get("rt_saturated"):
            rt += " (left real time: inference slower than the frame rate)"
        return f"{role} {where}, {rt}"

    return f"{one('capture')}; {one('inference')}"


def summary_lines(engine: Engine, collector: _Collector, elapsed_s: float, reason: str) -> list[str]:
    stats = engine.stats()
    e2e = summarize_ns(collector.e2e_ns)
    played = stats["frames"]
    total = played + stats["drops"]
    lines = [f"stopped: {reason}",
             f"played {played} frames in {elapsed_s:.1f} s ({played / max(elapsed_s, 1e-9):.1f} fps), "
             f"dropped {stats['drops']} ({100 * stats['drops'] / max(total, 1):.2f} %)"]
    if e2e["n"]:
        lines.append(f"end-to-end latency (frame ready -> MIDI sent): p50 {e2e['p50']:.1f} ms, "
                     f"p99 {e2e['p99']:.1f} ms, max {e2e['max']:.1f} ms, jitter (std) {e2e['std']:.2f} ms")
    lines.append(f"hits sent: {stats['hits']}" + (f" ({stats['midi_dropped']} more dropped: no MIDI port at the time)"
                                                   if stats["midi_dropped"] else ""))
    lines.append(f"cores: {cores_text(stats)}")
    if engine.config.record:   # the recorder is closed by now (engine.stop)
        lines.append(f"trace recorded to {engine.config.record}")
    return lines


def play_headless(config: EngineConfig, duration_s: float | None = None) -> int:
    """Play until `duration_s` passes, the source ends, or Ctrl-C (SIGINT) / SIGTERM; return an exit status."""
    def say(line: str) -> None:
        print(line, flush=True)

    if config.source in (None, "", "auto"):
        from lalelu.sources import choose_default_source

        config.source, why = choose_default_source()
        say(why)
    else:
        say(f"source: {config.source}")
    jack = None
    if config.midi_port is not None and config.midi_backend in ("auto", "jack"):
        from lalelu.jack import ensure_jack_server

        jack = ensure_jack_server(notify=say)

    stop_reason = {"why": None}

    def on_term(signum: int, frame: Any) -> None:
        stop_reason["why"] = "terminated (SIGTERM)"

    previous_term = signal.signal(signal.SIGTERM, on_term) if _main_thread() else None
    engine = Engine(config)
    try:
        engine.start()
        stats = engine.stats()
        say(f"playing: {stats['source']}, model {stats['model']} on {stats['backend']} "
            f"({config.threads} thread{'s' if config.threads != 1 else ''}), kit {config.kit}, "
            f"MIDI port {config.midi_port!r} ({stats['midi']}); {cores_text(stats)}. Ctrl-C ends.")
        collector = _Collector(engine)
        start = time.monotonic()
        next_status = start + 1.0
        reason = "the source ended"
        try:
            while True:
                for message in engine.messages():
                    say(message)
                if stop_reason["why"]:
                    reason = stop_reason["why"]
                    break
                now = time.monotonic()
                if duration_s is not None and now - start >= duration_s:
                    reason = f"{duration_s:g} s played"
                    break
                if engine.wait(timeout=max(0.0, min(next_status, start + (duration_s or 1e12)) - now)):
                    reason = "the source ended" if engine.error is None else f"failed: {engine.error}"
                    break
                if time.monotonic() >= next_status:
                    next_status += 1.0
                    collector.drain()
                    stats = engine.stats()
                    say(status_line(time.monotonic() - start, stats))
        except KeyboardInterrupt:
            reason = "Ctrl-C"
        elapsed = time.monotonic() - start
        engine.stop()
        collector.drain()
        for message in engine.messages():
            say(message)
        for line in summary_lines(engine, collector, elapsed, reason):
            say(line)
        return 1 if engine.error is not None else 0
    finally:
        engine.stop()
        if previous_term is not None:
            signal.signal(signal.SIGTERM, previous_term)
        if jack is not None:
            jack.stop()


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()
