"""The synthesiser played through a JACK client of lalelu's own, which renders it in its process callback.

Rendering in our own callback (instead of letting FluidSynth drive JACK) is what lets each hit be stamped with
the time its sound goes out: the callback applies the hits handed over since the last cycle, renders the
period, and knows where that period sits on the clock (jack_get_cycle_times). A note-on starts its voice at the
first sample of the period it was applied in (FluidSynth starts voices on its 64-sample block boundaries; the
drum samples' own first audible sample follows within 2-25 samples), and that sample reaches the sound card
JACK's playback latency later (the latency range of our output port, which JACK computes from the connected
playback ports: one period for its asynchronous mode plus the card's buffer). So

    sound out = start of the cycle the hit was rendered in + the output port's playback latency

(A callback that runs more than a period after its cycle began, which on a sound card is an xrun and on a busy
machine under the dummy driver is the graph falling behind, counts its cycle as begun one period before it ran.)

JACK's clock is CLOCK_MONOTONIC_RAW in jackd2 (another clock elsewhere), so each stamp is moved onto
time.monotonic_ns() by the two clocks' offset read at that moment.

The callback is Python: it takes the GIL once a period (about 10-40 us of work at a period of 64). That is why
it runs in a process of its own (lalelu.sound.server), not the engine's: there, python-rtmidi opens and closes
JACK clients while holding the GIL (the MIDI port's reconnection), and jack_client_open waits for the server,
which waits for this callback, which waits for the GIL: a deadlock (seen, with faulthandler's stacks, when the
MIDI port was missing). The hits come from the engine through shared memory (lalelu.sound.ring), read at the
start of each cycle. When the server dies, libjack must not be asked to close the client (see lalelu.midi):
it is abandoned.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import time
from ctypes import POINTER, Structure, c_float, c_int, c_uint32, c_uint64, c_void_p

from lalelu.jack import default_server_name, server_identity
from lalelu.sound.fluid import Synth

CLIENT_NAME = "lalelu synth"
_PLAYBACK_LATENCY = 1      # JackPlaybackLatency
LATENCY_WAIT_S = 0.5       # how long opening waits for JACK to work out the playback latency
_abandoned: list[object] = []


class _Range(Structure):
    _fields_ = [("min", c_uint32), ("max", c_uint32)]


_libjack: ctypes.PyDLL | None = None


def _jack_functions() -> ctypes.PyDLL:
    """The few libjack functions JACK-Client does not wrap, through the same library (PyDLL: the process
    callback keeps the GIL while calling them)."""
    global _libjack
    if _libjack is None:
        lib = ctypes.PyDLL(ctypes.util.find_library("jack") or "libjack.so.0")   # the one JACK-Client opened
        lib.jack_get_cycle_times.argtypes = [c_void_p, POINTER(c_uint32), POINTER(c_uint64), POINTER(c_uint64),
                                             POINTER(c_float)]
        lib.jack_get_cycle_times.restype = c_int
        lib.jack_get_time.argtypes = []
        lib.jack_get_time.restype = c_uint64
        lib.jack_port_get_latency_range.argtypes = [c_void_p, c_int, POINTER(_Range)]
        lib.jack_port_get_latency_range.restype = None
        _libjack = lib
    return _libjack


def _address(cdata) -> int:
    import jack

    return int(jack._ffi.cast("uintptr_t", cdata))


def abandon(client: object) -> None:
    """Keep a client of a dead JACK server alive forever: closing it, or letting JACK-Client's __del__ close
    it, can crash libjack (see lalelu.midi)."""
    _abandoned.append(client)
    ctypes.pythonapi.Py_IncRef(ctypes.py_object(client))


class JackOutput:
    """An active JACK client named `client_name` with ports out_L/out_R connected to the first two physical
    playback ports, rendering `synth_for(rate)` in its process callback.

    Hits come from `rings` (lalelu.sound.ring.SharedRings: take_hits()); each rendered hit's sound-out time
    goes back through it (put_stamp). `gain` is read each cycle. Opening raises OSError when there is no
    server."""

    kind = "jack"

    def __init__(self, synth_for, rings, gate_ms: float = 50.0, client_name: str = CLIENT_NAME) -> None:
        import jack

        self.server = default_server_name()
        self.server_id = server_identity(self.server)
        if self.server_id is None:
            raise OSError(f"no JACK server running (server {self.server!r})")
        try:
            self.client = jack.Client(client_name, no_start_server=True)
        except jack.JackError as exc:
            raise OSError(f"cannot open a JACK client on server {self.server!r}: {exc}") from exc
        self._lib = _jack_functions()
        self._rings = rings
        self.rate = self.client.samplerate
        self.period = self.client.blocksize
        self._period_ns = self.period * 1_000_000_000 // self.rate
        self.gain = 0.5
        self._gain_applied = -1.0
        self._gate_frames = int(gate_ms * self.rate / 1000)
        self._offs: list[tuple[int, int, int]] = []   # (due frame, channel, note) of notes off drum channels
        self.latency_frames = 0
        self.xruns = 0
        self.late_cycles = 0     # stamped cycles whose callback ran more than a period after the cycle began
        self.cycles = 0
        self.rendered = 0
        self.failure: str | None = None
        self.shut_down: str | None = None
        self._closed = False
        self.abandoned = False   # closed with its server dead: the client (and the synth it rendered) are kept
        try:
            self.synth: Synth = synth_for(self.rate)
            self._left = self.client.outports.register("out_L")
            self._right = self.client.outports.register("out_R")
            self._client_ptr = _address(self.client._ptr)
            self._port_ptrs = (self._left._ptr, self._right._ptr)
            self._frames, self._usecs = c_uint32(), c_uint64()
            self._next, self._period_us = c_uint64(), c_float()
            self._get_buffer = jack._lib.jack_port_get_buffer
            self._cast = jack._ffi.cast
            self.client.set_process_callback(self._process)
            self.client.set_shutdown_callback(self._on_shutdown)
            self.client.set_xrun_callback(self._on_xrun)
            self.client.activate()
            self.playback_ports = [p.name for p in
                                   self.client.get_ports(is_physical=True, is_input=True, is_audio=True)[:2]]
            for ours, theirs in zip((self._left, self._right), self.playback_ports * 2):
                self.client.connect(ours, theirs)
            # JACK works the new connections' latency out in a moment: stamp with it from the first hit on
            deadline = time.monotonic() + LATENCY_WAIT_S
            self.refresh_latency()
            while self.playback_ports and not self.latency_frames and time.monotonic() < deadline:
                time.sleep(0.005)
                self.refresh_latency()
        except BaseException:
            self.close()
            raise

    @property
    def description(self) -> str:
        where = " and ".join(self.playback_ports) if self.playback_ports else "no playback port"
        return (f"JACK server {self.server!r} ({self.rate} Hz, period {self.period}, playback latency "
                f"{self.latency_frames / self.rate * 1000:.2f} ms) into {where}")

    # -- JACK's threads -----------------------------------------------------------------------------
    def _process(self, frames: int) -> None:
        try:
            synth = self.synth
            if self.gain != self._gain_applied:
                self._gain_applied = self.gain
                synth.set_gain_now(self.gain)
            hits = self._rings.take_hits()
            if hits:
                self._lib.jack_get_cycle_times(self._client_ptr, self._frames, self._usecs, self._next,
                                               self._period_us)
                for _, channel, note, velocity in hits:
                    synth.note_on_now(channel, note, 1 if velocity < 1 else 127 if velocity > 127 else velocity)
                    if channel != 9:   # General MIDI drums are one-shots; other channels get a note-off
                        self._offs.append((self._frames.value + self._gate_frames, channel, note))
            if self._offs:
                self._due_note_offs()
            cast = self._cast
            left = int(cast("uintptr_t", self._get_buffer(self._port_ptrs[0], frames)))
            right = int(cast("uintptr_t", self._get_buffer(self._port_ptrs[1], frames)))
            synth.render(frames, left, right)
            self.cycles += 1
            if hits:
                # JACK's clock -> time.monotonic_ns(): their offset now (the two reads are a microsecond apart)
                now = time.monotonic_ns()
                start = self._usecs.value * 1000 + now - self._lib.jack_get_time() * 1000
                if now - start > self._period_ns:
                    # The graph ran late (an xrun on a sound card; a busy machine under the dummy driver):
                    # this period cannot go out earlier than if its cycle had begun one period ago.
                    self.late_cycles += 1
                    start = now - self._period_ns
                t_out = start + self.latency_frames * 1_000_000_000 // self.rate
                for seq, _, _, _ in hits:
                    self._rings.put_stamp(seq, t_out)
                self.rendered += len(hits)
        except Exception as exc:   # reported by the supervisor; JACK stops calling a callback that raised
            self.failure = f"the sound's JACK callback failed: {exc!r}"
            raise

    def _due_note_offs(self) -> None:
        self._lib.jack_get_cycle_times(self._client_ptr, self._frames, self._usecs, self._next, self._period_us)
        now = self._frames.value
        keep = []
        for due, channel, note in self._offs:
            if due - now <= 0:
                self.synth.note_off_now(channel, note)
            else:
                keep.append((due, channel, note))
        self._offs = keep

    def _on_shutdown(self, status, reason: str) -> None:
        self.shut_down = reason or "shut down"

    def _on_xrun(self, delayed_usecs: float) -> None:
        self.xruns += 1

    # -- the supervisor's --------------------------------------------------------------------------
    def refresh_latency(self) -> None:
        """JACK's playback latency of our ports (frames), recomputed when connections change."""
        worst = 0
        for port in (self._left, self._right):
            latency = _Range()
            self._lib.jack_port_get_latency_range(_address(port._ptr), _PLAYBACK_LATENCY, ctypes.byref(latency))
            worst = max(worst, latency.max)
        self.latency_frames = worst

    def problem(self) -> str | None:
        """Why this output no longer plays, or None."""
        now = server_identity(self.server)
        if now is None:
            return f"the JACK server {self.server!r} is gone"
        if now != self.server_id:
            return f"the JACK server {self.server!r} was restarted"
        if self.shut_down:
            return f"JACK shut the sound's client down: {self.shut_down}"
        return self.failure

    def close(self) -> None:
        """Deactivate and close the client; a client whose server died is abandoned instead (never closed)."""
        if self._closed:
            return
        self._closed = True
        if server_identity(self.server) != self.server_id or self.shut_down:
            abandon(self.client)
            self.abandoned = True
            return
        try:
            self.client.deactivate()
        finally:
            self.client.close()
