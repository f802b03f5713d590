"""A MIDI receiver in a process of its own, as a DAW would be: `python -m tests.midi_receiver PORT_FRAGMENT`.

It opens a JACK MIDI input, connects it to the first port whose name holds PORT_FRAGMENT, prints
`ready`, then one line per message, `<time.monotonic_ns()> <byte> <byte> ...`, until its stdin closes.
Its own process keeps the engine's threads (and their GIL) out of the arrival times it stamps;
CLOCK_MONOTONIC is shared by all processes, so the stamps compare with the engine's trace.
"""

from __future__ import annotations

import sys
import time

import rtmidi


def main(port_fragment: str) -> int:
    midi_in = rtmidi.MidiIn(rtmidi.API_UNIX_JACK, "lalelu test receiver")
    names = midi_in.get_ports()
    index = next((i for i, n in enumerate(names) if port_fragment in n), None)
    if index is None:
        print(f"no JACK port {port_fragment!r} among {names}", flush=True)
        return 1

    def on_message(event, _data) -> None:
        stamp = time.monotonic_ns()
        sys.stdout.write(f"{stamp} {' '.join(str(b) for b in event[0])}\n")
        sys.stdout.flush()

    midi_in.set_callback(on_message)
    midi_in.open_port(index, "in")
    print("ready", flush=True)
    sys.stdin.read()  # until the test closes our stdin
    midi_in.close_port()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
