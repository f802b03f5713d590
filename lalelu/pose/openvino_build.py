"""OpenVINO IRs of the MoveNet models, built from the project's ONNX export and cached per model, weights and
OpenVINO version; the int8 IR is quantised by NNCF, calibrated on real frames.

Each IR lives in `models/<name>/openvino/ov<version>_<weights>.xml` (+ `.bin`), with a json record beside it
(OpenVINO version, weights, sha256 of the ONNX file, sizes, build seconds, calibration frames). A record that
no longer matches (another OpenVINO, a rebuilt ONNX file, a truncated .bin) means: build again.

Weights: `f32` (the ONNX graph as it is) serves both `f32` and `bf16`, which is OpenVINO's inference
precision hint on the same IR; `int8` is its own IR (openvino_int8.py). A user's own ONNX file gets its IRs in
the lalelu cache.

Nothing here imports OpenVINO until it is needed, so that machines without it get a clear message.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import sys
import time
from pathlib import Path

from collections.abc import Callable

import numpy as np

from lalelu.errors import LaleluError
from lalelu.pose.models import ModelFiles, resolve_model, sha256_of

PRECISIONS = ("f32", "bf16", "int8")
DEVICES = ("CPU", "GPU", "NPU", "AUTO")
INSTALL_HINT = "pip install 'lalelu[openvino]' (or: pip install openvino)"
# What a device must list in its OPTIMIZATION_CAPABILITIES to run each precision.
CAPABILITY = {"f32": "FP32", "bf16": "BF16", "int8": "INT8"}


# ---- OpenVINO itself ----

@contextlib.contextmanager
def every_usable_core():
    """Let the calling thread use every core the process may use, for the block (then back as it was).

    OpenVINO takes the cores it may use from the thread that loads its library and compiles a model: the
    engine builds the model on a thread kept off the inference core, where OpenVINO would cap itself at one
    thread and then move the inference thread onto that one core at every call (measured in the engine).
    """
    if not hasattr(os, "sched_setaffinity"):
        yield
        return
    before = os.sched_getaffinity(0)
    try:
        os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))  # the kernel keeps it within the cpuset
    except OSError:
        yield
        return
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def import_openvino():
    """The openvino module, or a LaleluError that says how to install it. Imported with every usable core
    allowed: OpenVINO reads the cores it may use when its library loads."""
    try:
        with every_usable_core():
            import openvino
    except ImportError as exc:
        raise LaleluError(f"the openvino backend needs the Python package openvino, which is not installed ({exc}): "
                          f"{INSTALL_HINT}. The other backends still work: use --backend litert") from None
    return openvino


@functools.lru_cache(maxsize=1)
def core():
    """One OpenVINO Core per process, with its CPU plugin loaded at once, with every usable core allowed
    (the plugin reads the cores it may use when it loads, at its first use)."""
    ov = import_openvino()
    with every_usable_core():
        found = ov.Core()
        if "CPU" in found.available_devices:
            found.get_property("CPU", "FULL_DEVICE_NAME")
        return found


def full_version() -> str:
    return import_openvino().get_version()


def short_version(full: str) -> str:
    """'2026.4.1-22982-e213a147257-releases/2026/4' -> '2026.4.1' (for file names)."""
    return re.split(r"[-+ ]", full.strip(), maxsplit=1)[0] or "unknown"


def weights_of(precision: str) -> str:
    """The IR a precision runs: bf16 is a hint on the f32 IR."""
    return "int8" if check_precision(precision) == "int8" else "f32"


def check_precision(precision: str) -> str:
    if precision not in PRECISIONS:
        raise LaleluError(f"OpenVINO precision {precision!r}: choose {', '.join(PRECISIONS)}")
    return precision


def check_device(device: str, available: list[str] | None = None) -> str:
    """The device name if OpenVINO sees it here; else a LaleluError naming what it does see."""
    name = device.strip().upper()
    if name.split(".")[0] not in DEVICES:
        raise LaleluError(f"OpenVINO device {device!r}: choose {', '.join(DEVICES)}")
    seen = list(core().available_devices) if available is None else available
    if name == "AUTO":
        if not seen:
            raise LaleluError("OpenVINO sees no device at all on this machine: check its installation "
                              f"({INSTALL_HINT})")
        return name
    if not any(d == name or d.split(".")[0] == name for d in seen):
        hints = {"GPU": "an Intel GPU needs its OpenCL/Level Zero compute runtime (intel-opencl-icd) installed",
                 "NPU": "an Intel NPU (Core Ultra) needs its NPU driver installed",
                 "CPU": "reinstall openvino"}
        raise LaleluError(f"OpenVINO sees no {name} on this machine (it sees: {', '.join(seen) or 'nothing'}); "
                          f"{hints.get(name.split('.')[0], '')}. Use --device CPU, or --device AUTO to take "
                          "whatever is there")
    return name


def check_capability(device: str, precision: str, capabilities: list[str] | None = None) -> None:
    """A LaleluError when the device cannot run this precision natively (e.g. bf16 on a CPU without
    AVX512_BF16 or AMX, where OpenVINO would quietly run f32 instead)."""
    if device == "AUTO":
        return
    caps = capabilities if capabilities is not None else list(core().get_property(device, "OPTIMIZATION_CAPABILITIES"))
    wanted = CAPABILITY[check_precision(precision)]
    if wanted not in caps:
        name = device_name(device) if capabilities is None else device
        runnable = [p for p, cap in CAPABILITY.items() if cap in caps]
        extra = (" (bf16 needs a CPU with AVX512_BF16 or AMX: Intel Xeon from Cooper Lake / Sapphire Rapids on, "
                 "AMD Zen 4 on)" if precision == "bf16" else "")
        raise LaleluError(f"{name} cannot run {precision}{extra}; it can run: {', '.join(runnable) or 'none of '}"
                          f"{'' if runnable else ', '.join(PRECISIONS)}. Choose another --precision")


def device_name(device: str) -> str:
    try:
        return f"{device} ({core().get_property(device, 'FULL_DEVICE_NAME')})"
    except Exception:  # AUTO and some plugins have no full name
        return device


def cpu_model_name() -> str:
    """The CPU's model name as /proc/cpuinfo says it (what the auto choice and the records are keyed by)."""
    try:
        for line in Path("/proc/cpuinfo").read_text(errors="replace").splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or platform.machine() or "unknown cpu"


