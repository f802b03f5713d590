"""The sound process: `python -m lalelu.sound.server FD OPTIONS_JSON`, started and stopped by lalelu.sound.SoundOut.

Why a process of its own: see lalelu.sound.jack_out (a Python JACK callback and python-rtmidi's JACK calls in one
process can deadlock). It plays the hits the engine writes to the shared memory FD (lalelu.sound.ring), writes
back when each one's sound went out, reads commands from stdin (JSON lines: {"on": bool}, {"volume": 0..1}) and
says what happens on stdout (JSON lines: status, level, connected, dropped, output). It ends when stdin closes,
and when its parent dies (PR_SET_PDEATHSIG): it never outlives the engine.
"""

from __future__ import annotations

import ctypes
import json
import signal
import sys
import threading

INFO_EVERY_S = 1.0
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):   # not Linux: stdin's end still ends us
        pass


def main(argv: list[str]) -> int:
    _die_with_parent()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C goes to the whole group: the parent decides
    from lalelu.sound.player import SoundPlayer
    from lalelu.sound.ring import SharedRings

    fd, options = int(argv[0]), json.loads(argv[1])
    rings = SharedRings.attach(fd)
    lock = threading.Lock()
    player: SoundPlayer | None = None

    def output_info() -> dict | None:
        output = player.output if player is not None else None
        if output is None:
            return None
        return {"driver": output.kind, "rate": output.rate, "period": output.period,
                "playback_latency_ms": round(output.latency_frames / output.rate * 1000, 3),
                "xruns": output.xruns, "late_cycles": getattr(output, "late_cycles", 0),
                "description": output.description}

    def say(level: str | None, text: str, ready: bool = False) -> None:
        line = {"level": level, "status": text, "ready": ready, "connected": player is not None and player.connected,
                "dropped": player.dropped if player is not None else 0, "output": output_info()}
        with lock:
            try:
                sys.stdout.write(json.dumps(line) + "\n")
                sys.stdout.flush()
            except (OSError, ValueError):   # the engine is gone
                pass

    pending: list[tuple[str | None, str]] = []
    player = SoundPlayer(rings, lambda level, text: pending.append((level, text)) if player is None
                         else say(level, text), **options)
    for level, text in pending:   # what it said while starting, now that it can be asked about its state
        say(level, text)
    say(None, player.status, ready=True)   # the engine waits for this line

    stop = threading.Event()

    def info() -> None:
        while not stop.wait(INFO_EVERY_S):
            say(None, player.status)

    threading.Thread(target=info, name="lalelu-sound-info", daemon=True).start()
    try:
        for line in sys.stdin:
            try:
                command = json.loads(line)
                if "volume" in command:
                    player.set_volume(float(command["volume"]))
                if "on" in command:
                    player.set_on(bool(command["on"]))
            except (ValueError, TypeError) as exc:
                say("warning", f"a bad command from the engine ({exc}): {line.strip()!r}")
    finally:
        stop.set()
        player.close()
        rings.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
