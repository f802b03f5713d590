"""The General MIDI soundfont the built-in synthesiser plays: Debian's TimGM6mb by default.

Why TimGM6mb (Debian `timgm6mb-soundfont`, 6 MB) and not FluidR3 (`fluid-soundfont-gm`, 145 MB): measured with
FluidSynth 2.3 at 48 kHz (BENCHMARKS.md, "Which soundfont"), it loads in 0.08 s against 0.8 s, and a process
holding it takes 39 MB against 180 MB; its kick and snare reach -20 dB of their peak within 0.6-0.65 ms of the
note-on against 2.1-2.5 ms for FluidR3's (a drummer hears that as latency); both answer velocity over the same
25 dB. FluidR3 sounds better in the cymbals (stereo, content above 10 kHz where TimGM6mb's open hi-hat and
crash have none), so it is used when TimGM6mb is missing, and `--soundfont` / $LALELU_SOUNDFONT pick any file.
"""

from __future__ import annotations

from pathlib import Path

from lalelu import config
from lalelu.errors import LaleluError

SOUNDFONT_ENV = "LALELU_SOUNDFONT"
INSTALL_HINT = "install one with `apt-get install timgm6mb-soundfont`"
# Debian's General MIDI soundfonts, preferred first; default-GM.sf2 is the system's chosen one (alternatives).
DEBIAN_SOUNDFONTS = (
    Path("/usr/share/sounds/sf2/TimGM6mb.sf2"),
    Path("/usr/share/sounds/sf2/FluidR3_GM.sf2"),
    Path("/usr/share/sounds/sf2/default-GM.sf2"),
)


def soundfont_problem(path: str | Path) -> str | None:
    """Why `path` is not a soundfont FluidSynth can load (a sentence), or None when it looks like one."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            head = f.read(12)
    except IsADirectoryError:
        return f"{path} is a folder, not a soundfont (.sf2) file"
    except FileNotFoundError:
        return f"{path} does not exist"
    except OSError as exc:
        return f"cannot read {path}: {exc.strerror}"
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"sfbk":
        return f"{path} is not a SoundFont 2 file (no RIFF sfbk header)"
    return None


def find_soundfont(given: str | None = None) -> Path:
    """The soundfont to play: `given` (a flag), else $LALELU_SOUNDFONT, else the first Debian one installed.
    Raises LaleluError saying what is wrong and what to do."""
    chosen = given or config.env(SOUNDFONT_ENV)
    if chosen:
        problem = soundfont_problem(chosen)
        if problem:
            source = "--soundfont" if given else f"${SOUNDFONT_ENV}"
            raise LaleluError(f"{source}: {problem}; give a General MIDI .sf2 file, or leave it out to use "
                              f"{DEBIAN_SOUNDFONTS[0]} ({INSTALL_HINT})")
        return Path(chosen)
    for path in DEBIAN_SOUNDFONTS:
        if soundfont_problem(path) is None:
            return path
    raise LaleluError(f"no General MIDI soundfont found (looked for {', '.join(map(str, DEBIAN_SOUNDFONTS))}); "
                      f"{INSTALL_HINT}, or give one with --soundfont PATH")