def runnable_precisions(device: str = "CPU") -> list[str]:
    """The precisions this device runs natively, in PRECISIONS order."""
    caps = list(core().get_property(device, "OPTIMIZATION_CAPABILITIES"))
    return [p for p in PRECISIONS if CAPABILITY[p] in caps]


def inspect_ir(path: Path) -> tuple[int, list[int]]:
    """A user's own IR: (square input size, output shape), as models.user_model asks of every format."""
    from lalelu.pose.models import _square

    model = core().read_model(str(path))
    shape = model.input(0).get_partial_shape()
    size = shape[1].get_length() if shape.rank.is_static and shape[1].is_static else None
    out = [d.get_length() if d.is_static else -1 for d in model.output(0).get_partial_shape()]
    return _square(size, path, 256), out


# ---- cache keys (pure functions) ----

def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9.]+", "-", text.lower()).strip("-.") or "model"


def ir_folder(model: ModelFiles) -> Path:
    """`models/<name>/openvino/` for built models; for a user's own ONNX, the lalelu cache."""
    if model.folder is not None:
        return model.folder / "openvino"
    from lalelu.config import cache_dir

    return cache_dir() / "openvino" / slug(model.name)


def ir_path(folder: Path, version: str, weights: str) -> Path:
    if weights not in ("f32", "int8"):
        raise LaleluError(f"OpenVINO IR weights {weights!r}: f32 or int8")
    return Path(folder) / f"ov{short_version(version)}_{weights}.xml"


def record_path(xml: Path) -> Path:
    return xml.with_suffix(".json")


def ir_key(version: str, weights: str, onnx_sha256: str) -> dict:
    """What an IR's record must say for the IR to be reused."""
    return {"openvino": version, "weights": weights, "onnx_sha256": onnx_sha256}


def read_record(xml: Path) -> dict | None:
    try:
        return json.loads(record_path(xml).read_text())
    except (OSError, ValueError):
        return None


def stale_reason(xml: Path, record: dict | None, key: dict) -> str | None:
    """Why the cached IR cannot be used (a short phrase), or None when it can."""
    if record is None:
        return "no IR built yet"
    labels = {"openvino": "OpenVINO version", "weights": "weights", "onnx_sha256": "ONNX file"}
    for field, label in labels.items():
        if record.get(field) != key[field]:
            return f"the {label} changed ({record.get(field)} -> {key[field]})"
    for path in (xml, xml.with_suffix(".bin")):
        if not path.exists():
            return f"{path.name} is missing"
        if record.get("bytes", {}).get(path.suffix) != path.stat().st_size:
            return f"{path.name} is truncated or was replaced"
    return None


# ---- building ----

