"""SoundOut: the built-in drum sound, a NoteSink beside MIDI.

The hot path's play() puts the hit in the current output's SimpleQueue and returns (no lock of Python's, no
wait on the synthesiser). A supervisor thread chooses the output (lalelu.sound.outputs), opens it, watches it,
and when its audio server goes away says so, plays on with MIDI only, and opens it again once the server is
back. A missing soundfont or FluidSynth library is said once; play goes on without sound.
"""

from __future__ import annotations

import collections
import queue
import threading
import time
from pathlib import Path

from lalelu.core.hits import Hit
from lalelu.core.messages import Message, info, warning
from lalelu.errors import LaleluError
from lalelu.sound.outputs import DRIVERS, choose_driver

DEFAULT_VOLUME = 0.8
MAX_GAIN = 1.0          # FluidSynth's gain at volume 1: TimGM6mb's loudest drum peaks near -8 dBFS
RETRY_S = 0.5           # how often a missing audio output is looked for
WATCH_S = 0.1           # how often a working one is checked
LATENCY_EVERY_S = 1.0   # how often JACK's playback latency of our ports is read again


class SoundOut:
    """The drum sound. soundfont: a .sf2 path (None: Debian's, see lalelu.sound.soundfont). driver: "auto" or
    one of DRIVERS. volume: 0..1. on: play at once (False: ready, silent, no audio client open)."""

    name = "sound"

    def __init__(self, soundfont: str | Path | None = None, driver: str = "auto", volume: float = DEFAULT_VOLUME,
                 on: bool = True, gate_ms: float = 50.0, client_name: str | None = None) -> None:
        if driver != "auto" and driver not in DRIVERS:
            raise ValueError(f"unknown audio driver {driver!r}: choose auto, {', '.join(DRIVERS)}")
        check_volume(volume)
        self.driver = driver
        self.gate_ms = gate_ms
        self.client_name = client_name
        self.handed = 0          # hits handed to an output
        self.dropped = 0         # hits not played: no output at the time (hits while switched off are not counted)
        self.sounded_count = 0   # hits whose sound-out time came back
        self._on = on
        self._gain = volume * MAX_GAIN
        self._volume = volume
        self._queue: queue.SimpleQueue | None = None    # the current output's: the hot path puts hits here
        self._output = None
        self._synths: dict[int, object] = {}             # by sample rate
        self._sounded: collections.deque[tuple[Hit, int]] = collections.deque(maxlen=4096)
        self._events: collections.deque[Message] = collections.deque(maxlen=100)
        self._status = "starting"
        self._fatal: str | None = None
        self._lost: str | None = None
        self._dropped_mark = 0
        self._next_latency = 0.0
        self._wake = threading.Event()
        self._closing = threading.Event()
        self.soundfont = self._find_soundfont(soundfont)
        if self._on and self._fatal is None:
            self._open()
        elif self._fatal is None:
            self._report("off (switched off)")
        self._supervisor = threading.Thread(target=self._run, name="lalelu-sound-supervisor", daemon=True)
        self._supervisor.start()

    # -- the hot path ---------------------------------------------------------------------------------
    def play(self, hit: Hit) -> int:
        """NoteSink: hand the hit to the audio output's thread; time.monotonic_ns() after, or 0 when dropped."""
        q = self._queue
        if q is None:
            if self._on:
                self.dropped += 1
            return 0
        q.put_nowait(hit)
        self.handed += 1
        return time.monotonic_ns()

    def sounded(self) -> list[tuple[Hit, int]]:
        """The hits whose sound went out since the last call, each with the time it did (monotonic ns).
        Only the JACK output measures this; FluidSynth's own drivers report nothing."""
        out = []
        stamps = self._sounded
        while stamps:
            out.append(stamps.popleft())
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
        if on == self._on:
            return
        self._on = on
        if not on:
            self._queue = None
        self._wake.set()

    def set_volume(self, volume: float) -> None:
        check_volume(volume)
        self._volume = volume
        self._gain = volume * MAX_GAIN
        output = self._output
        if output is not None:
            output.gain = self._gain

    # -- state ----------------------------------------------------------------------------------------
    @property
    def status(self) -> str:
        return self._status

    @property
    def connected(self) -> bool:
        return self._queue is not None

    @property
    def output(self):
        """The open output (JackOutput or NativeOutput), or None."""
        return self._output

    def messages(self) -> list[Message]:
        out = []
        while self._events:
            out.append(self._events.popleft())
        return out

    def close(self) -> None:
        if self._closing.is_set():
            return
        self._closing.set()
        self._wake.set()
        self._supervisor.join()
        self._queue = None
        output, self._output = self._output, None
        if output is not None:
            output.close()
        for synth in self._synths.values():
            synth.delete()
        self._synths.clear()
        self._report("closed", level=None)

    def __enter__(self) -> "SoundOut":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- background -----------------------------------------------------------------------------------
    def _report(self, status: str, level=info) -> None:
        self._status = status
        if level is not None:
            self._events.append(level(f"sound: {status}"))

    def _find_soundfont(self, given) -> Path | None:
        from lalelu.sound.fluid import libraries
        from lalelu.sound.soundfont import find_soundfont

        try:
            libraries()
            return find_soundfont(str(given) if given else None)
        except LaleluError as exc:
            self._fatal = str(exc)
            self._report(f"off: {exc}; playing MIDI only", level=warning)
            return None

    def _synth_for(self, rate: int):
        from lalelu.sound.fluid import Synth

        synth = self._synths.get(rate)
        if synth is None:
            synth = self._synths[rate] = Synth(self.soundfont, rate, gain=self._gain)
        return synth

    def _open(self) -> None:
        from lalelu.sound.jack_out import CLIENT_NAME, JackOutput
        from lalelu.sound.native_out import NativeOutput

        choice = choose_driver(self.driver)
        if choice.driver is None:
            self._waiting(choice.reason)
            return
        hits: queue.SimpleQueue = queue.SimpleQueue()
        try:
            if choice.driver == "jack":
                output = JackOutput(self._synth_for, hits, self._sounded, self.gate_ms,
                                    self.client_name or CLIENT_NAME)
            else:
                output = NativeOutput(choice.driver, self._synth_for, hits, self.gate_ms)
        except (OSError, LaleluError) as exc:
            self._waiting(f"{choice.reason}: {exc}")
            return
        output.gain = self._gain
        self._output = output
        self._lost = None
        self._queue = hits if self._on else None
        missed, self._dropped_mark = self.dropped - self._dropped_mark, self.dropped
        dropped = f" ({missed} hit{'s' if missed != 1 else ''} not sounded meanwhile)" if missed else ""
        self._report(f"playing through {output.description}{dropped}")

    def _waiting(self, reason: str) -> None:
        lost = f"{self._lost}; " if self._lost else ""
        status = f"{lost}waiting for an audio output ({reason}); playing MIDI only, the sound comes back when it does"
        if status != self._status:
            self._report(status, level=warning)

    def _drop_output(self, output, reason: str | None) -> None:
        self._queue = None
        self._output = None
        left = output._hits.qsize() if hasattr(output, "_hits") else 0
        self.dropped += left
        try:
            output.close()
        except Exception as exc:   # closing must not stop the supervisor
            reason = f"{reason or 'switched off'} (closing it: {exc})"
        if output.abandoned:   # a dead server's thread may still hold its synth: never delete it, make another
            self._synths = {rate: s for rate, s in self._synths.items() if s is not output.synth}
        if reason is None:
            self._report("off (switched off)")
        else:
            self._lost = reason
            self._report(f"{reason}; playing MIDI only, the sound comes back when it does", level=warning)

    def _run(self) -> None:
        while not self._closing.is_set():
            try:
                self._supervise_once()
            except Exception as exc:   # keep watching: without this thread the sound never comes back
                self._report(f"supervisor error (retrying): {exc!r}", level=warning)
            self._wake.wait(WATCH_S if self._output is not None else RETRY_S)
            self._wake.clear()

    def _supervise_once(self) -> None:
        output = self._output
        if not self._on:
            if output is not None:
                self._drop_output(output, None)
            return
        if output is not None:
            problem = output.problem()
            if problem is not None:
                self._drop_output(output, problem)
            elif time.monotonic() >= self._next_latency:
                self._next_latency = time.monotonic() + LATENCY_EVERY_S
                output.refresh_latency()
        if self._output is None and self._fatal is None and not self._closing.is_set():
            self._open()


def check_volume(volume: float) -> None:
    if not (0.0 <= volume <= 1.0):   # also refuses nan
        raise ValueError(f"volume must be between 0 and 1, not {volume}")
