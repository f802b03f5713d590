"""Latency statistics over trace records, as a table and as a plot (`lalelu report FILE [--plot OUT.png]`)."""

from __future__ import annotations

import json
import math
import os
from typing import Any, Iterable

import numpy as np

from lalelu.errors import LaleluError
from lalelu.trace import TraceRecord, read_trace

# Stages in the order a frame passes them; each is a subtraction of two stamps of the same record.
STAGES: tuple[tuple[str, str], ...] = (
    ("wait", "frame ready -> inference start"),
    ("inference", "pose estimation"),
    ("detect", "gesture detection"),
    ("midi", "MIDI send"),
    ("e2e", "end to end: frame ready -> MIDI sent"),
    ("overhead", "end to end minus inference"),
)


def stage_ns(records: Iterable[TraceRecord]) -> dict[str, np.ndarray]:
    """Per-stage durations in ns of the records that reached the MIDI step."""
    played = [r for r in records if r.played]
    cap = np.array([r.t_capture for r in played], np.int64)
    i0 = np.array([r.t_infer_start for r in played], np.int64)
    i1 = np.array([r.t_infer_end for r in played], np.int64)
    det = np.array([r.t_detect for r in played], np.int64)
    sent = np.array([r.t_sent for r in played], np.int64)
    return {
        "wait": i0 - cap,
        "inference": i1 - i0,
        "detect": det - i1,
        "midi": sent - det,
        "e2e": sent - cap,
        "overhead": (sent - cap) - (i1 - i0),
    }


def sound_ns(records: Iterable[TraceRecord]) -> np.ndarray:
    """Frame ready -> sound out of every hit whose sound-out time came back (the built-in sound on JACK), ns, in
    the order the stamps came."""
    return np.array([s.latency_ns for r in records for s in r.sounds], np.int64)


def summarize_ns(values_ns: np.ndarray) -> dict[str, float | int | None]:
    """p50, p90, p99, max and std (jitter) in ms."""
    if len(values_ns) == 0:
        return {"n": 0, "p50": None, "p90": None, "p99": None, "max": None, "std": None}
    ms = np.asarray(values_ns, np.float64) / 1e6
    p50, p90, p99 = np.percentile(ms, [50, 90, 99])
    return {"n": int(len(ms)), "p50": float(p50), "p90": float(p90), "p99": float(p99),
            "max": float(ms.max()), "std": float(ms.std())}


# The camera's side, where the driver stamped its buffers (TraceRecord.t_kernel): shown only when a trace has them.
CAMERA_STAGES: tuple[tuple[str, str], ...] = (
    ("delivery", "camera: driver stamp -> frame ready (USB, driver, queue)"),
    ("from stamp", "driver stamp -> MIDI sent"),
    ("cam interval", "the driver's own frame-to-frame interval"),
)


def camera_stats(records: list[TraceRecord]) -> dict[str, Any] | None:
    """The camera's delivery latency and its own frame pacing, from the records that carry a driver stamp;
    None when none does (another source, or a driver whose stamps fit no clock)."""
    stamped = sorted((r for r in records if r.t_kernel), key=lambda r: r.index)
    if not stamped:
        return None
    index = np.array([r.index for r in stamped], np.int64)
    kernel = np.array([r.t_kernel for r in stamped], np.int64)
    delivery = np.array([r.t_capture for r in stamped], np.int64) - kernel
    played = [r for r in stamped if r.played]
    follows = np.diff(index) == 1   # intervals only between frames that followed each other
    intervals = np.diff(kernel)[follows]
    return {
        "frames": len(stamped),
        "fraction": len(stamped) / len(records),
        "delivery": summarize_ns(delivery),
        "from stamp": summarize_ns(np.array([r.t_sent - r.t_kernel for r in played], np.int64)),
        "cam interval": summarize_ns(intervals) | {
            "mean": float(intervals.mean() / 1e6) if len(intervals) else None},
    }
