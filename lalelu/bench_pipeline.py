"""`lalelu bench pipeline`: the whole instrument against the scripted drummer, with its hits as the answer key.

Scripted drummer at 100 fps -> MoveNet -> detector -> MIDI, headless, for 30 s. Reports end-to-end latency,
the engine's overhead beyond inference, drops, and how the hits sent match the script.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Iterator
from typing import Any, TextIO

import numpy as np

from lalelu.engine import DEFAULT_THREADS, Engine, EngineConfig
from lalelu.report import fmt_ms, stage_ns, summarize_ns
from lalelu.trace import TraceCursor, TraceRecord

STAMP_TOLERANCE_NS = 1_000_000  # beyond one frame period, for the stamping of frame times
# A sent hit within this of a scripted one, on its note, is that stroke (if late, by this much at most);
# how late each matched hit was is reported beside it, and how many came within one frame.
MATCH_WINDOW_NS = 50_000_000
JSON_KEYS = ("frames", "drops", "e2e_ms", "overhead_ms", "hits_scripted", "hits_matched", "hits_extra",
             "hits_on_time", "hit_lag_ms")


def match_hits(scripted: list[tuple[int, int]], sent: list[tuple[int, int]],
               window_ns: int) -> tuple[int, int, list[int]]:
    """Match scripted hits (time ns, note) to sent hits (frame time ns, note), each used at most once.

    A scripted hit matches the nearest unused sent hit with the same note within `window_ns`.
    Returns (matched, extra, lags): extra = sent hits that matched no scripted hit; lags = sent minus
    scripted time of each match, in ns.
    """
    used = [False] * len(sent)
    lags: list[int] = []
    for t_script, note in sorted(scripted):
        best, best_dt = -1, window_ns + 1
        for j, (t_sent, sent_note) in enumerate(sent):
            if used[j] or sent_note != note:
                continue
            dt = abs(t_sent - t_script)
            if dt < best_dt:
                best, best_dt = j, dt
        if best >= 0:
            used[best] = True
            lags.append(sent[best][0] - t_script)
    return len(lags), len(sent) - len(lags), lags


def scripted_hits_of(source: Any, until_ns: int) -> list[tuple[int, int]]:
    """(monotonic ns, note) of every hit the scripted drummer played until `until_ns` (its script loops)."""
    t0 = int(source.t0_ns)
    hits = source.script.hits_between(0.0, (until_ns - t0) / 1e9 + 1.0, loop=True)
    return [(t0 + int(round(h.t_s * 1e9)), int(h.note)) for h in hits]


def pipeline_results(records: list[TraceRecord], scripted: list[tuple[int, int]], fps: float) -> dict[str, Any]:
    period_ns = int(1e9 / fps)
    played = [r for r in records if not r.dropped and r.t_sent]
    stages = stage_ns(played)
    e2e = summarize_ns(stages["e2e"])
    overhead = summarize_ns(stages["overhead"])
    inference = summarize_ns(stages["inference"])
    # The engine's own cost, without the time a frame waits for the previous frame's inference to end:
    # hand-off (frame ready, or inference thread free -> inference start) plus detection and MIDI.
    ordered = sorted(played, key=lambda r: r.index)
    own_ns = np.array([r.t_infer_start - max(r.t_capture, prev.t_sent) + (r.t_sent - r.t_infer_end)
                       for prev, r in zip(ordered, ordered[1:])], np.int64)
    own = summarize_ns(own_ns)
    sent = [(r.t_capture, int(h.note)) for r in played for h in r.hits]
    if records:
        first = min(r.t_capture for r in records)
        last = max(r.t_capture for r in records)
        # Only hits the run could have seen: the detector may answer one frame after the stroke's bottom.
        in_run = [(t, n) for t, n in scripted if first <= t <= last - period_ns]
    else:
        in_run = []
    matched, extra, lags = match_hits(in_run, sent, MATCH_WINDOW_NS)
    lag_ms = np.array(lags, np.float64) / 1e6
    def pick(summary: dict, keys: tuple[str, ...]) -> dict[str, float | None]:
        return {k: None if summary[k] is None else round(summary[k], 3) for k in keys}

    return {
        "frames": len(records),
        "drops": sum(1 for r in records if r.dropped),
        "e2e_ms": pick(e2e, ("p50", "p99", "max", "std")),
        "overhead_ms": pick(overhead, ("p50", "p99")),
        "inference_ms": pick(inference, ("p50", "p99", "max")),
        "engine_own_ms": pick(own, ("p50", "p99", "max")),
        "hits_scripted": len(in_run),
        "hits_matched": matched,
        "hits_extra": extra,
        "hits_on_time": int(np.sum(lag_ms <= (period_ns + STAMP_TOLERANCE_NS) / 1e6)),
        "hit_lag_ms": {k: None if not lags else round(float(np.percentile(lag_ms, q)), 1)
                       for k, q in (("p50", 50), ("p95", 95), ("max", 100))},
    }


@contextlib.contextmanager
def bench_midi_port(midi: bool, notes: list[str]) -> Iterator[str | None]:
    """The MIDI port name both pipeline benchmarks play into (None: no MIDI). Without an ALSA sequencer,
    a JACK server of the benchmark's own, so nobody else's server coming and going disturbs the
    measurement; it is stopped, and JACK_DEFAULT_SERVER restored, at the end."""
    if not midi:
        yield None
        return
    from lalelu.jack import JackServer, alsa_sequencer_available, default_server

    if alsa_sequencer_available():
        yield "lalelu bench"
        return
    try:
        jack = JackServer(name=f"lalelu-bench-{os.getpid()}").start()
    except OSError as exc:
        notes.append(f"no MIDI backend ({exc}); measuring without MIDI output")
        yield None
        return
    with default_server(jack.name):
        try:
            yield "lalelu bench"
        finally:
            jack.stop()


def bench_config(fps: float, model: str, backend: str, threads: int, midi_port: str | None,
                 cores: tuple[int | None, int | None]) -> EngineConfig:
    """The engine the pipeline benchmarks play: the scripted drummer in real time, looping, on a virtual
    MIDI port of the benchmark's own, with a ring that holds 10 s between the benchmark's reads."""
    return EngineConfig(source="synthetic", model=model, backend=backend, threads=threads, fps=fps,
                        realtime=True, loop=True, midi_port=midi_port, midi_virtual=True, capture_core=cores[0],
                        inference_core=cores[1], ring_capacity=int(fps * 10) + 100)


def run_pipeline(seconds: float = 30.0, fps: float = 100.0, model: str = "lightning", backend: str = "litert",
                 threads: int = DEFAULT_THREADS, midi: bool = True, cores: tuple[int | None, int | None] = (0, 1),
                 notes: list[str] | None = None) -> dict[str, Any]:
    notes = notes if notes is not None else []
    with bench_midi_port(midi, notes) as midi_port:
        engine = Engine(bench_config(fps, model, backend, threads, midi_port, cores))
        records: list[TraceRecord] = []
        try:
            engine.start()
            cursor = TraceCursor(engine.ring)
            end = time.monotonic() + seconds
            while time.monotonic() < end and engine.running:
                time.sleep(0.2)
                records.extend(cursor.read())
            engine.stop()
            records.extend(cursor.read())
            scripted = scripted_hits_of(engine.source, max((r.t_capture for r in records), default=0))
            stats = engine.stats()
        finally:
            engine.stop()
    return played_results(engine, cursor, records, scripted, stats, fps, threads, midi_port is not None, notes)


def played_results(engine, cursor: TraceCursor, records: list[TraceRecord], scripted, stats: dict[str, Any],
                   fps: float, threads: int, midi: bool, notes: list[str]) -> dict[str, Any]:
    """pipeline_results, and how it was played (cores, real time, threads, MIDI); the engine's messages and
    any trace records the benchmark lost go to notes."""
    notes.extend(engine.messages())
    if cursor.lost:
        notes.append(f"the benchmark lost {cursor.lost} trace records")
    results = pipeline_results(records, scripted, fps)
    results.update(cores=stats["cores"], realtime=stats["realtime"], threads=threads, midi=midi)
    return results


def format_pipeline(r: dict[str, Any], seconds: float, fps: float) -> str:
    e2e, ov, inf, own = r["e2e_ms"], r["overhead_ms"], r["inference_ms"], r["engine_own_ms"]
    lag = r["hit_lag_ms"]
    drop_pct = 100 * r["drops"] / max(r["frames"], 1)
    return "\n".join([
        f"pipeline: scripted drummer at {fps:g} fps, {seconds:g} s, inference threads {r['threads']}, "
        f"cores {r['cores']}, real-time {r['realtime']}, MIDI {'on' if r['midi'] else 'off'}",
        f"frames {r['frames']}, drops {r['drops']} ({drop_pct:.2f} %)",
        f"end to end (ms):  p50 {fmt_ms(e2e['p50'])}  p99 {fmt_ms(e2e['p99'])}  max {fmt_ms(e2e['max'])}  "
        f"jitter (std) {fmt_ms(e2e['std'])}",
        f"inference (ms):   p50 {fmt_ms(inf['p50'])}  p99 {fmt_ms(inf['p99'])}  max {fmt_ms(inf['max'])}",
        f"overhead beyond inference (ms): p50 {fmt_ms(ov['p50'])}  p99 {fmt_ms(ov['p99'])}",
        f"  of which the engine's own (hand-off + detection + MIDI, without waiting for a busy inference "
        f"thread): p50 {fmt_ms(own['p50'])}  p99 {fmt_ms(own['p99'])}  max {fmt_ms(own['max'])}",
        f"hits: scripted {r['hits_scripted']}, matched {r['hits_matched']} (the right note within "
        f"{MATCH_WINDOW_NS // 1_000_000} ms), extra {r['hits_extra']}; sent within one frame of the script "
        f"{r['hits_on_time']}; lag behind the script (ms): p50 {fmt_ms(lag['p50'])}  p95 {fmt_ms(lag['p95'])}  "
        f"max {fmt_ms(lag['max'])}",
    ])


def bench_pipeline_main(seconds: float = 30.0, as_json: bool = False, fps: float = 100.0, threads: int = DEFAULT_THREADS,
                        model: str = "lightning", backend: str = "litert",
                        cores: tuple[int | None, int | None] = (0, 1), out: TextIO | None = None) -> int:
    out = out or sys.stdout
    notes: list[str] = []
    results = run_pipeline(seconds=seconds, fps=fps, model=model, backend=backend, threads=threads,
                           cores=cores, notes=notes)
    for note in notes:
        print(note, file=sys.stderr)
    if as_json:
        print(json.dumps({k: results[k] for k in JSON_KEYS}), file=out)
    else:
        print(format_pipeline(results, seconds, fps), file=out)
    return 0
