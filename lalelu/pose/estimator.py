"""A BGR frame of any size in, people with 17 keypoints in that frame's pixels out.

The frame is letterboxed into the model's square (scaled to fit, centred, black bars), so MoveNet sees
the true aspect ratio; the keypoints are mapped back through the same scale and offset.
"""

from __future__ import annotations

import cv2
import numpy as np

from lalelu import config
from lalelu.core.keypoints import Person
from lalelu.pose.backends import backend_class
from lalelu.pose.models import ModelFiles, resolve_model

MULTIPOSE_MIN_SCORE = 0.2


def shrink(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Resize to (width, height) without aliasing, fast: Gaussian halvings, then bilinear for the rest.

    A 640x480 frame takes 0.3 ms this way against 1.2-2 ms for INTER_AREA; plain bilinear is faster
    still but, from a 1920-px frame, skips so many pixels that small people in the distance are lost.
    """
    while image.shape[1] >= 2 * width and image.shape[0] >= 2 * height:
        image = cv2.pyrDown(image)
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_LINEAR)


class Letterbox:
    """Scale and offset of one frame size into the model's square; reused while the size stays."""

    def __init__(self, height: int, width: int, size: int):
        self.scale = size / max(height, width)
        self.width = max(1, round(width * self.scale))
        self.height = max(1, round(height * self.scale))
        self.pad_x = (size - self.width) // 2
        self.pad_y = (size - self.height) // 2
        self.size = size

    def to_pixels(self, y_norm: np.ndarray, x_norm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = (x_norm * self.size - self.pad_x) / self.scale
        y = (y_norm * self.size - self.pad_y) / self.scale
        return x, y


class Estimator:
    def __init__(self, model: ModelFiles, backend: str, threads: int = 1):
        self.model = model
        self.backend_name = backend
        self.threads = threads
        self.backend = backend_class(backend)(model, threads)
        self.input_size = model.input_size
        self.name = f"{model.name}/{getattr(self.backend, 'name', backend)}"   # e.g. thunder/openvino-bf16
        self._batch = np.zeros((1, self.input_size, self.input_size, 3), dtype=np.int32)
        self._box: Letterbox | None = None
        self._shape: tuple[int, int] | None = None

    def prepare(self, frame_bgr: np.ndarray) -> np.ndarray:
        """Letterbox the frame into the model's int32 RGB input (the buffer is reused)."""
        shape = frame_bgr.shape[:2]
        if shape != self._shape:
            self._box = Letterbox(*shape, self.input_size)
            self._shape = shape
            self._batch[:] = 0  # clear the old bars
        box = self._box
        small = shrink(frame_bgr, box.width, box.height)
        self._batch[0, box.pad_y:box.pad_y + box.height, box.pad_x:box.pad_x + box.width] = small[:, :, ::-1]
        return self._batch

    def __call__(self, frame_bgr: np.ndarray) -> list[Person]:
        raw = self.backend.run(self.prepare(frame_bgr))
        return self.decode(raw)

    def decode(self, raw: np.ndarray) -> list[Person]:
        box = self._box
        if self.model.multipose:
            people = []
            for row in raw.reshape(-1, 56):
                if row[55] < MULTIPOSE_MIN_SCORE:
                    continue
                kp = row[:51].reshape(17, 3)
                x, y = box.to_pixels(kp[:, 0], kp[:, 1])
                x0, y0 = box.to_pixels(row[51], row[52])
                x1, y1 = box.to_pixels(row[53], row[54])
                people.append(Person(np.stack([x, y, kp[:, 2]], axis=1).astype(np.float32), float(row[55]),
                                     (float(x0), float(y0), float(x1), float(y1))))
            return sorted(people, key=lambda p: -p.score)
        kp = raw.reshape(17, 3)
        x, y = box.to_pixels(kp[:, 0], kp[:, 1])
        keypoints = np.stack([x, y, kp[:, 2]], axis=1).astype(np.float32)
        return [Person(keypoints, float(kp[:, 2].mean()))]


def load_estimator(model: str = "lightning", backend: str | None = None, threads: int = 1) -> Estimator:
    """An estimator for a model name (lightning, thunder, multipose) or path, on a backend by name (None: the
    one the configuration chooses: $LALELU_BACKEND, the saved setting, else litert)."""
    return Estimator(resolve_model(model), str(config.resolve("backend", backend)), threads)
