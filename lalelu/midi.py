"""MIDI out for the drums: one port on ALSA or JACK, note-ons from the hot path, the rest in the background.

The hot path only calls `MidiOut.note_on`, which sends and returns: no sleeping, no logging, no waiting on
anything slower than the send itself. Note-offs are sent by a small thread after the gate time, and a
supervisor thread watches the port, reports state changes as `MidiEvent`s and reopens the port when it
(or the JACK server) comes back. Notes played while there is no port are dropped and counted.

What JACK does when its server dies (python-rtmidi 1.5.8, jackd2 1.9.21): sends keep "succeeding" into the
dead client (rtmidi only fills its ring buffer), so the supervisor probes the server's socket every WATCH_S;
notes sent in that gap are lost uncounted. libjack keeps one process-wide "server running" flag: the next
client opened after a server died frees every JACK client of the process, and closing one of those
afterwards crashes (segfault). So a client whose server died is abandoned, never closed, and python-rtmidi
is driven directly (mido's rtmidi backend wraps the same objects) to control that. A JACK MIDI port also
carries only about 20 events per 64-frame period; rtmidi drops the rest, far above what four limbs play.
"""

from __future__ import annotations

import ctypes
import heapq
import queue
import re
import threading
import time
from dataclasses import dataclass
from typing import Callable, NamedTuple

import rtmidi

from lalelu import config
from lalelu.core.hits import Hit
from lalelu.core.messages import Message, info
from lalelu.jack import INSTALL_HINT, alsa_sequencer_available, default_server_name, jack_running, server_identity

DEFAULT_PORT = str(config.DEFAULTS["midi_port"])
DEFAULT_CHANNEL = 9  # General MIDI drums: channel 10, 0-based
DEFAULT_GATE_MS = 50.0
CLIENT_NAME = "lalelu"
BACKENDS = ("alsa", "jack")
BACKEND_ENV = "LALELU_MIDI_BACKEND"  # overrides backend="auto", like MIDO_BACKEND does for mido (lalelu.config)
RETRY_S = 0.5  # how often a missing port is retried
WATCH_S = 0.1  # how often a working port is checked (a dead JACK server swallows notes until then)
# rtmidi's JACK port, closed while messages wait in its ring buffer for the next JACK cycle, sends each of them
# as a copy of the first (four note-offs became four note-offs of one drum: the others hung). Closing waits
# this long after the last send, for a few JACK cycles to carry them out.
DRAIN_S = 0.1

_API = {"alsa": rtmidi.API_LINUX_ALSA, "jack": rtmidi.API_UNIX_JACK}
_NOTE_ON = 0x90
_NOTE_OFF = 0x80
_STOP = None  # note-off queue sentinel
_ALSA_ADDRESS = re.compile(r"\s+\d+:\d+$")  # rtmidi appends "client:port" numbers to ALSA names
_NO_SERVER_HINT = f"start one with `jackd -d dummy -r 48000 -p 64` ({INSTALL_HINT})"


class PortList(NamedTuple):
    """Port names of one backend: `outputs` are ports lalelu can send to, `inputs` ports it could read."""

    outputs: list[str]
    inputs: list[str]


@dataclass(frozen=True)
class MidiEvent:
    """A change of the MIDI port's state, for the UI or the CLI to show (never printed by the hot path)."""

    t_ns: int
    connected: bool
    message: str


def resolve_backends(backend: str = "auto") -> tuple[str, ...]:
    """The backends to try, in order: "auto" means $LALELU_MIDI_BACKEND if set, else ALSA then JACK."""
    choice = backend
    if choice == "auto":
        choice = config.env(BACKEND_ENV) or "auto"
    if choice == "auto":
        return BACKENDS
    if choice not in BACKENDS:
        raise ValueError(f"unknown MIDI backend {choice!r}: choose auto, alsa or jack")
    return (choice,)


