"""The JACK server lalelu starts for itself never outlives it (issue 14, item 6): it dies with lalelu even after
a `kill -9`, one left behind is stopped at the next start, and one that dies mid-play is started again.
Real jackd processes (dummy driver), each under a server name of the test's own."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

from lalelu.jack import JackServer, default_server, ensure_jack_server, jack_running, jackd_path, own_server_pid_file

REPO = Path(__file__).resolve().parents[1]

def eventually(condition, timeout_s: float = 20.0) -> bool:
    """Waits for something that must happen (a deadline for a hung test, not a speed check)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


@pytest.fixture
def own_server_name(tmp_path, monkeypatch) -> str:
    """A server name nobody uses, as the default server, and a cache folder of the test's own (pid files)."""
    jackd_path()
    name = f"lalelu-own-{os.getpid()}-{time.monotonic_ns() % 100000}"
    monkeypatch.setenv("JACK_DEFAULT_SERVER", name)
    monkeypatch.setenv("LALELU_CACHE", str(tmp_path / "cache"))
    return name


def test_the_server_dies_with_lalelu_even_after_kill_9(own_server_name: str, tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "lalelu", "run", "--headless", "--source", "synthetic", "--fps",
                             "30", "--midi-backend", "jack"], cwd=REPO, env=dict(os.environ, PYTHONPATH=str(REPO)),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
    reader.start()
    try:
        assert eventually(lambda: any("MIDI: connected" in line for line in lines), 120), "".join(lines)
        record = json.loads(own_server_pid_file(own_server_name).read_text())
        jackd = record["pid"]
        assert record["owner"] == proc.pid and "jackd" in psutil.Process(jackd).name()
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        assert eventually(lambda: gone(jackd)), "jackd outlived the lalelu that started it"
        assert eventually(lambda: not jack_running(own_server_name))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "started JACK server" in "".join(lines)


def test_a_server_left_behind_is_stopped_at_the_next_start(own_server_name: str) -> None:
    """Where the parent-death signal did not reach it (another system, a lalelu killed between start and
    signal): the pid file says whose it was; that lalelu is gone, so the next start stops it first."""
    owner = subprocess.Popen([sys.executable, "-c", "pass"])
    owner.wait()
    left = subprocess.Popen([jackd_path(), "-n", own_server_name, "-d", "dummy", "-r", "48000", "-p", "64"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    server = None
    try:
        assert eventually(lambda: jack_running(own_server_name))
        path = own_server_pid_file(own_server_name)
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps({"name": own_server_name, "pid": left.pid,
                                    "created": psutil.Process(left.pid).create_time(), "owner": owner.pid,
                                    "owner_created": 0.0}))
        said: list[str] = []
        server = ensure_jack_server(notify=said.append, backend="jack")
        assert left.wait(10) is not None, "the server left behind was stopped"
        assert server is not None and server.pid != left.pid and jack_running(own_server_name)
        assert f"stopped the JACK server '{own_server_name}' (pid {left.pid})" in said[0], said
        assert json.loads(path.read_text())["owner"] == os.getpid()
    finally:
        if left.poll() is None:
            left.kill()
            left.wait()
        if server is not None:
            server.stop()
    assert not path.exists(), "stopping the server removes its pid file"


def test_a_server_of_a_lalelu_still_playing_is_left_alone(own_server_name: str, tmp_path: Path) -> None:
    with JackServer(name=own_server_name, pid_file=own_server_pid_file(own_server_name)) as theirs:
        record = json.loads(own_server_pid_file(own_server_name).read_text())
        assert record["owner"] == os.getpid()    # this process plays on: its server is in use
        assert ensure_jack_server(notify=pytest.fail, backend="jack") is None
        assert theirs.running


def test_the_own_server_is_started_again_when_it_dies_mid_play(own_server_name: str) -> None:
    from lalelu.midi import MidiOut

    said: list[str] = []
    server = ensure_jack_server(notify=said.append, backend="jack")
    assert server is not None
    out = MidiOut(backend="jack", client_name="lalelu-revive")
    try:
        assert out.wait_connected(5.0), out.status
        first = server.pid
        os.kill(first, signal.SIGKILL)            # the server crashes
        assert eventually(lambda: server.restarts == 1 and jack_running(own_server_name)), said
        assert server.pid != first and gone(first)
        assert any("died" in s and "started it again" in s for s in said), said
        assert eventually(lambda: out.connected and out.note_on(38, 100) > 0), out.status   # MIDI is back
    finally:
        out.close()
        server.stop()
    assert not jack_running(own_server_name)


def test_every_server_lalelu_starts_gets_the_parent_death_signal(tmp_path: Path) -> None:
    """Also the test suite's and the benchmarks' servers: a `kill -9` of the process that started it ends it."""
    name = f"lalelu-child-{os.getpid()}"
    child = subprocess.Popen([sys.executable, "-c", f"""
import sys, time
sys.path.insert(0, {str(REPO)!r})
from lalelu.jack import JackServer
server = JackServer(name={name!r}).start()
print(server.pid, flush=True)
time.sleep(60)
"""], stdout=subprocess.PIPE, text=True)
    try:
        jackd = int(child.stdout.readline())
        child.kill()
        child.wait()
        assert eventually(lambda: gone(jackd)), "jackd outlived the process that started it"
    finally:
        if child.poll() is None:
            child.kill()
    with default_server(name):
        assert eventually(lambda: not jack_running())


def test_killed_servers_never_use_up_jacks_registry(own_server_name: str) -> None:
    """jackd has eight places for servers and keeps a killed one's for good (it frees a dead server's place only
    for a server of the same name, and lalelu's have new names each run): after eight crashes no JACK server
    could start on the machine. lalelu frees the places of dead servers before it starts one."""
    started: list[JackServer] = []
    try:
        for i in range(8):          # take every free place (others' live servers hold the rest)
            server = JackServer(name=f"{own_server_name}-{i}", timeout_s=20)
            try:
                started.append(server.start())
            except OSError as error:
                assert "Too many servers" in str(error), error
                break
    finally:
        for server in started:
            server.kill()           # SIGKILL, as a crash: their places stay taken
    assert started
    raw = subprocess.run([jackd_path(), "-n", f"{own_server_name}-raw", "-d", "dummy"], capture_output=True,
                         text=True, timeout=30)
    assert "Too many servers already active" in raw.stdout + raw.stderr   # full: jackd alone cannot start one
    with JackServer(name=f"{own_server_name}-after", timeout_s=20) as server:
        assert jack_running(server.name)
        assert {s.name for s in started} <= set(server.freed_places)


def test_the_registry_reader_leaves_what_is_not_jacks_alone(tmp_path: Path) -> None:
    from lalelu.jack_registry import _HEADER_LEN, free_dead_server_places

    folder = tmp_path / "folder"
    folder.mkdir()
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    noise = tmp_path / "noise"
    noise.write_bytes(os.urandom(_HEADER_LEN + 100))
    for path in (tmp_path / "missing", folder, empty, noise):
        before = path.read_bytes() if path.is_file() else None
        assert free_dead_server_places(path) == []
        assert (path.read_bytes() if path.is_file() else None) == before
