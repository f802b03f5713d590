"""The engine itself: a capture thread and an inference thread joined by a latest-frame slot.

    capture thread (own core)              inference thread (own core)
    source.read() -> slot (newest wins) -> estimator -> detector -> note sinks -> TraceRecord -> ring

The hot path (frame ready -> notes sent) runs on the inference thread with no further queue hop; it never
prints, logs, touches the disk or waits on a reader. Everything else (status lines, the window, the trace
recorder) reads the ring from other threads.
"""

from __future__ import annotations

import collections
import os
import sys
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from lalelu import config as settings
from lalelu.core import messages
from lalelu.core.frames import Frame
from lalelu.core.hits import Hit
from lalelu.core.messages import Message
from lalelu.core.protocols import Detector, NoteSink, PoseEstimator, PoseSink, SoundingSink, Source
from lalelu.engine.parts import build_parts, close_parts
from lalelu.engine.scheduling import DEFAULT_RT_PRIORITY, ThrottlingGuard, make_realtime, off_core, pin_thread
from lalelu.errors import LaleluError, SourceInterrupted
from lalelu.gestures.kit import Kit
from lalelu.midi import MidiOut
from lalelu.pose.tracking import PlayerTracker
from lalelu.report import summarize_ns
from lalelu.sources.camera import CameraSource
from lalelu.sources.synthetic import SyntheticDrummer
from lalelu.trace import SoundStamp, TraceRecord, TraceRecorder, TraceRing

SINK_COST_FRAMES = 16384   # frames of sink cost kept (164 s at 100 fps)
IN_FLIGHT_LIMIT = 256      # hits waiting for their sound-out stamp (a sink that stops stamping must not grow it)

# Pose threads: one runs Lightning in 9.6 ms at p50 on a 2-core machine, too close to 100 fps's 10 ms
# frame period (6.8 % of frames dropped); two run it in 7.6 ms (0.05 % dropped).
DEFAULT_THREADS = int(settings.DEFAULTS["threads"])
ROLES = ("capture", "inference")


@dataclass
class EngineConfig:
    source: str = "synthetic"
    model: str = str(settings.DEFAULTS["model"])
    backend: str = str(settings.DEFAULTS["backend"])
    threads: int = DEFAULT_THREADS
    kit: str = str(settings.DEFAULTS["kit"])
    detector: str = str(settings.DEFAULTS["detector"])   # heuristic or learned (lalelu.gestures.factory)
    player: str | None = None
    midi_port: str | None = str(settings.DEFAULTS["midi_port"])  # None: no MIDI output (hits are still traced)
    midi_virtual: bool | None = None  # open our own virtual port; None: only for the default port name
    midi_backend: str = str(settings.DEFAULTS["midi_backend"])
    capture_core: int | None = 0  # None: leave the thread unpinned
    inference_core: int | None = 1
    fps: float = float(settings.DEFAULTS["fps"])
    size: tuple[int, int] = (640, 480)
    # A camera's exposure (lalelu.sources.exposure); None: the camera's remembered setting, else a short one
    exposure_ms: float | None = None
    gain: float | None = None
    auto_exposure: bool | None = None
    realtime: bool = True
    loop: bool | None = None  # None: the source's habit (the scripted drummer loops, files do not)
    rt_priority: int | None = DEFAULT_RT_PRIORITY  # None: do not ask for real-time scheduling
    ring_capacity: int = 3000  # 30 s at 100 fps: readers may stall for seconds without losing records
    switch_interval_s: float = 0.0005  # how long another Python thread may hold the GIL the hot path wants
    gate_ms: int = 50
    # The built-in drum sound (lalelu.sound) beside MIDI: built when `sound`; `sound_on` False builds it
    # switched off (the window's switch turns it on later). volume 0..1; soundfont None: Debian's.
    sound: bool = False
    sound_on: bool = True
    volume: float = 0.8
    soundfont: str | None = None
    audio_driver: str = "auto"
    osc: str | None = None     # HOST:PORT: hits and the pose stream as OSC (lalelu.osc)
    record: str | None = None  # trace file to record from the first frame on
    # After handing over a frame, the capture thread waits (up to half a frame period) until the inference
    # thread has taken it before producing the next one, so a source that renders in Python (the scripted
    # drummer) does not hold the GIL while the hot path wakes up. None: only for such sources.
    yield_to_inference: bool | None = None


