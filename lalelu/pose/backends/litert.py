"""LiteRT (ai-edge-litert) with XNNPACK: the default CPU backend, on the float16 TFLite file."""

from __future__ import annotations

import numpy as np
from ai_edge_litert.interpreter import Interpreter

from lalelu.errors import LaleluError


class Backend:
    kind = "tflite"

    def __init__(self, model, threads: int = 1):
        path = model.file_for(self.kind)
        try:
            self._interp = Interpreter(model_path=str(path), num_threads=threads)
            # MultiPose's input is dynamic ([1,1,1,3] in the file): fix it to the model's square once.
            size = model.input_size
            self._interp.resize_tensor_input(self._interp.get_input_details()[0]["index"], [1, size, size, 3])
            self._interp.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            raise LaleluError(f"{path} is not a valid TFLite model ({exc}): rebuild it with "
                              "`lalelu models install --force`, or give another --model") from exc
        inp = self._interp.get_input_details()[0]
        self._input_index = inp["index"]
        self._input_dtype = inp["dtype"]
        self._output_index = self._interp.get_output_details()[0]["index"]

    def run(self, batch: np.ndarray) -> np.ndarray:
        # Official int8 files take uint8, ours take int32: cast to what the file asks for.
        self._interp.set_tensor(self._input_index, batch.astype(self._input_dtype, copy=False))
        self._interp.invoke()
        return self._interp.get_tensor(self._output_index)
