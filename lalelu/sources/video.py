"""`file:PATH`: frames of a video file, paced in real time by their timestamps or as fast as they decode.

realtime=True: frame k is handed out when (its timestamp - the first one's) has passed since start(),
stamped with time.monotonic_ns() at that moment; a reader that falls behind gets frames late, never skipped
(the engine's newest-frame slot does the dropping). realtime=False: as fast as frames decode (benchmarks),
stamped with time.monotonic_ns() when decoded. loop=True starts over at the end, timestamps continuing.
A damaged stretch (frames that do not decode) is skipped, and `skipped` counts its frames; `warning` says so
after each stretch, and the video plays on to its end.
"""

from __future__ import annotations

import time
from pathlib import Path

import cv2

from lalelu.core.frames import Frame
from lalelu.errors import LaleluError
from lalelu.sources.base import BaseSource, sleep_until

# A file that does not say how many frames it has ends after this many frames in a row that do not decode.
MAX_UNREADABLE_RUN = 300
# Frames smaller than this (either side, pixels) hold too little of a person for pose estimation.
MIN_POSE_SIDE = 32


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
        count = self._cap.get(cv2.CAP_PROP_FRAME_COUNT)
        self.frame_count = int(count) if count and count > 0 else None   # None: the file does not say
        self.description = (f"file {self.path.name}: {self.size[0]}x{self.size[1]} @ {self.fps:g} fps"
                            f"{'' if realtime else ', as fast as possible'}{', looping' if loop else ''}")
        if min(self.size) < MIN_POSE_SIDE:
            self.warning = (f"video {self.path.name} is only {self.size[0]}x{self.size[1]} pixels: too small for "
                            f"pose estimation (at least {MIN_POSE_SIDE} pixels a side, better 192 or more); "
                            "no one will be found in it")
        self.skipped = 0                 # frames that did not decode, over all loops
        self._attempts = 1               # frames read or skipped in this pass through the file
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
            ok, image = self._read_decodable()
            if not ok and self.loop and self._index > 0:   # start over
                self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
                self._loop_offset_ms = self._last_ms + 1000.0 / self.fps
                self._first_ms = None
                self._attempts = 0
                ok, image = self._read_decodable()
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

    def _read_decodable(self):
        """(True, image) of the next frame that decodes, skipping a damaged stretch; (False, None) at the end.
        OpenCV's read() fails on a damaged frame as at the end of the file; the frame count tells them apart
        (a file without one: MAX_UNREADABLE_RUN failures in a row are the end)."""
        run = 0
        while True:
            self._attempts += 1
            ok, image = self._cap.read()
            if ok and image is not None:
                if run:
                    self.skipped += run
                    self.warning = (f"video {self.path.name}: skipped {run} unreadable frame{'s' if run != 1 else ''} "
                                    f"(a damaged stretch{self._where()}; {self.skipped} in all); play goes on")
                return True, image
            run += 1
            left = (self.frame_count - self._attempts if self.frame_count is not None
                    else MAX_UNREADABLE_RUN - run)
            if left <= 0:
                # the end of the file; failed reads of frames it counts were damaged frames at its end
                tail = run - max(0, self._attempts - self.frame_count) if self.frame_count is not None else 0
                if tail:
                    self.skipped += tail
                    self.warning = (f"video {self.path.name}: its last {tail} frame{'s' if tail != 1 else ''} did "
                                    f"not decode ({self.skipped} unreadable in all)")
                return False, None

    def _where(self) -> str:
        return f" after {self._last_ms / 1000:.2f} s" if self._index else ""

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
