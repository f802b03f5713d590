"""`camera:N`: a webcam through OpenCV's V4L2 backend, MJPG, asking for a high frame rate.

The driver decides what it grants: the size and rate are read back and reported (`description`), with a
warning when the rate is below what was asked (USB webcams often give 30 fps at large sizes, or only in
good light). read() blocks in the driver until the next frame arrives; the frame is stamped when grab()
returns, before decoding, so decode time counts as latency.
"""

from __future__ import annotations

import logging
import os
import time

import cv2

from lalelu.errors import LaleluError
from lalelu.sources.base import Frame, Source

log = logging.getLogger("lalelu.sources")


def camera_device(index: int) -> str:
    return f"/dev/video{index}"


class CameraSource(Source):
    def __init__(self, index: int = 0, fps: float = 100.0, size: tuple[int, int] = (640, 480)):
        self.index = index
        device = camera_device(index)
        if not os.path.exists(device):
            raise LaleluError(f"no camera at index {index} ({device} missing): connect a webcam "
                              "or use --source synthetic")
        self._cap = cv2.VideoCapture(index, cv2.CAP_V4L2)
        if not self._cap.isOpened():
            self._cap.release()
            raise LaleluError(f"camera {index} ({device}) cannot be opened: is another program using it, "
                              "and may this user read it (group 'video')? Or use --source synthetic")
        self._cap.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter_fourcc(*"MJPG"))
        self._cap.set(cv2.CAP_PROP_FRAME_WIDTH, size[0])
        self._cap.set(cv2.CAP_PROP_FRAME_HEIGHT, size[1])
        self._cap.set(cv2.CAP_PROP_FPS, fps)
        self._cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)   # the newest frame, not a queue of old ones
        self.size = (int(self._cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(self._cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
        self.fps = float(self._cap.get(cv2.CAP_PROP_FPS) or 0.0)
        fourcc = int(self._cap.get(cv2.CAP_PROP_FOURCC))
        self.fourcc = "".join(chr((fourcc >> (8 * i)) & 0xFF) for i in range(4)).strip("\0") or "?"
        self.description = (f"camera {index}: {self.size[0]}x{self.size[1]} {self.fourcc} @ {self.fps:g} fps granted "
                            f"(asked {size[0]}x{size[1]} @ {fps:g})")
        self.warning = ""
        if self.fps < fps - 0.5:
            self.warning = (f"camera {index} grants {self.fps:g} fps, below the {fps:g} asked: fewer frames means "
                            "later hits; try a smaller size or more light")
            log.warning(self.warning)
        self._index = 0

    def read(self) -> Frame | None:
        if not self._cap.grab():
            return None
        t_capture = time.monotonic_ns()
        ok, image = self._cap.retrieve()
        if not ok or image is None:
            return None
        frame = Frame(self._index, t_capture, image)
        self._index += 1
        return frame

    def close(self) -> None:
        self._cap.release()


def camera_available(index: int = 0) -> bool:
    """True if /dev/videoN exists and OpenCV can open it (and it is released again)."""
    if not os.path.exists(camera_device(index)):
        return False
    cap = cv2.VideoCapture(index, cv2.CAP_V4L2)
    try:
        return bool(cap.isOpened())
    finally:
        cap.release()
