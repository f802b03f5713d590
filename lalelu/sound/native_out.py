"""The synthesiser played by FluidSynth's own audio driver (PulseAudio, which PipeWire also answers, or ALSA).

FluidSynth renders in a thread of its own (C, no GIL). A small feeder thread (in the sound process) takes the
engine's hits from shared memory every FEED_S and calls FluidSynth's thread-safe note-on, which may wait on the
lock the driver's thread holds while it renders: the feeder waits, never the engine. These drivers do not say
when a rendered sample reaches the speaker, so hits played this way are not stamped (the JACK output measures
that).
"""

from __future__ import annotations

import os
import threading
import time

from lalelu.sound.fluid import Synth, last_log, libraries
from lalelu.sound.outputs import alsa_playback_devices, pulse_socket

PERIOD_FRAMES = 64   # FluidSynth's period; PulseAudio is asked for about PERIODS of them in its buffer
PERIODS = 4
RATE = 48000
FEED_S = 0.001


class NativeOutput:
    """FluidSynth's `driver` ("pulseaudio" or "alsa") playing `synth_for(RATE)`; OSError when it cannot open."""

    def __init__(self, driver: str, synth_for, rings, gate_ms: float = 50.0) -> None:
        self.kind = driver
        self.rate = RATE
        self.period = PERIOD_FRAMES
        self.latency_frames = 0
        self.xruns = 0
        self.abandoned = False
        self._rings = rings
        self._gate_s = gate_ms / 1000
        self._closing = threading.Event()
        self.synth: Synth = synth_for(RATE)
        self.synth.setting("audio.driver", driver)
        self.synth.setting("audio.period-size", PERIOD_FRAMES)
        self.synth.setting("audio.periods", PERIODS)
        if driver == "pulseaudio":
            self._where = pulse_socket() or os.environ.get("PULSE_SERVER", "") or "default server"
        else:
            self._where = (alsa_playback_devices() or ["default"])[0]
        fluidsynth, _, _ = libraries()
        self._driver = fluidsynth.new_fluid_audio_driver(self.synth.settings, self.synth.handle)
        if not self._driver:
            raise OSError(f"FluidSynth could not open its {driver} driver: {last_log() or 'no reason given'}")
        self.gain = 0.5
        self._gain_applied = -1.0
        self._feeder = threading.Thread(target=self._feed, name="lalelu-sound-feeder", daemon=True)
        self._feeder.start()

    @property
    def description(self) -> str:
        return f"FluidSynth's {self.kind} driver ({self._where}, {self.rate} Hz)"

    def _feed(self) -> None:
        offs: list[tuple[float, int, int]] = []
        while not self._closing.wait(FEED_S):
            if self.gain != self._gain_applied:
                self._gain_applied = self.gain
                self.synth.set_gain(self.gain)
            for _, channel, note, velocity in self._rings.take_hits():
                self.synth.note_on(channel, note, max(1, min(127, velocity)))
                if channel != 9:   # General MIDI drums are one-shots; other channels get a note-off
                    offs.append((time.monotonic() + self._gate_s, channel, note))
            if offs:
                now = time.monotonic()
                for due, channel, note in [o for o in offs if o[0] <= now]:
                    self.synth.note_off(channel, note)
                offs = [o for o in offs if o[0] > now]

    def refresh_latency(self) -> None:
        pass

    def problem(self) -> str | None:
        if self.kind == "pulseaudio" and not os.environ.get("PULSE_SERVER", "").startswith(("tcp:", "[")) \
                and pulse_socket() is None:
            return "the PulseAudio/PipeWire server is gone"
        if self.kind == "alsa" and self._where != "default" and not os.path.exists(self._where):
            return f"the ALSA device {self._where} is gone"
        return None

    def close(self) -> None:
        if self._closing.is_set():
            return
        self._closing.set()
        self._feeder.join(2.0)
        fluidsynth, _, _ = libraries()
        fluidsynth.delete_fluid_audio_driver(self._driver)