def backend_problem(backend: str) -> str | None:
    """Why `backend` cannot be used right now, or None when it can. Opens nothing (so prints nothing)."""
    if _API[backend] not in rtmidi.get_compiled_api():
        return f"this python-rtmidi was built without {backend.upper()} support"
    if backend == "alsa" and not alsa_sequencer_available():
        return "no ALSA sequencer (/dev/snd/seq)"
    if backend == "jack" and not jack_running():
        return f"no JACK server running (server {default_server_name()!r})"
    return None


def no_backend_message(backends: tuple[str, ...] = BACKENDS) -> str:
    reasons = " and ".join(backend_problem(name) or f"{name} unusable" for name in backends)
    hint = _NO_SERVER_HINT if "jack" in backends else "load the ALSA sequencer (`modprobe snd-seq`)"
    return f"no MIDI backend: {reasons}; {hint}"


def _client(kind: type, backend: str, name: str):
    """A new rtmidi client (rtmidi.MidiOut or MidiIn) on `backend`; OSError when it cannot be opened."""
    try:
        return kind(_API[backend], name)
    except rtmidi.RtMidiError as error:
        raise OSError(f"{backend}: cannot open a MIDI client: {error}") from error


def list_ports(backend: str) -> PortList:
    """Port names on one backend ("alsa" or "jack"); OSError saying why when the backend is unusable."""
    problem = backend_problem(backend)
    if problem is not None:
        raise OSError(f"{backend}: {problem}" + (f"; {_NO_SERVER_HINT}" if backend == "jack" else ""))
    out = _client(rtmidi.MidiOut, backend, f"{CLIENT_NAME} ports")
    try:
        inp = _client(rtmidi.MidiIn, backend, f"{CLIENT_NAME} ports")
        try:
            return PortList(outputs=out.get_ports(), inputs=inp.get_ports())
        finally:
            inp.delete()
    finally:
        out.delete()


def list_all_ports(backend: str = "auto") -> dict[str, PortList | OSError]:
    """For each backend (all of them for "auto"): its ports, or the OSError saying why it is unusable."""
    result: dict[str, PortList | OSError] = {}
    for name in BACKENDS if backend == "auto" else resolve_backends(backend):
        try:
            result[name] = list_ports(name)
        except OSError as error:
            result[name] = error
    return result


def find_port(names: list[str], wanted: str) -> int | None:
    """Index of the port called `wanted`: exact name, else the ALSA name without its numbers, else the
    only name containing it (case-insensitive)."""
    if wanted in names:
        return names.index(wanted)
    bare = [_ALSA_ADDRESS.sub("", name) for name in names]
    if wanted in bare:
        return bare.index(wanted)
    containing = [i for i, name in enumerate(names) if wanted.lower() in name.lower()]
    return containing[0] if len(containing) == 1 else None


_abandoned: list[object] = []


def _abandon(client: object) -> None:
    """Keep a client of a dead JACK server alive forever: freeing it can crash libjack (see the module doc).
    The extra reference also keeps interpreter shutdown from freeing it."""
    _abandoned.append(client)
    ctypes.pythonapi.Py_IncRef(ctypes.py_object(client))


