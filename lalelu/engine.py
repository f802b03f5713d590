"""The instrument's engine: a capture thread and an inference thread joined by a latest-frame slot.

    capture thread (own core)              inference thread (own core)
    source.read() -> slot (newest wins) -> estimator -> detector -> MIDI note-on -> TraceRecord -> ring

The hot path (frame ready -> MIDI sent) runs on the inference thread with no further queue hop; it
never prints, logs, touches the disk or waits on a reader. Everything else (status lines, the UI,
the trace recorder) reads the ring from other threads.
"""

from __future__ import annotations

import collections
import contextlib
import os
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from lalelu.report import summarize_ns
from lalelu.sources.base import SourceInterrupted
from lalelu.trace import TraceRecord, TraceRecorder, TraceRing

# Pose threads: one runs Lightning in 9.6 ms at p50 on a 2-core machine, too close to 100 fps's 10 ms
# frame period (6.8 % of frames dropped); two run it in 7.6 ms (0.05 % dropped).
DEFAULT_THREADS = 2
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


@dataclass
class EngineConfig:
    source: str = "synthetic"
    model: str = "lightning"
    backend: str = "litert"
    threads: int = DEFAULT_THREADS
    kit: str = "default"
    player: str | None = None
    midi_port: str | None = "lalelu drums"  # None: play without MIDI output (hits are still traced)
    midi_virtual: bool | None = None  # open our own virtual port; None: only for the default port name
    midi_backend: str = "auto"
    capture_core: int | None = 0  # None: leave the thread unpinned
    inference_core: int | None = 1
    fps: float = 100.0
    size: tuple[int, int] = (640, 480)
    realtime: bool = True
    loop: bool | None = None  # None: the source's habit (the scripted drummer loops, files do not)
    rt_priority: int | None = DEFAULT_RT_PRIORITY  # None: do not ask for real-time scheduling
    ring_capacity: int = 3000  # 30 s at 100 fps: readers may stall for seconds without losing records
    switch_interval_s: float = 0.0005  # how long another Python thread may hold the GIL the hot path wants
    gate_ms: int = 50
    record: str | None = None  # trace file to record from the first frame on
    # After handing over a frame, the capture thread waits (up to half a frame period) until the inference
    # thread has taken it before producing the next one, so a source that renders in Python (the scripted
    # drummer) does not hold the GIL while the hot path wakes up. None: only for sources that render.
    yield_to_inference: bool | None = None


