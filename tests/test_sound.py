"""The built-in drum sound on a real JACK server (dummy driver): FluidSynth with Debian's soundfont, rendered in
lalelu's own JACK client, recorded by another JACK client as a DAW would, beside a real MIDI port."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from lalelu.core.hits import Hit
from lalelu.engine import Engine, EngineConfig
from lalelu.errors import LaleluError
from lalelu.gestures.kit import load_kit
from lalelu.jack import JackServer, default_server
from lalelu.midi import MidiOut
from lalelu.report import format_report, latency_stats
from lalelu.sound import SoundOut
from lalelu.sound.jack_out import _jack_functions   # the recorder's cycle times, as the sound's own
from lalelu.sound.outputs import choose_driver, jack_is_dummy
from lalelu.sound.soundfont import DEBIAN_SOUNDFONTS, find_soundfont, soundfont_problem
from lalelu.sources.script import DrumScript
from lalelu.sources.synthetic import SyntheticDrummer, TruePose
from lalelu.trace import read_trace

REPO = Path(__file__).resolve().parents[1]
KICK, HIHAT = 36, 42           # a low and a bright drum: each recorded onset tells which one it was
SPACING_S = 0.7                # TimGM6mb's kick and closed hi-hat fade below -60 dB within 0.62 s
SLACK_NS = 1_000_000           # thread wake-ups on a shared 2-core machine
ONSET_LEVEL = 1e-3             # a recorded sample above this (-60 dBFS) after SILENCE_S of quiet is an onset
SILENCE_S = 0.1


def hit(note: int, velocity: int = 100, channel: int = 9) -> Hit:
    return Hit(drum="kick" if note == KICK else "hihat", note=note, velocity=velocity, channel=channel,
               t_ns=time.monotonic_ns(), limb="right_hand")


class Recorder:
    """A JACK client that records the sound's left output, each period with the time its cycle began (on
    time.monotonic_ns()'s clock, the way the sound stamps its own periods)."""

    def __init__(self, source_port: str = "lalelu synth:out_L") -> None:
        import jack

        self.client = jack.Client("lalelu test recorder", no_start_server=True)
        self.port = self.client.inports.register("in")
        self.rate, self.period = self.client.samplerate, self.client.blocksize
        self.period_ns = self.period * 1_000_000_000 // self.rate
        self.blocks: list[tuple[int, np.ndarray]] = []
        lib = _jack_functions()
        ptr = int(jack._ffi.cast("uintptr_t", self.client._ptr))
        from ctypes import c_float, c_uint32, c_uint64

        cells = (c_uint32(), c_uint64(), c_uint64(), c_float())

        def process(frames: int) -> None:
            lib.jack_get_cycle_times(ptr, *cells)
            now = time.monotonic_ns()
            start = cells[1].value * 1000 + now - lib.jack_get_time() * 1000
            self.blocks.append((max(start, now - self.period_ns), self.port.get_array().copy()))

        self.client.set_process_callback(process)
        self.client.activate()
        self.client.connect(source_port, self.port)

    def close(self) -> None:
        self.client.deactivate()
        self.client.close()

    def onsets(self) -> list[tuple[int, float, float]]:
        """(time ns, spectral centroid Hz, peak) of each sound that starts after SILENCE_S of quiet."""
        starts = np.array([t for t, _ in self.blocks], np.int64)
        audio = np.concatenate([b for _, b in self.blocks])
        loud = np.flatnonzero(np.abs(audio) > ONSET_LEVEL)
        quiet = int(SILENCE_S * self.rate)
        out = []
        previous = -quiet - 1
        for i in loud:
            if i - previous > quiet:
                block, offset = divmod(int(i), self.period)
                piece = audio[i:i + self.rate // 10]
                spectrum = np.abs(np.fft.rfft(piece)) ** 2
                freqs = np.fft.rfftfreq(len(piece), 1 / self.rate)
                centroid = float((spectrum * freqs).sum() / spectrum.sum())
                out.append((int(starts[block]) + offset * 1_000_000_000 // self.rate, centroid,
                            float(np.abs(piece).max())))
            previous = i
        return out


@pytest.fixture
def sound(jack_server: JackServer):
    out = SoundOut(driver="jack")
    try:
        assert out.connected, out.status
        yield out
    finally:
        out.close()


def test_the_recorded_sound_has_one_onset_per_hit_in_order_within_two_periods_of_its_midi_send(
        jack_server: JackServer, sound: SoundOut) -> None:
    midi = MidiOut(backend="jack", port="lalelu drums")
    recorder = Recorder()
    late_before = (sound.output_info or {}).get("late_cycles", 0)
    try:
        assert midi.wait_connected(5.0), midi.status
        time.sleep(0.3)   # the recording starts in silence
        notes = [KICK, HIHAT, KICK, KICK, HIHAT, HIHAT, KICK, HIHAT]
        sent, handed = [], []
        for note in notes:
            h = hit(note)
            sent.append(midi.play(h))
            handed.append((h, sound.play(h)))
            time.sleep(SPACING_S)
    finally:
        recorder.close()
        midi.close()
    assert all(sent) and all(t for _, t in handed)
    onsets = recorder.onsets()
    assert len(onsets) == len(notes), f"{len(notes)} hits, {len(onsets)} onsets recorded"
    period_ns = recorder.period_ns
    # Within two periods of its send, where JACK ran the sound's cycles on time; a busy machine (the suite
    # beside a CPU hog) makes JACK run a cycle late, and what that costs is the benchmark's to measure: then
    # only the order and "never before its send" are judged.
    on_time = (sound.output_info or {}).get("late_cycles", 0) == late_before
    for note, t_sent, (t_onset, centroid, _) in zip(notes, sent, onsets):
        # The order: kick and hi-hat are told apart by their brightness.
        assert (centroid < 1000) == (note == KICK), f"note {note} recorded with a centroid of {centroid:.0f} Hz"
        assert t_onset >= t_sent - period_ns - SLACK_NS, f"note {note}: its sound began before its MIDI send"
        if on_time:
            assert abs(t_onset - t_sent) <= 2 * period_ns + SLACK_NS, (
                f"note {note}: its sound began {(t_onset - t_sent) / 1e6:.2f} ms after its MIDI send")
    # Each hit's stamp is its recorded onset plus JACK's playback latency (the onset is recorded in the
    # graph; the stamp says when it leaves the sound card).
    stamps = dict((id(h), t) for h, t in sound.sounded())
    latency_ns = int(sound.output_info["playback_latency_ms"] * 1e6)
    assert latency_ns > 0, "connected to the dummy driver's playback ports, JACK reports a playback latency"
    for (h, _), (t_onset, _, _) in zip(handed, onsets):
        error = stamps[id(h)] - latency_ns - t_onset
        assert -period_ns - 2 * SLACK_NS <= error <= period_ns + 2 * SLACK_NS, f"stamp off its onset by {error / 1e6:.2f} ms"


def test_volume_and_switch(jack_server: JackServer, sound: SoundOut) -> None:
    recorder = Recorder()
    try:
        time.sleep(0.3)
        for volume in (1.0, 0.25, 0.0):
            sound.set_volume(volume)
            time.sleep(0.3)
            for _ in range(2):   # FluidSynth's first note after a lower gain still rises above it: judge the second
                sound.play(hit(KICK))
                time.sleep(SPACING_S)
        sound.set_on(False)
        deadline = time.monotonic() + 5
        while "switched off" not in sound.status and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not sound.connected and "switched off" in sound.status and sound.output_info is None
        dropped = sound.dropped
        assert sound.play(hit(KICK)) == 0 and sound.dropped == dropped, "a hit while switched off is not a drop"
        peaks = [peak for _, _, peak in recorder.onsets()]
    finally:
        recorder.close()
    # at volume 0 only the first note's start is heard (FluidSynth's quirk above), the second not at all
    assert len(peaks) == 5 and peaks[4] < peaks[3] / 2, f"volume 0 is silent: {peaks}"
    assert 3.0 < peaks[1] / peaks[3] < 5.0, f"a quarter of the volume, a quarter of the level: {peaks}"
    sound.set_on(True)
    deadline = time.monotonic() + 5
    while not sound.connected and time.monotonic() < deadline:
        time.sleep(0.02)
    assert sound.connected and "playing through JACK" in sound.status
    with pytest.raises(ValueError):
        sound.set_volume(float("nan"))
    with pytest.raises(ValueError):
        sound.set_volume(-0.1)


def test_the_hand_over_does_not_wait_for_a_frozen_audio_server(jack_server: JackServer, sound: SoundOut) -> None:
    """The server stopped (SIGSTOP): JACK's thread runs no cycle, the synth takes nothing; play() still returns."""
    os.kill(jack_server.pid, signal.SIGSTOP)
    try:
        results = []
        player = threading.Thread(target=lambda: results.extend(sound.play(hit(KICK)) for _ in range(500)))
        player.start()
        player.join(10.0)
        assert not player.is_alive(), "play() waited on the audio server"
        assert len(results) == 500 and all(results)
    finally:
        os.kill(jack_server.pid, signal.SIGCONT)


def test_the_audio_server_going_away_is_said_play_goes_on_and_the_sound_comes_back(jack_server: JackServer) -> None:
    sound = SoundOut(driver="jack")
    try:
        assert sound.connected, sound.status
        sound.messages()
        jack_server.kill()   # as a crash would
        deadline = time.monotonic() + 5
        while sound.connected and time.monotonic() < deadline:
            time.sleep(0.02)
        said = " ".join(map(str, sound.messages()))
        assert not sound.connected and "gone" in said and "MIDI only" in said, said
        assert sound.play(hit(KICK)) == 0 and sound.dropped >= 1
        jack_server.start()
        deadline = time.monotonic() + 10
        while not sound.connected and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sound.connected, sound.status
        assert "playing through JACK" in " ".join(map(str, sound.messages()))
        sound.sounded()
        assert sound.play(hit(HIHAT))
        deadline = time.monotonic() + 5
        back = []
        while not back and time.monotonic() < deadline:
            time.sleep(0.02)
            back = sound.sounded()
        assert len(back) == 1, "the sound plays again once the server is back"
    finally:
        sound.close()
        if not jack_server.running:
            jack_server.start()


def test_a_missing_soundfont_is_said_and_play_goes_on_with_midi(jack_server: JackServer, tmp_path: Path) -> None:
    missing = tmp_path / "nothing.sf2"
    sound = SoundOut(soundfont=missing, driver="jack")
    try:
        assert not sound.connected and sound.play(hit(KICK)) == 0
        said = " ".join(map(str, sound.messages()))
        assert "does not exist" in said and "MIDI only" in said, said
    finally:
        sound.close()
    # In the engine: MIDI plays, the sound says why it does not.
    kit = load_kit()
    drummer = SyntheticDrummer(DrumScript(duration=None, kit=kit), kit=kit, fps=50.0, loop=True)
    engine = Engine(EngineConfig(source="synthetic", fps=50.0, midi_backend="jack", sound=True,
                                 soundfont=str(missing)), source=drummer, estimator=TruePose(drummer))
    engine.start()
    try:
        assert engine.midi.wait_connected(5.0)
        time.sleep(2.5)
        assert engine.running and engine.hits_sent > 0
        said = " ".join(map(str, engine.messages()))
        assert "sound: off" in said and "does not exist" in said, said
        assert "does not exist" in engine.stats().sound
    finally:
        engine.stop()


def test_the_engine_traces_each_hits_sound_out_time_and_the_report_shows_it(jack_server: JackServer,
                                                                           tmp_path: Path) -> None:
    kit = load_kit()
    drummer = SyntheticDrummer(DrumScript(duration=None, kit=kit), kit=kit, fps=50.0, loop=True)
    trace = tmp_path / "sound.jsonl"
    engine = Engine(EngineConfig(source="synthetic", fps=50.0, midi_backend="jack", sound=True, audio_driver="jack",
                                 record=str(trace)), source=drummer, estimator=TruePose(drummer))
    engine.start()
    try:
        time.sleep(4.0)
    finally:
        engine.stop()
    seq, records = engine.ring.read_since(0)
    by_index = {r.index: r for r in records}
    stamps = [s for r in records for s in r.sounds]
    sent = [(r.index, k) for r in records for k in range(len(r.hits))]
    assert len(stamps) > 10
    assert {(s.index, s.hit) for s in stamps} <= set(sent)
    assert len(sent) - len(stamps) <= 2, "every hit sounded (but those at the very end)"
    for s in stamps:
        frame = by_index[s.index]
        assert s.t_capture == frame.t_capture
        # it sounded after its frame was sent, and its stamp rode on a later frame's record
        assert s.t_sound > frame.t_sent
        assert any(s in r.sounds for r in records if r.index > s.index)
    assert engine.stats().sounded >= len(stamps)
    header, read = read_trace(trace)
    assert [s for r in read for s in r.sounds] == [s for r in records if r.index >= read[0].index for s in r.sounds]
    stats = latency_stats(read)
    assert stats["sound"]["n"] == len([s for r in read for s in r.sounds]) > 0
    assert stats["sound"]["p50"] > stats["stages"]["e2e"]["p50"]
    assert "frame ready -> sound out" in format_report(stats, header)


def test_old_traces_without_sound_still_read(tmp_path: Path) -> None:
    trace = tmp_path / "old.jsonl"
    trace.write_text('{"lalelu_trace": 1, "source": "synthetic"}\n'
                     '{"i":0,"cap":100,"inf0":200,"inf1":300,"det":400,"sent":500,"drop":false}\n')
    header, records = read_trace(trace)
    assert records[0].sounds == []
    stats = latency_stats(records)
    assert stats["sound"]["n"] == 0 and "not in this trace" in format_report(stats, header)
    trace.write_text('{"lalelu_trace": 1}\n{"i":0,"cap":100,"sent":500,"snd":[[0, 1]]}\n{"i":1,"cap":1}\n')
    with pytest.raises(LaleluError, match=r"old\.jsonl:2: not a trace record \(a sound stamp"):
        read_trace(trace)


def test_soundfonts_are_checked_before_fluidsynth_sees_them(tmp_path: Path, monkeypatch) -> None:
    empty = tmp_path / "empty.sf2"
    empty.write_bytes(b"")
    noise = tmp_path / "noise.sf2"
    noise.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    assert "does not exist" in soundfont_problem(tmp_path / "none.sf2")
    assert "folder" in soundfont_problem(tmp_path)
    assert "not a SoundFont 2 file" in soundfont_problem(empty)
    assert "not a SoundFont 2 file" in soundfont_problem(noise)
    assert soundfont_problem(DEBIAN_SOUNDFONTS[0]) is None, "bootstrap installs timgm6mb-soundfont"
    assert find_soundfont() == DEBIAN_SOUNDFONTS[0]
    monkeypatch.setenv("LALELU_SOUNDFONT", str(noise))
    with pytest.raises(LaleluError, match=r"\$LALELU_SOUNDFONT: .*not a SoundFont 2 file"):
        find_soundfont()
    with pytest.raises(LaleluError, match="--soundfont: .*folder"):
        find_soundfont(str(tmp_path))


def test_the_output_is_chosen_by_what_the_machine_has(jack_server: JackServer) -> None:
    assert jack_is_dummy(), "the test server runs the dummy driver"
    choice = choose_driver("auto")
    if choice.driver == "jack":   # nothing audible here (no PulseAudio, no ALSA device): the set-up's own server
        assert "dummy" in choice.reason
    with default_server("lalelu-no-such-server"):
        assert choose_driver("jack").driver is None
        assert "no JACK server" in choose_driver("jack").reason
    with pytest.raises(ValueError, match="unknown audio driver"):
        choose_driver("oss")


@pytest.mark.parametrize("args, error", [
    (("--volume", "nan"), "--volume nan: give a percentage"),
    (("--volume", "-1"), "--volume -1: give a percentage"),
    (("--volume", "101"), "--volume 101: give a percentage"),
    (("--soundfont", "/"), "--soundfont: / is a folder"),
    (("--soundfont", "/etc/hostname"), "not a SoundFont 2 file"),
    (("--osc", "localhost"), "give HOST:PORT"),
    (("--osc", "127.0.0.1:0"), "the port must be 1-65535"),
    (("--osc", "127.0.0.1:nan"), "is not a number"),
    (("--osc", ":9000"), "give HOST:PORT"),
])
def test_bad_sound_and_osc_options_are_refused_with_a_clear_message(args, error) -> None:
    done = subprocess.run([sys.executable, "-m", "lalelu", "run", "--headless", "--duration", "1", *args],
                          cwd=REPO, env=dict(os.environ, PYTHONPATH=str(REPO)), capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2 and done.stderr.startswith("lalelu: ") and error in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def _gone(pid: int, timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().split(")")[-1].split()[0] == "Z":   # a zombie has ended; its parent reaps it
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.05)
    return False


def test_the_sound_process_never_outlives_its_engine_and_comes_back_when_it_dies(jack_server: JackServer) -> None:
    # Killed with its engine (kill -9 of the engine's process: nothing else gets to clean up).
    engine = subprocess.Popen([sys.executable, "-c", "import time; from lalelu.sound import SoundOut; "
                               "s = SoundOut(driver='jack'); print(s.pid, s.connected, flush=True); time.sleep(60)"],
                              cwd=REPO, env=dict(os.environ, PYTHONPATH=str(REPO)), stdout=subprocess.PIPE, text=True)
    try:
        pid, connected = engine.stdout.readline().split()
        assert connected == "True"
    finally:
        engine.kill()
        engine.wait()
    assert _gone(int(pid)), "the sound process outlived the engine that started it"
    # Dying by itself: said, and started again.
    sound = SoundOut(driver="jack")
    try:
        first = sound.pid
        os.kill(first, signal.SIGKILL)
        deadline = time.monotonic() + 20
        while (sound.pid == first or not sound.connected) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sound.pid != first and sound.connected, sound.status
        assert "the sound process ended" in " ".join(map(str, sound.messages()))
        sound.sounded()
        assert sound.play(hit(KICK))
        deadline = time.monotonic() + 5
        while not sound.sounded() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert time.monotonic() < deadline, "it plays again"
    finally:
        sound.close()
    assert _gone(first) and (sound.pid is None)


class PulseServer:
    """A real PulseAudio daemon with a null sink, on a socket of the test's own (no D-Bus, no sound card)."""

    def __init__(self, folder: Path) -> None:
        self.socket = folder / "native"
        self.command = ["pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--use-pid-file=no",
                        "--disallow-exit", "--system=no", "-L", "module-null-sink sink_name=lalelu_test",
                        "-L", f"module-native-protocol-unix socket={self.socket} auth-anonymous=1"]
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(self.command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        start_new_session=True)
        deadline = time.monotonic() + 10
        while not self.socket.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert self.socket.exists(), "PulseAudio did not start"

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()
        self.socket.unlink(missing_ok=True)


def test_pulseaudio_plays_and_comes_back(tmp_path: Path, monkeypatch) -> None:
    """FluidSynth's own PulseAudio driver (what PipeWire desktops answer too): the hits reach the server (its
    null sink's monitor is recorded), the server going away is said, and the sound comes back with it."""
    import shutil

    if not (shutil.which("pulseaudio") and shutil.which("parec")):
        pytest.skip("PulseAudio is not installed (apt-get install pulseaudio pulseaudio-utils); the JACK tests "
                    "cover everything else")
    server = PulseServer(tmp_path)
    server.start()
    monkeypatch.setenv("PULSE_SERVER", f"unix:{server.socket}")
    sound = None
    try:
        sound = SoundOut(driver="pulseaudio")
        assert sound.connected and "pulseaudio" in sound.status, sound.status
        streams = subprocess.run(["pactl", "list", "short", "sink-inputs"], capture_output=True, text=True).stdout
        assert streams.strip(), "lalelu's sound is a playback stream of the server"
        recorder = subprocess.Popen(["parec", "-d", "lalelu_test.monitor", "--format=s16le", "--rate=48000",
                                     "--channels=1"], stdout=subprocess.PIPE)
        chunks: list[bytes] = []
        reader = threading.Thread(target=lambda: chunks.extend(iter(lambda: recorder.stdout.read1(4096), b"")))
        reader.start()
        time.sleep(0.5)
        for note in (KICK, HIHAT, KICK):
            assert sound.play(hit(note))
            time.sleep(0.8)
        assert sound.sounded() == [], "PulseAudio does not say when a sample is heard: no stamps"
        recorder.send_signal(signal.SIGINT)   # parec writes out what it holds, then ends
        recorder.wait(5)
        reader.join(5)
        audio = np.frombuffer(b"".join(chunks), np.int16).astype(np.float64) / 32768
        # The null sink's monitor delivers less than real time on this busy machine (1.2 s of 2.9 s): the
        # drums are heard in it, their count is not judged here (the JACK test does, sample-exact).
        assert np.abs(audio).max() > 0.05, "the hits reach the server's sink"
        sound.messages()
        server.kill()
        deadline = time.monotonic() + 5
        while sound.connected and time.monotonic() < deadline:
            time.sleep(0.05)
        said = " ".join(map(str, sound.messages()))
        assert not sound.connected and "PulseAudio/PipeWire server is gone" in said and "MIDI only" in said, said
        server.start()
        deadline = time.monotonic() + 10
        while not sound.connected and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sound.connected, sound.status
    finally:
        if sound is not None:
            sound.close()
        if server.process.poll() is None:
            server.kill()


def test_bench_pipeline_json_gains_the_sounds_latency(jack_server: JackServer) -> None:
    import json

    done = subprocess.run([sys.executable, "-m", "lalelu", "bench", "pipeline", "--seconds", "3", "--fps", "50",
                           "--json", "--osc", "127.0.0.1:9"], cwd=REPO, env=dict(os.environ, PYTHONPATH=str(REPO)),
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(result["sound_ms"]) >= {"p50", "p99"} and result["hits_sounded"] > 0
    assert 0 < result["sound_ms"]["p50"] <= result["sound_ms"]["p99"]
    assert result["sound_output"]["driver"] == "jack" and result["sound_output"]["period"] == 64
    assert result["sink_cost_ms"]["p50"] is not None


def test_a_bad_audio_driver_in_the_environment_is_refused() -> None:
    done = subprocess.run([sys.executable, "-m", "lalelu", "run", "--headless", "--duration", "1"], cwd=REPO,
                          env=dict(os.environ, PYTHONPATH=str(REPO), LALELU_AUDIO_DRIVER="oss"), capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2 and "audio driver 'oss'" in done.stderr and "Traceback" not in done.stderr, done.stderr
