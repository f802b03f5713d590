"""The JACK server: ask whether one runs, and start or stop one with the dummy driver (no sound card needed).

A server lalelu starts never outlives it: on Linux the kernel sends it SIGTERM when lalelu dies, even by
`kill -9` (prctl PR_SET_PDEATHSIG, set in the child before jackd runs). The app's own server also leaves a pid
file in the cache folder, so that one left over where that signal does not exist is stopped at the next start;
and it is started again when it dies mid-play (`keep_alive`), since MIDI would stay down for good otherwise.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable, Iterator

import psutil

from lalelu.config import cache_dir
from lalelu.jack_registry import free_dead_server_places

DEFAULT_RATE = 48000
DEFAULT_PERIOD = 64
INSTALL_HINT = "install it with `apt-get install jackd2`"

# jackd2 on Linux keeps its request socket here (the Debian build's server dir).
_SERVER_DIRS = ("/dev/shm", "/tmp")
_PR_SET_PDEATHSIG = 1
KEEP_ALIVE_S = 0.5   # how often the app's own server is looked at (and started again if it died)


def _die_with_parent(parent: int) -> Callable[[], None] | None:
    """A preexec_fn that makes the child get SIGTERM when the thread that started it dies (Linux only; the
    parent process, for servers started from the main thread or a thread that lives as long). If the
    parent is already gone when it runs, the child exits at once."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:
            os._exit(1)

    return preexec


def default_server_name() -> str:
    """The server name libjack uses when none is given (it honours JACK_DEFAULT_SERVER)."""
    return os.environ.get("JACK_DEFAULT_SERVER") or "default"


def server_identity(name: str | None = None) -> tuple[int, int] | None:
    """(device, inode) of the request socket of the JACK server named `name` when it accepts connections.

    Probes the socket directly: no JACK client is opened, so nothing is printed and no libjack state
    changes in this process (libjack misbehaves when clients of a dead server linger). A socket left
    behind by a killed server refuses the connection (None); a restarted server has a new socket, so a
    client can tell that the server it talks to has been replaced even between two probes.
    """
    server = name or default_server_name()
    for directory in _SERVER_DIRS:
        path = os.path.join(directory, f"jack_{server}_{os.getuid()}_0")
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            stat = os.stat(path)
            probe.settimeout(0.5)
            probe.connect(path)
            return (stat.st_dev, stat.st_ino)
        except OSError:
            continue
        finally:
            probe.close()
    return None


def jack_running(name: str | None = None) -> bool:
    """True when a JACK server named `name` (default: the default server) accepts connections."""
    return server_identity(name) is not None


def jackd_path() -> str:
    """Path of the jackd program, or an OSError saying how to install it."""
    path = shutil.which("jackd")
    if path is None:
        raise OSError(f"jackd not found on PATH: {INSTALL_HINT}")
    return path


