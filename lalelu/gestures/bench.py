"""`lalelu bench gestures`: the detector against scripted sequences whose hits are known."""

from __future__ import annotations

import time
from dataclasses import dataclass

from lalelu.core.hits import Hit
from lalelu.core.matching import Tagged, match_hits
from lalelu.gestures.detector import Detector
from lalelu.gestures.kit import Kit
from lalelu.gestures.scenarios import NOISE_LEVELS, Scenario, conditions
from lalelu.report import p95_abs


@dataclass
class Score:
    condition: str
    noise: str
    true_hits: int
    detected: int
    matched: int
    wrong_drum: int
    silent_hits: int
    frame_ms: float
    timing_errors_ms: list[float]
    sent_errors_ms: list[float]     # frame that emitted the hit minus the true bottom: when the note sounds

    @property
    def precision(self) -> float:
        played = self.detected - self.silent_hits
        return self.matched / played if played else (1.0 if not self.true_hits else 0.0)

    @property
    def recall(self) -> float:
        return self.matched / self.true_hits if self.true_hits else 1.0

    @property
    def late(self) -> int:
        """Matched hits emitted more than a frame after their true bottom."""
        return sum(1 for e in self.sent_errors_ms if e > self.frame_ms)

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def row(self) -> dict:
        errs = [abs(e) for e in self.timing_errors_ms]
        mean = sum(errs) / len(errs) if errs else 0.0
        p95 = p95_abs(errs)
        return {"condition": self.condition, "noise": self.noise,
                "precision": round(self.precision, 4), "recall": round(self.recall, 4), "f1": round(self.f1, 4),
                "timing_mean_ms": round(mean, 2), "timing_p95_ms": round(p95, 2),
                "wrong_drum": round(self.wrong_drum / self.matched, 4) if self.matched else 0.0,
                "silent_hits": self.silent_hits,
                "sent_within_frame": round(sum(1 for e in self.sent_errors_ms if abs(e) <= self.frame_ms)
                                           / len(self.sent_errors_ms), 4) if self.sent_errors_ms else 1.0}


def run_scenario(scenario: Scenario, kit: Kit) -> tuple[list[Hit], list[int]]:
    """Play a scenario to a fresh detector; returns the hits and the frame time each was emitted at."""
    det = Detector(kit, fps=scenario.fps)
    hits, emitted = [], []
    for t_ns, kp in zip(scenario.times_ns, scenario.keypoints):
        for h in det.update(t_ns, kp):
            hits.append(h)
            emitted.append(t_ns)
    return hits, emitted


def score(scenario: Scenario, hits: list[Hit], emitted: list[int] | None = None) -> Score:
    silent = [any(a <= h.t_ns <= b for a, b in scenario.silent) for h in hits]
    playing = [i for i, quiet in enumerate(silent) if not quiet]
    true = [Tagged(h.t_ns, h.limb, h.drum) for h in scenario.hits]
    played = [Tagged(hits[i].t_ns, hits[i].limb, hits[i].drum) for i in playing]
    matching = match_hits(true, played)
    errors = [dt / 1e6 for dt in matching.dt_ns]
    sent = ([(emitted[playing[j]] - true[i].t_ns) / 1e6 for i, j in matching.pairs] if emitted is not None else [])
    frame_ms = 1e3 / scenario.fps + 0.5     # the scenarios' frame times jitter by up to 0.3 ms
    return Score(scenario.name, scenario.noise, len(scenario.hits), len(hits), len(matching.pairs),
                 matching.wrong_drum(true, played), sum(silent), frame_ms, errors, sent)


def run_bench(kit: Kit, noises: tuple[str, ...] = tuple(NOISE_LEVELS), seconds: float = 8.0, seed: int = 0,
              fps: float = 100.0) -> list[dict]:
    rows = []
    for noise in noises:
        for sc in conditions(kit, noise, seconds, seed, fps):
            t0 = time.perf_counter_ns()
            hits, emitted = run_scenario(sc, kit)
            elapsed = time.perf_counter_ns() - t0
            scored = score(sc, hits, emitted)
            row = scored.row()
            row["detector_us_per_frame"] = round(elapsed / 1e3 / max(1, len(sc.times_ns)), 1)
            row["late_emits"] = scored.late
            rows.append(row)
    return rows


def format_table(rows: list[dict]) -> str:
    head = f"{'condition':32s} {'noise':>9s} {'prec':>6s} {'recall':>6s} {'F1':>6s} {'t_mean':>7s} {'t_p95':>7s} " \
           f"{'wrong':>6s} {'silent':>6s} {'late':>5s} {'1frame':>6s}"
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(f"{r['condition']:32s} {r['noise']:>9s} {r['precision']:6.3f} {r['recall']:6.3f} {r['f1']:6.3f} "
                     f"{r['timing_mean_ms']:7.2f} {r['timing_p95_ms']:7.2f} {r['wrong_drum']:6.3f} "
                     f"{r['silent_hits']:6d} {r.get('late_emits', 0):5d} {r['sent_within_frame']:6.3f}")
    return "\n".join(lines)


def summary(rows: list[dict]) -> dict[str, dict]:
    """Per noise level: F1 over the playing conditions (worst), p95 timing (worst), silent hits (sum)."""
    out: dict[str, dict] = {}
    for r in rows:
        s = out.setdefault(r["noise"], {"f1_min": 1.0, "timing_p95_max_ms": 0.0, "silent_hits": 0, "wrong_max": 0.0,
                                        "sent_within_frame_min": 1.0})
        if not r["condition"].startswith("silent"):
            s["f1_min"] = min(s["f1_min"], r["f1"])
            s["sent_within_frame_min"] = min(s["sent_within_frame_min"], r["sent_within_frame"])
            s["timing_p95_max_ms"] = max(s["timing_p95_max_ms"], r["timing_p95_ms"])
            s["wrong_max"] = max(s["wrong_max"], r["wrong_drum"])
        s["silent_hits"] += r["silent_hits"]
    return out
