"""`--backend auto`, and the openvino backend's default precision: measure once per machine, then remember.

The first run times every installed backend and precision that passes the accuracy bars (accuracy.py) on real
frames of people (Sports2D's demo clip), keeps the fastest, says what it chose and why, and caches the choice
in the lalelu cache folder, keyed by the CPU's model name, the model file, the OpenVINO version (none without
it) and the thread count. Later runs read the cache (and say so). Without OpenVINO, auto picks among what is
installed (LiteRT, ONNX Runtime). The f32-exact backends need no frames to pass; bf16 and int8 are only
considered when the frames of people are at hand to check them.

Not timed: tensorflow (the plain-TF baseline: seconds to load, never the fastest) and tensorrt (its engines
take minutes to build; choose it by name on an NVIDIA GPU).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from lalelu.errors import LaleluError
from lalelu.pose import accuracy

CACHE_FILE = "backend-choice.json"
CHECK_FRAMES = 64        # frames of people the bars are checked on (about 600-800 keypoints: with 24, one
                         # frame where a model switches person moved the p95 from 3.6 to 9.8 px)
WARMUP = 5
ROUNDS = 5               # candidates take turns, so a busy moment of the machine hits them alike
CALLS_PER_ROUND = 8
EXACT = ("openvino-f32", "onnxruntime", "litert")   # float32 arithmetic: the reference, in this order


@dataclass(frozen=True)
class Candidate:
    backend: str
    precision: str | None = None   # openvino only

    @property
    def label(self) -> str:
        return f"{self.backend}-{self.precision}" if self.precision else self.backend

    @property
    def exact(self) -> bool:
        return self.label in EXACT


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def openvino_version() -> str:
    if not _importable("openvino"):
        return "none"
    from lalelu.pose.openvino_build import full_version

    return full_version()


def installed_candidates(model, device: str = "CPU", only: str | None = None) -> tuple[list[Candidate], list[str]]:
    """The backends and precisions installed here for this model, and why others are left out."""
    found, notes = [], []
    if only in (None, "litert") and model.tflite is not None:
        if _importable("ai_edge_litert"):
            found.append(Candidate("litert"))
        else:
            notes.append("litert: ai-edge-litert is not installed")
    if only in (None, "onnxruntime") and model.onnx is not None:
        if _importable("onnxruntime"):
            found.append(Candidate("onnxruntime"))
        else:
            notes.append("onnxruntime: not installed")
    if only in (None, "openvino") and (model.onnx is not None or model.openvino is not None):
        if not _importable("openvino"):
            notes.append("openvino: not installed (pip install 'lalelu[openvino]')")
        else:
            from lalelu.pose import openvino_build as build

            build.check_device(device)
            runnable = build.PRECISIONS if device == "AUTO" else build.runnable_precisions(device)
            for precision in build.PRECISIONS:
                if precision not in runnable:
                    notes.append(f"openvino-{precision}: {build.device_name(device)} cannot run it")
                elif precision == "int8" and not int8_built(model):
                    notes.append("openvino-int8: not built (`lalelu models build --backend openvino --precision "
                                 "int8` quantises it)")
                else:
                    found.append(Candidate("openvino", precision))
    return found, notes


def int8_built(model) -> bool:
    """Whether an up-to-date int8 IR is cached for this model (auto never quantises by itself: it takes
    a minute and belongs to `lalelu models build`)."""
    from lalelu.pose import openvino_build as build

    if model.onnx is None or not model.onnx.exists():
        return False
    version = build.full_version()
    xml = build.ir_path(build.ir_folder(model), version, "int8")
    key = build.ir_key(version, "int8", _file_sha(model.onnx, model))
    return build.stale_reason(xml, build.read_record(xml), key) is None


def _file_sha(path: Path, model) -> str:
    if model.folder is not None:
        recorded = model.checksums.get(str(path.relative_to(model.folder)))
        if recorded:
            return recorded
    from lalelu.pose.models import sha256_of

    return sha256_of(path)


def fingerprint(model) -> str:
    """A short sha256 that changes when the model's files do (built models: their manifest's checksums)."""
    digest = hashlib.sha256()
    if model.checksums:
        digest.update(json.dumps(model.checksums, sort_keys=True).encode())
    else:
        for path in (model.tflite, model.onnx, model.openvino):
            if path is not None and path.is_file():
                digest.update(_file_sha(path, model).encode())
                if path.suffix == ".xml" and path.with_suffix(".bin").is_file():
                    digest.update(_file_sha(path.with_suffix(".bin"), model).encode())
    return digest.hexdigest()[:16]


def cache_key(model, threads: int, device: str, only: str | None) -> str:
    from lalelu.pose.openvino_build import cpu_model_name

    return "|".join([cpu_model_name(), model.name, fingerprint(model), f"openvino {openvino_version()}",
                     f"{threads} threads", device, only or "any backend"])


def cache_path() -> Path:
    from lalelu.config import cache_dir

    return cache_dir() / CACHE_FILE


def read_cache() -> dict:
    try:
        data = json.loads(cache_path().read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def write_cache(key: str, entry: dict) -> None:
    data = read_cache()
    data[key] = entry
    path = cache_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}")
        partial.write_text(json.dumps(data, indent=1) + "\n")
        os.replace(partial, path)
    except OSError:
        pass   # an unwritable cache only means measuring again next time


# ---- measuring ----

def make_backend(candidate: Candidate, model, threads: int, device: str):
    from lalelu.pose.backends import backend_class

    cls = backend_class(candidate.backend)
    if candidate.backend == "openvino":
        return cls(model, threads, precision=candidate.precision, device=device)
    return cls(model, threads)


def people_frames(say) -> list | None:
    """Frames of real people to check bf16 and int8 on, or None (then say why)."""
    from lalelu.pose.real_frames import demo_frames

    try:
        return demo_frames(CHECK_FRAMES, "evaluation")
    except LaleluError as exc:
        say(f"auto: no frames of people to check bf16 and int8 against ({exc}); only f32 precisions are timed")
        return None


def model_spec(model) -> str:
    """How another process names the model: a built model by its name, a user's own by its file."""
    if model.folder is not None:
        return model.name
    return str(model.openvino or model.onnx or model.tflite or model.saved_model)


