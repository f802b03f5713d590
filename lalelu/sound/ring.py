"""The hits and their sound-out stamps between the engine and the sound process, in shared memory.

One memfd (anonymous shared memory, handed to the sound process as an open file descriptor, so it goes away
with the last of the two processes) holds two rings of int64s: hits (seq, channel, note, velocity), written by
the engine's inference thread only, read by the sound process's JACK callback (or feeder) each period; and
stamps (seq, sound-out monotonic ns), written by the sound process only, read by the engine. A writer fills the
row first, then counts it in the header; a reader reads the header first: it never sees half a row. Neither
side ever waits for the other.
"""

from __future__ import annotations

import mmap
import os

import numpy as np

HIT_ROWS = 512        # far more than the hits of one period (1.3 ms at a period of 64)
STAMP_ROWS = 1024     # the engine reads them every frame
_HEADER = 8           # int64s: [0] hits written, [1] stamps written
_SIZE = 8 * (_HEADER + 4 * HIT_ROWS + 2 * STAMP_ROWS)


class SharedRings:
    """create() in the engine, attach(fd) in the sound process."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._map = mmap.mmap(fd, _SIZE)
        words = np.frombuffer(self._map, np.int64)
        self.header = words[:_HEADER]
        self.hits = words[_HEADER:_HEADER + 4 * HIT_ROWS].reshape(HIT_ROWS, 4)
        self.stamps = words[_HEADER + 4 * HIT_ROWS:].reshape(STAMP_ROWS, 2)
        self.hits_read = 0        # the reader's own cursors
        self.stamps_read = 0
        self.lost = 0             # rows a reader found overwritten before it read them

    @classmethod
    def create(cls) -> "SharedRings":
        fd = os.memfd_create("lalelu-sound", 0)   # not close-on-exec-proof by itself: passed with pass_fds
        os.ftruncate(fd, _SIZE)
        return cls(fd)

    @classmethod
    def attach(cls, fd: int) -> "SharedRings":
        rings = cls(fd)
        rings.hits_read = int(rings.header[0])    # a restarted sound process starts from now
        rings.stamps_read = int(rings.header[1])
        return rings

    # -- the engine ---------------------------------------------------------------------------------
    def put_hit(self, seq: int, channel: int, note: int, velocity: int) -> None:
        self.hits[seq % HIT_ROWS] = (seq, channel, note, velocity)
        self.header[0] = seq

    def take_stamps(self) -> list[tuple[int, int]]:
        """(seq, sound-out ns) written since the last call."""
        written = int(self.header[1])
        if written == self.stamps_read:
            return []
        out = []
        for n in range(max(self.stamps_read, written - STAMP_ROWS) + 1, written + 1):
            seq, t = self.stamps[n % STAMP_ROWS]
            out.append((int(seq), int(t)))
        self.lost += max(0, written - self.stamps_read - STAMP_ROWS)
        self.stamps_read = written
        return out

    # -- the sound process -------------------------------------------------------------------------
    def take_hits(self) -> list[tuple[int, int, int, int]]:
        """(seq, channel, note, velocity) of the hits written since the last call."""
        written = int(self.header[0])
        if written == self.hits_read:
            return []
        out = []
        for seq in range(max(self.hits_read, written - HIT_ROWS) + 1, written + 1):
            row = self.hits[seq % HIT_ROWS]
            if int(row[0]) == seq:
                out.append((seq, int(row[1]), int(row[2]), int(row[3])))
            else:
                self.lost += 1
        self.hits_read = written
        return out

    def put_stamp(self, seq: int, t_ns: int) -> None:
        """Hit `seq` sounded at t_ns (one writer: the output's render thread)."""
        n = int(self.header[1]) + 1
        self.stamps[n % STAMP_ROWS] = (seq, t_ns)
        self.header[1] = n

    def close(self) -> None:
        del self.header, self.hits, self.stamps
        try:
            self._map.close()
        except BufferError:   # a view still held somewhere: the mapping goes with the process
            pass
        os.close(self.fd)
