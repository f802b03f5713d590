"""Plain TensorFlow on the SavedModel, called as the lalelu_drums benchmark calls the TF Hub model:
`signatures['serving_default'](input=...)['output_0']`. The baseline the other backends are measured against."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from lalelu.errors import LaleluError


class Backend:
    kind = "saved_model"

    def __init__(self, model, threads: int = 1):
        path = model.file_for(self.kind)
        try:
            # Only takes effect before TensorFlow's first op; later calls keep the first setting.
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(1)
        except RuntimeError:
            pass
        try:
            self._fn = tf.saved_model.load(str(path)).signatures["serving_default"]
        except (OSError, ValueError, KeyError, tf.errors.OpError) as exc:
            raise LaleluError(f"{path} is not a MoveNet SavedModel with a serving_default signature ({exc})") from exc
        spec = next(iter(self._fn.structured_input_signature[1].values()))
        self._input_key = next(iter(self._fn.structured_input_signature[1]))
        self._dtype = spec.dtype
        self._output_key = next(iter(self._fn.structured_outputs))

    def run(self, batch: np.ndarray) -> np.ndarray:
        out = self._fn(**{self._input_key: tf.constant(batch, dtype=self._dtype)})
        return out[self._output_key].numpy()
