"""Shared fixtures: a real JACK server (dummy driver, no sound card needed) for the tests that send MIDI."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

from lalelu.jack import JackServer


def require_jackd() -> None:
    if shutil.which("jackd") is None:
        pytest.fail("jackd not found on PATH: the MIDI tests need a real JACK server; `apt-get install jackd2`")


@pytest.fixture(scope="session")
def jack_server() -> Iterator[JackServer]:
    """A JACK server with the dummy driver for the whole session, stopped at the end.

    It has a name of its own, and JACK_DEFAULT_SERVER points at it, so every JACK client this process
    opens (rtmidi, mido, jack_lsp/jack_connect run from here) uses it and a user's own server is left alone.
    """
    require_jackd()
    name = f"lalelu-test-{os.getpid()}"
    previous = os.environ.get("JACK_DEFAULT_SERVER")
    os.environ["JACK_DEFAULT_SERVER"] = name
    server = JackServer(name=name, rate=48000, period=64)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        if previous is None:
            os.environ.pop("JACK_DEFAULT_SERVER", None)
        else:
            os.environ["JACK_DEFAULT_SERVER"] = previous