@dataclass
class EngineStats:
    """Counters since start, and fps and end-to-end latency over the last second (what status lines and the
    window show). An EngineStats() is the state before anything was played."""

    fps: float = 0.0
    frames: int = 0                 # played
    captured: int = 0               # delivered by the source, dropped ones included
    drops: int = 0
    e2e_p50_ms: float | None = None
    e2e_p99_ms: float | None = None
    hits: int = 0                   # handed to the first note sink (MIDI)
    midi_dropped: int = 0           # hits it dropped (no port at the time)
    sounded: int = 0                # hits whose sound-out time came back from the built-in synth (JACK)
    sound_dropped: int = 0          # hits it could not play (no audio output at the time)
    cores: dict[str, int | None] = field(default_factory=lambda: dict.fromkeys(ROLES))
    realtime: dict[str, bool] = field(default_factory=lambda: dict.fromkeys(ROLES, False))
    rt_saturated: bool = False      # inference left real time: it is slower than the frame rate
    midi: str = "off"               # the MIDI port's state, in words
    midi_connected: bool = False
    sound: str = "off"              # the built-in sound's state, in words
    sound_connected: bool = False
    osc: str = "off"
    source: str = ""
    model: str = ""
    backend: str = ""
    recording: str | None = None    # the trace file being written
    camera: object = None           # a camera's exposure and gain now (lalelu.sources.camera_controls.CameraState)

    def cores_text(self) -> str:
        """Where the two threads run, and at which priority, in words."""
        def one(role: str) -> str:
            core = self.cores[role]
            where = "unpinned" if core is None else f"core {core}"
            rt = "real-time" if self.realtime[role] else "normal priority"
            if role == "inference" and self.rt_saturated:
                rt += " (left real time: inference slower than the frame rate)"
            return f"{role} {where}, {rt}"

        return f"{one('capture')}; {one('inference')}"


@dataclass(frozen=True)
class ScriptClock:
    """The scripted drummer's script and its time zero (monotonic ns): which hits it played when."""

    script: object
    t0_ns: int


