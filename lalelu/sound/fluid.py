"""FluidSynth, through pyfluidsynth and a few direct ctypes bindings of the same library.

pyfluidsynth makes the synthesiser and loads the soundfont. It calls libfluidsynth through ctypes.CDLL,
which lets go of the GIL around every call; from JACK's process callback that would be wrong (the callback
could then wait for the GIL again in the middle of its cycle), so the calls made there (note-on, render,
gain) go through a PyDLL handle on the same library, which keeps the GIL for the few microseconds they take.
Calls from other threads use the CDLL one: they may wait on FluidSynth's own lock, and must not hold the GIL
while they do.

FluidSynth's log lines are caught (not printed to the terminal): the warnings and errors are kept for the
sink to report in its messages.
"""

from __future__ import annotations

import collections
import ctypes
from ctypes import c_char_p, c_float, c_int, c_void_p
from pathlib import Path

from lalelu.errors import LaleluError

INSTALL_HINT = "install it with `apt-get install libfluidsynth3`"
DRUM_BANK = 128            # General MIDI percussion: channel 10 plays bank 128
FLUID_FAILED = -1
_LOG_LEVELS = {0: "panic", 1: "error", 2: "warning"}   # the others (info, debug) are silenced

_libs: tuple[ctypes.CDLL, ctypes.PyDLL] | None = None
log_lines: collections.deque[str] = collections.deque(maxlen=50)   # FluidSynth's warnings and errors
_log_callback = None   # kept alive as long as FluidSynth may call it


def _bind(lib: ctypes.CDLL) -> ctypes.CDLL:
    lib.fluid_synth_noteon.argtypes = [c_void_p, c_int, c_int, c_int]
    lib.fluid_synth_noteoff.argtypes = [c_void_p, c_int, c_int]
    lib.fluid_synth_write_float.argtypes = [c_void_p, c_int, c_void_p, c_int, c_int, c_void_p, c_int, c_int]
    lib.fluid_synth_set_gain.argtypes = [c_void_p, c_float]
    lib.fluid_synth_set_gain.restype = None
    lib.fluid_synth_all_sounds_off.argtypes = [c_void_p, c_int]
    return lib


def libraries():
    """(pyfluidsynth module, CDLL, PyDLL) of libfluidsynth; LaleluError saying what to install when missing."""
    global _libs, _log_callback
    try:
        import fluidsynth
    except ImportError as exc:   # pyfluidsynth raises ImportError when it finds no libfluidsynth
        raise LaleluError(f"no FluidSynth for the built-in sound ({exc}); {INSTALL_HINT}") from exc
    if _libs is None:
        cdll, pydll = _bind(ctypes.CDLL(fluidsynth.lib)), _bind(ctypes.PyDLL(fluidsynth.lib))
        log_type = ctypes.CFUNCTYPE(None, c_int, c_char_p, c_void_p)

        def on_log(level: int, message: bytes, _data) -> None:
            log_lines.append(f"{_LOG_LEVELS.get(level, 'info')}: {message.decode(errors='replace').strip()}")

        _log_callback = log_type(on_log)
        cdll.fluid_set_log_function.argtypes = [c_int, c_void_p, c_void_p]
        for level in range(5):   # FLUID_PANIC .. FLUID_DBG
            cdll.fluid_set_log_function(level, ctypes.cast(_log_callback, c_void_p) if level in _LOG_LEVELS
                                        else None, None)
        _libs = (cdll, pydll)
    return (fluidsynth, *_libs)


def last_log() -> str:
    """FluidSynth's latest warning or error ("" when none), for a message that says why."""
    return log_lines[-1] if log_lines else ""


class Synth:
    """A FluidSynth synthesiser at `rate` Hz with a General MIDI soundfont loaded (drums on channel 10).

    It renders only when asked (render()); whoever drives the audio output calls it. `gain` is FluidSynth's
    master gain (0.2 is its own default; 1.0 is loud but rarely clips with a drum kit)."""

    def __init__(self, soundfont: Path, rate: int, gain: float = 0.5, polyphony: int = 128) -> None:
        fluidsynth, self._cdll, self._pydll = libraries()
        self.rate = int(rate)
        self.soundfont = Path(soundfont)
        # No reverb and chorus: a dry kit, and less work per period in JACK's process callback.
        self._fs = fluidsynth.Synth(gain=float(gain), samplerate=float(rate), **{
            "synth.reverb.active": 0, "synth.chorus.active": 0, "synth.polyphony": polyphony,
            "synth.cpu-cores": 1})
        self.handle = c_void_p(self._fs.synth)
        log_lines.clear()
        self.sfid = self._fs.sfload(str(soundfont))
        if self.sfid == FLUID_FAILED:
            self._fs.delete()
            raise LaleluError(f"FluidSynth could not load the soundfont {soundfont}: "
                              f"{last_log() or 'no reason given'}; give another .sf2 file with --soundfont")
        self._fs.program_select(9, self.sfid, DRUM_BANK, 0)
        self._deleted = False

    @property
    def settings(self) -> int:
        return self._fs.settings

    # -- from the thread that renders (JACK's process callback): keeps the GIL -----------------------
    def note_on_now(self, channel: int, note: int, velocity: int) -> None:
        self._pydll.fluid_synth_noteon(self.handle, channel, note, velocity)

    def note_off_now(self, channel: int, note: int) -> None:
        self._pydll.fluid_synth_noteoff(self.handle, channel, note)

    def set_gain_now(self, gain: float) -> None:
        self._pydll.fluid_synth_set_gain(self.handle, gain)

    def render(self, frames: int, left: int, right: int) -> None:
        """Render `frames` samples into the float buffers at addresses `left` and `right`."""
        self._pydll.fluid_synth_write_float(self.handle, frames, left, 0, 1, right, 0, 1)

    # -- from any other thread: lets go of the GIL while FluidSynth may wait on its lock ------------
    def note_on(self, channel: int, note: int, velocity: int) -> None:
        self._cdll.fluid_synth_noteon(self.handle, channel, note, velocity)

    def note_off(self, channel: int, note: int) -> None:
        self._cdll.fluid_synth_noteoff(self.handle, channel, note)

    def set_gain(self, gain: float) -> None:
        self._cdll.fluid_synth_set_gain(self.handle, gain)

    def silence(self) -> None:
        for channel in range(16):
            self._cdll.fluid_synth_all_sounds_off(self.handle, channel)

    def setting(self, name: str, value) -> None:
        self._fs.setting(name, value)

    def delete(self) -> None:
        if not self._deleted:
            self._deleted = True
            self._fs.delete()
