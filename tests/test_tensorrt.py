"""The TensorRT backend: engine cache keys and the clear error everywhere; engines and keypoints on a GPU.

The GPU tests build real engines from the project's ONNX export and compare their keypoints with LiteRT's;
on a machine without an NVIDIA GPU, TensorRT or cuda-python they are skipped with the reason.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from lalelu.errors import LaleluError
from lalelu.pose import load_estimator
from lalelu.pose import tensorrt_build as trt_build
from lalelu.pose.backends import backend_class
from lalelu.pose.models import MANIFEST, ONNX, TFLITE, models_dir, resolve_model
from lalelu.cli import build_parser

MISSING = trt_build.missing_requirements()
needs_gpu = pytest.mark.skipif(bool(MISSING), reason="TensorRT GPU test: " + "; ".join(MISSING))
without_gpu = pytest.mark.skipif(not MISSING, reason="checks the error on a machine without GPU/TensorRT, "
                                                     "and this one has them")
MAX_PIXELS = 2.0  # keypoint agreement with LiteRT
MIN_SCORE = 0.3  # keypoints LiteRT is confident about (the others wander between peaks of a flat heatmap)


def astronaut() -> np.ndarray:
    from skimage import data

    return cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)


def real_frames() -> list[np.ndarray]:
    """The astronaut photograph as a webcam-sized frame, mirrored, and cropped to her upper body."""
    photo = astronaut()
    wide = cv2.copyMakeBorder(cv2.resize(photo, (480, 480)), 0, 0, 80, 80, cv2.BORDER_CONSTANT)
    return [wide, cv2.flip(wide, 1), photo[:400, 50:450].copy(), photo]


# ---- everywhere: cache keys (pure functions) ----

def test_slug_makes_gpu_names_safe_file_names():
    assert trt_build.slug("NVIDIA GeForce GTX 1660 SUPER") == "nvidia-geforce-gtx-1660-super"
    assert trt_build.slug("NVIDIA H100 80GB HBM3") == "nvidia-h100-80gb-hbm3"
    assert trt_build.slug("  /weird\\name?  ") == "weird-name"
    assert trt_build.slug("???") == "gpu"


def test_engine_path_names_gpu_version_and_precision(tmp_path):
    path = trt_build.engine_path(tmp_path, "NVIDIA GeForce GTX 1660", "10.13.3.9", "fp16")
    assert path == tmp_path / "nvidia-geforce-gtx-1660_trt10.13.3.9_fp16.engine"
    assert trt_build.record_path(path) == tmp_path / "nvidia-geforce-gtx-1660_trt10.13.3.9_fp16.json"
    assert trt_build.engine_path(tmp_path, "A", "10.1", "fp32") != trt_build.engine_path(tmp_path, "A", "10.2", "fp32")
    with pytest.raises(LaleluError, match="fp16 or fp32"):
        trt_build.engine_path(tmp_path, "A", "10.1", "int8")


def _cached_engine(folder: Path, key: dict, payload: bytes = b"plan" * 10) -> Path:
    engine = trt_build.engine_path(folder, key["gpu"], key["tensorrt"], key["precision"])
    engine.write_bytes(payload)
    trt_build.record_path(engine).write_text(json.dumps(dict(key, engine_bytes=len(payload), build_seconds=1.0)))
    return engine


def test_stale_reason_accepts_a_matching_engine_and_names_each_change(tmp_path):
    key = trt_build.engine_key("NVIDIA GeForce GTX 1660", "10.13.3.9", "fp16", "ab" * 32)
    engine = _cached_engine(tmp_path, key)
    record = trt_build.read_record(engine)
    assert trt_build.stale_reason(engine, record, key) is None

    assert "TensorRT version" in trt_build.stale_reason(engine, record, dict(key, tensorrt="10.14.1.48"))
    assert "GPU" in trt_build.stale_reason(engine, record, dict(key, gpu="NVIDIA GeForce RTX 4090"))
    assert "ONNX" in trt_build.stale_reason(engine, record, dict(key, onnx_sha256="cd" * 32))
    assert "precision" in trt_build.stale_reason(engine, record, dict(key, precision="fp32"))
    assert trt_build.stale_reason(engine, None, key) == "no engine built yet"

    engine.write_bytes(b"plan")  # truncated
    assert "truncated" in trt_build.stale_reason(engine, record, key)
    engine.unlink()
    assert "missing" in trt_build.stale_reason(engine, record, key)


def test_read_record_of_a_corrupt_or_absent_record_is_none(tmp_path):
    engine = tmp_path / "x_trt10_fp16.engine"
    assert trt_build.read_record(engine) is None
    trt_build.record_path(engine).write_text("{not json")
    assert trt_build.read_record(engine) is None


def test_fixed_input_shape_pins_dynamic_dimensions():
    assert trt_build.fixed_input_shape((1, -1, -1, 3), 256) == (1, 256, 256, 3)  # MultiPose's ONNX input
    assert trt_build.fixed_input_shape((-1, 192, 192, 3), 192) == (1, 192, 192, 3)
    assert trt_build.fixed_input_shape((1, 192, 192, 3), 999) == (1, 192, 192, 3)  # a fixed shape stays
    with pytest.raises(LaleluError, match=r"\[1,S,S,3\]"):
        trt_build.fixed_input_shape((1, 3, 192), 192)


def test_engine_folder_is_beside_the_built_model():
    model = resolve_model("lightning")
    assert trt_build.engine_folder(model) == models_dir() / "lightning" / "tensorrt"


def test_precision_from_env(monkeypatch):
    monkeypatch.delenv(trt_build.PRECISION_ENV, raising=False)
    assert trt_build.precision_from_env() == "fp16"
    monkeypatch.setenv(trt_build.PRECISION_ENV, "FP32")
    assert trt_build.precision_from_env() == "fp32"
    monkeypatch.setenv(trt_build.PRECISION_ENV, "int8")
    with pytest.raises(LaleluError, match="LALELU_TRT_PRECISION"):
        trt_build.precision_from_env()


def test_cuda_graph_setting_from_env(monkeypatch):
    from lalelu.pose.backends.tensorrt import CUDA_GRAPH_ENV, graph_mode_from_env

    monkeypatch.delenv(CUDA_GRAPH_ENV, raising=False)
    assert graph_mode_from_env() == "off"
    for value, mode in (("1", "on"), ("0", "off"), ("AUTO", "auto")):
        monkeypatch.setenv(CUDA_GRAPH_ENV, value)
        assert graph_mode_from_env() == mode
    monkeypatch.setenv(CUDA_GRAPH_ENV, "yes please")
    with pytest.raises(LaleluError, match="LALELU_TRT_CUDA_GRAPH"):
        graph_mode_from_env()


def test_models_build_command_line():
    parser = build_parser()
    args = parser.parse_args(["models", "build", "--backend", "tensorrt", "--precision", "fp32", "--model",
                              "lightning", "--model", "thunder"])
    assert (args.backend, args.precision, args.model, args.force) == ("tensorrt", "fp32", ["lightning", "thunder"],
                                                                       False)
    assert parser.parse_args(["models", "build"]).precision is None   # each backend's own default: tensorrt's is fp16
    with pytest.raises(SystemExit):
        parser.parse_args(["models", "build", "--backend", "litert"])
    with pytest.raises(SystemExit):
        parser.parse_args(["models", "build", "--precision", "int4"])


# ---- machines without a GPU: the clear error, and the CPU backends keep working ----

def _assert_says_what_is_missing(message: str) -> None:
    for phrase in MISSING:
        assert phrase in message
    assert "--backend litert" in message
    if any("tensorrt is not installed" in m for m in MISSING):
        assert "pip install" in message and "cuda-python" in message


@without_gpu
def test_require_gpu_says_what_is_missing():
    with pytest.raises(LaleluError) as err:
        trt_build.require_gpu()
    _assert_says_what_is_missing(str(err.value))
    assert "TensorRT unavailable" in trt_build.gpu_summary()


@without_gpu
def test_backend_and_estimator_raise_the_clear_error_and_litert_still_works():
    with pytest.raises(LaleluError) as err:
        backend_class("tensorrt")(resolve_model("lightning"))
    _assert_says_what_is_missing(str(err.value))
    with pytest.raises(LaleluError, match="NVIDIA GPU"):
        load_estimator("lightning", "tensorrt")
    people = load_estimator("lightning", "litert")(astronaut())
    assert len(people) == 1 and people[0].score > 0.3


@without_gpu
def test_models_build_refuses_without_gpu():
    args = build_parser().parse_args(["models", "build", "--model", "lightning"])
    with pytest.raises(LaleluError, match="NVIDIA GPU"):
        args.func(args)


# ---- GPU: real engines ----

@pytest.fixture(scope="module")
def scratch_models(tmp_path_factory) -> Iterator[Path]:
    """A models folder with Lightning's and MultiPose's ONNX files, so the engines built here are the tests' own
    (shared by the GPU tests of this module: each build takes a while)."""
    folder = tmp_path_factory.mktemp("models")
    for name in ("lightning", "multipose"):
        (folder / name).mkdir()
        for file in (MANIFEST, ONNX, TFLITE):
            shutil.copy2(models_dir() / name / file, folder / name / file)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LALELU_MODELS", str(folder))
        yield folder


@needs_gpu
@pytest.mark.parametrize("precision", ["fp16", "fp32"])
def test_engine_builds_and_its_keypoints_agree_with_litert(precision, scratch_models, monkeypatch):
    said: list[str] = []
    [engine] = trt_build.build_engines(["lightning"], precision, say=said.append)
    assert engine.parent == scratch_models / "lightning" / "tensorrt"
    assert engine.stat().st_size > 100_000
    record = trt_build.read_record(engine)
    assert record["precision"] == precision and record["build_seconds"] > 0
    assert any("built in" in line for line in said)

    monkeypatch.setenv(trt_build.PRECISION_ENV, precision)
    gpu = load_estimator("lightning", "tensorrt")
    assert gpu.backend.engine_path == engine
    cpu = load_estimator("lightning", "litert")
    for frame in real_frames():
        ours, theirs = gpu(frame)[0].keypoints, cpu(frame)[0].keypoints
        confident = theirs[:, 2] > MIN_SCORE
        assert confident.sum() >= 7
        distance = np.hypot(*(ours[confident, :2] - theirs[confident, :2]).T)
        assert distance.max() <= MAX_PIXELS, f"{precision}: keypoints {np.round(distance, 2)} px from LiteRT"
        assert np.abs(ours[confident, 2] - theirs[confident, 2]).max() < 0.1


@needs_gpu
def test_cache_is_reused_then_rebuilt_when_the_tensorrt_version_differs(scratch_models):
    model = resolve_model("lightning")
    said: list[str] = []
    engine = trt_build.ensure_engine(model, "fp32", say=said.append)
    built = engine.stat().st_mtime_ns

    said.clear()
    assert trt_build.ensure_engine(model, "fp32", say=said.append) == engine
    assert engine.stat().st_mtime_ns == built
    assert any("up to date" in line for line in said) and not any("building" in line for line in said)

    record = trt_build.read_record(engine)
    record["tensorrt"] = "9.0.0"  # as if an older TensorRT had built it
    trt_build.record_path(engine).write_text(json.dumps(record))
    said.clear()
    assert trt_build.ensure_engine(model, "fp32", say=said.append) == engine
    assert any("TensorRT version changed" in line for line in said)
    assert trt_build.read_record(engine)["tensorrt"] != "9.0.0"


@needs_gpu
def test_multipose_engine_runs(scratch_models, monkeypatch):
    monkeypatch.setenv(trt_build.PRECISION_ENV, "fp32")
    estimator = load_estimator("multipose", "tensorrt")
    raw = estimator.backend.run(estimator.prepare(astronaut()))
    assert raw.shape == (1, 6, 56)
    people = estimator.decode(raw)
    assert people and people[0].score > 0.3


@needs_gpu
def test_cuda_graph_gives_the_same_output(scratch_models, monkeypatch):
    monkeypatch.setenv(trt_build.PRECISION_ENV, "fp32")
    plain = load_estimator("lightning", "tensorrt")
    monkeypatch.setenv("LALELU_TRT_CUDA_GRAPH", "1")
    graphed = load_estimator("lightning", "tensorrt")
    assert graphed.backend.uses_cuda_graph
    for frame in real_frames():
        a = plain.backend.run(plain.prepare(frame))
        b = graphed.backend.run(graphed.prepare(frame))
        np.testing.assert_array_equal(a, b)
    graphed.backend.close()
    plain.backend.close()