class Engine:
    """Runs the instrument. Parts may be passed in ready-made (source, estimator, detector, midi);
    those not given are built from the config in start(). Parts the engine built, it closes."""

    def __init__(self, config: EngineConfig | None = None, *, source: Any = None, estimator: Any = None,
                 detector: Any = None, midi: Any = None) -> None:
        self.config = config or EngineConfig()
        self.source = source
        self.estimator = estimator
        self.detector = detector
        self.midi = midi
        self._owned: list[Any] = []
        self.ring = TraceRing(self.config.ring_capacity)

        self._cond = threading.Condition(threading.Lock())
        self._slot: Any = None  # the newest frame not yet taken by the inference thread
        self._taken = threading.Event()  # set by the inference thread when it takes a frame
        self._pending_drops: list[TraceRecord] = []  # records of overwritten frames, handed to the ring writer
        self._stopping = False
        self._source_ended = False
        self._latest: tuple[int, np.ndarray] | None = None

        self.frames_captured = 0
        self.frames_processed = 0
        self.drops = 0
        self.hits_sent = 0
        self.midi_dropped = 0
        self._midi_failing = False
        self._messages: collections.deque[str] = collections.deque(maxlen=200)
        self.cores: dict[str, int | None] = {"capture": None, "inference": None}
        self.realtime: dict[str, bool] = {"capture": False, "inference": False}
        self._rt_warned = False
        self._rt_saturated = False
        self._saturation_warned = False
        self._threads_ready = {"capture": threading.Event(), "inference": threading.Event()}

        self._capture_thread: threading.Thread | None = None
        self._inference_thread: threading.Thread | None = None
        self._recorder: TraceRecorder | None = None
        self._old_switch_interval: float | None = None
        self.started_ns = 0
        self.error: BaseException | None = None

    # ---- building the parts -------------------------------------------------------------------

    def _build_parts(self) -> None:
        cfg = self.config
        kit = None
        if self.source is None or self.detector is None:
            from lalelu.gestures.kit import load_kit

            kit = load_kit(cfg.kit)
        if self.estimator is None:
            from lalelu.pose import load_estimator

            with self._workers_realtime():
                self.estimator = load_estimator(model=cfg.model, backend=cfg.backend, threads=cfg.threads)
        if self.source is None:
            from lalelu.sources import open_source

            self.source = open_source(cfg.source, fps=cfg.fps, realtime=cfg.realtime, loop=cfg.loop,
                                      size=cfg.size, kit=kit)
            self._owned.append(self.source)
        if getattr(self.source, "warning", ""):  # e.g. a camera granting fewer fps than asked
            self._post(f"warning: {self.source.warning}")
        if self.detector is None:
            from lalelu.gestures.detector import Detector

            calibration = None
            if cfg.player:
                from lalelu.gestures.calibration import load_calibration

                calibration = load_calibration(cfg.player)
            self.detector = Detector(kit, calibration=calibration, fps=self._source_fps())
        if self.midi is None and cfg.midi_port is not None:
            from lalelu.midi import DEFAULT_PORT, MidiOut

            # The default name opens our own virtual port; any other name means a port that already exists.
            virtual = cfg.midi_port == DEFAULT_PORT if cfg.midi_virtual is None else cfg.midi_virtual
            self.midi = MidiOut(port=cfg.midi_port, backend=cfg.midi_backend, virtual=virtual, gate_ms=cfg.gate_ms)
            self._owned.append(self.midi)

    def _source_fps(self) -> float:
        """The source's frame rate, else the configured one (a camera that does not say)."""
        return float(getattr(self.source, "fps", 0) or self.config.fps)

    def _warm_up(self) -> None:
        # The first calls of an interpreter allocate and tune; keep them out of the played frames. The frames'
        # own size (a video's, what a camera granted), so that their resize path is warm too.
        source_size = tuple(getattr(self.source, "size", ()) or ())
        w, h = source_size if len(source_size) == 2 and all(source_size) else self.config.size
        blank = np.zeros((h, w, 3), np.uint8)
        for _ in range(3):
            self.estimator(blank)

    # ---- life cycle ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def _off_the_inference_core(self):
        """Run the block on every core but the inference core, so that the threads it starts (libjack's
        process thread, the pose runtime's workers, MIDI and recorder helpers) inherit that affinity and
        leave the inference core to the hot path. Measured on 2 cores: drops 5.8 % -> 0 at 100 fps."""
        allowed = keep_off_core(self.config.inference_core)
        try:
            yield
        finally:
            if allowed is not None:
                os.sched_setaffinity(0, allowed)

    @contextlib.contextmanager
    def _workers_realtime(self):
        """Run the block under real-time scheduling, one step below the engine's threads, so that the pose
        runtime's worker threads it starts inherit it: a window or any other normal process sharing their
        core then cannot delay the inference waiting on them. Without the right to it, nothing changes."""
        priority = self.config.rt_priority
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

    def start(self) -> None:
        with self._off_the_inference_core():
            try:
                self._build_parts()
                self._warm_up()
                if self.config.record:
                    self.start_recording(self.config.record)
            except BaseException:
                self._close_owned()
                raise
        self._old_switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(self.config.switch_interval_s)
        self.started_ns = time.monotonic_ns()
        self._inference_thread = threading.Thread(target=self._inference_loop, name="lalelu-inference", daemon=True)
        self._capture_thread = threading.Thread(target=self._capture_loop, name="lalelu-capture", daemon=True)
        self._inference_thread.start()
        self._capture_thread.start()
        for ready in self._threads_ready.values():  # so that stats() reports the cores and priorities used
            ready.wait(2.0)

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._capture_thread is not None:
            self._capture_thread.join(timeout=2.0)
        if self._inference_thread is not None:
            self._inference_thread.join(timeout=2.0)
        stuck = [t.name for t in (self._capture_thread, self._inference_thread) if t is not None and t.is_alive()]
        if stuck:   # e.g. a camera hanging in its driver: closing what it still uses could crash the process
            self._post(f"warning: {', '.join(stuck)} did not stop within 2 s; the source, model and MIDI port "
                       "are left to close when the program ends")
        else:
            self._flush_pending_drops()
        self.stop_recording()
        if not stuck:
            self._close_owned()
        if self._old_switch_interval is not None:
            sys.setswitchinterval(self._old_switch_interval)
            self._old_switch_interval = None

    def _close_owned(self) -> None:
        while self._owned:
            part = self._owned.pop()
            try:
                part.close()
            except Exception as exc:  # closing must not hide what stopped us
                self._post(f"closing {type(part).__name__}: {exc}")

    def __enter__(self) -> "Engine":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        t = self._inference_thread
        return t is not None and t.is_alive()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the source has ended and its last frame was played; True if it has."""
        if self._inference_thread is None:
            return True
        self._inference_thread.join(timeout)
        return not self._inference_thread.is_alive()

    # ---- threads ------------------------------------------------------------------------------

    def _setup_thread(self, role: str, core: int | None) -> None:
        """Pin the calling thread and ask for real-time scheduling; never raises."""
        if core is not None:
            allowed = os.sched_getaffinity(0)
            if core in allowed:
                os.sched_setaffinity(0, {core})  # pins this thread only (Linux)
                self.cores[role] = core
            else:
                self._post(f"warning: core {core} for the {role} thread is not available "
                           f"(usable cores: {sorted(allowed)}); the thread is not pinned")
        priority = self.config.rt_priority
        if priority is not None:
            try:
                os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(priority))
                self.realtime[role] = True
            except (OSError, AttributeError) as exc:
                if not self._rt_warned:
                    self._rt_warned = True
                    self._post(f"warning: no real-time priority ({exc}); latency jitter will be higher. "
                               "Run as a user allowed real-time scheduling (e.g. the 'audio' group with "
                               "rtprio in /etc/security/limits.conf) to get it")
        self._threads_ready[role].set()

    def _guard_rt_throttling(self, busy: float) -> None:
        """Keep a saturated inference thread out of the kernel's real-time throttling.

        Linux lets real-time threads use at most sched_rt_runtime_us of each sched_rt_period_us (95 %):
        a FIFO thread busy all the time (inference slower than the frame rate) is then stopped for
        ~50 ms every second, far worse than sharing its core. So while the thread is nearly always busy
        it runs as a normal thread at the highest nice level, and goes back to real time when it has
        slack again. Called on the inference thread, at most twice a second.
        """
        priority = self.config.rt_priority
        if self.realtime["inference"] and busy > 0.92:
            try:
                os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
            except OSError:
                return
            try:   # best effort: rtprio limits often allow real time but not a raised nice level
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), -20)
            except OSError:
                pass
            self.realtime["inference"] = False
            self._rt_saturated = True
            if not self._saturation_warned:
                self._saturation_warned = True
                self._post(f"warning: inference is busy {100 * busy:.0f} % of the time (slower than the frame "
                           "rate): it leaves real-time priority while so, to escape the kernel's real-time "
                           "throttling; fewer inference threads or a lighter model helps")
        elif self._rt_saturated and busy < 0.8 and priority is not None:
            try:
                os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(priority))
            except OSError:
                return
            self.realtime["inference"] = True
            self._rt_saturated = False

    def _capture_loop(self) -> None:
        self._setup_thread("capture", self.config.capture_core)
        source = self.source
        yield_to_inference = self.config.yield_to_inference
        if yield_to_inference is None:
            yield_to_inference = hasattr(source, "render")
        fps = self._source_fps()
        handoff_timeout = 0.5 / fps if fps > 0 else 0.005
        try:
            if hasattr(source, "start"):
                source.start()
            interrupted = False
            while not self._stopping:
                try:
                    frame = source.read()
                except SourceInterrupted as exc:   # e.g. a camera unplugged: MIDI stays up, play goes on later
                    if not interrupted:
                        interrupted = True
                        self._post(f"warning: {exc}; looking for it again, play goes on when it is back")
                    continue
                if frame is None:
                    break
                if interrupted:
                    interrupted = False
                    self._post(f"the source is back: {getattr(source, 'description', 'frames come again')}")
                self._latest = (frame.index, frame.image)  # a reference, not a copy: sources make new arrays
                self.frames_captured += 1
                with self._cond:
                    if self._slot is not None:  # newest frame wins
                        self._drop(self._slot)
                    self._slot = frame
                    self._taken.clear()
                    self._cond.notify()
                if yield_to_inference:
                    self._taken.wait(handoff_timeout)
        except BaseException as exc:  # a broken camera ends play with a reason, not a silent thread death
            self.error = exc
            self._post(f"error: the source stopped: {exc}")
        finally:
            with self._cond:
                self._source_ended = True
                self._cond.notify_all()

    def _drop(self, frame: Any) -> None:
        """Count and trace a frame that will not be played; with self._cond held."""
        self.drops += 1
        self._pending_drops.append(TraceRecord(frame.index, frame.t_capture, dropped=True))

    def _flush_pending_drops(self) -> None:
        """After the threads ended: trace what was dropped, including a frame left in the slot."""
        with self._cond:
            if self._slot is not None:
                self._drop(self._slot)
                self._slot = None
            pending, self._pending_drops = self._pending_drops, []
        for rec in pending:
            self.ring.append(rec)

    def _inference_loop(self) -> None:
        self._setup_thread("inference", self.config.inference_core)
        try:
            self._play()
        except BaseException as exc:  # a failing model or detector ends play with a reason, not a silent death
            self.error = exc
            self._post(f"error: the inference thread stopped: {type(exc).__name__}: {exc}")
            with self._cond:
                self._stopping = True
                self._cond.notify_all()

    def _play(self) -> None:
        """The hot path: take the newest frame, estimate the pose, detect hits, send them, trace it all."""
        cond = self._cond
        ring = self.ring
        estimator, detector, midi = self.estimator, self.detector, self.midi
        now = time.monotonic_ns
        window_start = now()
        idle_ns = 0
        while True:
            t_idle = now()
            if t_idle - window_start >= 500_000_000:
                self._guard_rt_throttling(1.0 - idle_ns / (t_idle - window_start))
                window_start, idle_ns = t_idle, 0
            with cond:
                while self._slot is None and not self._stopping and not self._source_ended:
                    cond.wait()
                frame = self._slot
                self._slot = None
                self._taken.set()
                if frame is not None and self._stopping:  # stopped before it was played: a dropped frame
                    self._drop(frame)
                    frame = None
                pending = self._pending_drops
                if pending:
                    self._pending_drops = []
            idle_ns += now() - t_idle
            if pending:
                for rec in pending:
                    ring.append(rec)
            if frame is None:
                return  # stopping, or the source ended and its last frame was played

            t_infer_start = now()
            people = estimator(frame.image)
            t_infer_end = now()
            keypoints = None
            hits: list = []
            if people:
                person = people[0] if len(people) == 1 else max(people, key=lambda p: p.score)
                keypoints = person.keypoints
                hits = detector.update(frame.t_capture, keypoints)
            t_detect = now()
            if hits and midi is not None:
                self._send(midi, hits)
            t_sent = now()
            ring.append(TraceRecord(frame.index, frame.t_capture, t_infer_start, t_infer_end, t_detect, t_sent,
                                    False, keypoints, hits))
            self.frames_processed += 1

    def _send(self, midi: Any, hits: list) -> None:
        # MidiOut.note_on never blocks and never raises for port problems: it returns 0 for a note it
        # dropped (no port, JACK gone) and its supervisor reconnects. Anything else it raises is a bug
        # we keep from ending play, and report.
        for hit in hits:
            try:
                ok = midi.note_on(hit.note, hit.velocity, channel=hit.channel)
            except Exception as exc:
                ok = 0
                if not self._midi_failing:
                    self._post(f"error: MIDI send failed: {exc}")
            if ok:
                self.hits_sent += 1
                self._midi_failing = False
            else:
                self.midi_dropped += 1
                self._midi_failing = True

    # ---- for readers (UI, CLI) ----------------------------------------------------------------

    def _post(self, message: str) -> None:
        self._messages.append(message)  # a deque append: never blocks the thread that posts

    def messages(self) -> list[str]:
        """Warnings and errors posted since the last call (pinning, priority, MIDI, source)."""
        poll = getattr(self.midi, "poll_events", None)
        if poll is not None:
            for event in poll():
                self._post(f"MIDI: {event.message}")
        if self._recorder is not None and self._recorder.error is not None:
            self.stop_recording()   # it failed (disk full...): say so; play goes on
        out = []
        while self._messages:
            out.append(self._messages.popleft())
        return out

    def latest_image(self) -> tuple[int, np.ndarray] | None:
        return self._latest

    def stats(self, window_s: float = 1.0) -> dict[str, Any]:
        """Counters since start, and fps and end-to-end latency over the last `window_s` seconds."""
        now = time.monotonic_ns()
        since = now - int(window_s * 1e9)
        recent = self.ring.recent(int(self._source_fps() * window_s * 2) + 10)
        e2e = summarize_ns(np.array([r.e2e_ns for r in recent if r.e2e_ns is not None and r.t_sent >= since],
                                    np.int64))
        span_s = min(window_s, max((now - self.started_ns) / 1e9, 1e-9)) if self.started_ns else window_s
        midi_status = "off" if self.midi is None else str(getattr(self.midi, "status", "?"))
        return {
            "fps": e2e["n"] / span_s,
            "frames": self.frames_processed,
            "captured": self.frames_captured,
            "drops": self.drops,
            "e2e_p50_ms": e2e["p50"],
            "e2e_p99_ms": e2e["p99"],
            "hits": self.hits_sent,
            "midi_dropped": self.midi_dropped,
            "cores": dict(self.cores),
            "realtime": dict(self.realtime),
            "rt_saturated": self._rt_saturated,
            "midi": midi_status,
            "midi_connected": bool(getattr(self.midi, "connected", False)),
            "source": str(getattr(self.source, "description", self.config.source)),
            "model": str(getattr(self.estimator, "name", self.config.model)),
            "backend": self.config.backend,
            "recording": self.recording_path,
        }

    # ---- trace recording ----------------------------------------------------------------------

    def start_recording(self, path: str | os.PathLike) -> None:
        self.stop_recording()
        header = {"source": str(getattr(self.source, "description", self.config.source)),
                  "model": str(getattr(self.estimator, "name", self.config.model)),
                  "backend": self.config.backend, "kit": self.config.kit,
                  "fps": self._source_fps(),
                  "threads": self.config.threads, "started_ns": self.started_ns}
        self._recorder = TraceRecorder(self.ring, path, header)

    def stop_recording(self) -> None:
        if self._recorder is not None:
            recorder, self._recorder = self._recorder, None
            recorder.close()
            if recorder.error is not None:
                self._post(f"error: recording to {recorder.path} stopped: {recorder.error}; play goes on, "
                           f"{recorder.written} records were written")
            if recorder.lost:
                self._post(f"warning: the recorder lost {recorder.lost} trace records (it fell behind)")

    @property
    def recording_path(self) -> str | None:
        return str(self._recorder.path) if self._recorder is not None else None
