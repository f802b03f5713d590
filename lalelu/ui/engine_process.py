"""The engine in a process of its own, seen from the window through the Engine's reader interface.

In one Python process the window's drawing (Qt, pyqtgraph) would share the GIL with the hot path, and every
time the inference thread wanted the GIL back it could wait on a redraw. So the window runs the Engine in a
child process: the child mirrors its trace records to the window through a pipe and puts the newest frame in
shared memory (a seqlock: the writer never waits, a reader that raced a write keeps its last picture).
Commands (record, stop recording, a camera's exposure, the sound's switch and volume, stop) go the other way
on a second pipe.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from multiprocessing import shared_memory
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lalelu.core.messages import Message
from lalelu.engine import Engine, EngineConfig, EngineStats, ScriptClock, keep_off_core
from lalelu.errors import LaleluError
from lalelu.gestures.kit import Kit
from lalelu.trace import TraceRing

MAX_IMAGE_BYTES = 1920 * 1080 * 3
HEADER = 4 * 8                      # int64: write sequence (odd while writing), frame index, height, width
PUBLISH_S = 1.0 / 60.0              # how often the child hands over records and the newest frame
STATS_S = 0.25
START_TIMEOUT_S = 90.0
ASK_TIMEOUT_S = 10.0                # for the engine process to start or stop recording


def _attach(name: str) -> shared_memory.SharedMemory:
    # A spawned child shares its parent's resource tracker: the parent's unlink() also covers this attach.
    return shared_memory.SharedMemory(name=name)


@dataclass
class _Views:
    """numpy views on the shared memory; dropped before it is closed (close refuses while views exist)."""

    header: np.ndarray | None
    pixels: np.ndarray | None


@dataclass
class _Status:
    """What the child tells the window a few times a second."""

    stats: EngineStats
    messages: list[Message]
    running: bool
    error: str | None
    t0_ns: int | None     # the scripted drummer's time zero, set once the capture thread has started it


def _child_main(config: EngineConfig, commands, data, shm_name: str) -> None:
    """Runs in the child: the Engine, a publisher thread, and a loop answering the window's commands."""
    shm = _attach(shm_name)
    views = _Views(header=np.ndarray((4,), np.int64, buffer=shm.buf, offset=0),
                   pixels=np.ndarray((MAX_IMAGE_BYTES,), np.uint8, buffer=shm.buf, offset=HEADER))
    engine = Engine(config)
    try:
        engine.start()
    except BaseException as exc:  # reported to the window, which shows it
        commands.send(("error", f"{exc}"))
        views.header = views.pixels = None
        shm.close()
        return
    clock = engine.script_clock()
    commands.send(("started", engine.kit, None if clock is None else clock.script))
    # this thread, the publisher and a recorder it starts pickle and write while holding the GIL: off the
    # inference core, like the helpers the engine starts itself
    keep_off_core(config.inference_core)
    stop = threading.Event()

    def publish() -> None:
        seq, last_index, next_stats = engine.ring.seq, None, 0.0
        while not stop.wait(PUBLISH_S):
            seq, records = engine.ring.read_since(seq)
            try:
                if records:
                    data.send(("records", records))
                latest = engine.latest_image()
                if latest is not None and latest[0] != last_index:
                    index, image = latest
                    header = views.header
                    if image.nbytes <= MAX_IMAGE_BYTES:
                        header[0] += 1                       # odd: a write is under way
                        views.pixels[:image.nbytes] = image.reshape(-1)
                        header[1:4] = (index, image.shape[0], image.shape[1])
                        header[0] += 1
                    last_index = index
                now = time.monotonic()
                if now >= next_stats:
                    next_stats = now + STATS_S
                    data.send(("status", _Status(engine.stats(), engine.messages(), engine.running,
                                                 None if engine.error is None else str(engine.error),
                                                 None if clock is None else engine.script_clock().t0_ns)))
            except (OSError, EOFError, BrokenPipeError):
                return  # the window went away

    publisher = threading.Thread(target=publish, name="lalelu-ui-publisher", daemon=True)
    publisher.start()
    try:
        while True:
            try:
                command, *args = commands.recv()
            except (EOFError, OSError):
                break
            if command == "stop":
                break
            serial, *args = args     # echoed in the reply: the window drops a reply it stopped waiting for
            try:
                if command == "record":
                    engine.start_recording(args[0])
                    commands.send((serial, "ok", engine.recording_path))
                elif command == "stop_record":
                    path = engine.recording_path
                    engine.stop_recording()
                    commands.send((serial, "ok", path))
                elif command == "camera":
                    commands.send((serial, "ok", engine.adjust_camera(**args[0])))
                elif command == "sound":
                    engine.set_sound(*args)
                    commands.send((serial, "ok", None))
            except (OSError, LaleluError) as exc:
                commands.send((serial, "error", str(exc)))
    finally:
        stop.set()
        publisher.join(2.0)
        engine.stop()
        try:
            data.send(("closed",))
        except (OSError, BrokenPipeError):
            pass
        if not publisher.is_alive():
            views.header = views.pixels = None
            shm.close()


