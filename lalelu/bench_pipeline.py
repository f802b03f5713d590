"""`lalelu bench pipeline`: the whole instrument against the scripted drummer, with its hits as the answer key.

Scripted drummer at 100 fps -> MoveNet -> detector -> MIDI and the built-in sound, headless, for 30 s. Reports
end-to-end latency, each hit's latency to its sound (frame ready -> sound out, on a JACK server of the
benchmark's own), what the synth's and OSC's hand-over cost the inference thread, the engine's overhead beyond
inference, drops, and how the hits sent match the script. Two diagnoses come
with it: where the time of the frames over the end-to-end target went, and what the same frames give with
the drummer's true keypoints in place of the pose model's (so a miss is put down to the pose model or not).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator
from typing import Any, NamedTuple, TextIO

import numpy as np

from lalelu import config
from lalelu.core.keypoints import Keypoint
from lalelu.core.limbs import Limb
from lalelu.core.matching import MATCH_WINDOW_NS, Tagged, match_hits
from lalelu.core.messages import Message
from lalelu.engine import DEFAULT_THREADS, Engine, EngineConfig, EngineStats, ScriptClock
from lalelu.engine.driver import EngineRun
from lalelu.engine.view import EngineView
from lalelu.gestures.factory import make_detector
from lalelu.gestures.kit import Kit
from lalelu.jack import JackServer, alsa_sequencer_available, default_server
from lalelu.report import fmt_ms, sound_ns, stage_ns, summarize_ns
from lalelu.sources.synthetic import SyntheticDrummer
from lalelu.trace import TraceRecord

STAMP_TOLERANCE_NS = 1_000_000  # beyond one frame period, for the stamping of frame times
E2E_TARGET_NS = 12_000_000  # issue 3's end-to-end p99 target on the 2-core machine
# At a missed hit: a keypoint farther than this from the drummer's true one (shoulder widths) is lost, and
# the frames looked at are those of its downstroke (at most this long before the hit).
POSE_OFF_BY = 0.25
MISS_LOOKBACK_NS = 150_000_000
JSON_KEYS = ("frames", "drops", "e2e_ms", "overhead_ms", "hits_scripted", "hits_matched", "hits_extra",
             "hits_on_time", "hit_lag_ms", "sound_ms", "hits_sounded")


def scripted_hits_of(clock: ScriptClock, until_ns: int) -> list[Tagged]:
    """Every hit the scripted drummer played until `until_ns` (its script loops), on the monotonic clock."""
    hits = clock.script.hits_between(0.0, (until_ns - clock.t0_ns) / 1e9 + 1.0, loop=True)
    return [Tagged(clock.t0_ns + int(round(h.t_s * 1e9)), h.limb, h.drum) for h in hits]


def sent_hits(played: list[TraceRecord]) -> list[Tagged]:
    """The hits the engine sent, at the capture time of the frame that sent them (when the note went out,
    but for the frame's own latency)."""
    return [Tagged(r.t_capture, h.limb, h.drum) for r in played for h in r.hits]


class Played(NamedTuple):
    matched: int              # scripted strokes played on the right drum
    extra: int                # every other sent hit
    lags: list[int]           # sent minus scripted time of each of those matches, ns
    missed: list[Tagged]      # the scripted strokes not played on the right drum


def played_on_the_right_drum(true: list[Tagged], sent: list[Tagged]) -> Played:
    """The one matching rule (lalelu.core.matching), read as the pipeline reads it: a stroke counts as played
    when its match is on the right drum."""
    matching = match_hits(true, sent, MATCH_WINDOW_NS)
    right = matching.right_drum(true, sent)
    played = {matching.pairs[k][0] for k in right}
    return Played(len(right), len(sent) - len(right), [matching.dt_ns[k] for k in right],
                  [h for i, h in enumerate(true) if i not in played])


def pipeline_results(records: list[TraceRecord], scripted: list[Tagged], fps: float,
                     drummer: SyntheticDrummer | None = None, kit: Kit | None = None,
                     detector: str | None = None) -> dict[str, Any]:
    """The benchmark's figures from the trace records and the script's hits. With the scripted `drummer`
    (its true keypoints) and the `kit` the engine played, also what the same frames give with a perfect pose
    model, and how far the pose model was off at each missed hit."""
    period_ns = int(1e9 / fps)
    played = sorted((r for r in records if r.played), key=lambda r: r.index)
    stages = stage_ns(played)
    e2e = summarize_ns(stages["e2e"])
    overhead = summarize_ns(stages["overhead"])
    inference = summarize_ns(stages["inference"])
    parts = e2e_parts(played)
    own = summarize_ns(parts["own"])
    slow = parts["e2e"] > E2E_TARGET_NS
    sent = sent_hits(played)
    if records:
        first = min(r.t_capture for r in records)
        last = max(r.t_capture for r in records)
        # Only hits the run could have seen: the detector may answer one frame after the stroke's bottom.
        in_run = [h for h in scripted if first <= h.t_ns <= last - period_ns]
    else:
        in_run = []
    matched, extra, lags, missed = played_on_the_right_drum(in_run, sent)
    lag_ms = np.array(lags, np.float64) / 1e6
    def pick(summary: dict, keys: tuple[str, ...]) -> dict[str, float | None]:
        return {k: None if summary[k] is None else round(summary[k], 3) for k in keys}

    def on_time(lags_ns: list[int]) -> int:
        """How many hits were sent from a frame at most one frame period after the scripted time."""
        return sum(1 for lag in lags_ns if lag <= period_ns + STAMP_TOLERANCE_NS)

    def median_ms(values_ns: np.ndarray) -> float | None:
        return round(float(np.median(values_ns)) / 1e6, 3) if len(values_ns) else None

    sound = summarize_ns(sound_ns(records))
    results = {
        "frames": len(records),
        "drops": sum(1 for r in records if r.dropped),
        "e2e_ms": pick(e2e, ("p50", "p99", "max", "std")),
        "overhead_ms": pick(overhead, ("p50", "p99")),
        "inference_ms": pick(inference, ("p50", "p99", "max")),
        "engine_own_ms": pick(own, ("p50", "p99", "max")),
        # The frames over the end-to-end target, and where their time went (medians).
        "over_target": {"frames": int(slow.sum()),
                        **{f"{k}_ms": median_ms(parts[k][slow]) for k in ("inference", "waiting", "own")}},
        "hits_scripted": len(in_run),
        "hits_matched": matched,
        "hits_extra": extra,
        "hits_on_time": on_time(lags),
        "hit_lag_ms": {k: None if not lags else round(float(np.percentile(lag_ms, q)), 1)
                       for k, q in (("p50", 50), ("p95", 95), ("max", 100))},
        "sound_ms": pick(sound, ("p50", "p99", "max")),   # frame ready -> sound out, per hit that sounded
        "hits_sounded": sound["n"],
        "hits_sent": len(sent),
    }
    if drummer is not None:
        true = played_on_the_right_drum(in_run, true_pose_sent(drummer, kit, played, fps, detector))
        results["true_pose"] = {"hits_matched": true.matched, "hits_extra": true.extra,
                                "hits_on_time": on_time(true.lags)}
        results["misses"] = [pose_at_miss(drummer, kit, played, miss) for miss in missed]
    return results


def e2e_parts(played: list[TraceRecord]) -> dict[str, np.ndarray]:
    """Each played frame's end-to-end time (ns, from its second frame on, in index order), split into the
    frame's own inference, waiting for the previous frame's inference to end (the inference thread was
    busy when it came), and the engine's own work (hand-off, detection, MIDI)."""
    pairs = list(zip(played, played[1:]))
    e2e = np.array([r.t_sent - r.t_capture for _, r in pairs], np.int64)
    inference = np.array([r.t_infer_end - r.t_infer_start for _, r in pairs], np.int64)
    waiting = np.array([max(0, prev.t_sent - r.t_capture) for prev, r in pairs], np.int64)
    return {"e2e": e2e, "inference": inference, "waiting": waiting, "own": e2e - inference - waiting}


def true_pose_sent(drummer: SyntheticDrummer, kit: Kit, played: list[TraceRecord], fps: float,
                   kind: str | None = None) -> list[Tagged]:
    """The hits a fresh detector (of the engine's kind) sends when given the scripted drummer's true keypoints on the frames the
    engine played: what the pipeline sends with a perfect pose model."""
    detector = make_detector(kind, kit, fps)
    sent = []
    for r in played:
        true_xy = drummer.keypoints_at(drummer.time_of(r.index))
        keypoints = np.hstack([true_xy, np.ones((len(true_xy), 1))])
        sent.extend(Tagged(r.t_capture, h.limb, h.drum) for h in detector.update(r.t_capture, keypoints))
    return sent


def pose_at_miss(drummer: SyntheticDrummer, kit: Kit, played: list[TraceRecord], miss: Tagged) -> dict[str, Any]:
    """A missed scripted hit, and how the pose model saw the limb that played it in the frames of its
    downstroke: the frames where the keypoint was unseen or more than POSE_OFF_BY shoulder widths from
    the truth, and the largest such distance."""
    t_hit = miss.t_ns
    t_s = (t_hit - drummer.t0_ns) / 1e9
    k = Limb(miss.limb).keypoint
    frames = [r for r in played if t_hit - MISS_LOOKBACK_NS <= r.t_capture <= t_hit and r.keypoints is not None]
    off = []
    for r in frames:
        truth = drummer.keypoints_at(drummer.time_of(r.index))
        shoulders = float(np.linalg.norm(truth[Keypoint.LEFT_SHOULDER] - truth[Keypoint.RIGHT_SHOULDER]))
        seen = r.keypoints[k, 2] >= kit.thresholds.min_score
        off.append(float(np.linalg.norm(r.keypoints[k, :2] - truth[k])) / shoulders if seen else np.inf)
    lost = [d for d in off if d > POSE_OFF_BY]
    return {"t_s": round(t_s, 3), "drum": miss.drum, "limb": str(miss.limb), "frames": len(frames),
            "lost": len(lost), "unseen": sum(1 for d in lost if d == np.inf),
            "worst_off": max((d for d in lost if d != np.inf), default=None)}


@contextlib.contextmanager
def bench_midi_port(midi: bool, notes: list[str], sound: bool = False) -> Iterator[str | None]:
    """The MIDI port name both pipeline benchmarks play into (None: no MIDI). Without an ALSA sequencer, or
    with the built-in sound (measured on JACK), a JACK server of the benchmark's own (dummy driver, period 64
    at 48 kHz), so nobody else's server coming and going disturbs the measurement; it is stopped, and
    JACK_DEFAULT_SERVER restored, at the end."""
    if not midi and not sound:
        yield None
        return
    if alsa_sequencer_available() and not sound:
        yield "lalelu bench"
        return
    try:
        jack = JackServer(name=f"lalelu-bench-{os.getpid()}").start()
    except OSError as exc:
        notes.append(f"no JACK server ({exc}); measuring without "
                     + ("MIDI output" if not sound else "the sound" if alsa_sequencer_available() else
                        "MIDI output and the sound"))
        yield "lalelu bench" if midi and alsa_sequencer_available() else None
        return
    with default_server(jack.name):
        try:
            yield "lalelu bench" if midi else None
        finally:
            jack.stop()


def bench_config(fps: float, model: str, backend: str, threads: int, midi_port: str | None,
                 cores: tuple[int | None, int | None], sound: bool = True, osc: str | None = None,
                 detector: str | None = None) -> EngineConfig:
    """The engine the pipeline benchmarks play: the scripted drummer in real time, looping, on a virtual
    MIDI port of the benchmark's own, the built-in sound on JACK (where its latency is measured), OSC when
    asked, with a ring that holds 10 s between the benchmark's reads."""
    return EngineConfig(source="synthetic", model=model, backend=backend, threads=threads, fps=fps,
                        realtime=True, loop=True, midi_port=midi_port, midi_virtual=True, capture_core=cores[0],
                        inference_core=cores[1], ring_capacity=int(fps * 10) + 100, sound=sound,
                        audio_driver="jack", osc=osc, detector=str(config.resolve("detector", detector)))


def run_pipeline(seconds: float = 30.0, fps: float = 100.0, model: str = "lightning", backend: str = "litert",
                 threads: int = DEFAULT_THREADS, midi: bool = True, cores: tuple[int | None, int | None] = (0, 1),
                 notes: list[str] | None = None, sound: bool = True, osc: str | None = None,
                 detector: str | None = None) -> dict[str, Any]:
    notes = notes if notes is not None else []
    with bench_midi_port(midi, notes, sound) as midi_port:
        engine = Engine(bench_config(fps, model, backend, threads, midi_port, cores, sound, osc, detector))
        run = EngineRun(engine, seconds, keep_records=True)
        sound_out = None
        try:
            run.start()
            said = []
            sound_out = sound_output_of(engine)
            while run.reason is None:
                said += run.step(timeout_s=0.2)
                sound_out = sound_output_of(engine) or sound_out
            said += run.stop()
        finally:
            engine.stop()
    drummer = engine.source if isinstance(engine.source, SyntheticDrummer) else None
    results = played_results(engine, run, said, fps, threads, midi_port is not None, notes, drummer)
    costs = engine.sink_costs_ns()
    results["sink_cost_ms"] = {k: None if v is None else round(v, 4)
                               for k, v in summarize_ns(costs).items() if k in ("p50", "p99", "max")}
    results["sound_output"] = sound_out
    results["osc"] = osc
    return results


def sound_output_of(engine: Engine) -> dict[str, Any] | None:
    """Where the built-in sound played (driver, rate, period, JACK's playback latency, xruns), while it plays."""
    sound = engine.sound
    return None if sound is None else sound.output_info


def played_results(engine: EngineView, run: EngineRun, said: list[Message], fps: float, threads: int, midi: bool,
                   notes: list[str], drummer: SyntheticDrummer | None = None) -> dict[str, Any]:
    """pipeline_results of a finished run, and how it was played (cores, real time, threads, MIDI); what the
    engine said and any trace records the benchmark lost go to notes. With the scripted `drummer` at hand
    (the engine ran in this process), also the diagnoses with its true keypoints."""
    records = run.records
    stats: EngineStats = engine.stats()
    scripted = scripted_hits_of(engine.script_clock(), max((r.t_capture for r in records), default=0))
    notes.extend(str(m) for m in said)
    if run.lost:
        notes.append(f"the benchmark lost {run.lost} trace records")
    results = pipeline_results(records, scripted, fps, drummer, engine.kit, engine.config.detector)
    results.update(cores=stats.cores, realtime=stats.realtime, threads=threads, midi=midi)
    return results


def sound_lines(r: dict[str, Any]) -> list[str]:
    """The sound's latency, and what the synth's and OSC's hand-over cost the inference thread."""
    lines = []
    snd, out = r.get("sound_ms"), r.get("sound_output")
    if snd is not None and r.get("hits_sounded"):
        where = ""
        if out:
            where = (f" ({out['driver']}, period {out['period']} at {out['rate']} Hz, of which JACK's playback "
                     f"latency {out['playback_latency_ms']:.2f} ms; xruns {out['xruns']}, late cycles "
                     f"{out['late_cycles']})")
        lines.append(f"frame ready -> sound out (ms): p50 {fmt_ms(snd['p50'])}  p99 {fmt_ms(snd['p99'])}  "
                     f"max {fmt_ms(snd['max'])}; hits sounded {r['hits_sounded']} of {r.get('hits_sent', '?')}"
                     f"{where}")
    cost = r.get("sink_cost_ms")
    if cost and cost.get("p50") is not None:
        lines.append(f"the synth's and OSC's hand-over on the inference thread (ms per frame): p50 "
                     f"{fmt_ms(cost['p50'], 4)}  p99 {fmt_ms(cost['p99'], 4)}  max {fmt_ms(cost['max'], 4)}"
                     + (f" (OSC to {r['osc']})" if r.get("osc") else " (no OSC)"))
    return lines


def format_pipeline(r: dict[str, Any], seconds: float, fps: float) -> str:
    e2e, ov, inf, own = r["e2e_ms"], r["overhead_ms"], r["inference_ms"], r["engine_own_ms"]
    lag, slow = r["hit_lag_ms"], r["over_target"]
    drop_pct = 100 * r["drops"] / max(r["frames"], 1)
    return "\n".join([
        f"pipeline: scripted drummer at {fps:g} fps, {seconds:g} s, inference threads {r['threads']}, "
        f"cores {r['cores']}, real-time {r['realtime']}, MIDI {'on' if r['midi'] else 'off'}",
        f"frames {r['frames']}, drops {r['drops']} ({drop_pct:.2f} %)",
        f"end to end (ms):  p50 {fmt_ms(e2e['p50'])}  p99 {fmt_ms(e2e['p99'])}  max {fmt_ms(e2e['max'])}  "
        f"jitter (std) {fmt_ms(e2e['std'])}",
        f"inference (ms):   p50 {fmt_ms(inf['p50'])}  p99 {fmt_ms(inf['p99'])}  max {fmt_ms(inf['max'])}",
        f"overhead beyond inference (ms): p50 {fmt_ms(ov['p50'])}  p99 {fmt_ms(ov['p99'])}",
        f"  of which the engine's own (hand-off + detection + MIDI, without waiting for a busy inference "
        f"thread): p50 {fmt_ms(own['p50'])}  p99 {fmt_ms(own['p99'])}  max {fmt_ms(own['max'])}",
        f"over {E2E_TARGET_NS // 1_000_000} ms end to end: {slow['frames']} frames; their medians (ms): "
        f"inference {fmt_ms(slow['inference_ms'])}, waiting for the previous frame's inference "
        f"{fmt_ms(slow['waiting_ms'])}, the engine's own {fmt_ms(slow['own_ms'])}",
        f"hits: scripted {r['hits_scripted']}, matched {r['hits_matched']} (the right drum within "
        f"{MATCH_WINDOW_NS // 1_000_000} ms, same limb), extra {r['hits_extra']}; sent within one frame of the script "
        f"{r['hits_on_time']}; lag behind the script (ms): p50 {fmt_ms(lag['p50'])}  p95 {fmt_ms(lag['p95'])}  "
        f"max {fmt_ms(lag['max'])}",
        *sound_lines(r),
        *pose_lines(r),
    ])


def pose_lines(r: dict[str, Any]) -> list[str]:
    """What a perfect pose model would have given on the same frames, and how the pose model saw each miss."""
    if "true_pose" not in r:
        return []
    true = r["true_pose"]
    lines = [f"  with the drummer's true keypoints instead of the pose model's (same frames, same detector): "
             f"matched {true['hits_matched']}, extra {true['hits_extra']}; sent within one frame of the script "
             f"{true['hits_on_time']}"]
    for m in r["misses"]:
        limb_point = m["limb"].replace("hand", "wrist").replace("foot", "ankle").replace("_", " ")
        worst = "" if m["worst_off"] is None else f", up to {m['worst_off']:.1f} shoulder widths off"
        lines.append(f"  missed {m['t_s']:.3f} s {m['drum']} ({m['limb'].replace('_', ' ')}): the pose model "
                     f"lost the {limb_point} in {m['lost']} of the {m['frames']} frames before it "
                     f"({m['unseen']} unseen{worst})")
    return lines


def bench_pipeline_main(seconds: float = 30.0, as_json: bool = False, fps: float = 100.0, threads: int = DEFAULT_THREADS,
                        model: str = "lightning", backend: str = "litert",
                        cores: tuple[int | None, int | None] = (0, 1), out: TextIO | None = None,
                        sound: bool = True, osc: str | None = None, detector: str | None = None) -> int:
    out = out or sys.stdout
    notes: list[str] = []
    results = run_pipeline(seconds=seconds, fps=fps, model=model, backend=backend, threads=threads,
                           cores=cores, notes=notes, sound=sound, osc=osc, detector=detector)
    for note in notes:
        print(note, file=sys.stderr)
    if as_json:
        print(json.dumps({k: results[k] for k in JSON_KEYS + ("over_target", "true_pose", "sink_cost_ms",
                                                            "sound_output")}), file=out)
    else:
        print(format_pipeline(results, seconds, fps), file=out)
    return 0
