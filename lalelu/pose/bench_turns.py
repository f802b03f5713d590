"""`lalelu bench inference --turns`: the backends of one model timed in turns, in one process.

The plain benchmark runs each row in a process of its own, one after the other: right for load and first-call
times, but on a shared machine a busy minute lands on some rows and not others. Here every backend (and
OpenVINO precision) is loaded once, then they take turns: ROUNDS rounds of CALLS timed calls each, so a busy
moment hits them all alike, and the ratios to LiteRT are what the run is for.
"""

from __future__ import annotations

import os
import statistics
import threading
import time

import numpy as np

from lalelu.errors import LaleluError

ROUNDS = 30
CALLS = 10
WARMUP = 20


def _load(model: str, label: str, threads: int):
    from lalelu.pose import load_estimator

    if label.startswith("openvino-"):
        precision = label.split("-", 1)[1]
        if precision == "int8":
            from lalelu.pose.auto import int8_built
            from lalelu.pose.models import resolve_model

            if not int8_built(resolve_model(model)):
                raise LaleluError("the int8 IR is not built: run `lalelu models build --backend openvino`")
        os.environ["LALELU_OV_PRECISION"] = precision
        try:
            return load_estimator(model, "openvino", threads)
        finally:
            del os.environ["LALELU_OV_PRECISION"]
    return load_estimator(model, label, threads)


def measure_in_turns(model: str, labels: list[str], threads: int, rounds: int = ROUNDS,
                     calls: int = CALLS) -> list[dict]:
    """One row per backend label: p50, p99, mean, min, max over rounds x calls, or the error that stopped it."""
    from lalelu.pose.bench import sample_frame

    rows: dict[str, dict] = {}
    runs = {}
    for label in labels:
        try:
            estimator = _load(model, label, threads)
            runs[label] = (estimator.backend.run, estimator.prepare(sample_frame()).copy())
            rows[label] = {"model": model, "backend": label, "threads": threads}
        except LaleluError as exc:
            rows[label] = {"model": model, "backend": label, "threads": threads, "error": str(exc)}
    times: dict[str, list[int]] = {label: [] for label in runs}
    for run, batch in runs.values():
        for _ in range(WARMUP):
            run(batch)
    for _ in range(rounds):
        for label, (run, batch) in runs.items():
            for _ in range(calls):
                started = time.perf_counter_ns()
                run(batch)
                times[label].append(time.perf_counter_ns() - started)
    for label, samples in times.items():
        ms = np.array(samples) / 1e6
        rows[label].update(p50_ms=round(float(np.median(ms)), 3), p99_ms=round(float(np.percentile(ms, 99)), 3),
                           mean_ms=round(statistics.fmean(ms), 3), min_ms=round(float(ms.min()), 3),
                           max_ms=round(float(ms.max()), 3), calls=len(samples))
    return [rows[label] for label in labels]


def run_in_turns(models: list[str], labels: list[str], threads: int, say) -> list[dict]:
    """Each model's backends in turns, on a thread allowed every usable core (as the engine's pose threads are)."""
    from lalelu.pose.openvino_build import every_usable_core

    found: list[dict] = []

    def work():
        with every_usable_core():
            for model in models:
                rows = measure_in_turns(model, labels, threads)
                for row in rows:
                    say(format_turn(row))
                found.extend(rows)

    thread = threading.Thread(target=work, name="bench-turns")
    thread.start()
    thread.join()
    return found


HEADER = f"{'model':10s} {'backend':14s} {'th':>2} {'calls':>6} {'p50_ms':>8} {'p99_ms':>8} {'mean_ms':>8} {'min_ms':>8} {'max_ms':>8}"


def format_turn(row: dict) -> str:
    head = f"{row['model']:10s} {row['backend']:14s} {row['threads']:>2}"
    if "error" in row:
        return f"{head}  error: {row['error']}"
    return (f"{head} {row['calls']:6d} {row['p50_ms']:8.2f} {row['p99_ms']:8.2f} {row['mean_ms']:8.2f} "
            f"{row['min_ms']:8.2f} {row['max_ms']:8.2f}")


def turn_ratios(rows: list[dict]) -> list[str]:
    lines = []
    for row in rows:
        base = next((r for r in rows if r["model"] == row["model"] and r["backend"] == "litert" and "p50_ms" in r),
                    None)
        if base is not None and row["backend"] != "litert" and "p50_ms" in row:
            lines.append(f"{row['model']} {row['threads']} thread(s), in turns: {row['backend']} p50 "
                         f"{row['p50_ms']:.2f} ms = {row['p50_ms'] / base['p50_ms']:.2f}x litert's "
                         f"({base['p50_ms']:.2f} ms); p99 {row['p99_ms'] / base['p99_ms']:.2f}x")
    return lines