class Engine:
    """Runs the instrument. Parts may be passed in ready-made (source, estimator, detector, sinks); those not
    given are built from the config in start(). Parts the engine built, it closes."""

    def __init__(self, config: EngineConfig | None = None, *, source: Source | None = None,
                 estimator: PoseEstimator | None = None, detector: Detector | None = None,
                 sinks: list[NoteSink] | None = None) -> None:
        self.config = config or EngineConfig()
        self._given = dict(source=source, estimator=estimator, detector=detector, sinks=sinks)
        self.source: Source | None = source
        self.estimator: PoseEstimator | None = estimator
        self.detector: Detector | None = detector
        self.sinks: list[NoteSink] = list(sinks or [])
        self.kit: Kit | None = detector.kit if detector is not None else None
        self._owned: list = []
        self.ring = TraceRing(self.config.ring_capacity)
        self.tracker = PlayerTracker()   # keeps the player when someone else walks into the picture

        self._cond = threading.Condition(threading.Lock())
        self._slot: Frame | None = None  # the newest frame not yet taken by the inference thread
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
        self._pose_sinks: list[PoseSink] = []
        self._sounding: SoundingSink | None = None
        self._in_flight: dict[int, tuple[int, int, int]] = {}   # id(hit) -> (frame index, place, t_capture)
        # what the sinks after MIDI (synth, OSC) cost the inference thread, per frame, ns (a ring)
        self._sink_cost = np.zeros(SINK_COST_FRAMES, np.int64)
        self._sink_cost_n = 0
        self._sink_failing = False
        self._messages: collections.deque[Message] = collections.deque(maxlen=200)
        self.cores: dict[str, int | None] = dict.fromkeys(ROLES)
        self.realtime: dict[str, bool] = dict.fromkeys(ROLES, False)
        self._rt_warned = False
        self._throttling = ThrottlingGuard(self.config.rt_priority)
        self._saturation_warned = False
        self._threads_ready = {role: threading.Event() for role in ROLES}
        self._ended = {role: threading.Event() for role in ROLES}   # set by each thread as its last act

        self._capture_thread: threading.Thread | None = None
        self._inference_thread: threading.Thread | None = None
        self._recorder: TraceRecorder | None = None
        self._old_switch_interval: float | None = None
        self.started_ns = 0
        self.error: BaseException | None = None

    # ---- life cycle ---------------------------------------------------------------------------

    def start(self) -> None:
        # Built off the inference core: the threads the parts start inherit that and leave it to the hot path.
        with off_core(self.config.inference_core):
            parts = build_parts(self.config, **self._given)
            self.source, self.estimator, self.detector, self.sinks = (parts.source, parts.estimator,
                                                                     parts.detector, parts.sinks)
            self.kit, self._owned = parts.kit, parts.owned
            self._pose_sinks = [sink for sink in self.sinks if isinstance(sink, PoseSink)]
            self._sounding = next((sink for sink in self.sinks if isinstance(sink, SoundingSink)), None)
            try:
                if self.source.warning:  # e.g. a camera granting fewer fps than asked
                    self._post(messages.warning(self.source.warning))
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

    def _warm_up(self) -> None:
        # The first calls of an interpreter allocate and tune; keep them out of the played frames. The frames'
        # own size (a video's, what a camera granted), so that their resize path is warm too.
        size = tuple(self.source.size or ())
        w, h = size if len(size) == 2 and all(size) else self.config.size
        blank = np.zeros((h, w, 3), np.uint8)
        for _ in range(3):
            self.estimator(blank)

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        # Each thread sets its event as its last act: waiting on those, not on Thread.join, keeps a Ctrl-C
        # here from marking a thread that still runs as stopped (Python 3.11's join, bpo-45274), after which
        # its parts would be closed under it and its last records lost.
        threads = [(t, self._ended[role]) for role, t in (("capture", self._capture_thread),
                                                          ("inference", self._inference_thread)) if t is not None]
        for _, ended in threads:
            ended.wait(2.0)
        stuck = [t.name for t, ended in threads if not ended.is_set()]
        if stuck:   # e.g. a camera hanging in its driver: closing what it still uses could crash the process
            self._post(messages.warning(f"{', '.join(stuck)} did not stop within 2 s; the source, model and MIDI "
                                        "port are left to close when the program ends"))
        else:
            self._flush_pending_drops()
        self.stop_recording()
        if not stuck:
            self._close_owned()
        if self._old_switch_interval is not None:
            sys.setswitchinterval(self._old_switch_interval)
            self._old_switch_interval = None

    def _close_owned(self) -> None:
        for problem in close_parts(self._owned):
            self._post(messages.info(problem))

    def __enter__(self) -> "Engine":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def midi(self) -> MidiOut | None:
        """The MIDI sink, when the engine plays into one."""
        return next((sink for sink in self.sinks if isinstance(sink, MidiOut)), None)

    @property
    def sound(self):
        """The built-in sound's sink (lalelu.sound.SoundOut), when the engine plays one."""
        return next((sink for sink in self.sinks if sink.name == "sound"), None)

    def set_sound(self, on: bool | None = None, volume: float | None = None) -> None:
        """The window's switch and volume (0..1); without a built-in sound, OSError saying so."""
        sound = self.sound
        if sound is None:
            raise OSError("this engine plays no built-in sound (it was started without it)")
        if volume is not None:
            sound.set_volume(volume)
        if on is not None:
            sound.set_on(on)

    def sink_costs_ns(self) -> np.ndarray:
        """What the sinks after MIDI (the synth's and OSC's hand-over, the pose stream) cost the inference
        thread in each of the last frames played with such sinks, ns."""
        n = self._sink_cost_n
        if n <= SINK_COST_FRAMES:
            return self._sink_cost[:n].copy()
        k = n % SINK_COST_FRAMES
        return np.concatenate([self._sink_cost[k:], self._sink_cost[:k]])

    @property
    def running(self) -> bool:
        return self._inference_thread is not None and not self._ended["inference"].is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the source has ended and its last frame was played; True if it has. (An Event, not
        Thread.join: a Ctrl-C during a join can mark a running thread as stopped in Python 3.11.)"""
        if self._inference_thread is None:
            return True
        return self._ended["inference"].wait(timeout)

    # ---- threads ------------------------------------------------------------------------------

    def _setup_thread(self, role: str, core: int | None) -> None:
        """Pin the calling thread and ask for real-time scheduling; never raises."""
        self.cores[role], problem = pin_thread(core)
        if problem:
            self._post(messages.warning(f"the {role} thread: {problem}"))
        refused = make_realtime(self.config.rt_priority)
        self.realtime[role] = refused is None
        if refused and self.config.rt_priority is not None and not self._rt_warned:
            self._rt_warned = True
            self._post(messages.warning(
                f"no real-time priority ({refused}); latency jitter will be higher. Run as a user allowed "
                "real-time scheduling (e.g. the 'audio' group with rtprio in /etc/security/limits.conf) to get it"))
        self._threads_ready[role].set()

    def _guard_throttling(self, busy: float) -> None:
        """On the inference thread, at most twice a second: see ThrottlingGuard."""
        changed = self._throttling.check(busy, self.realtime["inference"])
        if changed is None:
            return
        self.realtime["inference"] = changed
        if not changed and not self._saturation_warned:
            self._saturation_warned = True
            self._post(messages.warning(
                f"inference is busy {100 * busy:.0f} % of the time (slower than the frame rate): it leaves "
                "real-time priority while so, to escape the kernel's real-time throttling; fewer inference "
                "threads or a lighter model helps"))

    def _capture_loop(self) -> None:
        self._setup_thread("capture", self.config.capture_core)
        source = self.source
        yield_to_inference = self.config.yield_to_inference
        if yield_to_inference is None:
            yield_to_inference = source.renders_in_python
        fps = self._source_fps()
        handoff_timeout = 0.5 / fps if fps > 0 else 0.005
        said = source.warning   # said at start(); a source may say more while it plays (a damaged video)
        try:
            source.start()
            interrupted = False
            while not self._stopping:
                try:
                    frame = source.read()
                except SourceInterrupted as exc:   # e.g. a camera unplugged: MIDI stays up, play goes on later
                    if not interrupted:
                        interrupted = True
                        self._post(messages.warning(f"{exc}; looking for it again, play goes on when it is back"))
                    continue
                if source.warning is not said:
                    said = source.warning
                    self._post(messages.warning(said))
                if frame is None:
                    break
                if interrupted:
                    interrupted = False
                    self._post(messages.info(f"the source is back: {source.description}"))
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
            self._post(messages.error(f"the source stopped: {exc}"))
        finally:
            with self._cond:
                self._source_ended = True
                self._cond.notify_all()
            self._ended["capture"].set()

    def _drop(self, frame: Frame) -> None:
        """Count and trace a frame that will not be played; with self._cond held."""
        self.drops += 1
        self._pending_drops.append(TraceRecord(index=frame.index, t_capture=frame.t_capture,
                                               t_kernel=frame.t_kernel, dropped=True))

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
        try:
            self._setup_thread("inference", self.config.inference_core)
            self._play()
        except BaseException as exc:  # a failing model or detector ends play with a reason, not a silent death
            self.error = exc
            self._post(messages.error(f"the inference thread stopped: {type(exc).__name__}: {exc}"))
            with self._cond:
                self._stopping = True
                self._cond.notify_all()
        finally:
            self._ended["inference"].set()

    def _next_frame(self) -> Frame | None:
        """The newest frame, waiting for one (never spinning); None when stopping or the source has ended.
        Records of dropped frames are handed to the ring here, on the ring's one writer thread."""
        with self._cond:
            while self._slot is None and not self._stopping and not self._source_ended:
                self._cond.wait()
            frame, self._slot = self._slot, None
            self._taken.set()
            if frame is not None and self._stopping:  # stopped before it was played: a dropped frame
                self._drop(frame)
                frame = None
            pending, self._pending_drops = self._pending_drops, []
        for rec in pending:
            self.ring.append(rec)
        return frame

    def _play(self) -> None:
        """The hot path, top to bottom: frame -> pose -> hits -> notes -> trace."""
        estimator, detector, sinks, ring = self.estimator, self.detector, self.sinks, self.ring
        pose_sinks = self._pose_sinks
        pick = self.tracker.pick
        now = time.monotonic_ns
        window_start, idle_ns = now(), 0
        while True:
            t_idle = now()
            if t_idle - window_start >= 500_000_000:
                self._guard_throttling(1.0 - idle_ns / (t_idle - window_start))
                window_start, idle_ns = t_idle, 0
            frame = self._next_frame()
            idle_ns += now() - t_idle
            if frame is None:
                return  # stopping, or the source ended and its last frame was played

            t_infer_start = now()
            people = estimator(frame.image)
            t_infer_end = now()
            keypoints, hits = None, []
            player = pick(people, frame.t_capture) if people else None   # the player, not whoever scores highest
            if player is not None:
                keypoints = player.keypoints
                hits = detector.update(frame.t_capture, keypoints)
            t_detect = now()
            extra_ns = self._send(sinks, hits, frame) if hits and sinks else 0
            t_sent = now()
            sounds = []
            if self._sounding is not None:
                sounds = self._sounds_back()
                extra_ns += now() - t_sent
            ring.append(TraceRecord(index=frame.index, t_capture=frame.t_capture, t_kernel=frame.t_kernel,
                                    t_infer_start=t_infer_start,
                                    t_infer_end=t_infer_end, t_detect=t_detect, t_sent=t_sent,
                                    keypoints=keypoints, hits=hits, sounds=sounds))
            self.frames_processed += 1
            if pose_sinks:
                t_pose = now()
                self._send_pose(pose_sinks, frame.t_capture, keypoints)
                extra_ns += now() - t_pose
            if extra_ns or pose_sinks or self._sounding is not None:
                self._sink_cost[self._sink_cost_n % SINK_COST_FRAMES] = extra_ns
                self._sink_cost_n += 1

    def _send(self, sinks: list[NoteSink], hits: list[Hit], frame: Frame) -> int:
        # A sink's play() never blocks and never raises for its own trouble: it returns 0 for a hit it
        # dropped (no port, JACK gone) and reconnects by itself. Anything else it raises is a bug we keep
        # from ending play, and report. The first sink (MIDI) is the one counted here; the others count
        # their own, and what they cost this thread is returned (ns).
        now = time.monotonic_ns
        extra_ns = 0
        for place, hit in enumerate(hits):
            for n, sink in enumerate(sinks):
                t0 = now() if n else 0
                try:
                    ok = sink.play(hit)
                except Exception as exc:
                    ok = 0
                    if not self._sink_failing:
                        self._post(messages.error(f"{sink.name} send failed: {exc}"))
                if n:
                    if ok and sink is self._sounding:   # its sound-out time comes back later: keep the frame
                        self._in_flight[id(hit)] = (frame.index, place, frame.t_capture)
                    extra_ns += now() - t0
                    continue
                if ok:
                    self.hits_sent += 1
                    self._sink_failing = False
                else:
                    self.midi_dropped += 1
                    self._sink_failing = True
        return extra_ns

    def _send_pose(self, pose_sinks: list[PoseSink], t_ns: int, keypoints: np.ndarray | None) -> None:
        for sink in pose_sinks:   # like play(): a bug in a sink must not end play
            try:
                sink.frame(t_ns, keypoints)
            except Exception as exc:
                if not self._sink_failing:
                    self._post(messages.error(f"{sink.name} pose stream failed: {exc}"))

    def _sounds_back(self) -> list[SoundStamp]:
        """The sound-out stamps that came back since the last frame, tied to their hits' frames."""
        back = self._sounding.sounded()
        in_flight = self._in_flight
        out = []
        for hit, t_sound in back:
            known = in_flight.pop(id(hit), None)
            if known is not None:
                out.append(SoundStamp(known[0], known[1], known[2], t_sound))
        while len(in_flight) > IN_FLIGHT_LIMIT:   # stamps that will never come (an output lost with them)
            del in_flight[next(iter(in_flight))]
        return out

    # ---- for readers (the window, the CLI) ----------------------------------------------------

    def _post(self, message: Message) -> None:
        self._messages.append(message)  # a deque append: never blocks the thread that posts

    def _source_fps(self) -> float:
        """The source's frame rate, else the configured one (a camera that does not say)."""
        return float((self.source.fps if self.source is not None else 0) or self.config.fps)

    def messages(self) -> list[Message]:
        """Warnings, errors and news posted since the last call (pinning, priority, sinks, source)."""
        for sink in self.sinks:
            for message in sink.messages():
                self._post(message)
        if self._recorder is not None and self._recorder.error is not None:
            self.stop_recording()   # it failed (disk full...): say so; play goes on
        return messages.drain(self._messages)

    def latest_image(self) -> tuple[int, np.ndarray] | None:
        return self._latest

    def script_clock(self) -> ScriptClock | None:
        """The scripted drummer's script and time zero, when it is the source (benchmarks score against it)."""
        if isinstance(self.source, SyntheticDrummer):
            return ScriptClock(self.source.script, self.source.t0_ns)
        return None

    def stats(self, window_s: float = 1.0) -> EngineStats:
        now = time.monotonic_ns()
        since = now - int(window_s * 1e9)
        recent = self.ring.recent(int(self._source_fps() * window_s * 2) + 10)
        e2e = summarize_ns(np.array([r.e2e_ns for r in recent if r.e2e_ns is not None and r.t_sent >= since],
                                    np.int64))
        span_s = min(window_s, max((now - self.started_ns) / 1e9, 1e-9)) if self.started_ns else window_s
        sound = self.sound
        osc = next((sink for sink in self.sinks if sink.name == "OSC"), None)
        midi = self.sinks[0] if self.sinks and self.sinks[0] not in (sound, osc) else None
        return EngineStats(
            fps=e2e["n"] / span_s, frames=self.frames_processed, captured=self.frames_captured, drops=self.drops,
            e2e_p50_ms=e2e["p50"], e2e_p99_ms=e2e["p99"], hits=self.hits_sent, midi_dropped=self.midi_dropped,
            cores=dict(self.cores), realtime=dict(self.realtime), rt_saturated=self._throttling.saturated,
            midi="off" if midi is None else midi.status, midi_connected=midi is not None and midi.connected,
            sound="off" if sound is None else sound.status, sound_connected=sound is not None and sound.connected,
            sounded=0 if sound is None else sound.sounded_count, sound_dropped=0 if sound is None else sound.dropped,
            osc="off" if osc is None else osc.status,
            source=self.source.description if self.source is not None else self.config.source,
            model=self.estimator.name if self.estimator is not None else self.config.model,
            backend=self.config.backend, recording=self.recording_path, camera=self._camera_state())

    # ---- a camera's exposure (the window's sliders) ---------------------------------------------

    def _camera_state(self):
        return self.source.camera_state() if isinstance(self.source, CameraSource) else None

    def adjust_camera(self, exposure_ms: float | None = None, gain: float | None = None,
                      auto: bool | None = None):
        """Change the source camera's exposure while playing; returns its CameraState. Off the hot path: a
        control change goes to the driver, the capture thread goes on reading frames."""
        if not isinstance(self.source, CameraSource):
            raise LaleluError("this source has no exposure to adjust: only a camera has")
        return self.source.adjust(exposure_ms=exposure_ms, gain=gain, auto=auto)

    # ---- trace recording ----------------------------------------------------------------------

    def start_recording(self, path: str | os.PathLike) -> None:
        self.stop_recording()
        header = {"source": self.source.description if self.source is not None else self.config.source,
                  "model": self.estimator.name if self.estimator is not None else self.config.model,
                  "backend": self.config.backend, "kit": self.config.kit, "fps": self._source_fps(),
                  "threads": self.config.threads, "started_ns": self.started_ns}
        self._recorder = TraceRecorder(self.ring, path, header)

    def stop_recording(self) -> None:
        if self._recorder is not None:
            recorder, self._recorder = self._recorder, None
            recorder.close()
            if recorder.error is not None:
                self._post(messages.error(f"recording to {recorder.path} stopped: {recorder.error}; play goes on, "
                                          f"{recorder.written} records were written"))
            if recorder.lost:
                self._post(messages.warning(f"the recorder lost {recorder.lost} trace records (it fell behind)"))

    @property
    def recording_path(self) -> str | None:
        return str(self._recorder.path) if self._recorder is not None else None
