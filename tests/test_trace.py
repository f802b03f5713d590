"""Trace records, the ring, the recorder (also under kill -9) and `lalelu report`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from lalelu.errors import LaleluError
from lalelu.core.hits import Hit
from lalelu.report import format_report, latency_stats, plot_trace, report_main
from lalelu.trace import TraceRecord, TraceRecorder, TraceRing, read_trace

REPO = Path(__file__).resolve().parents[1]


def make_record(i: int, t0: int = 1_000_000_000, dropped: bool = False, hits: bool = False) -> TraceRecord:
    cap = t0 + i * 10_000_000
    if dropped:
        return TraceRecord(index=i, t_capture=cap, dropped=True)
    kp = np.arange(51, dtype=np.float32).reshape(17, 3) + i
    hit_list = [Hit("snare", 38, 100, 9, cap, "right_hand", 3.5, 0.25, 1.5)] if hits else []
    # wait 0.2 ms, inference 8 ms, detection 0.1 ms, MIDI 0.05 ms
    return TraceRecord(index=i, t_capture=cap, t_infer_start=cap + 200_000, t_infer_end=cap + 8_200_000,
                       t_detect=cap + 8_300_000, t_sent=cap + 8_350_000, keypoints=kp, hits=hit_list)


def test_ring_reads_in_order_and_counts_what_a_slow_reader_lost() -> None:
    ring = TraceRing(capacity=8)
    for i in range(5):
        ring.append(make_record(i))
    seq, got = ring.read_since(0)
    assert seq == 5 and [r.index for r in got] == [0, 1, 2, 3, 4]
    for i in range(5, 20):
        ring.append(make_record(i))
    new_seq, got = ring.read_since(seq)
    assert new_seq == 20
    assert [r.index for r in got] == list(range(12, 20))  # the newest `capacity` records
    assert (new_seq - seq) - len(got) == 7  # what the reader lost, by the sequence numbers
    assert [r.index for r in ring.recent(3)] == [17, 18, 19]
    assert ring.read_since(new_seq) == (20, [])


def test_record_json_round_trip_keeps_stamps_keypoints_and_hits() -> None:
    rec = make_record(3, hits=True)
    back = TraceRecord.from_json(json.loads(json.dumps(rec.to_json())))
    assert (back.index, back.t_capture, back.t_infer_start, back.t_infer_end, back.t_detect, back.t_sent) == (
        rec.index, rec.t_capture, rec.t_infer_start, rec.t_infer_end, rec.t_detect, rec.t_sent)
    assert back.dropped is False
    np.testing.assert_allclose(back.keypoints, rec.keypoints, atol=0.01)
    assert back.hits == rec.hits
    assert back.e2e_ns == 8_350_000
    dropped = TraceRecord.from_json(json.loads(json.dumps(make_record(4, dropped=True).to_json())))
    assert dropped.dropped and dropped.keypoints is None and dropped.e2e_ns is None


def test_recorder_writes_every_record_and_read_trace_returns_them(tmp_path: Path) -> None:
    ring = TraceRing(capacity=1000)
    path = tmp_path / "trace.jsonl"
    recorder = TraceRecorder(ring, path, {"source": "test", "model": "m", "backend": "b", "kit": "default"},
                             poll_s=0.01)
    for i in range(300):
        ring.append(make_record(i, dropped=(i % 50 == 7), hits=(i % 40 == 0)))
        if i % 100 == 0:
            time.sleep(0.03)
    recorder.close()
    header, records = read_trace(path)
    assert header["lalelu_trace"] == 1 and header["source"] == "test"
    assert [r.index for r in records] == list(range(300))
    assert recorder.lost == 0 and recorder.written == 300
    assert sum(r.dropped for r in records) == 6
    assert sum(len(r.hits) for r in records) == 8


def test_a_full_disk_stops_the_recording_not_the_engine(tmp_path: Path) -> None:
    """The trace file's disk fills up mid-performance (the file is swapped for /dev/full, where every write
    fails with ENOSPC): the recorder stops and says why, closing does not raise, and the engine, playing the
    scripted drummer all along, says so and plays on."""
    from lalelu.engine import Engine, EngineConfig
    from lalelu.gestures.kit import load_kit
    from lalelu.sources.synthetic import SyntheticDrummer, TruePose

    def eventually(condition) -> None:     # a deadline for a hang, not a speed check
        deadline = time.monotonic() + 60
        while not condition():
            assert time.monotonic() < deadline
            time.sleep(0.01)

    kit = load_kit()
    drummer = SyntheticDrummer(kit=kit, fps=50.0, size=(320, 240), loop=True)
    engine = Engine(EngineConfig(midi_port=None, capture_core=None, inference_core=None, rt_priority=None,
                                 record=str(tmp_path / "take.jsonl")), source=drummer, estimator=TruePose(drummer))
    engine.start()
    try:
        recorder = engine._recorder
        eventually(lambda: recorder.written >= 5)
        recorder._file.close()
        recorder._file = open("/dev/full", "w", encoding="utf-8")
        eventually(lambda: recorder.error is not None)
        assert "No space left on device" in str(recorder.error)
        messages = [str(m) for m in engine.messages()]
        assert any("recording to" in m and "stopped: " in m and "play goes on" in m for m in messages), messages
        assert engine.recording_path is None
        played = engine.frames_processed
        eventually(lambda: engine.frames_processed > played + 10)     # play goes on
        assert engine.running and engine.error is None
    finally:
        engine.stop()
    written = read_trace(tmp_path / "take.jsonl")[1]
    indices = [r.index for r in written]       # what was written before the disk filled is readable, once
    assert len(indices) >= 5 and len(set(indices)) == len(indices)


def test_read_trace_skips_a_torn_last_line_and_rejects_other_files(tmp_path: Path) -> None:
    good = tmp_path / "torn.jsonl"
    lines = [json.dumps({"lalelu_trace": 1})] + [json.dumps(make_record(i).to_json()) for i in range(3)]
    good.write_text("\n".join(lines) + "\n" + lines[1][:20])  # a writer killed mid-line
    header, records = read_trace(good)
    assert len(records) == 3
    bad = tmp_path / "other.txt"
    bad.write_text("hello\n")
    with pytest.raises(LaleluError, match="not a lalelu trace"):
        read_trace(bad)


def test_report_statistics_and_plot(tmp_path: Path) -> None:
    records = [make_record(i, dropped=(i == 5), hits=(i == 10)) for i in range(100)]
    stats = latency_stats(records)
    assert stats["frames"] == 100 and stats["drops"] == 1 and stats["hits"] == 1
    e2e = stats["stages"]["e2e"]
    assert e2e["p50"] == pytest.approx(8.35) and e2e["max"] == pytest.approx(8.35)
    assert e2e["std"] == pytest.approx(0.0, abs=1e-9)
    assert stats["stages"]["inference"]["p99"] == pytest.approx(8.0)
    assert stats["stages"]["overhead"]["p99"] == pytest.approx(0.35)
    assert stats["frame_interval"]["p50"] == pytest.approx(10.0)
    text = format_report(stats, {"source": "synthetic"})
    assert "e2e" in text and "8.35" in text and "dropped 1" in text
    out = tmp_path / "plot.png"
    plot_trace(records, out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 10_000


def test_kill_9_loses_only_what_the_recorder_had_not_yet_written(tmp_path: Path) -> None:
    """A process recording 100 records a second is killed with SIGKILL: every record its recorder had written
    (handed to the OS, every 0.1 s while recording, not at the end) is in the file, in order, nothing missing
    in between. How much time the lost tail spans is printed (a figure: it depends on the machine)."""
    path = tmp_path / "killed.jsonl"
    child = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(REPO)!r})
        from lalelu.trace import TraceRecord, TraceRecorder, TraceRing
        ring = TraceRing(1000)
        rec = TraceRecorder(ring, {str(path)!r}, {{"source": "kill test"}})
        print("ready", flush=True)
        i = 0
        while True:
            t = time.monotonic_ns()
            ring.append(TraceRecord(index=i, t_capture=t, t_infer_start=t, t_infer_end=t, t_detect=t, t_sent=t))
            i += 1
            print(rec.written, flush=True)
            time.sleep(0.01)
    """)
    proc = subprocess.Popen([sys.executable, "-c", child], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        written = 0
        while written < 150:                       # the recorder has written while recording
            written = int(proc.stdout.readline())
        killed_at = time.monotonic_ns()
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(10)
    header, records = read_trace(path)
    assert header["source"] == "kill test"
    assert len(records) >= written
    assert [r.index for r in records] == list(range(len(records)))  # nothing missing in between
    print(f"\nkill -9 lost the last {(killed_at - records[-1].t_capture) / 1e6:.0f} ms of records")


def test_report_command_prints_the_table(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    ring = TraceRing(100)
    path = tmp_path / "t.jsonl"
    recorder = TraceRecorder(ring, path, {"source": "synthetic", "model": "lightning"})
    for i in range(50):
        ring.append(make_record(i))
    recorder.close()
    assert report_main(str(path), plot=str(tmp_path / "p.png")) == 0
    out = capsys.readouterr().out
    assert "frames 50" in out and "overhead" in out and "p.png" in out
    assert (tmp_path / "p.png").exists()
