"""What every frame source shares: the start/read/close life cycle of lalelu.core.protocols.Source."""

from __future__ import annotations

import time

from lalelu.core.frames import Frame


class BaseSource:
    """A frame source, read by one capture thread: `start()`, then `read()` until it returns None, `close()`.
    read() may raise lalelu.errors.SourceInterrupted while the source is gone for a while; it goes on after it."""

    description: str = "source"
    fps: float = 0.0
    size: tuple[int, int] = (0, 0)   # (width, height) of the frames
    warning: str = ""
    renders_in_python: bool = False

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
