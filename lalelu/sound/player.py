"""SoundPlayer: the synthesiser and its audio output, run inside the sound process (lalelu.sound.server).

A supervisor thread chooses the output (lalelu.sound.outputs), opens it, watches it, and when its audio server
goes away says so and opens it again once the server is back; while there is no output, the hits that come are
counted as dropped. A missing soundfont or FluidSynth library is said once and the player stays silent.
Everything it has to say goes to `report(level, text)` (level: "info", "warning" or None for a quiet status).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Callable

from lalelu.errors import LaleluError
from lalelu.sound.outputs import DRIVERS, choose_driver

DEFAULT_VOLUME = 0.8
MAX_GAIN = 1.0          # FluidSynth's gain at volume 1: TimGM6mb's loudest drum peaks near -8 dBFS
RETRY_S = 0.5           # how often a missing audio output is looked for
WATCH_S = 0.1           # how often a working one is checked
LATENCY_EVERY_S = 1.0   # how often JACK's playback latency of our ports is read again
MIDI_ONLY = "playing MIDI only, the sound comes back when it does"


def check_volume(volume: float) -> None:
    if not (0.0 <= volume <= 1.0):   # also refuses nan
        raise ValueError(f"volume must be between 0 and 1, not {volume}")


class SoundPlayer:
    """The drum sound, fed by `rings` (lalelu.sound.ring.SharedRings). soundfont: a .sf2 path (None: Debian's,
    see lalelu.sound.soundfont). driver: "auto" or one of DRIVERS. volume: 0..1. on: play at once (False:
    silent, no audio client open)."""

    def __init__(self, rings, report: Callable[[str | None, str], None], soundfont: str | Path | None = None,
                 driver: str = "auto", volume: float = DEFAULT_VOLUME, on: bool = True, gate_ms: float = 50.0,
                 client_name: str | None = None) -> None:
        if driver != "auto" and driver not in DRIVERS:
            raise ValueError(f"unknown audio driver {driver!r}: choose auto, {', '.join(DRIVERS)}")
        check_volume(volume)
        self.rings = rings
        self._say = report
        self.driver = driver
        self.gate_ms = gate_ms
        self.client_name = client_name
        self.dropped = 0         # hits not played: no output at the time
        self._on = on
        self._gain = volume * MAX_GAIN
        self._output = None
        self._synths: dict[int, object] = {}             # by sample rate
        self.status = "starting"
        self.fatal: str | None = None
        self._lost: str | None = None
        self._dropped_mark = 0
        self._next_latency = 0.0
        self._next_try = 0.0
        self._wake = threading.Event()
        self._closing = threading.Event()
        self.soundfont = self._find_soundfont(soundfont)
        if self._on and self.fatal is None:
            self._open()
        elif self.fatal is None:
            self._report("off (switched off)")
        self._supervisor = threading.Thread(target=self._run, name="lalelu-sound-supervisor", daemon=True)
        self._supervisor.start()

    # -- controls -----------------------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        return self._output is not None

    @property
    def output(self):
        """The open output (JackOutput or NativeOutput), or None."""
        return self._output

    def set_on(self, on: bool) -> None:
        self._on = on
        self._wake.set()

    def set_volume(self, volume: float) -> None:
        check_volume(volume)
        self._gain = volume * MAX_GAIN
        output = self._output
        if output is not None:
            output.gain = self._gain

    def close(self) -> None:
        if self._closing.is_set():
            return
        self._closing.set()
        self._wake.set()
        self._supervisor.join()
        output, self._output = self._output, None
        if output is not None:
            output.close()
        for synth in self._synths.values():
            synth.delete()
        self._synths.clear()
        self.status = "closed"

    # -- background -----------------------------------------------------------------------------------
    def _report(self, status: str, level: str | None = "info") -> None:
        self.status = status
        self._say(level, status)

    def _find_soundfont(self, given) -> Path | None:
        from lalelu.sound.fluid import libraries
        from lalelu.sound.soundfont import find_soundfont

        try:
            libraries()
            return find_soundfont(str(given) if given else None)
        except LaleluError as exc:
            self.fatal = str(exc)
            self._report(f"off: {exc}; playing MIDI only", level="warning")
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
        self._drain()   # what came while there was no output is not played late
        try:
            if choice.driver == "jack":
                output = JackOutput(self._synth_for, self.rings, self.gate_ms, self.client_name or CLIENT_NAME)
            else:
                output = NativeOutput(choice.driver, self._synth_for, self.rings, self.gate_ms)
        except (OSError, LaleluError) as exc:
            self._waiting(f"{choice.reason}: {exc}")
            return
        except ImportError as exc:   # JACK-Client missing (pip): nothing to wait for
            self.fatal = f"cannot play through {choice.driver}: {exc}; install lalelu's Python packages again"
            self._report(f"off: {self.fatal}; playing MIDI only", level="warning")
            return
        output.gain = self._gain
        self._output = output
        self._lost = None
        missed, self._dropped_mark = self.dropped - self._dropped_mark, self.dropped
        dropped = f" ({missed} hit{'s' if missed != 1 else ''} not sounded meanwhile)" if missed else ""
        self._report(f"playing through {output.description}{dropped}")

    def _drain(self) -> None:
        self.dropped += len(self.rings.take_hits())

    def _waiting(self, reason: str) -> None:
        lost = f"{self._lost}; " if self._lost else ""
        status = f"{lost}waiting for an audio output ({reason}); {MIDI_ONLY}"
        if status != self.status:
            self._report(status, level="warning")

    def _drop_output(self, output, reason: str | None) -> None:
        self._output = None
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
            self._report(f"{reason}; {MIDI_ONLY}", level="warning")

    def _run(self) -> None:
        while not self._closing.is_set():
            try:
                self._supervise_once()
            except Exception as exc:   # keep watching: without this thread the sound never comes back
                text = f"supervisor error (retrying): {exc!r}"
                if text != self.status:
                    self._report(text, level="warning")
            self._wake.wait(WATCH_S if self._output is not None else min(RETRY_S, WATCH_S))
            self._wake.clear()

    def _supervise_once(self) -> None:
        output = self._output
        if not self._on:
            if output is not None:
                self._drop_output(output, None)
            self.rings.take_hits()   # switched off: nothing is sent, nothing is counted
            return
        if output is not None:
            problem = output.problem()
            if problem is not None:
                self._drop_output(output, problem)
            elif time.monotonic() >= self._next_latency:
                self._next_latency = time.monotonic() + LATENCY_EVERY_S
                output.refresh_latency()
        if self._output is None and not self._closing.is_set():
            self._drain()
            if self.fatal is None and time.monotonic() >= self._next_try:
                self._next_try = time.monotonic() + RETRY_S
                self._open()
