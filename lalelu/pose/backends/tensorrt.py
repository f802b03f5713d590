"""TensorRT on an NVIDIA GPU (optional extra: tensorrt 10.x and cuda-python).

The engine comes from the cache in `models/<name>/tensorrt/` and is built there on first use (see
`lalelu/pose/tensorrt_build.py`). Everything a frame needs is allocated once here: a pinned host buffer
and a device buffer for the input and for the output, one CUDA stream, one execution context. A frame
is then: copy into pinned memory, copy to the GPU, `execute_async_v3`, copy back, wait for the stream.

`LALELU_TRT_CUDA_GRAPH=1` records those three GPU steps once as a CUDA graph and replays it per frame
(fewer launches); `auto` measures both ways at start-up and keeps the faster. `LALELU_TRT_PRECISION`
(fp16, the default, or fp32) picks the engine.
"""

from __future__ import annotations

import ctypes
import statistics
import time

import numpy as np

from lalelu import config
from lalelu.errors import LaleluError
from lalelu.pose import tensorrt_build as build

CUDA_GRAPH_ENV = "LALELU_TRT_CUDA_GRAPH"
_GRAPH_TRIALS = 30  # frames timed each way when the choice is "auto"


class _Buffer:
    """A pinned host array and a device allocation of the same size, freed together."""

    def __init__(self, cudart, shape: tuple[int, ...], dtype: np.dtype):
        self._cudart = cudart
        self.nbytes = int(np.prod(shape)) * np.dtype(dtype).itemsize
        self.host_ptr = build.cuda_check(cudart.cudaMallocHost(self.nbytes), "cudaMallocHost")
        self.host = np.frombuffer((ctypes.c_byte * self.nbytes).from_address(self.host_ptr),
                                  dtype=dtype).reshape(shape)
        self.device = build.cuda_check(cudart.cudaMalloc(self.nbytes), "cudaMalloc")

    def free(self) -> None:
        if self.device:
            self._cudart.cudaFree(self.device)
            self.device = 0
        if self.host_ptr:
            self.host = None
            self._cudart.cudaFreeHost(self.host_ptr)
            self.host_ptr = 0


def graph_mode_from_env() -> str:
    value = (config.env(CUDA_GRAPH_ENV) or "0").strip().lower()
    modes = {"0": "off", "": "off", "off": "off", "1": "on", "on": "on", "auto": "auto"}
    if value not in modes:
        raise LaleluError(f"{CUDA_GRAPH_ENV}={value!r}: set it to 0 (off), 1 (on) or auto (keep the faster)")
    return modes[value]


