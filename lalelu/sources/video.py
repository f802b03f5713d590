"""`file:PATH`: frames of a video file, paced in real time by their timestamps or as fast as they decode.

realtime=True: frame k is handed out when (its timestamp - the first one's) has passed since start(),
stamped with time.monotonic_ns() at that moment; a reader that falls behind gets frames late, never skipped
(the engine's newest-frame slot does the dropping). realtime=False: as fast as frames decode (benchmarks),
stamped with time.monotonic_ns() when decoded. loop=True starts over at the end, timestamps continuing.
"""

from __future__ import annotations

import time
from pathlib import Path

import cv2

from lalelu.core.frames import Frame
from lalelu.errors import LaleluError
from lalelu.sources.base import BaseSource, sleep_until


class VideoFileSource(BaseSource):
    def __init__(self, path: str | Path, realtime: bool = True, loop: bool = False):
        self.path = Path(path)
        if not self.path.is_file():
            raise LaleluError(f"video file {str(self.path)!r} not found: give an existing file as --source file:PATH")
        self.realtime = realtime
        self.loop = loop
        self._cap = cv2.VideoCapture(str(self.path))
        ok, first = self._cap.read() if self._cap.isOpened() else (False, None)
        if not ok or first is None:
            self._cap.release()
            raise LaleluError(f"cannot decode video file {str(self.path)!r}: OpenCV read no frame from it; "
                              "convert it to a common format (e.g. H.264 in .mp4)")
        self._pending = first                         # the first frame, already decoded
        self._pending_ms = self._cap.get(cv2.CAP_PROP_POS_MSEC)
        fps = self._cap.get(cv2.CAP_PROP_FPS)
        self.fps = float(fps) if fps and fps > 0 else 30.0
        self.size = (first.shape[1], first.shape[0])
        self.description = (f"file {self.path.name}: {self.size[0]}x{self.size[1]} @ {self.fps:g} fps"
                            f"{'' if realtime else ', as fast as possible'}{', looping' if loop else ''}")
        self.t0_ns = 0
        self._index = 0
        self._loop_offset_ms = 0.0     # added to the file's timestamps after each loop
        self._first_ms: float | None = None
        self._last_ms = 0.0
        self._started = False

    def start(self) -> None:
        self.t0_ns = time.monotonic_ns()
        self._started = True

    def _next_image(self):
        """(image, timestamp in ms from the file's first frame, continued over loops) or None at the end."""
        if self._pending is not None:
            image, ms = self._pending, self._pending_ms
            self._pending = None
        else:
            ok, image = self._cap.read()
            if not ok and self.loop and self._index > 0:   # start over
                self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
                self._loop_offset_ms = self._last_ms + 1000.0 / self.fps
                self._first_ms = None
                ok, image = self._cap.read()
            if not ok:
                return None
            ms = self._cap.get(cv2.CAP_PROP_POS_MSEC)
        if self._first_ms is None:
            self._first_ms = ms
        t_ms = ms - self._first_ms + self._loop_offset_ms
        if t_ms < self._last_ms and self._index > 0:   # some containers report no timestamps: count frames
            t_ms = self._last_ms + 1000.0 / self.fps
        self._last_ms = t_ms
        return image, t_ms

    def read(self) -> Frame | None:
        if not self._started:
            self.start()
        item = self._next_image()
        if item is None:
            return None
        image, t_ms = item
        if self.realtime:
            sleep_until(self.t0_ns + int(t_ms * 1e6))
        frame = Frame(self._index, time.monotonic_ns(), image)
        self._index += 1
        return frame

    def close(self) -> None:
        self._cap.release()