class LatencyHistogram:
    """Latencies summarised in fixed memory, for performances of any length: counts in 10 us bins up to
    1 s (one bin above for anything longer), with the exact count, mean, std and max kept beside them.
    summary() gives what summarize_ns gives, the percentiles within one bin (10 us) of the exact ones."""

    BIN_NS = 10_000
    BINS = 100_000          # 10 us x 100 000 = 1 s; a 400 kB array however long the run

    def __init__(self) -> None:
        self.counts = np.zeros(self.BINS + 1, np.int64)
        self.reset()

    def reset(self) -> None:
        """Empty again, keeping its memory."""
        self.counts[:] = 0
        self.n = 0
        self._sum = 0.0      # of ms, and of squared ms about a shift (the first value: no cancellation)
        self._sq = 0.0
        self._shift: float | None = None
        self.max_ns = 0

    def merge(self, other: "LatencyHistogram") -> None:
        """Add everything `other` holds."""
        if not other.n:
            return
        self.counts += other.counts
        if self._shift is None:
            self._shift = other._shift
        # other's sums are about its own shift: move them to ours
        d = other._shift - self._shift
        self._sq += other._sq + 2 * d * other._sum + other.n * d * d
        self._sum += other._sum + other.n * d
        self.n += other.n
        self.max_ns = max(self.max_ns, other.max_ns)

    def add(self, values_ns) -> None:
        """Add latencies (ns), one or an iterable/array of them."""
        v = np.atleast_1d(np.asarray(values_ns, np.int64))
        if not len(v):
            return
        np.add.at(self.counts, np.clip(v // self.BIN_NS, 0, self.BINS), 1)
        ms = v / 1e6
        if self._shift is None:
            self._shift = float(ms[0])
        d = ms - self._shift
        self.n += len(v)
        self._sum += float(d.sum())
        self._sq += float((d * d).sum())
        self.max_ns = max(self.max_ns, int(v.max()))

    def percentile(self, q: float) -> float | None:
        """The q-th percentile in ms (the middle of its bin; the max when it falls in the overflow bin)."""
        if not self.n:
            return None
        rank = q / 100 * (self.n - 1)        # numpy's "linear" rank; the bin that holds it
        k = int(np.searchsorted(np.cumsum(self.counts), rank, side="right"))
        if k >= self.BINS:
            return self.max_ns / 1e6
        return min((k + 0.5) * self.BIN_NS, self.max_ns) / 1e6

    def summary(self) -> dict[str, float | int | None]:
        """n, p50, p90, p99, max and std (jitter) in ms, as summarize_ns."""
        if not self.n:
            return summarize_ns(np.array([], np.int64))
        mean = self._sum / self.n
        std = math.sqrt(max(0.0, self._sq / self.n - mean * mean))
        return {"n": self.n, "p50": self.percentile(50), "p90": self.percentile(90), "p99": self.percentile(99),
                "max": self.max_ns / 1e6, "std": std}


def latency_stats(records: list[TraceRecord]) -> dict[str, Any]:
    """Everything `lalelu report` prints, as numbers."""
    stages = {name: summarize_ns(v) for name, v in stage_ns(records).items()}
    sound = sound_ns(records)
    ordered = sorted(records, key=lambda r: r.index)
    caps = np.array([r.t_capture for r in ordered], np.int64)
    intervals = np.diff(caps)  # empty for fewer than two frames
    drops = sum(1 for r in records if r.dropped)
    return {
        "frames": len(records),
        "played": len(records) - drops,
        "drops": drops,
        "drop_fraction": drops / len(records) if records else 0.0,
        "hits": sum(len(r.hits) for r in records if not r.dropped),
        "duration_s": float((caps[-1] - caps[0]) / 1e9) if len(caps) > 1 else 0.0,
        "stages": stages,
        "sound": summarize_ns(sound),      # frame ready -> sound out, per hit (n: the hits that sounded)
        "frame_interval": summarize_ns(intervals) | {
            "mean": float(intervals.mean() / 1e6) if len(intervals) else None},
        "camera": camera_stats(records),
    }


def fmt_ms(v: float | int | None, digits: int = 2) -> str:
    """Milliseconds for a table or a status line; "-" where there is no figure (None, NaN)."""
    return "-" if v is None or v != v else f"{v:.{digits}f}"


def p95_abs(errors_ms: list[float]) -> float:
    """95th percentile of the errors' sizes (nearest rank: one of the errors, not an interpolation)."""
    errs = sorted(abs(e) for e in errors_ms)
    return errs[min(len(errs) - 1, int(math.ceil(0.95 * len(errs))) - 1)] if errs else 0.0


def format_report(stats: dict[str, Any], header: dict[str, Any] | None = None) -> str:
    lines = []
    if header:
        described = ", ".join(f"{k} {header[k]}" for k in ("source", "model", "backend", "kit", "fps")
                              if header.get(k) is not None)
        lines.append(f"trace: {described}")
    lines.append(f"frames {stats['frames']} in {stats['duration_s']:.1f} s, played {stats['played']}, "
                 f"dropped {stats['drops']} ({100 * stats['drop_fraction']:.2f} %), hits {stats['hits']}")
    lines.append("")
    lines.append(f"{'stage (ms)':<12}{'p50':>9}{'p90':>9}{'p99':>9}{'max':>9}{'jitter':>9}   what")

    def row(label: str, s: dict[str, Any], what: str) -> str:
        return f"{label:<12}" + "".join(f"{fmt_ms(s[k]):>9}" for k in ("p50", "p90", "p99", "max", "std")) + f"   {what}"

    for name, what in STAGES:
        lines.append(row(name, stats["stages"][name], what))
    sound = stats.get("sound")
    if sound and sound["n"]:
        lines.append(row("sound", sound, f"frame ready -> sound out, per hit ({sound['n']} of {stats['hits']} hits "
                                         "stamped by the built-in sound)"))
    else:
        lines.append(f"{'sound':<12}{'-':>9}   frame ready -> sound out: not in this trace (the built-in sound was "
                     "off, or played through PulseAudio/ALSA, which do not say when a sample is heard)")
    fi = stats["frame_interval"]
    lines.append(row("interval", fi, f"frame-to-frame capture interval (mean {fmt_ms(fi['mean'])})"))
    camera = stats.get("camera")
    if camera:
        for name, what in CAMERA_STAGES:
            if name == "cam interval":
                what += f" (mean {fmt_ms(camera[name]['mean'])})"
            lines.append(row(name, camera[name], what))
        if camera["fraction"] < 0.999:
            lines.append(f"(driver stamps on {camera['frames']} of {stats['frames']} frames)")
    lines.append("jitter = standard deviation")
    return "\n".join(lines)


def plot_trace(records: list[TraceRecord], out_path: str | os.PathLike, title: str = "") -> None:
    """Latency over time and its histogram, written as an image (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    played = sorted((r for r in records if r.played), key=lambda r: r.index)
    dropped = [r for r in records if r.dropped]
    t_first = min((r.t_capture for r in records), default=0)
    t = np.array([(r.t_capture - t_first) / 1e9 for r in played])
    stages = stage_ns(played)
    e2e = stages["e2e"] / 1e6
    inference = stages["inference"] / 1e6

    fig, (ax_time, ax_hist) = plt.subplots(2, 1, figsize=(10, 7), gridspec_kw={"height_ratios": [3, 2]})
    ax_time.plot(t, e2e, lw=0.7, label="end to end (frame ready -> MIDI sent)")
    ax_time.plot(t, inference, lw=0.7, label="inference")
    sounds = [s for r in records for s in r.sounds]
    if sounds:
        ax_time.plot([(s.t_capture - t_first) / 1e9 for s in sounds], [s.latency_ns / 1e6 for s in sounds], ".",
                     ms=4, color="tab:green", label=f"frame ready -> sound out ({len(sounds)} hits)")
    if dropped:
        td = [(r.t_capture - t_first) / 1e9 for r in dropped]
        ax_time.plot(td, np.zeros(len(td)), "|", color="red", ms=8, label=f"dropped frames ({len(dropped)})")
    hit_t = [(r.t_capture - t_first) / 1e9 for r in played if r.hits]
    if hit_t:
        ax_time.plot(hit_t, np.full(len(hit_t), max(e2e.max(initial=0), 1) * 1.05), "v", ms=4,
                     color="black", label=f"frames with hits ({len(hit_t)})")
    ax_time.set_xlabel("time (s)")
    ax_time.set_ylabel("latency (ms)")
    ax_time.legend(loc="upper right", fontsize=8)
    ax_time.set_title(title or "lalelu latency trace")
    if len(e2e):
        ax_hist.hist(e2e, bins=60, alpha=0.7, label="end to end")
        ax_hist.hist(inference, bins=60, alpha=0.5, label="inference")
        if sounds:
            ax_hist.hist([s.latency_ns / 1e6 for s in sounds], bins=60, alpha=0.6, color="tab:green",
                         label="sound out (per hit)")
        for q, style in ((50, "--"), (99, ":")):
            ax_hist.axvline(np.percentile(e2e, q), color="black", ls=style, lw=0.8, label=f"e2e p{q}")
    ax_hist.set_xlabel("latency (ms)")
    ax_hist.set_ylabel("frames")
    ax_hist.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out_path, dpi=100)
    plt.close(fig)


def report_main(path: str, plot: str | None = None, as_json: bool = False) -> int:
    """`lalelu report FILE [--plot OUT.png] [--json]`."""
    header, records = read_trace(path)
    if not records:
        raise LaleluError(f"{path} holds no trace records (the run ended before its first frame)")
    stats = latency_stats(records)
    print(json.dumps(stats, indent=2) if as_json else format_report(stats, header))
    if plot:
        plot_trace(records, plot, title=f"lalelu trace {os.path.basename(path)}")
        if not as_json:
            print(f"plot written to {plot}")
    return 0