class Backend:
    kind = "tensorrt"

    def __init__(self, model, threads: int = 1):  # threads: unused, the GPU does the work
        build.require_gpu()
        import tensorrt as trt

        cudart = build.import_cudart()
        self._cudart = cudart
        self._graph_exec = None
        self._stream = None
        self._buffers: list[_Buffer] = []
        self.precision = build.precision_from_env()
        graph_mode = graph_mode_from_env()
        self.engine_path = build.ensure_engine(model, self.precision, say=build.say_stderr)

        self._runtime = trt.Runtime(build.trt_logger())
        self._engine = self._runtime.deserialize_cuda_engine(self.engine_path.read_bytes())
        if self._engine is None:
            raise LaleluError(f"TensorRT cannot load {self.engine_path}: rebuild it with "
                              "`lalelu models build --backend tensorrt --force`")
        self._context = self._engine.create_execution_context()
        if self._context is None:
            raise LaleluError(f"TensorRT could not create an execution context for {self.engine_path.name}: "
                              "the GPU is probably out of memory (see nvidia-smi)")
        names = [self._engine.get_tensor_name(i) for i in range(self._engine.num_io_tensors)]
        inputs = [n for n in names if self._engine.get_tensor_mode(n) == trt.TensorIOMode.INPUT]
        outputs = [n for n in names if self._engine.get_tensor_mode(n) == trt.TensorIOMode.OUTPUT]
        if len(inputs) != 1 or len(outputs) != 1:
            raise LaleluError(f"{self.engine_path} has inputs {inputs} and outputs {outputs}; a MoveNet model "
                              "has one of each: give --model a MoveNet ONNX file")

        shape = build.fixed_input_shape(tuple(self._engine.get_tensor_shape(inputs[0])), model.input_size)
        if any(d < 0 for d in self._engine.get_tensor_shape(inputs[0])):
            self._context.set_input_shape(inputs[0], shape)
        out_shape = tuple(self._context.get_tensor_shape(outputs[0]))
        self._in = self._allocate(shape, trt.nptype(self._engine.get_tensor_dtype(inputs[0])))
        self._out = self._allocate(out_shape, trt.nptype(self._engine.get_tensor_dtype(outputs[0])))
        self._context.set_tensor_address(inputs[0], self._in.device)
        self._context.set_tensor_address(outputs[0], self._out.device)
        # A stream of our own: graph capture is not allowed on the legacy default stream.
        self._stream = build.cuda_check(cudart.cudaStreamCreateWithFlags(cudart.cudaStreamNonBlocking),
                                        "cudaStreamCreateWithFlags")
        self._stream_handle = int(self._stream)
        self._h2d = cudart.cudaMemcpyKind.cudaMemcpyHostToDevice
        self._d2h = cudart.cudaMemcpyKind.cudaMemcpyDeviceToHost

        # The first enqueue finishes TensorRT's lazy set-up; it must happen before a graph is captured.
        self._in.host[...] = 0
        self._enqueue()
        self._synchronize()
        self.uses_cuda_graph = False
        if graph_mode != "off":
            self._choose_cuda_graph(graph_mode)

    def _allocate(self, shape: tuple[int, ...], dtype) -> _Buffer:
        buffer = _Buffer(self._cudart, shape, np.dtype(dtype))
        self._buffers.append(buffer)  # listed at once, so close() frees it even if a later step fails
        return buffer

    # ---- per frame ----

    def run(self, batch: np.ndarray) -> np.ndarray:
        np.copyto(self._in.host, batch.reshape(self._in.host.shape), casting="unsafe")
        if self._graph_exec is not None:
            build.cuda_check(self._cudart.cudaGraphLaunch(self._graph_exec, self._stream), "cudaGraphLaunch")
        else:
            self._enqueue()
        self._synchronize()
        return self._out.host.copy()  # 200-odd bytes; the pinned buffer is overwritten by the next frame

    def _enqueue(self) -> None:
        cudart = self._cudart
        build.cuda_check(cudart.cudaMemcpyAsync(self._in.device, self._in.host_ptr, self._in.nbytes,
                                                self._h2d, self._stream), "cudaMemcpyAsync (input)")
        if not self._context.execute_async_v3(self._stream_handle):
            raise LaleluError(f"TensorRT inference failed with {self.engine_path.name}; its log above says why")
        build.cuda_check(cudart.cudaMemcpyAsync(self._out.host_ptr, self._out.device, self._out.nbytes,
                                                self._d2h, self._stream), "cudaMemcpyAsync (output)")

    def _synchronize(self) -> None:
        build.cuda_check(self._cudart.cudaStreamSynchronize(self._stream), "cudaStreamSynchronize")

    # ---- CUDA graph ----

    def _choose_cuda_graph(self, mode: str) -> None:
        try:
            self._graph_exec = self._capture()
        except LaleluError as exc:
            build.say_stderr(f"tensorrt: CUDA graph capture failed ({exc}); running without it")
            return
        if mode == "auto":
            with_graph = self._median_ns()
            graph, self._graph_exec = self._graph_exec, None
            without = self._median_ns()
            if with_graph < without:
                self._graph_exec = graph
            else:
                self._cudart.cudaGraphExecDestroy(graph)
            build.say_stderr(f"tensorrt: CUDA graph {with_graph / 1e6:.3f} ms, plain {without / 1e6:.3f} ms per "
                             f"frame: {'using' if self._graph_exec is not None else 'not using'} the graph")
        self.uses_cuda_graph = self._graph_exec is not None

    def _capture(self):
        cudart = self._cudart
        mode = cudart.cudaStreamCaptureMode.cudaStreamCaptureModeThreadLocal
        build.cuda_check(cudart.cudaStreamBeginCapture(self._stream, mode), "cudaStreamBeginCapture")
        try:
            self._enqueue()
        finally:
            graph = build.cuda_check(cudart.cudaStreamEndCapture(self._stream), "cudaStreamEndCapture")
        try:
            return build.cuda_check(cudart.cudaGraphInstantiateWithFlags(graph, 0), "cudaGraphInstantiate")
        finally:
            cudart.cudaGraphDestroy(graph)

    def _median_ns(self) -> float:
        times = []
        for _ in range(_GRAPH_TRIALS):
            started = time.monotonic_ns()
            self.run(self._in.host)
            times.append(time.monotonic_ns() - started)
        return statistics.median(times)

    # ---- teardown ----

    def close(self) -> None:
        """Free the GPU resources (also done when the backend is garbage collected)."""
        cudart = getattr(self, "_cudart", None)
        if cudart is None:
            return
        if getattr(self, "_stream", None) is not None:
            cudart.cudaStreamSynchronize(self._stream)
        if getattr(self, "_graph_exec", None) is not None:
            cudart.cudaGraphExecDestroy(self._graph_exec)
            self._graph_exec = None
        self._context = None  # the context refers to the buffers: drop it before freeing them
        for buffer in getattr(self, "_buffers", []):
            buffer.free()
        self._buffers = []
        if getattr(self, "_stream", None) is not None:
            cudart.cudaStreamDestroy(self._stream)
            self._stream = None

    def __del__(self):
        try:
            self.close()
        except Exception:  # interpreter shutdown may have unloaded CUDA already
            pass
