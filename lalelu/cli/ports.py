"""`lalelu ports`: the MIDI ports of each backend, and what to do when there is none."""

from __future__ import annotations

import argparse

from lalelu.jack import default_server_name
from lalelu.midi import BACKENDS, DEFAULT_PORT, PortList, list_all_ports, no_backend_message


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("ports", help="list the MIDI ports lalelu can send to",
                              description="List the MIDI output and input ports of each backend (ALSA, JACK).")
    p.add_argument("--backend", choices=("auto", *BACKENDS), default="auto", help="only this backend")
    p.set_defaults(func=run)


def format_ports(found: dict[str, PortList | OSError]) -> str:
    lines = []
    for backend, ports in found.items():
        title = f"{backend} (server {default_server_name()!r})" if backend == "jack" else backend
        if isinstance(ports, OSError):
            lines.append(f"{title}: unavailable: {str(ports).removeprefix(backend + ': ')}")
            continue
        lines.append(f"{title}:")
        lines.append("  outputs (lalelu can send to these):")
        lines.extend(f"    {name}" for name in ports.outputs)
        if not ports.outputs:
            lines.append(f"    (none: lalelu will create its own virtual port {DEFAULT_PORT!r})")
        lines.append("  inputs:")
        lines.extend(f"    {name}" for name in ports.inputs)
        if not ports.inputs:
            lines.append("    (none)")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    found = list_all_ports(args.backend)
    print(format_ports(found))
    if all(isinstance(ports, OSError) for ports in found.values()):
        print(no_backend_message(tuple(found)))
        return 1
    return 0