class JackServer:
    """A jackd process with the dummy driver, e.g. `jackd -S -n NAME -d dummy -r 48000 -p 64`.

    Use as a context manager, or call start() and stop(). `name=None` uses the default server name,
    which is what MIDI clients in this process connect to unless JACK_DEFAULT_SERVER says otherwise.
    """

    def __init__(
        self,
        name: str | None = None,
        rate: int = DEFAULT_RATE,
        period: int = DEFAULT_PERIOD,
        timeout_s: float = 10.0,
        pid_file: Path | None = None,
        sync: bool = True,
    ) -> None:
        self.name = name or default_server_name()
        self.rate = rate
        self.period = period
        self.timeout_s = timeout_s
        self.pid_file = pid_file    # where the server and its owner are written down, for reap_stale_server
        # Synchronous mode (-S): each cycle waits for every client. On a machine too busy to give JACK real-time
        # priority, the default (asynchronous) mode skips late clients and their MIDI events are lost (8 of 404
        # note-ons under a CPU hog); in synchronous mode none were. A dummy server has no sound card to keep up
        # with, so waiting costs nothing but jitter.
        self.sync = sync
        self.restarts = 0
        self.freed_places: list[str] = []   # dead servers' registry places freed when this one started
        self._process: subprocess.Popen | None = None
        self._log = None
        self._keeper: threading.Thread | None = None
        self._stopping = threading.Event()

    @property
    def period_s(self) -> float:
        """Length of one JACK period in seconds (MIDI leaves the server on period boundaries)."""
        return self.period / self.rate

    @property
    def command(self) -> list[str]:
        return [jackd_path(), *(["-S"] if self.sync else []), "-n", self.name, "-d", "dummy", "-r", str(self.rate),
                "-p", str(self.period)]

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None and jack_running(self.name)

    def start(self) -> "JackServer":
        """Start jackd and wait until it accepts clients; OSError with jackd's output when it does not."""
        if self._process is not None and self._process.poll() is None:
            return self
        command = self.command
        if jack_running(self.name):
            raise OSError(
                f"a JACK server named {self.name!r} is already running; use it, stop it, or pick another name"
            )
        # a place in JACK's registry of servers for this one, even after eight killed ones (jack_registry.py)
        self.freed_places = free_dead_server_places()
        # jackd's output goes to a file: a pipe nobody reads could fill up and stall the server.
        self._log = tempfile.TemporaryFile(mode="w+", prefix="lalelu-jackd-")
        self._process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=_die_with_parent(os.getpid()),
        )
        self._write_pid_file()
        deadline = time.monotonic() + self.timeout_s
        while not jack_running(self.name):
            status = self._process.poll()
            if status is not None:
                output = self.output()
                self._process = None
                raise OSError(
                    f"jackd exited with status {status} before accepting clients "
                    f"({' '.join(command)}):\n{output}"
                )
            if time.monotonic() > deadline:
                output = self.output()
                self.kill()
                raise OSError(
                    f"jackd did not accept clients within {self.timeout_s:.0f} s ({' '.join(command)}):\n{output}"
                )
            time.sleep(0.02)
        return self

    def output(self) -> str:
        """What jackd has printed so far."""
        if self._log is None:
            return ""
        self._log.flush()
        self._log.seek(0)
        return self._log.read()

    def _write_pid_file(self) -> None:
        if self.pid_file is None or self._process is None:
            return
        try:
            me, jackd = psutil.Process(), psutil.Process(self._process.pid)
            record = {"name": self.name, "pid": jackd.pid, "created": jackd.create_time(),
                      "owner": me.pid, "owner_created": me.create_time()}
            self.pid_file.parent.mkdir(parents=True, exist_ok=True)
            self.pid_file.write_text(json.dumps(record))
        except (OSError, psutil.Error):   # only a safety net: the parent-death signal is the main one
            pass

    def keep_alive(self, notify: Callable[[str], None]) -> None:
        """Start the server again whenever it dies (until stop()), and say so through `notify`."""
        if self._keeper is not None:
            return
        self._stopping.clear()
        self._keeper = threading.Thread(target=self._keep, args=(notify,), name="lalelu-jack-keeper", daemon=True)
        self._keeper.start()

    def _keep(self, notify: Callable[[str], None]) -> None:
        while not self._stopping.wait(KEEP_ALIVE_S):
            process = self._process
            if process is None or process.poll() is None or jack_running(self.name):
                continue
            status = process.returncode
            self._process = None
            try:
                self.start()
            except OSError as error:
                notify(f"the JACK server {self.name!r} that lalelu started died (status {status}) and could not be "
                       f"started again: {error}; MIDI stays off")
                return
            self.restarts += 1
            notify(f"the JACK server {self.name!r} that lalelu started died (status {status}): started it again; "
                   "MIDI reconnects by itself (reconnect your synth to 'lalelu drums' in your JACK patchbay)")

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop jackd politely (SIGTERM), then forcefully if it does not quit in time."""
        self._stopping.set()
        keeper, self._keeper = self._keeper, None
        if keeper is not None and keeper is not threading.current_thread():
            keeper.join()
        process, self._process = self._process, None
        if self.pid_file is not None:
            with contextlib.suppress(OSError):
                self.pid_file.unlink()
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def kill(self) -> None:
        """Kill jackd at once (SIGKILL), as a crash would; used to test that clients survive it."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()

    def __enter__(self) -> "JackServer":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"JackServer(name={self.name!r}, rate={self.rate}, period={self.period}, pid={self.pid})"


