"""Where the sound goes: which audio servers this machine has, and the one to play through.

"auto" plays through, in this order: a JACK server with a real driver (a musician's set-up), PulseAudio or
PipeWire (PipeWire answers on PulseAudio's socket; Debian's FluidSynth 2.3 has no PipeWire driver of its own),
plain ALSA, and last a JACK server with the dummy driver: the set-up's own (started where there was no MIDI
backend), which plays nothing audible but is where the sound's latency is measured, as in the tests and the
benchmark. Probing opens no audio client: it only looks at sockets, device files and /proc.
"""

from __future__ import annotations

import glob
import os
import socket
import struct
from dataclasses import dataclass

from lalelu.jack import default_server_name, server_identity

DRIVERS = ("jack", "pulseaudio", "alsa")
DRIVER_ENV = "LALELU_AUDIO_DRIVER"
_JACK_SOCKET_DIRS = ("/dev/shm", "/tmp")   # as lalelu.jack: jackd2's request socket


@dataclass(frozen=True)
class Choice:
    driver: str | None      # one of DRIVERS, or None when there is nothing to play through
    reason: str             # why, in words (shown to the player)


def jack_server_pid(name: str | None = None) -> int | None:
    """The pid of the JACK server `name` (default server), from its request socket's peer credentials."""
    server = name or default_server_name()
    for directory in _JACK_SOCKET_DIRS:
        path = os.path.join(directory, f"jack_{server}_{os.getuid()}_0")
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.settimeout(0.5)
            probe.connect(path)
            pid, _, _ = struct.unpack("3i", probe.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                                                              struct.calcsize("3i")))
            return pid or None
        except OSError:
            continue
        finally:
            probe.close()
    return None


def jack_is_dummy(name: str | None = None) -> bool:
    """True when the running JACK server uses the dummy driver (plays to no sound card). Unknown: False."""
    pid = jack_server_pid(name)
    if pid is None:
        return False
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            args = f.read().split(b"\0")
    except OSError:
        return False
    for flag in (b"-d", b"--driver"):
        if flag in args:
            i = args.index(flag)
            return i + 1 < len(args) and args[i + 1] == b"dummy"
    return any(arg == b"-ddummy" or arg == b"--driver=dummy" for arg in args)


def pulse_socket() -> str | None:
    """The PulseAudio (or PipeWire-Pulse) server's socket path when one accepts connections, else None."""
    server = os.environ.get("PULSE_SERVER", "")
    if server.startswith("unix:"):
        candidates = [server[len("unix:"):]]
    elif server:
        return None   # a network server: FluidSynth's driver can use it, but it is not probed here
    else:
        runtime = os.environ.get("XDG_RUNTIME_DIR") or f"/run/user/{os.getuid()}"
        candidates = [os.path.join(runtime, "pulse", "native")]
    for path in candidates:
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.settimeout(0.5)
            probe.connect(path)
            return path
        except OSError:
            continue
        finally:
            probe.close()
    return None


def alsa_playback_devices() -> list[str]:
    """ALSA PCM playback device files this user may open (/dev/snd/pcmC0D0p...)."""
    return sorted(p for p in glob.glob("/dev/snd/pcmC*D*p") if os.access(p, os.R_OK | os.W_OK))


def driver_problem(driver: str) -> str | None:
    """Why `driver` cannot play right now (a sentence), or None when it can."""
    if driver == "jack":
        return None if server_identity() is not None else f"no JACK server running (server {default_server_name()!r})"
    if driver == "pulseaudio":
        if os.environ.get("PULSE_SERVER", "") and not os.environ["PULSE_SERVER"].startswith("unix:"):
            return None
        return None if pulse_socket() is not None else "no PulseAudio or PipeWire server"
    if driver == "alsa":
        return None if alsa_playback_devices() else "no ALSA playback device (/dev/snd/pcm*p)"
    raise ValueError(f"unknown audio driver {driver!r}: choose auto, {', '.join(DRIVERS)}")


def choose_driver(wanted: str = "auto") -> Choice:
    """The driver to play through now (see the module's doc for the order of "auto")."""
    if wanted != "auto":
        problem = driver_problem(wanted)
        return Choice(None, problem) if problem else Choice(wanted, f"{wanted} (as asked)")
    jack_up = driver_problem("jack") is None
    dummy = jack_up and jack_is_dummy()
    if jack_up and not dummy:
        return Choice("jack", f"the JACK server {default_server_name()!r}")
    if driver_problem("pulseaudio") is None:
        return Choice("pulseaudio", "PulseAudio/PipeWire")
    if driver_problem("alsa") is None:
        return Choice("alsa", f"ALSA ({alsa_playback_devices()[0]})")
    if jack_up:
        return Choice("jack", f"the JACK server {default_server_name()!r} (dummy driver: no sound card, nothing "
                              "is heard, the latency is measured)")
    return Choice(None, "no audio output: no JACK server, no PulseAudio or PipeWire, no ALSA playback device")
