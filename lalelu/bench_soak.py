"""`lalelu bench soak`: the whole instrument played for a long time, to show that nothing grows or drifts.

The scripted drummer at 100 fps -> MoveNet -> detector -> MIDI on a JACK server of the benchmark's own, with a
MIDI receiver listening, for N minutes. Each minute: end-to-end latency p50 and p99, drops, and the scripted hits
matched (lalelu.core.matching, the pipeline benchmark's rule). At the end: the process's RSS growth per hour
after the warm-up (a least-squares slope over samples every 10 s), e2e p99 of the first and the last minutes side
by side, and the notes left hanging at the receiver (a note-on without its note-off).

The benchmark itself keeps fixed memory: one latency histogram per minute in a ring allocated at the start, the
hits only until they are matched, and running sums for the slope; so what it measures is the instrument's.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any, TextIO

import psutil

from lalelu.bench_pipeline import bench_config
from lalelu.core.matching import MATCH_WINDOW_NS, Tagged, match_hits
from lalelu.engine import Engine
from lalelu.engine.driver import EngineRun
from lalelu.jack import JackServer, default_server
from lalelu.report import LatencyHistogram, fmt_ms
from lalelu.trace import TraceRecord

MINUTE_NS = 60_000_000_000
RSS_EVERY_S = 10.0
SETTLE_NS = 1_000_000_000     # a scripted hit is judged this long after its time (its frame has been played)
CLOSE_AFTER_NS = 5_000_000_000   # a minute is closed this long after its end: its last records and hits are in
COMPARE_MINUTES = 10          # e2e p99 of the first and the last this many minutes (a third of a shorter run)


class StreamMatcher:
    """lalelu.core.matching's rule (each scripted hit, in time order, takes the nearest unused played hit of
    its limb within the window) applied as hits come, so that an hour of hits is never held at once. A
    scripted hit is settled once `now` is SETTLE_NS past it; every played hit that could match it is in by then.
    Gives the same pairs as one match_hits call over everything."""

    def __init__(self, window_ns: int = MATCH_WINDOW_NS) -> None:
        self.window_ns = window_ns
        self.scripted: list[Tagged] = []
        self.played: list[Tagged] = []

    def settle(self, now_ns: int) -> tuple[list[Tagged], list[Tagged], list[Tagged]]:
        """(scripted hits played on the right drum, scripted hits missed, played hits that are extra), of
        those settled now."""
        cutoff = now_ns - SETTLE_NS
        ready = [h for h in self.scripted if h.t_ns < cutoff]
        if not ready and not self.played:
            return [], [], []
        self.scripted = self.scripted[len(ready):]
        # played hits beyond cutoff + window cannot match a ready hit; they wait for the next ones
        candidates = [p for p in self.played if p.t_ns <= cutoff + self.window_ns]
        later = [p for p in self.played if p.t_ns > cutoff + self.window_ns]
        matching = match_hits(ready, candidates, self.window_ns)
        right = {matching.pairs[k] for k in matching.right_drum(ready, candidates)}
        played_right = {j for _, j in right}
        matched = [ready[i] for i, _ in sorted(right)]
        matched_set = {i for i, _ in right}
        missed = [h for i, h in enumerate(ready) if i not in matched_set]
        used = {j for _, j in matching.pairs}
        # a played hit matched on the wrong drum is extra; an unused one may still match a later scripted
        # hit unless it is older than any of them could reach
        extra = [p for j, p in enumerate(candidates) if j in used and j not in played_right]
        unused = [p for j, p in enumerate(candidates) if j not in used]
        extra += [p for p in unused if p.t_ns < cutoff - self.window_ns]
        self.played = [p for p in unused if p.t_ns >= cutoff - self.window_ns] + later
        return matched, missed, extra


@dataclasses.dataclass
class Minute:
    """One minute of the soak."""

    index: int
    frames: int = 0
    drops: int = 0
    scripted: int = 0
    matched: int = 0
    extra: int = 0
    rss_mb: float = 0.0
    partial: bool = False           # the run's last, unfinished minute: left out of the first/last comparison
    e2e: dict[str, Any] = dataclasses.field(default_factory=dict)


class NoteCounter:
    """A JACK MIDI input connected to the benchmark's port: counts note-ons and the notes still sounding
    (a note-on whose note-off has not come)."""

    def __init__(self, port_fragment: str) -> None:
        import rtmidi

        self.note_ons = 0
        self.sounding: set[tuple[int, int]] = set()
        self._lock = threading.Lock()
        self.port = rtmidi.MidiIn(rtmidi.API_UNIX_JACK, "lalelu soak receiver")
        names = self.port.get_ports()
        index = next((i for i, name in enumerate(names) if port_fragment in name), None)
        if index is None:
            self.port.delete()
            raise OSError(f"no JACK MIDI port {port_fragment!r} to listen to (ports: {names})")
        self.port.set_callback(self._on_message)
        self.port.open_port(index, "in")

    def _on_message(self, event, _data) -> None:
        status, *rest = event[0]
        if len(rest) < 2:
            return
        key = (status & 0x0F, rest[0])
        with self._lock:
            if status & 0xF0 == 0x90 and rest[1] > 0:
                self.note_ons += 1
                self.sounding.add(key)
            elif status & 0xF0 == 0x80 or status & 0xF0 == 0x90:
                self.sounding.discard(key)

    def close(self) -> None:
        self.port.close_port()
        self.port.delete()


class Soak:
    """What the soak measures, fed with the engine's trace records as they come (EngineRun's on_records)."""

    def __init__(self, t0_ns: int, compare_minutes: int, fps: float) -> None:
        self.t0_ns = t0_ns
        self.fps = fps
        self.compare = compare_minutes
        self.minutes: list[Minute] = []        # the finished ones (a few numbers each)
        self.open: dict[int, Minute] = {}
        # one histogram per open minute, and a ring of the last `compare` finished ones, all made now
        self._spare = [LatencyHistogram() for _ in range(compare_minutes + 3)]
        self._hist: dict[int, LatencyHistogram] = {}
        self._recent: list[LatencyHistogram] = []
        self.first = LatencyHistogram()        # the first `compare` minutes together
        self.total = LatencyHistogram()
        self.matcher = StreamMatcher()
        self._closed_upto = 0                  # minutes before this one are closed
        self._rss: list[float] = [0.0] * 5     # running sums for the slope: n, t, r, tt, tr
        self.rss_first_mb = self.rss_last_mb = 0.0

    def minute_of(self, t_ns: int) -> int:
        """The minute `t_ns` falls in; one that came too late for its own (already closed) counts in the next."""
        return max(self._closed_upto, (t_ns - self.t0_ns) // MINUTE_NS)

    def _minute(self, m: int) -> Minute:
        if m not in self.open:
            self.open[m] = Minute(m)
            hist = self._spare.pop() if self._spare else LatencyHistogram()
            hist.reset()
            self._hist[m] = hist
        return self.open[m]

    def add_records(self, records: list[TraceRecord]) -> None:
        for r in records:
            minute = self._minute(self.minute_of(r.t_capture))
            if r.dropped:
                minute.drops += 1
                continue
            minute.frames += 1
            e2e = r.e2e_ns
            if e2e is not None:
                self._hist[minute.index].add(e2e)
            for h in r.hits:
                self.matcher.played.append(Tagged(r.t_capture, h.limb, h.drum))

    def add_scripted(self, hits: list[Tagged]) -> None:
        self.matcher.scripted.extend(hits)

    def sample_rss(self, elapsed_s: float, rss_mb: float, warmup_s: float) -> None:
        self.rss_last_mb = rss_mb
        if elapsed_s < warmup_s:
            return
        if not self._rss[0]:
            self.rss_first_mb = rss_mb
        for k, v in enumerate((1.0, elapsed_s, rss_mb, elapsed_s * elapsed_s, elapsed_s * rss_mb)):
            self._rss[k] += v

    def rss_growth_mb_per_hour(self) -> float | None:
        n, t, r, tt, tr = self._rss
        if n < 3 or n * tt - t * t <= 0:
            return None
        return (n * tr - t * r) / (n * tt - t * t) * 3600.0

    def settle(self, now_ns: int, final: bool = False) -> list[Minute]:
        """Judge the hits that can be judged; close the minutes that are over. Returns those closed now."""
        matched, missed, extra = self.matcher.settle(now_ns + (10 * SETTLE_NS if final else 0))
        for h in matched:
            m = self._minute(self.minute_of(h.t_ns))
            m.scripted += 1
            m.matched += 1
        for h in missed:
            self._minute(self.minute_of(h.t_ns)).scripted += 1
        for h in extra:
            self._minute(self.minute_of(h.t_ns)).extra += 1
        closed = []
        for m in sorted(self.open):
            # closed once its records have been read (each step reads them) and its hits judged
            if not final and self.t0_ns + (m + 1) * MINUTE_NS + CLOSE_AFTER_NS > now_ns:
                break
            closed.append(self._close(m, final))
        return closed

    def _close(self, m: int, final: bool) -> Minute:
        self._closed_upto = max(self._closed_upto, m + 1)
        minute = self.open.pop(m)
        hist = self._hist.pop(m)
        minute.e2e = {k: hist.summary()[k] for k in ("n", "p50", "p99", "max")}
        minute.rss_mb = self.rss_last_mb
        minute.partial = final and minute.frames + minute.drops < 0.9 * self.fps * 60
        self.total.merge(hist)
        if minute.partial:
            self._spare.append(hist)
        else:
            if m < self.compare:
                self.first.merge(hist)
            self._recent.append(hist)
            if len(self._recent) > self.compare:
                self._spare.append(self._recent.pop(0))
        self.minutes.append(minute)
        return minute

    def last(self) -> LatencyHistogram:
        pooled = LatencyHistogram()
        for hist in self._recent:
            pooled.merge(hist)
        return pooled


@contextlib.contextmanager
def soak_midi(notes: list[str]) -> Iterator[str | None]:
    """A JACK server of the soak's own (nobody else's server coming and going disturbs it); None without jackd."""
    try:
        jack = JackServer(name=f"lalelu-soak-{os.getpid()}").start()
    except OSError as exc:
        notes.append(f"no JACK server ({exc}); soaking without MIDI output")
        yield None
        return
    with default_server(jack.name):
        try:
            yield "lalelu soak"
        finally:
            jack.stop()


def minute_line(m: Minute) -> str:
    e2e = m.e2e
    total = m.frames + m.drops
    return (f"minute {m.index + 1:3d}: e2e p50 {fmt_ms(e2e['p50'])} ms  p99 {fmt_ms(e2e['p99'])} ms  "
            f"max {fmt_ms(e2e['max'])} ms  frames {m.frames}  drops {m.drops} "
            f"({100 * m.drops / max(total, 1):.2f} %)  hits {m.matched}/{m.scripted} matched, {m.extra} extra  "
            f"RSS {m.rss_mb:.1f} MB")


def run_soak(minutes: float, fps: float = 100.0, model: str = "lightning", backend: str = "litert",
             threads: int = 2, cores: tuple[int | None, int | None] = (0, 1), warmup_minutes: float = 1.0,
             say=print) -> dict[str, Any]:
    notes: list[str] = []
    process = psutil.Process()
    compare = max(1, min(COMPARE_MINUTES, int(minutes // 3)))
    rss_every_s = min(RSS_EVERY_S, minutes * 60.0 / 20)   # a short soak samples more often
    with soak_midi(notes) as port:
        config = dataclasses.replace(bench_config(fps, model, backend, threads, port, cores),
                                     midi_backend="jack" if port else "auto")
        engine = Engine(config)
        soak: Soak | None = None
        run = EngineRun(engine, minutes * 60.0, on_records=lambda records: soak.add_records(records))
        counter = None
        try:
            engine.start()
            soak = Soak(engine.started_ns, compare, fps)
            run.attach()
            if port is not None:
                if not engine.midi.wait_connected(5.0):
                    notes.append(f"MIDI did not connect: {engine.midi.status}")
                try:
                    counter = NoteCounter(port)
                except OSError as exc:
                    notes.append(f"hanging notes not measured: {exc}")
            clock = engine.script_clock()
            scripted_until_s = 0.0
            next_rss = 0.0
            while run.reason is None:
                notes.extend(str(m) for m in run.step(timeout_s=1.0))
                now = time.monotonic_ns()
                until_s = (now - clock.t0_ns) / 1e9
                soak.add_scripted([Tagged(clock.t0_ns + int(round(h.t_s * 1e9)), h.limb, h.drum)
                                   for h in clock.script.hits_between(scripted_until_s, until_s, loop=True)])
                scripted_until_s = until_s
                if run.elapsed_s >= next_rss:
                    soak.sample_rss(run.elapsed_s, process.memory_info().rss / 1e6, warmup_minutes * 60.0)
                    next_rss += rss_every_s
                for minute in soak.settle(now):
                    say(minute_line(minute))
            stopped_ns = time.monotonic_ns()
            notes.extend(str(m) for m in run.stop())
            # only scripted hits the run could play: up to the last frame's time
            soak.matcher.scripted = [h for h in soak.matcher.scripted if h.t_ns <= stopped_ns - MATCH_WINDOW_NS]
            for minute in soak.settle(stopped_ns, final=True):
                if minute.frames + minute.drops:
                    say(minute_line(minute) + ("  (part of a minute)" if minute.partial else ""))
        finally:
            engine.stop()
            if counter is not None:
                time.sleep(0.1)   # the last note-offs cross JACK
                counter.close()
    first, last = soak.first.summary(), soak.last().summary()
    total = soak.total.summary()
    rows = [m for m in soak.minutes if m.frames + m.drops]
    return {
        "minutes": round(run.elapsed_s / 60.0, 2),
        "fps": fps,
        "frames": sum(m.frames for m in rows),
        "drops": sum(m.drops for m in rows),
        "e2e_ms": {k: total[k] for k in ("p50", "p99", "max", "std")},
        "compare_minutes": compare,
        "e2e_p99_first_ms": first["p99"],
        "e2e_p99_last_ms": last["p99"],
        "hits_scripted": sum(m.scripted for m in rows),
        "hits_matched": sum(m.matched for m in rows),
        "hits_extra": sum(m.extra for m in rows),
        "rss_first_mb": round(soak.rss_first_mb, 1),
        "rss_last_mb": round(soak.rss_last_mb, 1),
        "rss_growth_mb_per_hour": soak.rss_growth_mb_per_hour(),
        "warmup_minutes": warmup_minutes,
        "rss_every_s": rss_every_s,
        "notes_received": counter.note_ons if counter is not None else None,
        "notes_hanging": len(counter.sounding) if counter is not None else None,
        "per_minute": [dataclasses.asdict(m) for m in rows],
        "notes": notes,
    }


def format_soak(r: dict[str, Any]) -> str:
    growth = r["rss_growth_mb_per_hour"]
    first, last = r["e2e_p99_first_ms"], r["e2e_p99_last_ms"]
    change = f"{100 * (last / first - 1):+.1f} %" if first and last else "-"
    total = r["frames"] + r["drops"]
    hanging = "not measured" if r["notes_hanging"] is None else (
        f"{r['notes_hanging']} (of {r['notes_received']} note-ons received)")
    return "\n".join([
        f"soak: scripted drummer at {r['fps']:g} fps for {r['minutes']:g} min",
        f"frames {r['frames']}, drops {r['drops']} ({100 * r['drops'] / max(total, 1):.3f} %)",
        f"end to end (ms): p50 {fmt_ms(r['e2e_ms']['p50'])}  p99 {fmt_ms(r['e2e_ms']['p99'])}  "
        f"max {fmt_ms(r['e2e_ms']['max'])}  jitter (std) {fmt_ms(r['e2e_ms']['std'])}",
        f"e2e p99, first {r['compare_minutes']} min {fmt_ms(first)} ms, last {r['compare_minutes']} min "
        f"{fmt_ms(last)} ms ({change})",
        f"hits: scripted {r['hits_scripted']}, matched {r['hits_matched']}, extra {r['hits_extra']}",
        f"RSS {r['rss_first_mb']:.1f} MB after the {r['warmup_minutes']:g} min warm-up, {r['rss_last_mb']:.1f} MB at "
        f"the end; growth {'-' if growth is None else f'{growth:+.2f}'} MB per hour (least squares, samples every "
        f"{r['rss_every_s']:g} s)",
        f"notes hanging at the receiver: {hanging}",
    ])


def bench_soak_main(minutes: float, fps: float, model: str, backend: str, threads: int,
                    cores: tuple[int | None, int | None], warmup_minutes: float, as_json: bool = False,
                    out: TextIO | None = None) -> int:
    out = out or sys.stdout
    say = (lambda line: print(line, file=sys.stderr, flush=True)) if as_json else (
        lambda line: print(line, file=out, flush=True))
    r = run_soak(minutes, fps=fps, model=model, backend=backend, threads=threads, cores=cores,
                 warmup_minutes=warmup_minutes, say=say)
    for note in r["notes"]:
        print(note, file=sys.stderr)
    if as_json:
        print(json.dumps({k: v for k, v in r.items() if k != "notes"}), file=out)
    else:
        print(format_soak(r), file=out)
    return 0
