"""MIDI out against a real JACK server (dummy driver): notes, note-offs, ports, errors, and a server that dies.

A receiving client opened with mido on JACK listens to lalelu's port. libjack keeps one idea per process
of whether "the" server runs, and frees every client of this process when a client is opened after a
server died; so a test closes its receivers before it kills a server.
"""

from __future__ import annotations

import threading
import time

import mido
import pytest
import rtmidi

from lalelu.jack import JackServer, ensure_jack_server, jack_running, alsa_sequencer_available
from lalelu.midi import (
    MidiEvent,
    MidiOut,
    find_port,
    list_all_ports,
    list_ports,
    resolve_backends,
)
from lalelu.cli import build_parser
from tests.conftest import TEST_PERIOD


class Receiver:
    """A JACK MIDI input (python-rtmidi, decoded with mido): connected to an existing port (source) or a
    virtual port of its own. (mido names its local port after the source, and JACK then fails to connect
    "client:a:b" names, so rtmidi is used directly.)"""

    def __init__(self, source: str | None = None, virtual_name: str | None = None, client: str = "test-recv") -> None:
        self.messages: list[tuple[int, mido.Message]] = []
        self._arrived = threading.Condition()
        self.port = rtmidi.MidiIn(rtmidi.API_UNIX_JACK, client)
        if virtual_name is not None:
            self.port.open_virtual_port(virtual_name)
        else:
            names = self.port.get_ports()
            assert source in names, f"{source!r} not among the JACK MIDI outputs {names}"
            self.port.open_port(names.index(source), "in")
        self.port.set_callback(self._on_message)
        time.sleep(0.2)  # JACK applies a new connection from a later process cycle (about ten of them)

    def _on_message(self, event: tuple[list[int], float], data: object) -> None:
        with self._arrived:
            self.messages.append((time.monotonic_ns(), mido.Message.from_bytes(event[0])))
            self._arrived.notify_all()

    def wait_for(self, count: int, timeout_s: float = 20.0) -> list[tuple[int, mido.Message]]:
        with self._arrived:
            self._arrived.wait_for(lambda: len(self.messages) >= count, timeout_s)
            return list(self.messages)

    def close(self) -> None:
        self.port.close_port()
        self.port.delete()


GATE_MS = 100


