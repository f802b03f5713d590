"""`camera:N`: a webcam through OpenCV's V4L2 backend, MJPG, asking for a high frame rate.

The driver decides what it grants: the size and rate are read back and reported (`description`), with a
warning when the rate is below what was asked (USB webcams often give 30 fps at large sizes, or only in
good light). read() blocks in the driver until the next frame arrives; the frame is stamped when grab()
returns, before decoding, so decode time counts as latency.

A camera that stops delivering frames (a kicked USB cable) is released and looked for again every RETRY_S;
meanwhile read() raises SourceInterrupted, so that the engine keeps the MIDI side up, says so, and plays on
when the camera is back.
"""

from __future__ import annotations

import os
import time

import cv2

from lalelu.core.frames import Frame
from lalelu.errors import LaleluError, SourceInterrupted
from lalelu.sources.base import BaseSource

RETRY_S = 0.5   # how often a lost camera is looked for
DECODE_TRIES = 5   # torn frames in a row before the camera is given up


def camera_device(index: int) -> str:
    return f"/dev/video{index}"


class CameraSource(BaseSource):
    def __init__(self, index: int = 0, fps: float = 100.0, size: tuple[int, int] = (640, 480)):
        self.index = index
        self.asked = (float(fps), (int(size[0]), int(size[1])))
        self._cap = self._open()
        self._retry_at = 0.0   # monotonic s: the next attempt to reopen a lost camera, not before
        self.warning = ""
        if self.fps < fps - 0.5:
            self.warning = (f"camera {index} grants {self.fps:g} fps, below the {fps:g} asked: fewer frames means "
                            "later hits; try a smaller size or more light")
        self._index = 0

    def _device(self) -> str:
        return camera_device(self.index)

    def _capture(self) -> cv2.VideoCapture:
        return cv2.VideoCapture(self.index, cv2.CAP_V4L2)

    def _open(self) -> cv2.VideoCapture:
        """Open the camera with the asked format, size and rate, and read back what the driver granted."""
        device, index, (fps, size) = self._device(), self.index, self.asked
        if not os.path.exists(device):
            raise LaleluError(f"no camera at index {index} ({device} missing): connect a webcam "
                              "or use --source synthetic")
        cap = self._capture()
        if not cap.isOpened():
            cap.release()
            raise LaleluError(f"camera {index} ({device}) cannot be opened: is another program using it, "
                              "and may this user read it (group 'video')? Or use --source synthetic")
        cap.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter_fourcc(*"MJPG"))
        cap.set(cv2.CAP_PROP_FRAME_WIDTH, size[0])
        cap.set(cv2.CAP_PROP_FRAME_HEIGHT, size[1])
        cap.set(cv2.CAP_PROP_FPS, fps)
        cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)   # the newest frame, not a queue of old ones
        self.size = (int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
        self.fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        fourcc = int(cap.get(cv2.CAP_PROP_FOURCC))
        self.fourcc = "".join(chr((fourcc >> (8 * i)) & 0xFF) for i in range(4)).strip("\0") or "?"
        self.description = (f"camera {index}: {self.size[0]}x{self.size[1]} {self.fourcc} @ {self.fps:g} fps granted "
                            f"(asked {size[0]}x{size[1]} @ {fps:g})")
        return cap

    def _reopen(self) -> None:
        """One attempt, at most every RETRY_S, to get a lost camera back; SourceInterrupted if it is not.
        The pause also covers a camera that opens but sends nothing: no busy loop on the capture core."""
        time.sleep(max(0.0, self._retry_at - time.monotonic()))
        self._retry_at = time.monotonic() + RETRY_S
        try:
            self._cap = self._open()
        except LaleluError as exc:
            raise SourceInterrupted(f"camera {self.index} is still gone ({exc})") from None

    def read(self) -> Frame | None:
        for _ in range(DECODE_TRIES):
            if self._cap is None:
                self._reopen()
            if not self._cap.grab():
                self._cap.release()
                self._cap = None
                self._retry_at = time.monotonic() + RETRY_S
                raise SourceInterrupted(f"camera {self.index} stopped delivering frames (unplugged?)")
            t_capture = time.monotonic_ns()
            ok, image = self._cap.retrieve()
            if ok and image is not None:   # else a torn frame: the next one
                frame = Frame(self._index, t_capture, image)
                self._index += 1
                return frame
        raise LaleluError(f"camera {self.index} delivers frames that do not decode: try another --size, or "
                          "check the camera with another program")

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None


def camera_available(index: int = 0) -> bool:
    """True if /dev/videoN exists and OpenCV can open it (and it is released again)."""
    if not os.path.exists(camera_device(index)):
        return False
    cap = cv2.VideoCapture(index, cv2.CAP_V4L2)
    try:
        return bool(cap.isOpened())
    finally:
        cap.release()
