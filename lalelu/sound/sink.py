"""SoundOut: the built-in drum sound, a NoteSink beside MIDI, played by a sound process of lalelu's own.

The synthesiser and its audio output run in `python -m lalelu.sound.server` (why: lalelu.sound.jack_out), which
this sink starts, watches and stops. The hot path's play() writes the hit into shared memory (four int64s and a
counter: no lock, no system call) and returns; the sound process's JACK callback reads it at the start of its
next period, and writes back when its sound went out, which sounded() hands to the engine. The sound process
says what happens (audio server gone, back, soundfont missing...) on its stdout; a thread here reads it. If
the sound process itself dies, it is started again.
"""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from lalelu.config import PACKAGE_DIR
from lalelu.core.hits import Hit
from lalelu.core.messages import Message, drain, info, warning
from lalelu.sound.outputs import DRIVERS
from lalelu.sound.player import DEFAULT_VOLUME, MIDI_ONLY, check_volume
from lalelu.sound.ring import SharedRings

START_TIMEOUT_S = 20.0    # for the sound process to load FluidSynth and the soundfont and open its output
RESTART_S = 2.0           # a sound process that died is started again after this long
IN_FLIGHT_LIMIT = 1024    # hits waiting for their sound-out stamp


class SoundOut:
    """The drum sound. soundfont: a .sf2 path (None: Debian's, see lalelu.sound.soundfont). driver: "auto" or
    one of lalelu.sound.outputs.DRIVERS. volume: 0..1. on: play at once (False: ready, silent, no audio client
    open). wait_s: how long to wait for the sound process to be ready (0: not at all; hits before then are
    dropped and counted)."""

    name = "sound"

    def __init__(self, soundfont: str | Path | None = None, driver: str = "auto", volume: float = DEFAULT_VOLUME,
                 on: bool = True, gate_ms: float = 50.0, client_name: str | None = None,
                 wait_s: float = START_TIMEOUT_S) -> None:
        if driver != "auto" and driver not in DRIVERS:
            raise ValueError(f"unknown audio driver {driver!r}: choose auto, {', '.join(DRIVERS)}")
        check_volume(volume)
        self._options = dict(soundfont=None if soundfont is None else str(soundfont), driver=driver,
                             volume=volume, on=on, gate_ms=gate_ms, client_name=client_name)
        self.handed = 0            # hits handed to the sound process
        self.sounded_count = 0     # hits whose sound-out time came back
        self._dropped_here = 0     # hits not handed over: no audio output at the time
        self._dropped_there = 0    # hits the sound process had no output for
        self._dropped_before = 0   # ... in its earlier lives
        self._on, self._volume = on, volume
        self._seq = 0
        self._in_flight: dict[int, Hit] = {}
        self._events: collections.deque[Message] = collections.deque(maxlen=100)
        self._status = "starting"
        self._connected = False
        self._stamping = False     # the output says when each hit's sound went out (JACK)
        self.output_info: dict | None = None   # where it plays (driver, rate, period, playback latency, xruns)
        self._lock = threading.Lock()          # around the process and its pipe (not the hot path)
        self._closing = threading.Event()
        self._ready = threading.Event()
        self._rings = SharedRings.create()
        self._proc: subprocess.Popen | None = None
        self._start_process()
        if wait_s > 0 and not self._ready.wait(wait_s):
            self._event(warning, f"the sound process did not start within {wait_s:g} s; {MIDI_ONLY}")

    # -- the hot path ---------------------------------------------------------------------------------
    def play(self, hit: Hit) -> int:
        """NoteSink: hand the hit to the sound process; time.monotonic_ns() after, or 0 when dropped."""
        if not self._connected or not self._on:
            if self._on:
                self._dropped_here += 1
            return 0
        seq = self._seq = self._seq + 1
        self._rings.put_hit(seq, hit.channel, hit.note, hit.velocity)
        if self._stamping:   # its sound-out time will come back
            self._in_flight[seq] = hit
        self.handed += 1
        return time.monotonic_ns()

    def sounded(self) -> list[tuple[Hit, int]]:
        """The hits whose sound went out since the last call, each with the time it did (monotonic ns).
        Only the JACK output measures this; FluidSynth's own drivers report nothing."""
        stamps = self._rings.take_stamps()
        in_flight = self._in_flight
        out = []
        for seq, t in stamps:
            hit = in_flight.pop(seq, None)
            if hit is not None:
                out.append((hit, t))
        while len(in_flight) > IN_FLIGHT_LIMIT:   # hits whose output went away before they sounded: oldest first
            del in_flight[next(iter(in_flight))]
        self.sounded_count += len(out)
        return out

    # -- controls (the window, the engine process) -------------------------------------------------
    @property
    def on(self) -> bool:
        return self._on

    @property
    def volume(self) -> float:
        return self._volume

    def set_on(self, on: bool) -> None:
        """Switch the sound on (the output opens within a moment) or off (it is closed; hits are not counted
        as dropped)."""
        self._on = on
        self._options["on"] = on
        self._command({"on": on})

    def set_volume(self, volume: float) -> None:
        check_volume(volume)
        self._volume = volume
        self._options["volume"] = volume
        self._command({"volume": volume})

    # -- state ----------------------------------------------------------------------------------------
    @property
    def status(self) -> str:
        return self._status

    @property
    def connected(self) -> bool:
        return self._connected and self._on

    @property
    def dropped(self) -> int:
        """Hits not played: no audio output at the time (hits while switched off are not counted)."""
        return self._dropped_here + self._dropped_before + self._dropped_there

    def wait_ready(self, timeout_s: float) -> bool:
        """Wait (not on the hot path) until the sound process has said how it plays; True if it has."""
        return self._ready.wait(timeout_s)

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def messages(self) -> list[Message]:
        return drain(self._events)

    def close(self) -> None:
        if self._closing.is_set():
            return
        self._closing.set()
        self._connected = False
        with self._lock:
            proc, self._proc = self._proc, None
        if proc is not None:
            self._stop_process(proc)
        self._rings.close()
        self._status = "closed"

    def __enter__(self) -> "SoundOut":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- the sound process ----------------------------------------------------------------------------
    def _event(self, level, text: str) -> None:
        self._status = text
        self._events.append(level(f"sound: {text}"))

    def _start_process(self) -> None:
        env = dict(os.environ)
        # the lalelu this one is (a checkout run in place, or the installed package)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PACKAGE_DIR.parent), env.get("PYTHONPATH")) if p)
        proc = subprocess.Popen([sys.executable, "-m", "lalelu.sound.server", str(self._rings.fd),
                                 json.dumps(self._options)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                pass_fds=(self._rings.fd,), env=env, text=True, bufsize=1)
        self._proc = proc
        threading.Thread(target=self._listen, args=(proc,), name="lalelu-sound-listener", daemon=True).start()

    def _stop_process(self, proc: subprocess.Popen) -> None:
        try:
            proc.stdin.close()   # the sound process ends when its stdin does
        except OSError:
            pass
        try:
            proc.wait(5.0)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def _command(self, command: dict) -> None:
        with self._lock:
            proc = self._proc
            if proc is None:
                return
            try:
                proc.stdin.write(json.dumps(command) + "\n")
                proc.stdin.flush()
            except OSError:   # it died: the listener restarts it with the options as they are now
                pass

    def _listen(self, proc: subprocess.Popen) -> None:
        for line in proc.stdout:
            try:
                said = json.loads(line)
            except ValueError:
                continue
            self._connected = bool(said.get("connected"))
            self._dropped_there = int(said.get("dropped", 0))
            self.output_info = said.get("output")
            self._stamping = bool(self.output_info) and self.output_info.get("driver") == "jack"
            level = {"info": info, "warning": warning}.get(said.get("level"))
            if level is not None:
                self._event(level, said["status"])
            else:
                self._status = said["status"]
            if said.get("ready"):
                self._ready.set()
        code = proc.wait()
        self._connected = False
        self._ready.set()
        if self._closing.is_set():
            return
        self._dropped_before += self._dropped_there
        self._dropped_there = 0
        self._event(warning, f"the sound process ended (exit code {code}); {MIDI_ONLY}; starting it again")
        if not self._closing.wait(RESTART_S):
            with self._lock:
                if not self._closing.is_set():
                    self._start_process()