class _Connection:
    """One open port: the rtmidi client, where it is connected, and how to tell that it is gone."""

    def __init__(self, backend: str, port: str, virtual: bool, client_name: str, serial: int) -> None:
        self.backend = backend
        self.serial = serial
        self.target: str | None = None
        self.probe: rtmidi.MidiOut | None = None
        # The JACK server this client belongs to; a different identity later means it died (and maybe restarted).
        self.server = default_server_name() if backend == "jack" else None
        self.server_id = server_identity(self.server) if backend == "jack" else None
        self.out = _client(rtmidi.MidiOut, backend, client_name)
        try:
            if virtual:
                self.out.open_virtual_port(port)
                self.description = f"virtual port {port!r} ({backend})"
            else:
                names = self.out.get_ports()
                index = find_port(names, port)
                if index is None:
                    there = ", ".join(repr(name) for name in names) or "none"
                    raise OSError(
                        f"no MIDI output port named {port!r} on {backend} (ports there: {there}); "
                        "run `lalelu ports` to list them, or leave the port name out to get a virtual "
                        f"port {DEFAULT_PORT!r}"
                    )
                self.target = names[index]
                self.out.open_port(index, f"{CLIENT_NAME} out")
                self.description = f"port {self.target!r} ({backend})"
                if backend == "alsa":
                    # ALSA handles are not thread-safe: watch the target with a client of its own.
                    self.probe = _client(rtmidi.MidiOut, backend, f"{client_name} probe")
        except BaseException:
            self.out.delete()
            raise

    def problem(self) -> str | None:
        """Why this connection no longer works, or None. Called from the supervisor thread only."""
        if self.backend == "jack":
            now = server_identity(self.server)
            if now is None:
                return f"the JACK server {self.server!r} is gone; {_NO_SERVER_HINT}"
            if now != self.server_id:
                return f"the JACK server {self.server!r} was restarted"
        if self.target is not None:
            lister = self.probe or self.out
            if self.target not in lister.get_ports():
                return f"MIDI port {self.target!r} ({self.backend}) is gone"
        return None

    def release(self) -> None:
        """Close the port; a client of a dead JACK server is abandoned instead (closing it may crash)."""
        if self.backend == "jack" and server_identity(self.server) != self.server_id:
            _abandon(self.out)
        else:
            self.out.close_port()
            self.out.delete()
        if self.probe is not None:
            self.probe.delete()


