"""The built-in drum sound: FluidSynth with a General MIDI soundfont, played in-process beside MIDI.

`sink.SoundOut` is the NoteSink; `outputs` chooses where the sound goes (JACK, PulseAudio/PipeWire, ALSA);
`jack_out` renders the synthesiser in a JACK client of lalelu's own and stamps when each hit's sound goes out;
`native_out` lets FluidSynth's own driver play; `fluid` binds FluidSynth; `soundfont` finds the soundfont.
FluidSynth and JACK-Client are imported only when a sound is made, so lalelu runs without them.
"""

from lalelu.sound.sink import DEFAULT_VOLUME, SoundOut

__all__ = ["DEFAULT_VOLUME", "SoundOut"]