def wait_until(condition, timeout_s: float = 20.0) -> bool:
    """Waits for something that must happen: the timeout is a deadline for a hang, not a speed check."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


@pytest.fixture
def drums(jack_server: JackServer, request: pytest.FixtureRequest):
    """A MidiOut with a virtual port on the test server and a receiver connected to it."""
    client = f"lalelu-{request.node.name[:20]}"
    out = MidiOut(backend="jack", gate_ms=GATE_MS, client_name=client)
    receiver = Receiver(source=f"{client}:lalelu drums")
    yield out, receiver
    receiver.close()
    out.close()


def test_jack_server_accepts_clients_and_knows_its_period(jack_server: JackServer) -> None:
    assert jack_running(jack_server.name)
    assert jack_server.period_s == pytest.approx(TEST_PERIOD / 48000)
    with pytest.raises(OSError, match="already running"):
        JackServer(name=jack_server.name).start()


def test_jackd_that_fails_to_start_reports_its_output(jack_server: JackServer) -> None:
    server = JackServer(name=f"{jack_server.name}-bad", rate=-5, timeout_s=3)
    try:
        with pytest.raises(OSError, match="jackd exited") as failure:
            server.start()
    finally:
        server.stop()
    assert "-r -5" in str(failure.value)  # the command line
    assert "jackdmp" in str(failure.value)  # and what jackd said


def test_notes_arrive_with_note_velocity_channel_and_a_note_off_after_the_gate(drums) -> None:
    out, receiver = drums
    assert out.connected and out.status.startswith("connected: virtual port 'lalelu drums' (jack)")
    sent_ns = out.note_on(36, 100)
    assert sent_ns > 0
    (on_ns, on), (off_ns, off) = receiver.wait_for(2)[:2]
    assert (on.type, on.note, on.velocity, on.channel) == ("note_on", 36, 100, 9)
    assert (off.type, off.note, off.channel) == ("note_off", 36, 9)
    gate_ms = (off_ns - on_ns) / 1e6
    print(f"\nsend -> arrival {(on_ns - sent_ns) / 1e6:.2f} ms, gate {gate_ms:.1f} ms (asked for {GATE_MS} ms)")
    # never early: the note-off arrives after it was sent, which is a gate after the note-on was (a busy
    # machine only makes it later; how much later is not this test's business)
    assert off_ns >= sent_ns + GATE_MS * 1_000_000

    out.note_on(60, 64, channel=0)
    on = receiver.wait_for(3)[2][1]
    assert (on.type, on.note, on.velocity, on.channel) == ("note_on", 60, 64, 0)
    assert out.sent == 2 and out.dropped == 0
    with pytest.raises(ValueError, match="channel 0..15"):
        out.note_on(36, 100, channel=16)  # would be a different MIDI message, not a drum hit


def test_note_on_returns_at_once_and_a_struck_again_note_gets_one_note_off(jack_server: JackServer) -> None:
    """Four limbs at once, 50 times, every note struck again within its gate (a gate of a minute): note_on
    never waits for the gate (else this would take 50 minutes), and each drum gets one note-off, after its
    last hit, when the port closes. Each round is sent once the last has arrived, so JACK is never asked to
    carry more than it can in one period (about 20 events; rtmidi drops the rest), however busy the machine.
    How long note_on takes is printed (a figure, not asserted)."""
    client = "lalelu-burst"
    kit = (36, 38, 42, 44)
    with MidiOut(backend="jack", gate_ms=60_000, client_name=client) as out:
        receiver = Receiver(source=f"{client}:lalelu drums")
        durations = []
        for i in range(50):
            for note in kit:
                start = time.monotonic_ns()
                assert out.note_on(note, 1 + i) > 0
                durations.append(time.monotonic_ns() - start)
            assert len(receiver.wait_for(4 * (i + 1), timeout_s=30.0)) == 4 * (i + 1), f"round {i} did not arrive"
        durations.sort()
        print(f"\nnote_on: median {durations[100] / 1e3:.1f} us, max {durations[-1] / 1e3:.1f} us")
    messages = receiver.wait_for(204, timeout_s=30.0)      # closing sent the pending note-offs
    receiver.close()
    ons = [message for _, message in messages if message.type == "note_on"]
    offs = [message for _, message in messages if message.type == "note_off"]
    assert len(ons) == 200 and [message.velocity for message in ons[-4:]] == [50] * 4
    assert len(offs) == 4 and sorted(message.note for message in offs) == list(kit), [(m.type, m.note, m.velocity) for _, m in messages][-12:]
    assert [message.type for _, message in messages[-4:]] == ["note_off"] * 4, "each after its drum's last hit"


def test_list_ports_shows_the_virtual_port_and_says_why_a_backend_is_missing(drums) -> None:
    out, _ = drums
    ports = list_ports("jack")
    assert f"{out.client_name}:lalelu drums" in ports.inputs
    assert any(name.startswith("test-recv:") for name in ports.outputs)  # the receiver's input port
    everything = list_all_ports()
    assert set(everything) == {"alsa", "jack"}
    if not alsa_sequencer_available():
        assert isinstance(everything["alsa"], OSError) and "/dev/snd/seq" in str(everything["alsa"])


def test_lalelu_ports_command_lists_jack_ports(drums, capsys: pytest.CaptureFixture[str]) -> None:
    out, _ = drums
    args = build_parser().parse_args(["ports"])
    assert args.func(args) == 0
    printed = capsys.readouterr().out
    assert f"{out.client_name}:lalelu drums" in printed and "jack (server" in printed


def test_existing_port_missing_then_appearing_then_vanishing(jack_server: JackServer) -> None:
    with pytest.raises(OSError, match=r"no MIDI output port named 'lalelu-synth-x'.*lalelu ports"):
        MidiOut(port="lalelu-synth-x", backend="jack", virtual=False, strict=True)

    events: list[MidiEvent] = []
    with MidiOut(port="lalelu-synth-x", backend="jack", virtual=False, gate_ms=20, on_event=events.append) as out:
        assert not out.connected
        assert out.status.startswith("waiting for MIDI port 'lalelu-synth-x'")
        assert out.note_on(40, 90) == 0 and out.dropped == 1

        synth = Receiver(virtual_name="lalelu-synth-x", client="test-synth")  # the port appears
        assert out.wait_connected(3.0), out.status
        assert "(1 note dropped while disconnected)" in out.status
        assert out.note_on(40, 90) > 0
        on = synth.wait_for(1)[0][1]
        assert (on.note, on.velocity, on.channel) == (40, 90, 9)

        synth.close()  # the port vanishes, the server stays
        assert wait_until(lambda: not out.connected), out.status
        assert "'test-synth:lalelu-synth-x' (jack) is gone" in out.error.args[0]
        assert out.note_on(40, 90) == 0
        # failed attempts to reopen it add their reason but keep how it was lost
        assert not out.wait_connected(0.5)
        assert wait_until(lambda: "reopening it: cannot open" in out.error.args[0]), out.error
        assert "'test-synth:lalelu-synth-x' (jack) is gone" in out.error.args[0]

        synth = Receiver(virtual_name="lalelu-synth-x", client="test-synth")  # and comes back
        assert out.wait_connected(3.0), out.status
        out.note_on(41, 91)
        assert synth.wait_for(1)[0][1].note == 41
        synth.close()
    assert [event.connected for event in events][:2] == [False, True]


def test_killing_the_jack_server_mid_play_then_restarting_it(jack_server: JackServer) -> None:
    client = "lalelu-kill"
    events: list[MidiEvent] = []
    out = MidiOut(backend="jack", gate_ms=20, client_name=client, on_event=events.append)
    try:
        receiver = Receiver(source=f"{client}:lalelu drums")
        assert out.note_on(36, 100) > 0
        assert receiver.wait_for(1)[0][1].note == 36
        receiver.close()  # before the kill: see the module doc

        jack_server.kill()
        # Until the supervisor notices (<= WATCH_S), sends still "succeed" into the dead client.
        assert wait_until(lambda: not out.connected), out.status
        for note in range(40, 50):
            assert out.note_on(note, 100) == 0  # dropped, no exception
        assert out.dropped >= 10
        gone = [event for event in events if not event.connected]
        assert gone and "JACK server" in gone[0].message and "is gone" in gone[0].message
        assert "jackd -d dummy" in out.status
        print(f"\nevents after the kill: {[event.message for event in gone]}")
    finally:
        if not jack_running(jack_server.name):
            jack_server.start()
    try:
        assert out.wait_connected(3.0), out.status
        assert events[-1].connected and "notes dropped while disconnected" in events[-1].message
        receiver = Receiver(source=f"{client}:lalelu drums")
        assert out.note_on(42, 80) > 0
        (_, on), (_, off) = receiver.wait_for(2)[:2]
        assert (on.type, on.note, on.velocity, off.type) == ("note_on", 42, 80, "note_off")
        receiver.close()
    finally:
        out.close()
    assert out.status == "closed"


def test_no_jack_server_is_a_clear_message_not_an_exception(jack_server: JackServer, monkeypatch) -> None:
    monkeypatch.setenv("JACK_DEFAULT_SERVER", f"{jack_server.name}-absent")
    with pytest.raises(OSError, match=r"no MIDI backend: no JACK server running .*jackd -d dummy"):
        MidiOut(backend="jack", strict=True)
    with MidiOut(backend="jack") as out:
        assert not out.connected and "no JACK server running" in out.status
        assert out.note_on(36, 100) == 0 and out.dropped == 1
    with pytest.raises(OSError, match="no JACK server running"):
        list_ports("jack")
    if not alsa_sequencer_available():
        with MidiOut() as out:  # backend "auto": ALSA, then JACK
            assert out.status.startswith(
                "waiting for MIDI port 'lalelu drums': no MIDI backend: no ALSA sequencer (/dev/snd/seq) "
                "and no JACK server running"
            )


def test_ensure_jack_server_starts_one_only_when_no_backend_works(jack_server: JackServer, monkeypatch) -> None:
    assert ensure_jack_server(notify=pytest.fail) is None  # the test server is there
    monkeypatch.setenv("JACK_DEFAULT_SERVER", f"{jack_server.name}-ensured")
    said: list[str] = []
    server = ensure_jack_server(notify=said.append)
    try:
        if alsa_sequencer_available():
            assert server is None
        else:
            assert server is not None and jack_running(server.name)
            assert "started JACK server" in said[0]
    finally:
        if server is not None:
            server.stop()


def test_backend_names_and_port_matching(monkeypatch) -> None:
    assert resolve_backends("auto") == ("alsa", "jack")
    monkeypatch.setenv("LALELU_MIDI_BACKEND", "jack")
    assert resolve_backends("auto") == ("jack",)
    assert resolve_backends("alsa") == ("alsa",)
    with pytest.raises(ValueError, match="choose auto, alsa or jack"):
        resolve_backends("coreaudio")
    names = ["Midi Through:Midi Through Port-0 14:0", "Hydrogen:Hydrogen Midi-In 129:0", "synth:in"]
    assert find_port(names, "synth:in") == 2
    assert find_port(names, "Hydrogen:Hydrogen Midi-In") == 1
    assert find_port(names, "hydrogen") == 1
    assert find_port(names, ":") is None  # ambiguous