class MidiOut:
    """The first NoteSink: a MIDI output for drum hits that survives its port, or the JACK server, coming and going.

    port: name of the virtual port to create (virtual=True) or of an existing port to send to.
    backend: "auto" (ALSA, else JACK), "alsa" or "jack". gate_ms: time from note-on to note-off.
    Connection problems never raise (unless strict=True, for the first attempt): `status` says what is
    going on, `events` (a queue of MidiEvent) and `on_event` (called from a background thread) report
    each change, and the port is reopened every RETRY_S seconds until it works.
    """

    def __init__(
        self,
        port: str = DEFAULT_PORT,
        backend: str = "auto",
        virtual: bool = True,
        gate_ms: float = DEFAULT_GATE_MS,
        client_name: str = CLIENT_NAME,
        on_event: Callable[[MidiEvent], None] | None = None,
        strict: bool = False,
    ) -> None:
        if gate_ms < 0:
            raise ValueError(f"gate_ms must be >= 0, not {gate_ms}")
        self.port = port
        self.backends = resolve_backends(backend)
        self.virtual = virtual
        self.gate_ns = int(gate_ms * 1e6)
        self.client_name = client_name
        self.on_event = on_event
        self.events: queue.SimpleQueue[MidiEvent] = queue.SimpleQueue()
        self.sent = 0  # note-ons sent
        self.dropped = 0  # note-ons dropped because there was no working port
        self._dropped_mark = 0  # `dropped` when the port last (re)opened
        self._status = "not connected"
        self._error: OSError | None = None
        self._lost: str | None = None  # why the port was lost, kept through the failed attempts to reopen it
        self._conn: _Connection | None = None
        self._serial = 0
        self._send_lock = threading.Lock()  # held only around one rtmidi send (rtmidi ports are not thread-safe)
        self._latest: dict[int, int] = {}  # (channel << 7 | note) -> serial of its latest note-on
        self._hits = 0
        self._offs: queue.SimpleQueue = queue.SimpleQueue()  # (due_ns, key, hit serial, connection serial)
        self._send_failure: str | None = None
        self._wake = threading.Event()
        self._closing = threading.Event()
        self._last_send_ns = 0  # when the last message was handed to rtmidi (close waits for it to leave)

        self._connect()
        if strict and self._conn is None:
            raise self._error or OSError(self._status)
        self._off_thread = threading.Thread(target=self._run_note_offs, name="lalelu-midi-note-off", daemon=True)
        self._supervisor = threading.Thread(target=self._run_supervisor, name="lalelu-midi-supervisor", daemon=True)
        self._off_thread.start()
        self._supervisor.start()

    name = "MIDI"

    # -- the hot path ---------------------------------------------------------------------------------

    def play(self, hit: Hit) -> int:
        """NoteSink: the hit as a note-on on its channel (see note_on)."""
        return self.note_on(hit.note, hit.velocity, channel=hit.channel)

    def note_on(self, note: int, velocity: int, channel: int = DEFAULT_CHANNEL) -> int:
        """Send a note-on now and schedule its note-off. Returns time.monotonic_ns() after the send, or 0
        when the note was dropped (no working port). Never blocks, never raises for port problems."""
        if not (0 <= note <= 127 and 0 <= channel <= 15):
            raise ValueError(f"MIDI note must be 0..127 and channel 0..15, not note={note} channel={channel}")
        velocity = 1 if velocity < 1 else 127 if velocity > 127 else velocity
        with self._send_lock:
            conn = self._conn
            if conn is None:
                self.dropped += 1
                return 0
            try:
                conn.out.send_message([_NOTE_ON | channel, note, velocity])
            except Exception as error:  # a broken port: the supervisor takes it from here
                self._send_failure = f"sending to {conn.description} failed: {error}"
                self.dropped += 1
                self._wake.set()
                return 0
        sent_ns = time.monotonic_ns()
        self._last_send_ns = sent_ns
        self.sent += 1
        key = channel << 7 | note
        self._hits += 1
        self._latest[key] = self._hits
        self._offs.put((sent_ns + self.gate_ns, key, self._hits, conn.serial))
        return sent_ns

    # -- state for the app ----------------------------------------------------------------------------

    @property
    def status(self) -> str:
        return self._status

    @property
    def connected(self) -> bool:
        return self._conn is not None

    @property
    def error(self) -> OSError | None:
        """Why there is no working port (None while connected): how it was lost, then why reopening it
        fails; or why it could not be opened at all."""
        return self._error

    def poll_events(self) -> list[MidiEvent]:
        """State changes since the last call, oldest first (never blocks)."""
        events = []
        while True:
            try:
                events.append(self.events.get_nowait())
            except queue.Empty:
                return events

    def messages(self) -> list[Message]:
        """NoteSink: the state changes since the last call, as messages for the player."""
        return [info(f"MIDI: {event.message}") for event in self.poll_events()]

    def wait_connected(self, timeout_s: float) -> bool:
        """Wait (not on the hot path!) until the port works again; True when it does."""
        deadline = time.monotonic() + timeout_s
        next_try = 0.0
        while self._conn is None and time.monotonic() < deadline and not self._closing.is_set():
            if time.monotonic() >= next_try:  # retry sooner than every RETRY_S, but do not hammer the server
                self._wake.set()
                next_try = time.monotonic() + WATCH_S
            time.sleep(0.01)
        return self._conn is not None

    def close(self) -> None:
        """Send the pending note-offs, close the port and stop the threads."""
        if self._closing.is_set():
            return
        self._closing.set()
        self._wake.set()
        self._offs.put(_STOP)
        self._off_thread.join()
        self._supervisor.join()
        with self._send_lock:
            conn, self._conn = self._conn, None
        if conn is not None:
            if conn.backend == "jack":   # let the last messages (the pending note-offs) leave first
                time.sleep(max(0.0, DRAIN_S - (time.monotonic_ns() - self._last_send_ns) / 1e9))
            conn.release()
        self._report(False, "closed")

    def __enter__(self) -> "MidiOut":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"MidiOut(port={self.port!r}, backends={self.backends}, virtual={self.virtual}, status={self._status!r})"

    # -- background work ------------------------------------------------------------------------------

    def _report(self, connected: bool, message: str) -> None:
        self._status = message
        event = MidiEvent(time.monotonic_ns(), connected, message)
        self.events.put(event)
        if self.on_event is not None:
            try:
                self.on_event(event)
            except Exception:  # a faulty listener must not stop the supervisor
                pass

    def _connect(self) -> None:
        """Try each backend in turn; report the first success, or the failure when it is news."""
        problems = []
        unusable = 0
        for backend in self.backends:
            problem = backend_problem(backend)
            if problem is not None:
                problems.append(problem)
                unusable += 1
                continue
            self._serial += 1
            try:
                conn = _Connection(backend, self.port, self.virtual, self.client_name, self._serial)
            except OSError as error:
                problems.append(str(error))
                continue
            self._error = self._lost = None
            with self._send_lock:
                self._conn = conn
            missed, self._dropped_mark = self.dropped - self._dropped_mark, self.dropped
            dropped = f" ({missed} note{'s' if missed != 1 else ''} dropped while disconnected)" if missed else ""
            self._report(True, f"connected: {conn.description}{dropped}")
            return
        if unusable == len(self.backends):
            reason = no_backend_message(self.backends)
        else:
            reason = "; ".join(problems)
        cannot_open = f"cannot open MIDI port {self.port!r}: {reason}"
        self._error = OSError(f"{self._lost}; reopening it: {cannot_open}" if self._lost else cannot_open)
        message = f"waiting for MIDI port {self.port!r}: {reason}"
        if message != self._status:
            self._report(False, message)

    def _disconnect(self, conn: _Connection, reason: str) -> None:
        self._lost = reason
        self._error = OSError(reason)
        with self._send_lock:
            if self._conn is conn:
                self._conn = None
        conn.release()
        self._report(False, f"disconnected: {reason}; notes are dropped until it is back (retrying every {RETRY_S} s)")

    def _run_supervisor(self) -> None:
        while not self._closing.is_set():
            try:
                self._supervise_once()
            except Exception as error:  # keep watching: without this thread the port never comes back
                self._report(self._conn is not None, f"MIDI supervisor error (retrying): {error!r}")
            self._wake.wait(WATCH_S if self._conn is not None else RETRY_S)
            self._wake.clear()

    def _supervise_once(self) -> None:
        conn = self._conn
        if conn is not None:
            failure, self._send_failure = self._send_failure, None
            try:
                problem = conn.problem() or failure
            except Exception as error:
                problem = f"{conn.description} failed: {error}"
            if problem is not None:
                self._disconnect(conn, problem)
        if self._conn is None and not self._closing.is_set():
            self._connect()

    def _run_note_offs(self) -> None:
        pending: list[tuple[int, int, int, int]] = []
        while True:
            timeout = None
            if pending:
                timeout = max(0.0, (pending[0][0] - time.monotonic_ns()) / 1e9)
            try:
                item = self._offs.get(timeout=timeout)
            except queue.Empty:
                item = ()
            if item is _STOP:
                for _, key, hit, serial in sorted(pending):
                    self._note_off(key, hit, serial)
                return
            if item:
                heapq.heappush(pending, item)
            now = time.monotonic_ns()
            while pending and pending[0][0] <= now:
                _, key, hit, serial = heapq.heappop(pending)
                self._note_off(key, hit, serial)

    def _note_off(self, key: int, hit: int, serial: int) -> None:
        if self._latest.get(key) != hit:
            return  # the note was struck again: the newer hit's note-off ends it
        with self._send_lock:
            conn = self._conn
            if conn is None or conn.serial != serial:
                return  # its port is gone; a note-off on a new port would end nothing
            try:
                conn.out.send_message([_NOTE_OFF | key >> 7, key & 0x7F, 0])
                self._last_send_ns = time.monotonic_ns()
            except Exception as error:
                self._send_failure = f"sending to {conn.description} failed: {error}"
                self._wake.set()
