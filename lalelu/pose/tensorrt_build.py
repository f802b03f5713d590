"""TensorRT engines built from the project's ONNX export, cached per GPU, TensorRT version and precision.

An engine is only valid for the GPU model and the TensorRT version that built it, so each one lives in
`models/<name>/tensorrt/<gpu-slug>_trt<version>_<precision>.engine` with a json record beside it (GPU,
TensorRT version, precision, sha256 of the ONNX file, build seconds). A record that no longer matches
(another GPU, another TensorRT, a rebuilt ONNX file, a truncated engine) means: build again.

Nothing here imports TensorRT or CUDA until an engine is really built or loaded: `require_gpu()` checks
for the GPU and the packages cheaply, so machines without them get a clear message and keep the CPU backends.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from lalelu import config
from lalelu.errors import LaleluError
from lalelu.pose.models import ModelFiles, resolve_model, sha256_of

PRECISIONS = ("fp16", "fp32")
DEFAULT_PRECISION = "fp16"
PRECISION_ENV = "LALELU_TRT_PRECISION"
INSTALL_HINT = "pip install 'tensorrt-cu12>=10.3,<11' 'cuda-python>=12.6,<13'"
WORKSPACE_BYTES = 1 << 30  # the builder's scratch memory; MoveNet needs far less


# ---- what this machine has (cheap checks, no heavy imports) ----

@functools.lru_cache(maxsize=1)
def gpu_names() -> tuple[tuple[str, ...], str | None]:
    """The NVIDIA GPUs the driver reports, and why there are none (None when there are some)."""
    smi = shutil.which("nvidia-smi")
    if smi is not None:
        try:
            proc = subprocess.run([smi, "--query-gpu=name", "--format=csv,noheader"],
                                  capture_output=True, text=True, timeout=15)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return (), f"no NVIDIA GPU found (nvidia-smi failed: {exc})"
        names = tuple(line.strip() for line in proc.stdout.splitlines() if line.strip())
        if proc.returncode == 0 and names:
            return names, None
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        return (), f"no NVIDIA GPU found (nvidia-smi: {detail[0] if detail else 'no device'})"
    # Some containers expose the driver without nvidia-smi.
    found = []
    for info in sorted(Path("/proc/driver/nvidia/gpus").glob("*/information")):
        model = re.search(r"^Model:\s*(.+)$", info.read_text(errors="replace"), re.MULTILINE)
        found.append(model.group(1).strip() if model else "NVIDIA GPU")
    if found:
        return tuple(found), None
    return (), "no NVIDIA GPU found (nvidia-smi missing / no device)"


def _has_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a missing parent package
        return False


def missing_requirements() -> list[str]:
    """What the TensorRT backend lacks on this machine, one phrase each; empty when all is there."""
    missing = []
    names, problem = gpu_names()
    if problem:
        missing.append(problem)
    if not _has_module("tensorrt"):
        missing.append(f"the Python package tensorrt is not installed: {INSTALL_HINT}")
    elif not (_has_module("cuda.bindings") or _has_module("cuda.cudart")):
        missing.append(f"the Python package cuda-python is not installed: {INSTALL_HINT}")
    return missing


def require_gpu() -> None:
    """Raise a LaleluError saying what is missing for TensorRT; return quietly when nothing is."""
    missing = missing_requirements()
    if missing:
        raise LaleluError("the tensorrt backend needs an NVIDIA GPU, TensorRT and cuda-python: "
                          + "; ".join(missing)
                          + ". The CPU backends still work: use --backend litert (or onnxruntime, tensorflow)")


def gpu_summary() -> str:
    """One line for status output: the GPU and TensorRT version, or what is missing."""
    missing = missing_requirements()
    if missing:
        return "TensorRT unavailable: " + "; ".join(missing)
    import tensorrt as trt

    return f"GPU {cuda_device_name()}, TensorRT {trt.__version__}"


# ---- CUDA runtime (cuda-python) ----

@functools.lru_cache(maxsize=1)
def import_cudart():
    """cuda-python's runtime module: `cuda.bindings.runtime` (12.6+), else the older `cuda.cudart`."""
    try:
        from cuda.bindings import runtime as cudart
    except ImportError:
        try:
            from cuda import cudart
        except ImportError as exc:
            raise LaleluError(f"the Python package cuda-python is not installed: {INSTALL_HINT}") from exc
    return cudart


