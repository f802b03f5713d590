"""Per-frame trace records, the ring that hands them to readers, and the trace-file recorder.

Every frame gets one TraceRecord; each stage stamps its own field with time.monotonic_ns()
(0 = the stage was not reached), so any latency is a subtraction and a recorded trace can be
re-analysed later. The engine's inference thread is the ring's only writer; readers (UI,
recorder, benchmark) never make it wait.
"""

from __future__ import annotations

import dataclasses
import json
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from lalelu.core.hits import Hit
from lalelu.errors import LaleluError

TRACE_FORMAT = 1


class SoundStamp(NamedTuple):
    """When a hit's sound went out (the built-in synth on JACK). The stamp comes back after the hit's own
    frame was traced, so a later frame's record carries it: `index` and `hit` (its place in that frame's
    hits) say which hit it was, `t_capture` repeats that frame's capture time, so the latency
    frame ready -> sound out is `t_sound - t_capture` without looking the frame up."""

    index: int
    hit: int
    t_capture: int
    t_sound: int

    @property
    def latency_ns(self) -> int:
        return self.t_sound - self.t_capture


@dataclass(slots=True, kw_only=True)
class TraceRecord:
    index: int
    t_capture: int
    t_kernel: int = 0    # the camera driver's capture stamp on the same clock (0 = unknown, or not a camera)
    t_infer_start: int = 0
    t_infer_end: int = 0
    t_detect: int = 0
    t_sent: int = 0
    dropped: bool = False
    keypoints: np.ndarray | None = None
    hits: list = field(default_factory=list)
    sounds: list = field(default_factory=list)   # SoundStamps of earlier hits that came back since the last record

    @property
    def played(self) -> bool:
        """The frame went all the way through: not dropped, and it reached the MIDI step."""
        return bool(self.t_sent) and not self.dropped

    @property
    def e2e_ns(self) -> int | None:
        """Frame ready -> MIDI step done, or None for a frame that was not played."""
        return self.t_sent - self.t_capture if self.played else None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "i": self.index,
            "cap": self.t_capture,
            "inf0": self.t_infer_start,
            "inf1": self.t_infer_end,
            "det": self.t_detect,
            "sent": self.t_sent,
            "drop": self.dropped,
        }
        if self.t_kernel:
            out["kern"] = self.t_kernel
        if self.keypoints is not None:
            out["kp"] = np.round(np.asarray(self.keypoints, dtype=np.float64), 2).tolist()
        if self.hits:
            out["hits"] = [dataclasses.asdict(h) for h in self.hits]
        if self.sounds:
            out["snd"] = [list(s) for s in self.sounds]
        return out

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> "TraceRecord":
        kp = obj.get("kp")
        return cls(
            index=int(obj["i"]),
            t_capture=int(obj["cap"]),
            t_kernel=int(obj.get("kern", 0)),
            t_infer_start=int(obj.get("inf0", 0)),
            t_infer_end=int(obj.get("inf1", 0)),
            t_detect=int(obj.get("det", 0)),
            t_sent=int(obj.get("sent", 0)),
            dropped=bool(obj.get("drop", False)),
            keypoints=None if kp is None else np.asarray(kp, dtype=np.float32).reshape(17, 3),
            hits=[_hit_from_json(h) for h in obj.get("hits", [])],
            sounds=[SoundStamp(*(int(v) for v in s)) for s in obj.get("snd", [])],   # traces before issue 15: none
        )


_HIT_FIELDS = {f.name for f in dataclasses.fields(Hit)}


def _hit_from_json(obj: dict[str, Any]) -> Hit:
    return Hit(**{k: v for k, v in obj.items() if k in _HIT_FIELDS})


def trace_header(**fields: Any) -> dict[str, Any]:
    """A trace file's first line: the format, then what was played (source, model, backend, kit, fps...)."""
    return {"lalelu_trace": TRACE_FORMAT, **fields}


class TraceRing:
    """A fixed-size ring with one writer and any number of readers.

    append() is a couple of assignments: it never blocks and never waits on a reader. A reader
    that falls more than `capacity` records behind loses the oldest ones; read_since() tells it
    how many through the sequence numbers (new_seq - seq - len(records) were lost), and a
    TraceCursor keeps that count for it.
    """

    def __init__(self, capacity: int = 2000) -> None:
        if capacity < 1:
            raise ValueError("TraceRing capacity must be at least 1")
        self.capacity = capacity
        self._slots: list[tuple[int, TraceRecord] | None] = [None] * capacity
        self._seq = 0  # number of records ever appended

    @property
    def seq(self) -> int:
        return self._seq

    def append(self, rec: TraceRecord) -> None:
        seq = self._seq
        self._slots[seq % self.capacity] = (seq, rec)  # one atomic store under the GIL
        self._seq = seq + 1

    def read_since(self, seq: int) -> tuple[int, list[TraceRecord]]:
        """Records appended since sequence number `seq` (0 = from the start), and the new cursor."""
        end = self._seq
        start = max(seq, end - self.capacity)
        out: list[TraceRecord] = []
        slots, cap = self._slots, self.capacity
        for s in range(start, end):
            item = slots[s % cap]
            # The writer may have lapped us while we copied: a slot holding another sequence
            # number is a lost record, not a wrong one.
            if item is not None and item[0] == s:
                out.append(item[1])
        return end, out

    def recent(self, n: int) -> list[TraceRecord]:
        """The last n records (fewer if the ring holds fewer)."""
        end = self._seq
        return self.read_since(max(0, end - n))[1]


