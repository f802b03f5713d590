"""JACK's registry of running servers: free the places that dead servers hold.

jackd2 keeps eight server places in a shared-memory registry (/dev/shm/jack-shm-registry). A server that
stops cleanly frees its place; one that is killed (kill -9, a crash, a machine's out-of-memory killer)
keeps it, and jackd frees a dead server's place only when a server of the same name starts. lalelu's own
servers have a new name each run (two instances never collide), so every killed one would hold its place
for good, and after eight no JACK server could start on the machine at all ("Too many servers already
active") until the registry file was removed by hand. Before lalelu starts a server it frees the places
of servers whose process is gone, under the registry's own lock, exactly as jackd does for a same-named one.

The layout is jackd2's `jack_shm_header_t` (common/shm.h); a registry that does not match it is left alone.
"""

from __future__ import annotations

import contextlib
import ctypes
import mmap
import os
import struct
import time
from pathlib import Path
from typing import Iterator

REGISTRY = Path("/dev/shm/jack-shm-registry")
_MAGIC = 0x4A41434B          # 'JACK'
_SERVERS = 8                 # MAX_SERVERS
_FIRST = 24                  # offset of the first server entry: magic, protocol, type, size, hdr_len, entry_len
_ENTRY = 4 + 260             # pid_t pid; char name[JACK_SERVER_NAME_SIZE + 1], padded
_HEADER_LEN = _FIRST + _SERVERS * _ENTRY
_SEMAPHORE_KEY = 0x282929    # JACK_SEMAPHORE_KEY: the System V semaphore that guards the registry
_SEM_UNDO = 0x1000
_IPC_NOWAIT = 0x800
_LOCK_TRIES = 100            # 10 ms apart: jackd holds the lock for microseconds; never wait on it for long


class _SemBuf(ctypes.Structure):
    _fields_ = [("sem_num", ctypes.c_ushort), ("sem_op", ctypes.c_short), ("sem_flg", ctypes.c_short)]


@contextlib.contextmanager
def _registry_lock() -> Iterator[bool]:
    """Holds JACK's registry semaphore (taken with SEM_UNDO, as jackd does: freed if we die holding it).
    Yields False when there is no such semaphore (no JACK on this machine yet) or it cannot be used."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        semid = libc.semget(_SEMAPHORE_KEY, 1, 0)
    except (OSError, AttributeError):
        yield False
        return
    for _ in range(_LOCK_TRIES if semid >= 0 else 0):
        if libc.semop(semid, ctypes.byref(_SemBuf(0, -1, _SEM_UNDO | _IPC_NOWAIT)), 1) == 0:
            break
        time.sleep(0.01)
    else:
        yield False
        return
    try:
        yield True
    finally:
        libc.semop(semid, ctypes.byref(_SemBuf(0, 1, _SEM_UNDO)), 1)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True          # another user's process
    return True


def free_dead_server_places(registry: Path = REGISTRY) -> list[str]:
    """Frees the registry places of JACK servers whose process is gone; returns their names."""
    try:
        if registry.stat().st_size < _HEADER_LEN:
            return []
        with _registry_lock() as locked, open(registry, "r+b") as file, mmap.mmap(file.fileno(), _HEADER_LEN) as shm:
            if not locked:
                return []
            magic, = struct.unpack_from("<I", shm, 0)
            hdr_len, entry_len = struct.unpack_from("<II", shm, 16)
            if magic != _MAGIC or hdr_len != _HEADER_LEN:
                return []        # another layout than the one this was written for: leave it to jackd
            freed = []
            for i in range(_SERVERS):
                at = _FIRST + i * _ENTRY
                pid, = struct.unpack_from("<i", shm, at)
                if pid > 0 and not _alive(pid):
                    name = bytes(shm[at + 4:at + _ENTRY]).split(b"\0", 1)[0].decode(errors="replace")
                    parts = name.split(":")          # "jack-UID:SERVER:"
                    shm[at:at + _ENTRY] = bytes(_ENTRY)
                    freed.append(parts[1] if len(parts) >= 2 else name)
            return freed
    except (OSError, ValueError):
        return []                # no registry yet, or not ours to change: jackd will say what is wrong