class EngineProcess:
    """Engine(config) run in a child process; an EngineView, like the Engine itself."""

    def __init__(self, config: EngineConfig) -> None:
        self.config = config
        self.ring = TraceRing(config.ring_capacity)
        self.kit: Kit | None = None
        self.error: str | None = None
        self.recording_path: str | None = None
        self._script = None                    # the scripted drummer's script, for benchmarks
        self._t0_ns: int | None = None
        self._stats = EngineStats()
        self._running = True
        self._messages: list[Message] = []
        self._lock = threading.Lock()
        self._proc = None
        self._shm: shared_memory.SharedMemory | None = None
        self._image: tuple[int, np.ndarray] | None = None
        self._image_seq = 0
        self._receiver: threading.Thread | None = None
        self._alive = False
        self._stopping = False
        self._asked = 0                        # serial of the latest question to the engine process

    # --- life -----------------------------------------------------------------------------------
    def start(self) -> None:
        ctx = multiprocessing.get_context("spawn")   # never fork a process that runs Qt
        self._shm = shared_memory.SharedMemory(create=True, size=HEADER + MAX_IMAGE_BYTES)
        np.ndarray((4,), np.int64, buffer=self._shm.buf)[:] = 0
        self._commands, child_commands = ctx.Pipe()
        data_in, data_out = ctx.Pipe(duplex=False)
        self._data = data_in
        self._proc = ctx.Process(target=_child_main, name="lalelu-engine",
                                 args=(self.config, child_commands, data_out, self._shm.name), daemon=True)
        self._proc.start()
        child_commands.close()
        data_out.close()
        if not self._commands.poll(START_TIMEOUT_S):
            self.stop()
            slow = (" (a first TensorRT engine build can take minutes: run `lalelu models build` once, then "
                    "start again)" if self.config.backend == "tensorrt" else "")
            raise LaleluError(f"the engine did not start within {START_TIMEOUT_S:.0f} s{slow}")
        try:
            reply = self._commands.recv()
        except EOFError:
            code = self._proc.exitcode
            self.stop()
            raise LaleluError(f"the engine process ended while starting (exit code {code})") from None
        if reply[0] == "error":
            self.stop()
            raise LaleluError(reply[1])
        self.kit, self._script = reply[1], reply[2]
        self._alive = True
        self._receiver = threading.Thread(target=self._receive, name="lalelu-ui-receiver", daemon=True)
        self._receiver.start()

    def _receive(self) -> None:
        keep_off_core(self.config.inference_core)
        while True:
            try:
                message = self._data.recv()
            except (EOFError, OSError):
                break
            kind = message[0]
            if kind == "records":
                for rec in message[1]:
                    self.ring.append(rec)
            elif kind == "status":
                status: _Status = message[1]
                with self._lock:
                    self._stats, self._running, self._t0_ns = status.stats, status.running, status.t0_ns
                    self._messages.extend(status.messages)
                    if status.error:
                        self.error = status.error
            elif kind == "closed":
                break
        proc = self._proc
        if proc is not None and not self._stopping and self.error is None:
            proc.join(1.0)
            self.error = f"the engine process ended unexpectedly (exit code {proc.exitcode})"
        self._alive = False

    def stop(self) -> None:
        self._stopping = True
        proc, self._proc = self._proc, None
        if proc is not None:
            try:
                self._commands.send(("stop",))
            except (OSError, BrokenPipeError):
                pass
            proc.join(5.0)
            if proc.is_alive():
                proc.kill()
                proc.join(2.0)
        if self._receiver is not None:
            self._receiver.join(2.0)
            self._receiver = None
        for end in ("_commands", "_data"):
            conn = getattr(self, end, None)
            if conn is not None:
                conn.close()
                setattr(self, end, None)
        if self._shm is not None:
            self._shm.close()
            self._shm.unlink()
            self._shm = None
        self._alive = False
        self.recording_path = None

    @property
    def running(self) -> bool:
        with self._lock:
            engine_running = self._running
        return self._alive and self._proc is not None and self._proc.is_alive() and engine_running

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until play has ended (the source ended, a failure, the process gone); True if it has."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.running:
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(0.05 if deadline is None else max(0.0, min(0.05, deadline - time.monotonic())))
        return True

    # --- what the window reads -------------------------------------------------------------------
    def latest_image(self) -> tuple[int, np.ndarray] | None:
        """The newest frame from shared memory; if a write raced the read, the previous one."""
        shm = self._shm
        if shm is None:
            return self._image
        header = np.ndarray((4,), np.int64, buffer=shm.buf)
        before = int(header[0])
        if before == 0 or before % 2 or before == self._image_seq:
            return self._image
        index, h, w = (int(v) for v in header[1:4])
        image = np.ndarray((h, w, 3), np.uint8, buffer=shm.buf, offset=HEADER).copy()
        if int(header[0]) == before:
            self._image = (index, image)
            self._image_seq = before
        return self._image

    def script_clock(self) -> ScriptClock | None:
        with self._lock:
            t0_ns = self._t0_ns
        return None if self._script is None or t0_ns is None else ScriptClock(self._script, t0_ns)

    def stats(self) -> EngineStats:
        with self._lock:
            return self._stats

    def messages(self) -> list[Message]:
        with self._lock:
            out, self._messages = self._messages, []
        return out

    # --- recording (the recorder runs beside the engine, in the child) ----------------------------
    def _ask(self, command: str, *args) -> str | None:
        if self._proc is None:
            raise OSError("the engine is not running")
        self._asked += 1
        self._commands.send((command, self._asked, *args))
        deadline = time.monotonic() + ASK_TIMEOUT_S
        while True:
            if not self._commands.poll(max(0.0, deadline - time.monotonic())):
                raise OSError(f"the engine process did not answer {command!r} within {ASK_TIMEOUT_S:g} s")
            serial, kind, value = self._commands.recv()
            if serial == self._asked:     # an older serial: the late answer to a question that timed out
                break
        if kind == "error":
            raise OSError(value)
        return value

    def start_recording(self, path: str | os.PathLike) -> None:
        self.recording_path = self._ask("record", str(Path(path).resolve()))

    def stop_recording(self) -> None:
        if self._proc is not None and self._alive:
            self._ask("stop_record")
        self.recording_path = None

    # --- a camera's exposure (the window's sliders) -----------------------------------------------------
    def adjust_camera(self, exposure_ms: float | None = None, gain: float | None = None,
                      auto: bool | None = None):
        """As Engine.adjust_camera, in the engine's process; OSError with the reason when it cannot."""
        return self._ask("camera", {"exposure_ms": exposure_ms, "gain": gain, "auto": auto})

    # --- the built-in sound (in the child, beside the engine) -------------------------------------
    def set_sound(self, on: bool | None = None, volume: float | None = None) -> None:
        self._ask("sound", on, volume)
