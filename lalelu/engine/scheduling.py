"""Where and how the engine's threads run: pinning to a core, real-time priority, and the guard that keeps a
saturated real-time thread out of the kernel's throttling. Linux calls that act on the calling thread only."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator

# Below JACK's own real-time threads (jackd uses 10 and up), above every normal thread.
DEFAULT_RT_PRIORITY = 5


def keep_off_core(core: int | None) -> set[int] | None:
    """Moves the calling thread (only it, on Linux) to every usable core but `core`; returns the affinity
    to restore, or None when there was nothing to change. Threads it starts afterwards inherit this."""
    if core is None or not hasattr(os, "sched_setaffinity"):
        return None
    allowed = os.sched_getaffinity(0)
    others = allowed - {core}
    if not others or others == allowed:
        return None
    os.sched_setaffinity(0, others)
    return allowed


@contextlib.contextmanager
def off_core(core: int | None) -> Iterator[None]:
    """Run the block on every core but `core`, so that the threads it starts (libjack's process thread, the
    pose runtime's workers, MIDI and recorder helpers) inherit that affinity and leave the core to the hot
    path. Measured on 2 cores with the inference core kept free: drops 5.8 % -> 0 at 100 fps."""
    allowed = keep_off_core(core)
    try:
        yield
    finally:
        if allowed is not None:
            os.sched_setaffinity(0, allowed)


@contextlib.contextmanager
def workers_realtime(priority: int | None) -> Iterator[None]:
    """Run the block under real-time scheduling one step below `priority`, so that the worker threads it
    starts (the pose runtime's) inherit it: a window or any other normal process sharing their core then
    cannot delay the inference waiting on them. Without the right to it, nothing changes."""
    if priority is None or not hasattr(os, "sched_setscheduler"):
        yield
        return
    policy, param = os.sched_getscheduler(0), os.sched_getparam(0)
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(max(1, priority - 1)))
    except OSError:
        yield
        return
    try:
        yield
    finally:
        os.sched_setscheduler(0, policy, param)


def pin_thread(core: int | None) -> tuple[int | None, str | None]:
    """Pin the calling thread to `core`: (the core it runs on, or None; a warning, or None)."""
    if core is None:
        return None, None
    allowed = os.sched_getaffinity(0)
    if core not in allowed:
        return None, f"core {core} is not available (usable cores: {sorted(allowed)}); the thread is not pinned"
    os.sched_setaffinity(0, {core})   # pins this thread only (Linux)
    return core, None


def make_realtime(priority: int | None) -> str | None:
    """Ask real-time (FIFO) scheduling for the calling thread; None when granted or not asked, else why not."""
    if priority is None:
        return "not asked"
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(priority))
    except (OSError, AttributeError) as exc:
        return str(exc)
    return None


class ThrottlingGuard:
    """Keeps a saturated real-time thread out of the kernel's real-time throttling.

    Linux lets real-time threads use at most sched_rt_runtime_us of each sched_rt_period_us (95 %): a FIFO
    thread busy all the time (inference slower than the frame rate) is then stopped for ~50 ms every second,
    far worse than sharing its core. So while the thread is nearly always busy it runs as a normal thread at
    the highest nice level, and goes back to real time when it has slack again. check() is called on the
    guarded thread itself, at most twice a second; it returns True when the thread has just left real time.
    """

    def __init__(self, priority: int | None):
        self.priority = priority
        self.saturated = False   # the thread left real time because it was saturated

    def check(self, busy: float, realtime: bool) -> bool | None:
        """busy: share of the last stretch the thread worked. Returns the thread's new real-time state when
        it changed (False: it left real time, True: it is back), else None."""
        if realtime and busy > 0.92:
            try:
                os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
            except OSError:
                return None
            try:   # best effort: rtprio limits often allow real time but not a raised nice level
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), -20)
            except OSError:
                pass
            self.saturated = True
            return False
        if self.saturated and busy < 0.8 and self.priority is not None:
            try:
                os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(self.priority))
            except OSError:
                return None
            self.saturated = False
            return True
        return None
