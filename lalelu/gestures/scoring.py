"""Scoring a detector's hits against known strokes: what the corpus benchmark and the real take report.

A detected hit matches a true stroke of the same limb when the time it states (Hit.t_ns, the detector's
estimate of the impact) is within the tolerance of the stroke's impact; each is used at most once, the
closest pairs first. The tolerance is one frame period (the project's standard; a detector that is right
to within a frame could not be more right at that frame rate) or a wider one (the real take's +-67 ms,
the peers' +-120 ms). Besides precision, recall and F1 it says where the extras were (silence, the top of
a backswing, a drop to rest), how many first strokes after rest were found, how long after the true impact
each matched note was sent (the frame the detector returned it on), and how well the velocity follows the
stroke's true impact speed (Spearman's rank correlation).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

JITTER_NS = 500_000            # frame times jitter by up to +-0.3 ms in the corpus: half a millisecond of slack


@dataclass(frozen=True)
class TrueStroke:
    t_ns: int                  # the impact (the bottom of the stroke)
    limb: str                  # right_hand | left_hand | right_foot | left_foot
    drum: str = ""             # "" where the truth does not say (the real take)
    speed: float = math.nan    # true downward speed at the impact, shoulder widths per second
    first_after_rest: bool = False


@dataclass(frozen=True)
class Span:
    """A stretch of time (one limb's, or every limb's when limb is "") where no note may sound."""
    t0_ns: int
    t1_ns: int
    kind: str                  # silence | backswing | drop
    limb: str = ""

    def holds(self, t_ns: int, limb: str) -> bool:
        return self.t0_ns <= t_ns <= self.t1_ns and (not self.limb or self.limb == limb)


@dataclass(frozen=True)
class Detected:
    t_ns: int                  # the detector's impact time
    sent_ns: int               # the frame time at which the detector returned it (when the note goes out)
    limb: str
    drum: str
    velocity: int


@dataclass
class Tally:
    """Counts and samples of one or many scored takes; add them up with `+=`."""

    true: int = 0
    detected: int = 0
    matched: int = 0
    wrong_drum: int = 0
    ignored: int = 0                       # detections inside an ambiguous window: neither count nor cost
    extras: dict[str, int] = field(default_factory=lambda: {"silence": 0, "backswing": 0, "drop": 0, "other": 0})
    first_true: int = 0
    first_found: int = 0
    sent_ms: list[float] = field(default_factory=list)      # sent - true impact, matched hits
    timing_ms: list[float] = field(default_factory=list)    # stated - true impact, matched hits
    velocity_pairs: list[tuple[float, float]] = field(default_factory=list)   # (true speed, velocity)
    frames: int = 0

    def __iadd__(self, other: "Tally") -> "Tally":
        for name in ("true", "detected", "matched", "wrong_drum", "ignored", "first_true", "first_found", "frames"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for k, v in other.extras.items():
            self.extras[k] = self.extras.get(k, 0) + v
        self.sent_ms += other.sent_ms
        self.timing_ms += other.timing_ms
        self.velocity_pairs += other.velocity_pairs
        return self

    @property
    def false_positives(self) -> int:
        return self.detected - self.ignored - self.matched

    @property
    def precision(self) -> float:
        played = self.detected - self.ignored
        return self.matched / played if played else 1.0

    @property
    def recall(self) -> float:
        return self.matched / self.true if self.true else 1.0

    @property
    def f1(self) -> float:
        fp, fn = self.false_positives, self.true - self.matched
        return 2 * self.matched / (2 * self.matched + fp + fn) if self.matched + fp + fn else 1.0

    @property
    def first_recall(self) -> float:
        return self.first_found / self.first_true if self.first_true else math.nan

    def sent_percentile(self, q: float) -> float:
        return float(np.percentile(self.sent_ms, q)) if self.sent_ms else math.nan

    @property
    def velocity_spearman(self) -> float:
        pairs = [(s, v) for s, v in self.velocity_pairs if not math.isnan(s)]
        return spearman([s for s, _ in pairs], [v for _, v in pairs]) if len(pairs) >= 3 else math.nan


def spearman(a, b) -> float:
    """Spearman's rank correlation (ties get their mean rank)."""
    ra, rb = _ranks(np.asarray(a, float)), _ranks(np.asarray(b, float))
    ra -= ra.mean()
    rb -= rb.mean()
    den = math.sqrt(float((ra * ra).sum() * (rb * rb).sum()))
    return float((ra * rb).sum() / den) if den > 0 else math.nan


def _ranks(x: np.ndarray) -> np.ndarray:
    order = np.argsort(x, kind="mergesort")
    ranks = np.empty(len(x), float)
    ranks[order] = np.arange(len(x), dtype=float)
    xs = x[order]
    i = 0
    while i < len(xs):            # mean rank for ties
        j = i
        while j + 1 < len(xs) and xs[j + 1] == xs[i]:
            j += 1
        if j > i:
            ranks[order[i:j + 1]] = (i + j) / 2.0
        i = j + 1
    return ranks


def score_take(truth: list[TrueStroke], hits: list[Detected], tolerance_ns: int, spans: list[Span] = (),
               ambiguous: list[tuple[int, int]] = (), frames: int = 0) -> Tally:
    """Match hits to true strokes (same limb, stated time within tolerance_ns, closest pairs first). A true
    stroke inside an ambiguous window is optional: a hit matching it, or any other hit inside the window,
    neither counts nor costs."""
    tally = Tally(true=0, detected=len(hits), frames=frames)
    in_ambiguous = [any(a <= h.t_ns <= b for a, b in ambiguous) for h in hits]
    optional = [any(a <= s.t_ns <= b for a, b in ambiguous) for s in truth]
    tally.true = sum(1 for o in optional if not o)
    pairs = []
    for i, s in enumerate(truth):
        for j, h in enumerate(hits):
            if h.limb == s.limb:
                d = abs(h.t_ns - s.t_ns)
                if d <= tolerance_ns:
                    pairs.append((d, i, j))
    pairs.sort()
    true_used: set[int] = set()
    hit_used: set[int] = set()
    for _, i, j in pairs:
        if i in true_used or j in hit_used:
            continue
        true_used.add(i)
        hit_used.add(j)
        if optional[i]:             # a stroke in an ambiguous window: playing it neither counts nor costs
            tally.ignored += 1
            continue
        s, h = truth[i], hits[j]
        tally.matched += 1
        if s.drum and h.drum != s.drum:
            tally.wrong_drum += 1
        tally.sent_ms.append((h.sent_ns - s.t_ns) / 1e6)
        tally.timing_ms.append((h.t_ns - s.t_ns) / 1e6)
        tally.velocity_pairs.append((s.speed, float(h.velocity)))
    for i, s in enumerate(truth):
        if s.first_after_rest and not optional[i]:
            tally.first_true += 1
            tally.first_found += i in true_used
    for j, h in enumerate(hits):
        if j in hit_used:
            continue
        if in_ambiguous[j]:
            tally.ignored += 1
            continue
        kind = next((sp.kind for sp in spans if sp.holds(h.t_ns, h.limb)), "other")
        tally.extras[kind] += 1
    return tally


def frame_tolerance_ns(fps: float) -> int:
    """One frame period, and the corpus's frame-time jitter."""
    return int(round(1e9 / fps)) + JITTER_NS