def measure(model, threads: int, candidates: list[Candidate], device: str = "CPU", say=print) -> dict[str, dict]:
    """Per candidate: its accuracy against the f32 reference on frames of people, whether it passes the bars,
    and its median inference time, measured in turns. In a process of its own, at normal priority, allowed
    every core: the caller's threads, priorities and the runtimes' thread pools stay as they were (OpenVINO
    keeps the worker threads its first model started, and the engine wants its own in real time), and every
    candidate starts as it would in a fresh run."""
    spec = {"model": model_spec(model), "threads": threads, "device": device,
            "candidates": [[c.backend, c.precision] for c in candidates]}
    proc = subprocess.run([sys.executable, "-m", "lalelu.pose.auto", json.dumps(spec)], capture_output=True,
                          text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    for line in proc.stderr.splitlines():
        if line.startswith("auto: "):
            say(line)
    answers = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not answers:
        detail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise LaleluError(f"auto: measuring the backends failed ({detail}); choose one with --backend")
    rows = json.loads(answers[-1])
    if "__error__" in rows:
        raise LaleluError(rows["__error__"])
    return rows


def _measure(model, threads: int, candidates: list[Candidate], device: str, say) -> dict[str, dict]:
    import numpy as np

    from lalelu.pose.real_frames import model_input

    rows: dict[str, dict] = {}
    backends = {}
    for c in candidates:
        try:
            backends[c.label] = make_backend(c, model, threads, device)
            rows[c.label] = {}
        except LaleluError as exc:
            rows[c.label] = {"error": str(exc)}
    frames = people_frames(say) if any(not c.exact for c in candidates if c.label in backends) else None
    reference = next((label for label in EXACT if label in backends), None)
    size = model.input_size
    if frames is not None and reference is not None:
        ref_px = accuracy.outputs_px(backends[reference].run, frames, size)
        for label, backend in backends.items():
            found = accuracy.compare(ref_px, accuracy.outputs_px(backend.run, frames, size))
            rows[label].update(accuracy=found.to_json(), passes=found.passes(), against=reference)
    for c in candidates:
        if c.label in backends and "passes" not in rows[c.label]:
            rows[c.label]["passes"] = c.exact   # f32 arithmetic: within rounding of the reference
    timed = {label: b for label, b in backends.items() if rows[label]["passes"]}
    batch = model_input(frames[0] if frames else np.zeros((480, 640, 3), np.uint8), size)
    times: dict[str, list[int]] = {label: [] for label in timed}
    for backend in timed.values():
        for _ in range(WARMUP):
            backend.run(batch)
    for _ in range(ROUNDS):
        for label, backend in timed.items():
            for _ in range(CALLS_PER_ROUND):
                started = time.perf_counter_ns()
                backend.run(batch)
                times[label].append(time.perf_counter_ns() - started)
    for label, samples in times.items():
        rows[label]["p50_ms"] = round(statistics.median(samples) / 1e6, 3)
    return rows


def describe(rows: dict[str, dict]) -> str:
    parts = []
    for label, row in rows.items():
        if "error" in row:
            parts.append(f"{label} unusable ({row['error']})")
        elif not row.get("passes"):
            a = row.get("accuracy", {})
            parts.append(f"{label} fails the accuracy bars (median {a.get('median_px')} px, p95 {a.get('p95_px')} px "
                         f"against {row.get('against')}; bars {accuracy.MEDIAN_MAX_PX:g} and {accuracy.P95_MAX_PX:g})")
        else:
            a = row.get("accuracy")
            checked = (f" (median {a['median_px']:.2f} px, p95 {a['p95_px']:.2f} px against {row['against']})"
                       if a and label != row.get("against") else "")
            parts.append(f"{label} {row['p50_ms']:.2f} ms{checked}")
    return "; ".join(parts)


def choose(model, threads: int, say=print, only: str | None = None, device: str = "CPU",
           remeasure: bool = False) -> Candidate:
    """The fastest installed backend (and precision) for this model that passes the accuracy bars: from the
    cache, or measured now (a few seconds) and cached."""
    key = cache_key(model, threads, device, only)
    entry = None if remeasure else read_cache().get(key)
    what = f"{model.name} with {threads} thread(s)" + (f" on openvino {device}" if only == "openvino" else "")
    if entry and entry.get("backend"):
        chosen = Candidate(entry["backend"], entry.get("precision"))
        say(f"auto: {chosen.label} for {what} (measured {entry.get('measured', 'earlier')}: {entry.get('why', '')}; "
            f"cached in {cache_path()}, delete it to measure again)")
        return chosen
    candidates, notes = installed_candidates(model, device, only)
    if not candidates:
        raise LaleluError(f"no pose backend is installed for {model.name} ({'; '.join(notes)}): install "
                          "ai-edge-litert, onnxruntime or openvino")
    say(f"auto: timing {', '.join(c.label for c in candidates)} for {what} on {cache_key_cpu()} "
        "(once per machine; a few seconds) ...")
    rows = measure(model, threads, candidates, device, say)
    passing = [c for c in candidates if "p50_ms" in rows.get(c.label, {})]
    if not passing:
        raise LaleluError(f"no backend passed for {model.name}: {describe(rows)}")
    chosen = min(passing, key=lambda c: rows[c.label]["p50_ms"])
    why = describe(rows) + (f"; left out: {'; '.join(notes)}" if notes else "")
    say(f"auto: chose {chosen.label} for {what}: {why}")
    write_cache(key, {"backend": chosen.backend, "precision": chosen.precision, "why": why, "rows": rows,
                      "measured": time.strftime("%Y-%m-%d %H:%M")})
    return chosen


def cache_key_cpu() -> str:
    from lalelu.pose.openvino_build import cpu_model_name

    return cpu_model_name()


def openvino_precision(model, threads: int, device: str = "CPU", say=None) -> str:
    """The openvino backend's default precision: the fastest of f32, bf16, int8 that passes the bars here."""
    from lalelu.pose.openvino_build import say_stderr

    return choose(model, threads, say=say or say_stderr, only="openvino", device=device).precision or "f32"


def _measure_here(spec: dict) -> dict:
    """The child process of `measure`: normal priority, every usable core, then the measurement."""
    from lalelu.pose.models import resolve_model
    from lalelu.pose.openvino_build import every_usable_core

    if hasattr(os, "sched_setscheduler"):
        try:
            os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
        except OSError:
            pass
    candidates = [Candidate(backend, precision) for backend, precision in spec["candidates"]]
    with every_usable_core():
        return _measure(resolve_model(spec["model"]), int(spec["threads"]), candidates, spec["device"],
                        say=lambda text: print(text, file=sys.stderr, flush=True))


if __name__ == "__main__":   # one measurement, in its own process (see measure)
    try:
        found = _measure_here(json.loads(sys.argv[1]))
    except LaleluError as exc:
        found = {"__error__": str(exc)}
    print(json.dumps(found), flush=True)