def cuda_check(result, what: str):
    """Unpack a cuda-python call's (error, value...) tuple; raise with the call's name on failure."""
    cudart = import_cudart()
    err, values = result[0], result[1:]
    if err != cudart.cudaError_t.cudaSuccess:
        name = cudart.cudaGetErrorName(err)[1]
        name = name.decode() if isinstance(name, bytes) else str(name)
        raise LaleluError(f"CUDA {what} failed: {name}; check the NVIDIA driver (nvidia-smi) and that the "
                          "GPU is not busy or out of memory")
    if not values:
        return None
    return values[0] if len(values) == 1 else values


def cuda_device_name() -> str:
    """Name of the GPU CUDA uses (device 0 of the visible ones), which is the one TensorRT builds for."""
    cudart = import_cudart()
    props = cuda_check(cudart.cudaGetDeviceProperties(0), "cudaGetDeviceProperties")
    name = props.name
    return (name.decode(errors="replace") if isinstance(name, bytes) else str(name)).rstrip("\x00").strip()


# ---- cache keys (pure functions) ----

def slug(text: str) -> str:
    """'NVIDIA GeForce GTX 1660' -> 'nvidia-geforce-gtx-1660' (safe in a file name)."""
    return re.sub(r"[^a-z0-9.]+", "-", text.lower()).strip("-.") or "gpu"


def check_precision(precision: str) -> str:
    if precision not in PRECISIONS:
        raise LaleluError(f"TensorRT precision {precision!r}: choose {' or '.join(PRECISIONS)}")
    return precision


def precision_from_env() -> str:
    """The precision the backend runs: $LALELU_TRT_PRECISION, else fp16."""
    value = (config.env(PRECISION_ENV) or DEFAULT_PRECISION).strip().lower()
    if value not in PRECISIONS:
        raise LaleluError(f"{PRECISION_ENV}={value!r}: set it to {' or '.join(PRECISIONS)}")
    return value


def engine_path(folder: Path, gpu_name: str, trt_version: str, precision: str) -> Path:
    return Path(folder) / f"{slug(gpu_name)}_trt{trt_version}_{check_precision(precision)}.engine"


def record_path(engine: Path) -> Path:
    return engine.with_suffix(".json")


def engine_key(gpu_name: str, trt_version: str, precision: str, onnx_sha256: str) -> dict:
    """What an engine's record must say for the engine to be reused."""
    return {"gpu": gpu_name, "tensorrt": trt_version, "precision": precision, "onnx_sha256": onnx_sha256}


def stale_reason(engine: Path, record: dict | None, key: dict) -> str | None:
    """Why the cached engine cannot be used (a short phrase), or None when it can."""
    if record is None:
        return "no engine built yet"
    if not engine.exists():
        return f"{engine.name} is missing"
    labels = {"gpu": "GPU", "tensorrt": "TensorRT version", "precision": "precision", "onnx_sha256": "ONNX file"}
    for field, label in labels.items():
        if record.get(field) != key[field]:
            return f"the {label} changed ({record.get(field)} -> {key[field]})"
    if record.get("engine_bytes") != engine.stat().st_size:
        return f"{engine.name} is truncated or was replaced"
    return None


def read_record(engine: Path) -> dict | None:
    try:
        return json.loads(record_path(engine).read_text())
    except (OSError, ValueError):
        return None


def fixed_input_shape(shape: list[int] | tuple[int, ...], size: int) -> tuple[int, ...]:
    """MoveNet's NHWC input with dynamic dimensions (-1) fixed: batch 1, the model's square, 3 channels."""
    fixed = (1, size, size, 3)
    if len(shape) != 4:
        raise LaleluError(f"the ONNX input has shape {list(shape)}, expected MoveNet's [1,S,S,3]")
    return tuple(int(d) if d >= 0 else fixed[i] for i, d in enumerate(shape))


def engine_folder(model: ModelFiles) -> Path:
    """`models/<name>/tensorrt/` for built models; for a user's own ONNX, the lalelu cache."""
    if model.folder is not None:
        return model.folder / "tensorrt"
    return config.cache_dir() / "tensorrt" / slug(model.name)