@contextlib.contextmanager
def default_server(name: str) -> Iterator[None]:
    """Point JACK_DEFAULT_SERVER at `name` for a while, so every JACK client this process opens (rtmidi,
    mido, jack_lsp) uses that server and a user's own is left alone; restored afterwards."""
    previous = os.environ.get("JACK_DEFAULT_SERVER")
    os.environ["JACK_DEFAULT_SERVER"] = name
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("JACK_DEFAULT_SERVER", None)
        else:
            os.environ["JACK_DEFAULT_SERVER"] = previous


def alsa_sequencer_available() -> bool:
    """True when this machine has an ALSA sequencer device this user can open."""
    return os.access("/dev/snd/seq", os.R_OK | os.W_OK)


def own_server_pid_file(name: str) -> Path:
    """Where the app writes down the JACK server it started (in the cache folder)."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
    return cache_dir() / "jack" / f"{safe}.json"


def reap_stale_server(name: str) -> str | None:
    """Stop a JACK server that an earlier lalelu started and left behind (its owner is gone), as its pid file
    says; returns a sentence saying so, or None when there was none. A server whose owner still runs (another
    lalelu playing) is left alone, and so is a process that is no longer that jackd (its pid reused)."""
    path = own_server_pid_file(name)
    try:
        record = json.loads(path.read_text())
        pid, created = int(record["pid"]), float(record["created"])
        owner, owner_created = int(record["owner"]), float(record["owner_created"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    try:
        if psutil.Process(owner).create_time() == owner_created:
            return None                  # its lalelu still plays
    except psutil.Error:
        pass
    message = None
    try:
        server = psutil.Process(pid)
        if server.create_time() == created and "jackd" in server.name():
            server.terminate()
            try:
                server.wait(5.0)
            except psutil.TimeoutExpired:
                server.kill()
                server.wait(5.0)
            message = (f"stopped the JACK server {name!r} (pid {pid}) that an earlier lalelu (pid {owner}) started "
                       "and left behind")
    except psutil.Error:
        pass
    with contextlib.suppress(OSError):
        path.unlink()
    return message


def ensure_jack_server(notify: Callable[[str], None] = print, backend: str = "auto") -> JackServer | None:
    """For the app: when no MIDI backend works (or JACK is asked for, backend="jack", and none runs) but jackd
    is installed, start a dummy JACK server.

    Returns the server it started (stopped automatically at exit, or by the kernel when this process dies; and
    started again if it dies first), or None when ALSA (for "auto") or a JACK server is already there. A server
    an earlier lalelu left behind is stopped first. Raises OSError saying what to install when neither works.
    """
    if backend == "alsa" or (backend == "auto" and alsa_sequencer_available()):
        return None
    stale = reap_stale_server(default_server_name())
    if stale:
        notify(stale)
    if jack_running():
        return None
    try:
        jackd_path()
    except OSError as error:
        raise OSError(
            "no MIDI backend: no ALSA sequencer (/dev/snd/seq) and no JACK server running, "
            f"and jackd is not installed: {INSTALL_HINT}, or start your own JACK server"
        ) from error
    server = JackServer(pid_file=own_server_pid_file(default_server_name())).start()
    atexit.register(server.stop)
    server.keep_alive(notify)
    notify(
        f"no ALSA sequencer and no JACK server: started JACK server {server.name!r} with the dummy driver "
        f"({server.rate} Hz, {server.period} frames = {server.period_s * 1000:.2f} ms); connect a synth to "
        "'lalelu drums' with your JACK patchbay"
    )
    return server
