"""What every frame source shares: the Frame record and the start/read/close life cycle."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from lalelu.errors import LaleluError


@dataclass
class Frame:
    index: int           # 0, 1, 2, ... in the order the source delivers them
    t_capture: int       # time.monotonic_ns() when the frame became ready
    image: np.ndarray    # H x W x 3 uint8 BGR


class SourceInterrupted(LaleluError):
    """The source has no frames for now (a camera unplugged) and is looking for them again: read() again.
    A reader that cannot wait treats it as the error its message describes."""


class Source:
    """A frame source, read by one capture thread: `start()`, then `read()` until it returns None, `close()`.
    read() may raise SourceInterrupted while the source is gone for a while; it goes on after it."""

    description: str = "source"
    fps: float = 0.0
    size: tuple[int, int] = (0, 0)   # (width, height) of the frames

    def start(self) -> None:
        """Start the clock (and the device); the first frame is due right away."""

    def read(self) -> Frame | None:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __iter__(self):
        while (frame := self.read()) is not None:
            yield frame


def sleep_until(deadline_ns: int) -> None:
    """Sleep (never spin) until time.monotonic_ns() >= deadline_ns."""
    while True:
        remaining = deadline_ns - time.monotonic_ns()
        if remaining <= 0:
            return
        time.sleep(remaining / 1e9)