# ---- building ----

_LOGGER = None


def trt_logger():
    """One TensorRT logger per process (TensorRT warns when runtimes and builders get different ones)."""
    global _LOGGER
    if _LOGGER is None:
        import tensorrt as trt

        _LOGGER = trt.Logger(trt.Logger.WARNING)
    return _LOGGER


def build_engine(onnx: Path, precision: str, input_size: int) -> bytes:
    """Parse the ONNX file and build a serialized engine for this GPU (takes seconds to minutes)."""
    import tensorrt as trt

    logger = trt_logger()
    builder = trt.Builder(logger)
    network = builder.create_network(0)  # TensorRT 10: explicit batch is the only mode
    parser = trt.OnnxParser(network, logger)
    if not parser.parse_from_file(str(onnx)):
        errors = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
        raise LaleluError(f"TensorRT cannot parse {onnx}: {errors or 'unknown error'}; rebuild the model with "
                          "`lalelu models install --force` or use another backend")
    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, WORKSPACE_BYTES)
    if precision == "fp16":
        if not hasattr(trt.BuilderFlag, "FP16"):
            raise LaleluError(f"TensorRT {trt.__version__} has no FP16 builder flag (removed in TensorRT 11): "
                              "use --precision fp32, or install tensorrt 10.x")
        config.set_flag(trt.BuilderFlag.FP16)
    # MultiPose's ONNX input has dynamic height and width: pin them to the model's square.
    profile, dynamic = builder.create_optimization_profile(), False
    for i in range(network.num_inputs):
        tensor = network.get_input(i)
        if any(d < 0 for d in tensor.shape):
            shape = fixed_input_shape(tuple(tensor.shape), input_size)
            profile.set_shape(tensor.name, shape, shape, shape)
            dynamic = True
    if dynamic:
        config.add_optimization_profile(profile)
    serialized = builder.build_serialized_network(network, config)
    if serialized is None:
        raise LaleluError(f"TensorRT could not build an engine from {onnx} ({precision}); its log above says "
                          "why. Try --precision fp32, or use another backend")
    return bytes(memoryview(serialized))


def ensure_engine(model: ModelFiles, precision: str, say=print, force: bool = False) -> Path:
    """The cached engine for this model, GPU, TensorRT and precision; built (and timed) when stale."""
    import tensorrt as trt

    check_precision(precision)
    onnx = model.file_for("onnx")
    gpu = cuda_device_name()
    key = engine_key(gpu, trt.__version__, precision, sha256_of(onnx))
    engine = engine_path(engine_folder(model), gpu, trt.__version__, precision)
    reason = "--force" if force else stale_reason(engine, read_record(engine), key)
    if reason is None:
        say(f"{model.name}: TensorRT engine up to date: {engine}")
        return engine
    say(f"{model.name}: building the TensorRT {precision} engine for {gpu} ({reason}); this takes a while ...")
    started = time.monotonic_ns()
    plan = build_engine(onnx, precision, model.input_size)
    seconds = (time.monotonic_ns() - started) / 1e9
    engine.parent.mkdir(parents=True, exist_ok=True)
    # Written beside, then renamed: a crash never leaves half an engine under the real name.
    partial = engine.with_name(f".{engine.name}.{os.getpid()}.partial")
    partial.write_bytes(plan)
    os.replace(partial, engine)
    record = dict(key, build_seconds=round(seconds, 2), engine_bytes=len(plan), onnx=str(onnx))
    record_path(engine).write_text(json.dumps(record, indent=2) + "\n")
    say(f"{model.name}: built in {seconds:.1f} s ({len(plan) / 1e6:.1f} MB): {engine}")
    return engine


def build_engines(names: list[str], precision: str = DEFAULT_PRECISION, say=print,
                  force: bool = False) -> list[Path]:
    """`lalelu models build --backend tensorrt`: an engine for each named model (name or ONNX path)."""
    require_gpu()
    check_precision(precision)
    return [ensure_engine(resolve_model(name), precision, say=say, force=force) for name in names]


def say_stderr(text: str) -> None:
    print(text, file=sys.stderr, flush=True)