class TraceCursor:
    """A reader's place in a ring: read() returns the records appended since the last read, and
    `lost` counts those the ring overwrote before they were read."""

    def __init__(self, ring: TraceRing, seq: int | None = None) -> None:
        self.ring = ring
        self.seq = ring.seq if seq is None else seq  # None: from now on
        self.lost = 0

    def read(self) -> list[TraceRecord]:
        new_seq, records = self.ring.read_since(self.seq)
        self.lost += (new_seq - self.seq) - len(records)
        self.seq = new_seq
        return records


class TraceRecorder:
    """Writes every record of a ring to a JSON Lines trace file, off the hot path.

    A thread reads the ring every `poll_s`, writes and flushes what it got (so a kill -9 loses
    nothing already handed to the OS) and fsyncs about once a second (so even a crash of the
    machine loses at most about a second). Records the ring overwrote before they were read
    are counted in `lost`. A write that fails (disk full, a drive pulled out) stops the recording,
    never the caller: `error` says why, and `close()` does not raise.
    """

    def __init__(self, ring: TraceRing, path: str | os.PathLike, header: dict[str, Any],
                 poll_s: float = 0.1, fsync_s: float = 1.0) -> None:
        self.path = Path(path)
        self.written = 0
        self.error: OSError | None = None
        self._poll_s = poll_s
        self._fsync_s = fsync_s
        try:
            self._file = open(self.path, "w", encoding="utf-8")
            self._file.write(json.dumps(trace_header(**header)) + "\n")
            self._file.flush()
        except OSError as exc:
            raise OSError(f"cannot write the trace file {self.path}: {exc.strerror}; "
                          "choose a folder you may write to") from exc
        self._cursor = TraceCursor(ring)  # record from now on
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lalelu-recorder", daemon=True)
        self._thread.start()

    @property
    def lost(self) -> int:
        return self._cursor.lost

    def _drain(self) -> None:
        records = self._cursor.read()
        if records:
            self._file.write("".join(json.dumps(r.to_json(), separators=(",", ":")) + "\n" for r in records))
            self._file.flush()
            self.written += len(records)

    def _run(self) -> None:
        last_sync = time.monotonic()
        try:
            while not self._stop.wait(self._poll_s):
                self._drain()
                if time.monotonic() - last_sync >= self._fsync_s:
                    os.fsync(self._file.fileno())
                    last_sync = time.monotonic()
        except OSError as exc:
            self.error = exc

    def close(self) -> None:
        """Write what is left in the ring, sync and close the file (after a failed write: only close it)."""
        if self._file.closed:
            return
        self._stop.set()
        self._thread.join()
        try:
            if self.error is None:
                self._drain()
                self._file.flush()
                os.fsync(self._file.fileno())
        except OSError as exc:
            self.error = exc
        finally:
            try:
                self._file.close()
            except OSError as exc:   # the buffered rest could not be written either
                self.error = self.error or exc


def read_trace(path: str | os.PathLike) -> tuple[dict[str, Any], list[TraceRecord]]:
    """Read a trace file: (header, records). A torn last line (the writer was killed) is skipped."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise OSError(f"cannot read the trace file {path}: {exc.strerror}") from exc
    lines = text.splitlines()
    if not lines:
        raise LaleluError(f"{path} is empty: record a trace with `lalelu run --headless --record FILE` or the "
                          "window's record button")
    try:
        header = json.loads(lines[0])
    except json.JSONDecodeError:
        header = None
    if not isinstance(header, dict) or "lalelu_trace" not in header:
        raise LaleluError(f"{path} is not a lalelu trace file (no header line); "
                          "record one with `lalelu run --headless --record FILE` or the window's record button")
    records: list[TraceRecord] = []
    for n, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        try:
            records.append(TraceRecord.from_json(json.loads(line)))
        except (json.JSONDecodeError, KeyError, ValueError, TypeError):
            if n == len(lines):
                break  # torn last line of a killed writer
            raise LaleluError(f"{path}, line {n}: not a trace record; the file is damaged")
    return header, records
