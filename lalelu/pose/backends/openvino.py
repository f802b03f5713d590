"""OpenVINO on the project's ONNX export (or a user's own IR), in f32, bf16 or int8 (optional extra:
`pip install 'lalelu[openvino]'`).

Precision: `$LALELU_OV_PRECISION` (`--precision`): f32, bf16 (OpenVINO's inference precision hint on the f32
IR; needs AVX512_BF16 or AMX) or int8 (the IR NNCF quantised, see openvino_build.py); unset, the fastest
precision that passes the accuracy bars on this CPU, measured once and cached (see auto.py).
Device: `$LALELU_OV_DEVICE` (`--device`): CPU (the default), GPU, NPU or AUTO.

Threads: `threads` OpenVINO threads in one stream, latency hint. OpenVINO's own thread pinning is turned off:
with it on, every inference call moves the calling thread back onto all of OpenVINO's cores, undoing the
engine's pinning of the inference thread (checked with sched_getaffinity). OpenVINO also caps its threads at
the cores the compiling thread may use, and the engine builds the model on a thread kept off the inference
core; so OpenVINO is loaded and the model compiled with the thread allowed every usable core for that moment
(without it: one thread, and the inference thread moved onto the capture core, measured in the engine).

Per frame: the input tensor wraps the estimator's own int32 buffer (bound once, no copy), one synchronous
inference on the calling thread with the GIL released, and the output is a view of the request's own output
tensor. The request and its tensors are made once, here.
"""

from __future__ import annotations

import numpy as np

from lalelu import config
from lalelu.errors import LaleluError
from lalelu.pose import openvino_build as build

PRECISION_ENV = "LALELU_OV_PRECISION"
DEVICE_ENV = "LALELU_OV_DEVICE"
DEFAULT_DEVICE = "CPU"


def precision_from_env() -> str | None:
    """The precision asked for by $LALELU_OV_PRECISION, or None (unset or `auto`: measured per CPU)."""
    value = (config.env(PRECISION_ENV) or "").strip().lower()
    if value in ("", "auto"):
        return None
    if value not in build.PRECISIONS:
        raise LaleluError(f"{PRECISION_ENV}={value!r}: set it to {', '.join(build.PRECISIONS)} or auto")
    return value


def device_from_env() -> str:
    value = (config.env(DEVICE_ENV) or "").strip().upper() or DEFAULT_DEVICE
    if value.split(".")[0] not in build.DEVICES:
        raise LaleluError(f"{DEVICE_ENV}={value!r}: set it to {', '.join(build.DEVICES)}")
    return value


def compile_config(device: str, precision: str, threads: int) -> dict:
    """The properties a model is compiled with: latency first, one stream, our own threads and pinning."""
    config: dict = {"PERFORMANCE_HINT": "LATENCY"}
    if device == "CPU":
        config.update({
            "INFERENCE_NUM_THREADS": max(1, int(threads)),
            "NUM_STREAMS": 1,
            "ENABLE_CPU_PINNING": False,
            "INFERENCE_PRECISION_HINT": "bf16" if precision == "bf16" else "f32",
        })
    elif precision in ("f32", "bf16"):
        config["INFERENCE_PRECISION_HINT"] = precision
    return config


class Backend:
    kind = "openvino"

    def __init__(self, model, threads: int = 1, precision: str | None = None, device: str | None = None):
        build.import_openvino()
        from openvino._pyopenvino import InferRequest

        self.device = build.check_device(device or device_from_env())
        precision = precision or precision_from_env()
        if precision is None:
            from lalelu.pose.auto import openvino_precision

            precision = openvino_precision(model, threads, self.device)
        self.precision = build.check_precision(precision)
        build.check_capability(self.device, self.precision)
        self.xml = build.ensure_ir(model, self.precision, say=build.say_stderr)
        core = build.core()
        try:
            ir = core.read_model(str(self.xml))
            if ir.input(0).get_partial_shape().is_dynamic:  # a user's own MultiPose IR
                import openvino as ov

                ir.reshape({ir.input(0).get_any_name(): ov.PartialShape([1, model.input_size, model.input_size, 3])})
            with build.every_usable_core():
                self._compiled = core.compile_model(ir, self.device, compile_config(self.device, self.precision,
                                                                                    threads))
        except RuntimeError as exc:
            detail = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
            raise LaleluError(f"OpenVINO could not load {self.xml} on {self.device} ({detail}): rebuild it with "
                              "`lalelu models build --backend openvino --force`, or use another --precision, "
                              "--device or backend") from exc
        if len(self._compiled.inputs) != 1 or len(self._compiled.outputs) != 1:
            raise LaleluError(f"{self.xml} has {len(self._compiled.inputs)} inputs and {len(self._compiled.outputs)} "
                              "outputs; a MoveNet model has one of each")
        self.name = f"openvino-{self.precision}" + ("" if self.device == "CPU" else f"@{self.device}")
        self._request = self._compiled.create_infer_request()
        self._infer = InferRequest.infer   # the binding itself: no input dispatch, no copied output dict
        self._no_inputs: dict = {}
        port = self._compiled.input(0)
        self._dtype = np.dtype(port.get_element_type().to_dtype())
        self._shape = tuple(port.get_shape())
        self._own = np.zeros(self._shape, self._dtype)   # for batches that cannot be shared as they are
        self._bound = None
        self._bind(self._own)
        self._output = self._request.get_output_tensor(0).data   # a view, filled by every inference

    def _bind(self, array: np.ndarray) -> None:
        import openvino as ov

        self._request.set_input_tensor(ov.Tensor(array, shared_memory=True))
        self._bound = array

    def run(self, batch: np.ndarray) -> np.ndarray:
        if batch is not self._bound:
            if (batch.dtype == self._dtype and batch.shape == self._shape and batch.flags.c_contiguous
                    and batch.flags.writeable):
                self._bind(batch)   # the estimator passes the same buffer every frame: bound once
            else:
                if self._bound is not self._own:
                    self._bind(self._own)
                np.copyto(self._own, batch.reshape(self._shape), casting="unsafe")
        self._infer(self._request, self._no_inputs, True, False)
        return self._output