# int8's calibration frames: count -> BGR images (lalelu/sources/drummer_frames.py's real_frames; pose imports no
# sources, so whoever asks for an int8 build passes them in).
Calibration = Callable[[int], list[np.ndarray]]


def build_ir(onnx: Path, weights: str, input_size: int, say=print, calibration: Calibration | None = None):
    """Read the ONNX file and return (OpenVINO model, calibration frames used) for these weights."""
    ov = import_openvino()
    try:
        model = core().read_model(str(onnx))
    except RuntimeError as exc:
        raise LaleluError(f"OpenVINO cannot read {onnx} ({str(exc).strip().splitlines()[-1]}): rebuild it with "
                          "`lalelu models install --force`, or give another --model") from exc
    # MultiPose's ONNX input has a dynamic height and width: fix it to the model's square.
    shape = model.input(0).get_partial_shape()
    if shape.is_dynamic:
        model.reshape({model.input(0).get_any_name(): ov.PartialShape([1, input_size, input_size, 3])})
    if weights == "int8":
        from lalelu.pose.openvino_int8 import CALIBRATION_FRAMES, quantize_int8

        return quantize_int8(model, input_size, calibration(CALIBRATION_FRAMES), say)
    return model, 0


def ensure_ir(model: ModelFiles, precision: str, say=print, force: bool = False,
              calibration: Calibration | None = None) -> Path:
    """The cached IR for this model, OpenVINO version and the weights `precision` runs on; built (and
    timed) when stale. A user's own IR (--model FILE.xml) is used as it is. The int8 IR is only built with
    `calibration` frames (`lalelu models build`): quantising takes a minute, too long to spend at a player's
    start, so a backend asked for int8 without one says how to build it."""
    weights = weights_of(precision)
    if model.openvino is not None:
        xml = model.file_for("openvino")
        if weights == "int8":
            raise LaleluError(f"{xml} is run as it is; to quantise a model to int8, give its ONNX file: "
                              f"`lalelu models build --backend openvino --precision int8 --model FILE.onnx`")
        return xml
    ov = import_openvino()
    onnx = model.file_for("onnx")
    version = full_version()
    key = ir_key(version, weights, sha256_of(onnx))
    xml = ir_path(ir_folder(model), version, weights)
    reason = "--force" if force else stale_reason(xml, read_record(xml), key)
    if reason is None:
        return xml
    if weights == "int8" and calibration is None:
        raise LaleluError(f"the OpenVINO int8 IR of {model.name} is not ready ({reason}): build it with "
                          f"`lalelu models build --backend openvino --precision int8 --model {model.name}` (NNCF, "
                          "about a minute), or use --precision f32 or bf16")
    say(f"{model.name}: building the OpenVINO {weights} IR ({reason}) ...")
    started = time.monotonic_ns()
    ir, frames_used = build_ir(onnx, weights, model.input_size, say, calibration)
    seconds = (time.monotonic_ns() - started) / 1e9
    xml.parent.mkdir(parents=True, exist_ok=True)
    # Written beside, then renamed: a crash never leaves half an IR under the real name.
    partial = xml.with_name(f".{xml.stem}.{os.getpid()}.partial.xml")
    try:
        ov.save_model(ir, str(partial), compress_to_fp16=False)
        os.replace(partial.with_suffix(".bin"), xml.with_suffix(".bin"))
        os.replace(partial, xml)
    except OSError as exc:
        raise LaleluError(f"could not write the OpenVINO IR to {xml.parent} ({exc}): free some space or make "
                          "the folder writable") from exc
    finally:
        for leftover in (partial, partial.with_suffix(".bin")):
            leftover.unlink(missing_ok=True)
    record = dict(key, build_seconds=round(seconds, 2), onnx=str(onnx), calibration_frames=frames_used,
                  bytes={".xml": xml.stat().st_size, ".bin": xml.with_suffix(".bin").stat().st_size})
    record_path(xml).write_text(json.dumps(record, indent=2) + "\n")
    say(f"{model.name}: built in {seconds:.1f} s: {xml}")
    return xml


def build_irs(names: list[str], precisions: list[str], say=print, force: bool = False,
              calibration: Calibration | None = None) -> list[Path]:
    """`lalelu models build --backend openvino`: the IRs of each named model (name or ONNX path)."""
    import_openvino()
    paths = []
    for name in names:
        model = resolve_model(name)
        for weights in dict.fromkeys(weights_of(p) for p in precisions):
            paths.append(ensure_ir(model, weights, say=say, force=force, calibration=calibration))
    return paths


def say_stderr(text: str) -> None:
    print(text, file=sys.stderr, flush=True)
