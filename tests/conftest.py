"""Shared fixtures: the user's own settings kept out of the suite, and a real JACK server (dummy driver, no sound
card needed) for the tests that send MIDI."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from lalelu.jack import JackServer, default_server, jackd_path

TEST_PERIOD = 64


@pytest.fixture(scope="session", autouse=True)
def no_user_settings(tmp_path_factory) -> Iterator[None]:
    """The suite plays the defaults, not what this machine's user last chose in the window ($LALELU_SETTINGS
    points at a file of the suite's own; child processes inherit it). A test that needs settings writes them
    there, or points the variable elsewhere itself."""
    previous = os.environ.get("LALELU_SETTINGS")
    os.environ["LALELU_SETTINGS"] = str(tmp_path_factory.mktemp("settings") / "lalelu.ini")
    yield
    if previous is None:
        os.environ.pop("LALELU_SETTINGS", None)
    else:
        os.environ["LALELU_SETTINGS"] = previous


@pytest.fixture(scope="session")
def jack_server() -> Iterator[JackServer]:
    """A JACK server with the dummy driver for the whole session, stopped at the end.

    It has a name of its own, and JACK_DEFAULT_SERVER points at it, so every JACK client this process
    opens (rtmidi, mido, jack_lsp/jack_connect run from here) uses it and a user's own server is left alone.
    """
    try:
        jackd_path()
    except OSError as error:
        pytest.fail(f"the MIDI tests need a real JACK server: {error}")
    name = f"lalelu-test-{os.getpid()}"
    # Synchronous mode (JackServer's default): on a machine too busy to give JACK real-time priority the server
    # overruns its 1.3 ms period (xruns), and in asynchronous mode it loses MIDI events in them.
    server = JackServer(name=name, rate=48000, period=TEST_PERIOD, sync=True)
    with default_server(name):
        try:
            server.start()
            yield server
        finally:
            server.stop()


@pytest.fixture
def widgets(qtbot):
    """Holds the Qt widgets a test makes until its end, then closes them: `window = widgets(MainWindow())`.

    A window or plot dropped unclosed is freed by the garbage collector in any order, and an axis that
    outlives its view aborts the whole run from inside Qt; closed, their scenes are emptied first.
    """
    made = []

    def hold(widget):
        qtbot.addWidget(widget)
        made.append(widget)
        return widget

    yield hold
    for widget in reversed(made):
        widget.close()
