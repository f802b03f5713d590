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

HIT_ROWS = 512        # far more than the hits of one period (1.3 ms at a period of 64)
STAMP_ROWS = 1024     # the engine reads them every frame
_HEADER = 8           # int64s: [0] hits written, [1] stamps written
_HITS = _HEADER                       # 4 int64s a row: seq, channel, note, velocity
_STAMPS = _HITS + 4 * HIT_ROWS        # 2 int64s a row: seq, sound-out ns
_SIZE = 8 * (_STAMPS + 2 * STAMP_ROWS)


class SharedRings:
    """create() in the engine, attach(fd) in the sound process. The words are a memoryview of int64s (no
    numpy: the sound process starts faster without it, and a scalar store is cheaper this way)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._map = mmap.mmap(fd, _SIZE)
        self.words = memoryview(self._map).cast("q")
        self.hits_read = 0        # the reader's own cursors
        self.stamps_read = 0
        self.lost = 0             # rows a reader found overwritten before it read them

    @classmethod
    def create(cls) -> "SharedRings":
        fd = os.memfd_create("lalelu-sound", 0)   # handed to the sound process with pass_fds
        os.ftruncate(fd, _SIZE)
        return cls(fd)

    @classmethod
    def attach(cls, fd: int) -> "SharedRings":
        rings = cls(fd)
        rings.hits_read = rings.words[0]    # a restarted sound process starts from now
        rings.stamps_read = rings.words[1]
        return rings

    # -- the engine ---------------------------------------------------------------------------------
    def put_hit(self, seq: int, channel: int, note: int, velocity: int) -> None:
        w, i = self.words, _HITS + 4 * (seq % HIT_ROWS)
        w[i + 1], w[i + 2], w[i + 3] = channel, note, velocity
        w[i] = seq
        w[0] = seq

    def take_stamps(self) -> list[tuple[int, int]]:
        """(seq, sound-out ns) written since the last call."""
        w = self.words
        written = w[1]
        if written == self.stamps_read:
            return []
        out = []
        for n in range(max(self.stamps_read, written - STAMP_ROWS) + 1, written + 1):
            i = _STAMPS + 2 * (n % STAMP_ROWS)
            out.append((w[i], w[i + 1]))
        self.lost += max(0, written - self.stamps_read - STAMP_ROWS)
        self.stamps_read = written
        return out

    # -- the sound process -------------------------------------------------------------------------
    def take_hits(self) -> list[tuple[int, int, int, int]]:
        """(seq, channel, note, velocity) of the hits written since the last call."""
        w = self.words
        written = w[0]
        if written == self.hits_read:
            return []
        out = []
        for seq in range(max(self.hits_read, written - HIT_ROWS) + 1, written + 1):
            i = _HITS + 4 * (seq % HIT_ROWS)
            if w[i] == seq:
                out.append((seq, w[i + 1], w[i + 2], w[i + 3]))
            else:
                self.lost += 1
        self.lost += max(0, written - self.hits_read - HIT_ROWS)
        self.hits_read = written
        return out

    def put_stamp(self, seq: int, t_ns: int) -> None:
        """Hit `seq` sounded at t_ns (one writer: the output's render thread)."""
        w = self.words
        n = w[1] + 1
        i = _STAMPS + 2 * (n % STAMP_ROWS)
        w[i], w[i + 1] = seq, t_ns
        w[1] = n

    def close(self) -> None:
        self.words.release()
        try:
            self._map.close()
        except BufferError:   # a view still held somewhere: the mapping goes with the process
            pass
        try:
            os.close(self.fd)
        except OSError:   # closed already
            pass
