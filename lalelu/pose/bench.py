"""`lalelu bench inference`: every installed model x backend x threads x pinning, side by side in one run.

Each row runs in its own Python process, so that every first call is really a first call and TensorFlow's
thread settings (fixed at its first op) are the row's own. Columns follow lalelu_drums' benchmark table:
load time, first-call time, then mean/p50/p99/min/max/std over the timed calls after warm-up. OpenVINO gets a
row per precision (openvino-f32, openvino-bf16, openvino-int8), and every backend's p50 is also given as a
ratio of LiteRT's from the same run.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import threading
import time

import numpy as np

from lalelu.errors import LaleluError
from lalelu.pose import load_estimator
from lalelu.pose.backends import BACKENDS
from lalelu.pose.models import installed_models
from lalelu.pose.tensorrt_build import require_gpu


def pinned_cores(threads: int) -> set[int]:
    """The last `threads` cores: core 0 keeps the rest of the system (and the capture thread in the engine)."""
    n = os.cpu_count() or 1
    return set(range(max(0, n - threads), n))


def sample_frame() -> np.ndarray:
    """A real photograph (scikit-image's astronaut) as a 640x480 BGR frame."""
    import cv2

    try:
        from skimage import data
        rgb = data.astronaut()
    except ImportError:
        raise LaleluError("the benchmark's sample frame comes from scikit-image: pip install scikit-image") from None
    frame = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    return cv2.copyMakeBorder(cv2.resize(frame, (480, 480)), 0, 0, 80, 80, cv2.BORDER_CONSTANT)


def measure(model: str, backend: str, threads: int, pinned: bool, runs: int, warmup: int) -> dict:
    """One row, measured on a thread of its own (pinned inside the thread when asked)."""
    result: dict = {}

    def work():
        try:
            if pinned:
                os.sched_setaffinity(0, pinned_cores(threads))
            if backend.startswith("openvino-"):   # one row per precision: openvino-bf16 ...
                os.environ["LALELU_OV_PRECISION"] = backend.split("-", 1)[1]
            if backend == "openvino-int8":
                from lalelu.pose.auto import int8_built
                from lalelu.pose.models import resolve_model

                if not int8_built(resolve_model(model)):   # a benchmark does not quantise behind your back
                    raise LaleluError("the int8 IR is not built: run `lalelu models build --backend openvino`")
            t = time.perf_counter()
            estimator = load_estimator(model, backend.split("-", 1)[0], threads)
            load_s = time.perf_counter() - t
            batch = estimator.prepare(sample_frame()).copy()
            run = estimator.backend.run
            t = time.perf_counter()
            run(batch)
            first_ms = (time.perf_counter() - t) * 1e3
            for _ in range(warmup):
                run(batch)
            times = []
            for _ in range(runs):
                t = time.perf_counter_ns()
                run(batch)
                times.append((time.perf_counter_ns() - t) / 1e6)
            times.sort()
            result.update({
                "model": model, "backend": backend, "threads": threads, "pinned": pinned,
                "cores": sorted(os.sched_getaffinity(0)), "load_s": round(load_s, 3), "first_ms": round(first_ms, 2),
                "mean_ms": round(statistics.fmean(times), 3), "p50_ms": round(float(np.percentile(times, 50)), 3),
                "p99_ms": round(float(np.percentile(times, 99)), 3), "min_ms": round(times[0], 3),
                "max_ms": round(times[-1], 3), "std_ms": round(statistics.pstdev(times), 3),
            })
        except LaleluError as exc:
            result["error"] = str(exc)

    thread = threading.Thread(target=work, name="bench-inference")
    thread.start()
    thread.join()
    return result


def run_rows(models: list[str], backends: list[str], threads: list[int], runs: int, warmup: int,
             say=lambda s: print(s, file=sys.stderr)) -> list[dict]:
    rows = []
    for model in models:
        for backend in backends:
            for n in threads:
                for pinned in (False, True):
                    cmd = [sys.executable, "-m", "lalelu.pose.bench", json.dumps(
                        {"model": model, "backend": backend, "threads": n, "pinned": pinned,
                         "runs": runs, "warmup": warmup})]
                    proc = subprocess.run(cmd, capture_output=True, text=True,
                                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
                    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
                    if proc.returncode != 0 or not lines:
                        row = {"model": model, "backend": backend, "threads": n, "pinned": pinned,
                               "error": (proc.stderr.strip().splitlines() or ["no output"])[-1]}
                    else:   # an error row carries only its message: name the row
                        row = {"model": model, "backend": backend, "threads": n, "pinned": pinned,
                               **json.loads(lines[-1])}
                    rows.append(row)
                    say(format_row(row))
    return rows


def format_row(row: dict) -> str:
    head = f"{row['model']:10s} {row['backend']:14s} {row['threads']:>2} {'pinned' if row['pinned'] else 'free':6s}"
    if "error" in row:
        return f"{head}  error: {row['error']}"
    return (f"{head} {row['load_s']:7.2f} {row['first_ms']:9.1f} {row['mean_ms']:8.2f} {row['p50_ms']:8.2f} "
            f"{row['p99_ms']:8.2f} {row['min_ms']:8.2f} {row['max_ms']:8.2f} {row['std_ms']:7.2f}")


HEADER = (f"{'model':10s} {'backend':14s} {'th':>2} {'pin':6s} {'load_s':>7} {'first_ms':>9} {'mean_ms':>8} "
          f"{'p50_ms':>8} {'p99_ms':>8} {'min_ms':>8} {'max_ms':>8} {'std_ms':>7}")


def ratios(rows: list[dict]) -> list[str]:
    """TensorFlow p50 / other backend p50, for each model, threads and pinning measured in this run."""
    by_key = {(r["model"], r["backend"], r["threads"], r["pinned"]): r for r in rows if "error" not in r}
    lines = []
    for (model, backend, n, pinned), row in sorted(by_key.items()):
        base = by_key.get((model, "tensorflow", n, pinned))
        if backend != "tensorflow" and base:
            lines.append(f"{model} {n} thread(s) {'pinned' if pinned else 'free'}: {backend} is "
                         f"{base['p50_ms'] / row['p50_ms']:.2f}x faster than tensorflow at p50")
    for (model, backend, n, pinned), row in sorted(by_key.items()):
        base = by_key.get((model, "litert", n, pinned))
        if backend not in ("litert", "tensorflow") and base:
            lines.append(f"{model} {n} thread(s) {'pinned' if pinned else 'free'}: {backend} p50 {row['p50_ms']:.2f} ms "
                         f"= {row['p50_ms'] / base['p50_ms']:.2f}x litert's ({base['p50_ms']:.2f} ms)")
    return lines


def expand_backends(backends: list[str]) -> list[str]:
    """`openvino` -> one row per precision this CPU runs (int8 only once its IR is built); auto is left out
    (it runs one of the others); tensorrt only with a GPU."""
    rows = []
    for backend in backends:
        if backend == "openvino":
            rows.extend(f"openvino-{p}" for p in _openvino_precisions())
        elif backend != "auto":
            rows.append(backend)
    return rows


def _openvino_precisions() -> list[str]:
    try:
        from lalelu.pose.openvino_build import runnable_precisions

        return runnable_precisions("CPU")
    except LaleluError:   # not installed: one row that says so
        return ["f32"]


def bench_inference_main(model: str | None, backend: str | None, threads: int | None, runs: int, warmup: int,
                         as_json: bool, turns: bool = False) -> int:
    """`lalelu bench inference`: one model, backend or thread count, or every one installed."""
    models = [model] if model else installed_models()
    if not models:
        raise LaleluError("no models are installed: run `lalelu models install` first")
    backends = expand_backends([backend] if backend else [b for b in BACKENDS if b != "tensorrt" or _has_gpu()])
    thread_counts = [threads] if threads else [1, 2]
    say = (lambda s: print(s, file=sys.stderr)) if as_json else print
    if turns:   # one process, backends in turns: ratios that a shared machine's busy moments hit alike
        from lalelu.pose.bench_turns import HEADER as TURNS_HEADER, run_in_turns, turn_ratios

        say(TURNS_HEADER)
        rows = [row for n in thread_counts
                for row in run_in_turns(models, [b for b in backends if b != "tensorflow"], n, say)]
        print(json.dumps(rows, indent=1) if as_json else "\n".join(turn_ratios(rows)))
        return 0
    say(HEADER)
    rows = run_rows(models, backends, thread_counts, runs, warmup, say)
    if as_json:
        print(json.dumps(rows, indent=1))
    else:
        for line in ratios(rows):
            print(line)
    return 0


def _has_gpu() -> bool:
    try:
        require_gpu()
        return True
    except Exception:  # no GPU, no TensorRT, or the module is absent: the CPU rows still run
        return False


if __name__ == "__main__":  # one row, in its own process (see run_rows)
    spec = json.loads(sys.argv[1])
    print(json.dumps(measure(**spec)), flush=True)
