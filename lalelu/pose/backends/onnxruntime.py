"""ONNX Runtime on the ONNX file the project exports (optional extra: `pip install onnxruntime`)."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort

from lalelu.errors import LaleluError

_DTYPES = {"tensor(int32)": np.int32, "tensor(uint8)": np.uint8, "tensor(float)": np.float32}


class Backend:
    kind = "onnx"

    def __init__(self, model, threads: int = 1):
        path = model.file_for(self.kind)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        try:
            self._sess = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types for a bad file
            raise LaleluError(f"{path} is not a valid ONNX model ({exc}): rebuild it with "
                              "`lalelu models install --force`, or give another --model") from exc
        inp = self._sess.get_inputs()[0]
        self._input_name = inp.name
        self._dtype = _DTYPES.get(inp.type, np.int32)

    def run(self, batch: np.ndarray) -> np.ndarray:
        return self._sess.run(None, {self._input_name: batch.astype(self._dtype, copy=False)})[0]
