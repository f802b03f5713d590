"""The kernel's buffer timestamps, mapped to the engine's clock (time.monotonic_ns()).

A V4L2 driver stamps each buffer when the frame was captured (uvcvideo: when its first USB packet came in);
the engine stamps it again when it arrives in user space. The difference is the camera's own delivery
latency: USB transfer, the driver, and frames left waiting in the queue.

Which clock the driver used is in the buffer's flags (V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC: CLOCK_MONOTONIC,
the clock Python's time.monotonic_ns() reads, so no mapping is needed; drivers from before 2013 used the wall
clock). OpenCV hands over the stamp (CAP_PROP_POS_MSEC: tv_sec * 1000 + tv_usec / 1000 of the dequeued
buffer) but not the flags, so then the clock is inferred: the one on which the stamp lies just before the
arrival. A stamp that fits neither (a video file's position, a driver's own counter) is unknown: 0.
"""

from __future__ import annotations

import time
from enum import Enum

TIMESTAMP_MASK = 0xE000          # V4L2_BUF_FLAG_TIMESTAMP_MASK
TIMESTAMP_MONOTONIC = 0x2000     # V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC
TIMESTAMP_COPY = 0x4000          # V4L2_BUF_FLAG_TIMESTAMP_COPY: copied from an output buffer, not a capture time
MAX_AGE_NS = 1_000_000_000       # a stamp older than this at arrival belongs to another frame, or another clock
MAX_AHEAD_NS = 1_000_000         # the two clock reads race by microseconds; a stamp later than this is not ours


class KernelClock(Enum):
    MONOTONIC = "monotonic"
    REALTIME = "realtime"


def clock_from_flags(flags: int) -> KernelClock | None:
    """The clock named by a v4l2_buffer's flags; None when they do not say (then infer it)."""
    kind = flags & TIMESTAMP_MASK
    if kind == TIMESTAMP_MONOTONIC:
        return KernelClock.MONOTONIC
    return None   # UNKNOWN (old drivers: the wall clock) or COPY: decided by plausibility


def msec_to_ns(pos_msec: float) -> int:
    """OpenCV's CAP_PROP_POS_MSEC of a V4L2 capture (ms, a double built from a timeval) in ns. A double keeps
    the microseconds of the timeval exactly for any uptime or date of this century."""
    return int(round(pos_msec * 1000.0)) * 1000 if pos_msec > 0 else 0


def plausible(stamp_ns: int, arrival_ns: int) -> bool:
    return -MAX_AHEAD_NS <= arrival_ns - stamp_ns <= MAX_AGE_NS


class KernelStampMapper:
    """Maps one device's buffer stamps to time.monotonic_ns(). The clock is given (from the flags) or, when
    None, inferred from the first stamp that lies plausibly before its arrival, and kept from then on."""

    def __init__(self, clock: KernelClock | None = None) -> None:
        self.clock = clock
        self.rejected = 0     # stamps that fit no clock (reported as 0)

    def to_monotonic(self, stamp_ns: int, arrival_ns: int, realtime_ns: int | None = None) -> int:
        """The stamp on the monotonic clock, or 0 when unknown. `realtime_ns` is time.time_ns() read right
        after `arrival_ns` (time.monotonic_ns()); without it the wall clock is read here."""
        if stamp_ns <= 0:
            return 0
        clocks = (self.clock,) if self.clock is not None else (KernelClock.MONOTONIC, KernelClock.REALTIME)
        for clock in clocks:
            if clock is KernelClock.MONOTONIC:
                mapped = stamp_ns
            else:
                if realtime_ns is None:   # only read for a wall-clock driver: it can be stepped (NTP) any time
                    realtime_ns = time.time_ns()
                mapped = stamp_ns - (realtime_ns - arrival_ns)
            if plausible(mapped, arrival_ns):
                self.clock = clock
                return min(mapped, arrival_ns)   # never after its own arrival: the reads race by microseconds
        self.rejected += 1
        return 0
