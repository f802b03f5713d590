"""Per-frame trace records, the ring that hands them to readers, and the trace-file recorder.

Every frame gets one TraceRecord; each stage stamps its own field with time.monotonic_ns()
(0 = the stage was not reached), so any latency is a subtraction and a recorded trace can be
re-analysed later. The engine's inference thread is the ring's only writer; readers (UI,
recorder, benchmark) never make it wait.
"""

from __future__ import annotations

import dataclasses
import json
import math
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
        """A record from its JSON form; ValueError saying what is wrong with anything else."""
        if not isinstance(obj, dict):
            raise ValueError("not a JSON object")
        kp = obj.get("kp")
        if kp is not None:
            try:
                with np.errstate(over="ignore"):   # a number past float32's range becomes inf, refused below
                    kp = np.asarray(kp, dtype=np.float32).reshape(17, 3)
            except (TypeError, ValueError):
                raise ValueError("'kp' is not 17 keypoints of [x, y, score]") from None
            if not np.isfinite(kp).all():
                raise ValueError("'kp' holds a number that is not finite")
        hits = obj.get("hits", [])
        if not isinstance(hits, list):
            raise ValueError("'hits' is not a list")
        return cls(
            index=_stamp(obj, "i", required=True),
            t_capture=_stamp(obj, "cap", required=True),
            t_kernel=_stamp(obj, "kern"),
            t_infer_start=_stamp(obj, "inf0"),
            t_infer_end=_stamp(obj, "inf1"),
            t_detect=_stamp(obj, "det"),
            t_sent=_stamp(obj, "sent"),
            dropped=bool(obj.get("drop", False)),
            keypoints=kp,
            hits=[_hit_from_json(h) for h in hits],
            sounds=_sounds_from_json(obj.get("snd", [])),   # traces before issue 15: none
        )


def _stamp(obj: dict[str, Any], key: str, required: bool = False) -> int:
    """A non-negative integer field (a frame number, a monotonic_ns stamp)."""
    if key not in obj and not required:
        return 0
    v = obj.get(key)
    if isinstance(v, bool) or not isinstance(v, int) or v < 0 or v >= 2 ** 63:
        raise ValueError(f"'{key}' is {'missing' if key not in obj else repr(v)}, not a count of ns or frames")
    return v


# Hit fields and the types a trace file must give them (ints are accepted where floats are asked).
_HIT_TYPES = {"drum": str, "note": int, "velocity": int, "channel": int, "t_ns": int, "limb": str,
              "speed": float, "x": float, "y": float}
_HIT_REQUIRED = {f.name for f in dataclasses.fields(Hit) if f.default is dataclasses.MISSING}


def _sounds_from_json(items: Any) -> list[SoundStamp]:
    """A record's sound-out stamps: [[frame index, hit number, t_sound ns], ...] (see SoundStamp)."""
    if not isinstance(items, list):
        raise ValueError("'snd' is not a list")
    out = []
    for item in items:
        if not isinstance(item, list) or len(item) != len(SoundStamp._fields) or not all(
                isinstance(v, int) and not isinstance(v, bool) for v in item):
            raise ValueError(f"a sound stamp {item!r} is not {len(SoundStamp._fields)} integers")
        out.append(SoundStamp(*item))
    return out


def _hit_from_json(obj: dict[str, Any]) -> Hit:
    if not isinstance(obj, dict) or not _HIT_REQUIRED <= obj.keys():
        raise ValueError("a hit without its drum, note, velocity, channel, time or limb")
    values = {}
    for key, kind in _HIT_TYPES.items():
        if key not in obj:
            continue
        v = obj[key]
        ok = (isinstance(v, kind) if kind is not float else isinstance(v, (int, float)) and math.isfinite(v))
        if isinstance(v, bool) or not ok:
            raise ValueError(f"a hit's {key!r} is {v!r}")
        values[key] = v
    if not (0 <= values["note"] <= 127 and 0 <= values["velocity"] <= 127 and 0 <= values["channel"] <= 15):
        raise ValueError("a hit's note, velocity or channel is out of MIDI's range")
    return Hit(**values)


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
    """Read a trace file: (header, records). A torn last line (the writer was killed) is skipped; anything
    else that is not a trace (a folder, a missing file, binary data, a damaged line) is a LaleluError that
    says which line and what to do."""
    path = Path(path)
    record_hint = "record one with `lalelu run --headless --record FILE` or the window's record button"
    if path.exists() and not path.is_file() and not path.is_dir():   # a device or a pipe could never end
        raise LaleluError(f"{path} is not a file: give the path of a trace, or {record_hint}")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LaleluError(f"cannot read the trace file {path}: {exc.strerror or exc}; give the path of a trace, "
                          f"or {record_hint}") from None
    lines = data.splitlines()
    if not lines:
        raise LaleluError(f"{path} is empty: {record_hint}")
    try:
        header = json.loads(lines[0].decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        header = None
    if not isinstance(header, dict) or "lalelu_trace" not in header:
        raise LaleluError(f"{path} is not a lalelu trace file (no header line); {record_hint}")
    if header["lalelu_trace"] != TRACE_FORMAT:
        raise LaleluError(f"{path}: trace format {header['lalelu_trace']!r}; this lalelu reads format "
                          f"{TRACE_FORMAT}")
    records: list[TraceRecord] = []
    for n, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        try:
            records.append(TraceRecord.from_json(json.loads(line.decode("utf-8"))))
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:   # JSONDecodeError is a ValueError
            if n == len(lines):
                break  # torn last line of a killed writer
            why = "not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else "not JSON" if isinstance(
                exc, (json.JSONDecodeError, RecursionError)) else str(exc)
            raise LaleluError(f"{path}:{n}: not a trace record ({why}); the file is damaged") from None
    return header, records
