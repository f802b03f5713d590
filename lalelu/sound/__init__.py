"""The built-in drum sound: FluidSynth with a General MIDI soundfont, played in-process beside MIDI.

`sink.SoundOut` is the NoteSink, in the engine; it starts `server` (`python -m lalelu.sound.server`), the sound
process, where `player.SoundPlayer` chooses the output (`outputs`: JACK, PulseAudio/PipeWire, ALSA), opens and
watches it: `jack_out` renders the synthesiser in a JACK client of lalelu's own and stamps when each hit's sound
goes out, `native_out` lets FluidSynth's own driver play. Hits and stamps cross in shared memory (`ring`).
`fluid` binds FluidSynth; `soundfont` finds the soundfont. FluidSynth and JACK-Client are imported in the sound
process only, so the engine runs without them.
"""

from lalelu.sound.sink import DEFAULT_VOLUME, SoundOut

__all__ = ["DEFAULT_VOLUME", "SoundOut"]
