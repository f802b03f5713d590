"""`lalelu run --headless`: play with no window, a status line each second, a summary at the end."""

from __future__ import annotations

import signal
import threading
from typing import Any

from lalelu.engine import Engine, EngineConfig, EngineStats
from lalelu.engine.driver import EngineRun
from lalelu.jack import ensure_jack_server
from lalelu.report import fmt_ms


def status_line(elapsed_s: float, stats: EngineStats) -> str:
    midi = "off" if stats.midi == "off" else "ok" if stats.midi_connected else "down"
    sound = "off" if stats.sound == "off" else "ok" if stats.sound_connected else "down"
    return (f"{elapsed_s:6.1f} s  fps {stats.fps:5.1f}  drops {stats.drops}  "
            f"e2e p50 {fmt_ms(stats.e2e_p50_ms, 1)} ms p99 {fmt_ms(stats.e2e_p99_ms, 1)} ms  "
            f"hits {stats.hits}  MIDI {midi}  sound {sound}")


def summary_lines(engine: Engine, run: EngineRun) -> list[str]:
    stats = engine.stats()
    e2e = run.e2e.summary()
    elapsed_s = run.elapsed_s
    played = stats.frames
    total = played + stats.drops
    lines = [f"stopped: {run.reason}",
             f"played {played} frames in {elapsed_s:.1f} s ({played / max(elapsed_s, 1e-9):.1f} fps), "
             f"dropped {stats.drops} ({100 * stats.drops / max(total, 1):.2f} %)"]
    if e2e["n"]:
        lines.append(f"end-to-end latency (frame ready -> MIDI sent): p50 {e2e['p50']:.1f} ms, "
                     f"p99 {e2e['p99']:.1f} ms, max {e2e['max']:.1f} ms, jitter (std) {e2e['std']:.2f} ms")
    lines.append(f"hits sent: {stats.hits}" + (f" ({stats.midi_dropped} more dropped: no MIDI port at the time)"
                                                if stats.midi_dropped else ""))
    if stats.sound != "off":
        sound = run.sound.summary()
        latency = (f"; frame ready -> sound out: p50 {sound['p50']:.1f} ms, p99 {sound['p99']:.1f} ms"
                   if sound["n"] else "")
        lines.append(f"hits sounded: {stats.sounded}" + (f" ({stats.sound_dropped} not: no audio output at the time)"
                                                         if stats.sound_dropped else "") + latency)
    lines.append(f"cores: {stats.cores_text()}")
    if engine.config.record:   # the recorder is closed by now (engine.stop)
        lines.append(f"trace recorded to {engine.config.record}")
    return lines


def play_headless(config: EngineConfig, duration_s: float | None = None, source_note: str = "") -> int:
    """Play until `duration_s` passes, the source ends, or Ctrl-C (SIGINT) / SIGTERM; return an exit status.
    `source_note` says how the source was chosen (printed first)."""
    def say(line: object) -> None:
        print(line, flush=True)

    say(source_note or f"source: {config.source}")
    jack = None
    if config.midi_port is not None and config.midi_backend in ("auto", "jack"):
        jack = ensure_jack_server(notify=say, backend=config.midi_backend)

    terminated = threading.Event()

    def on_term(signum: int, frame: Any) -> None:
        terminated.set()

    previous_term = (signal.signal(signal.SIGTERM, on_term)
                     if threading.current_thread() is threading.main_thread() else None)
    engine = Engine(config)
    run = EngineRun(engine, duration_s)
    try:
        run.start()
        stats = engine.stats()
        say(f"playing: {stats.source}, model {stats.model} on {stats.backend} "
            f"({config.threads} thread{'s' if config.threads != 1 else ''}), kit {config.kit}, "
            f"MIDI port {config.midi_port!r} ({stats.midi}); sound: {stats.sound}; "
            + (f"OSC: {stats.osc}; " if stats.osc != "off" else "") + f"{stats.cores_text()}. Ctrl-C ends.")
        next_status = 1.0
        try:
            while run.reason is None:
                for message in run.step(timeout_s=max(0.0, next_status - run.elapsed_s)):
                    say(message)
                if terminated.is_set():
                    run.reason = "terminated (SIGTERM)"
                elif run.reason is None and run.elapsed_s >= next_status:
                    next_status += 1.0
                    say(status_line(run.elapsed_s, engine.stats()))
        except KeyboardInterrupt:
            run.reason = "Ctrl-C"
        for message in run.stop():
            say(message)
        for line in summary_lines(engine, run):
            say(line)
        return 1 if engine.error is not None else 0
    finally:
        engine.stop()
        if previous_term is not None:
            signal.signal(signal.SIGTERM, previous_term)
        if jack is not None:
            jack.stop()
