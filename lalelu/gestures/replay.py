"""Offline replay: run the detector again over a recorded trace, with another kit, calibration or thresholds.

Tuning without the performer: the trace keeps every frame's keypoints and capture time, so the hits a
different configuration would have played can be listed, compared with the recorded ones, and drawn over
the wrists' trajectories.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lalelu.core.hits import Hit
from lalelu.errors import LaleluError
from lalelu.gestures.detector import play_frames
from lalelu.gestures.factory import make_detector
from lalelu.gestures.kit import Kit
from lalelu.trace import read_trace


@dataclass
class Replay:
    times_ns: list[int]               # capture time of each frame that had keypoints
    hits: list[Hit]                   # what the detector plays now
    heights: dict[str, list[tuple[float, float]]]   # per limb: (time s, height in the detector's body units)
    recorded_hits: list[Hit]          # what it played when the trace was recorded
    fps: float

    @property
    def t0_ns(self) -> int:
        return self.times_ns[0] if self.times_ns else 0


def replay_trace(path: str | Path, kit: Kit, fps: float | None = None, detector: str | None = None,
                 weights: str | Path | None = None) -> Replay:
    """Replay a trace's keypoints to a detector of `kit` (a player's calibration already applied: played_kit);
    `detector`: heuristic or learned (None: the configured one), `weights`: a learned detector's own weights."""
    header, records = read_trace(path)
    frames = [(r.t_capture, r.keypoints) for r in records if r.keypoints is not None and not r.dropped]
    if not frames:
        raise LaleluError(f"{path}: the trace has no frames with keypoints to replay; record one with "
                          "`lalelu run --headless --record FILE` or the window's record button")
    times = [t for t, _ in frames]
    if fps is None:
        gaps = sorted(b - a for a, b in zip(times, times[1:]) if b > a)
        fps = 1e9 / gaps[len(gaps) // 2] if gaps else 100.0
    hits, heights = play_frames(make_detector(detector, kit, fps, weights=weights), frames)
    recorded = [h for r in records for h in r.hits]
    return Replay(times, hits, heights, recorded, fps)


def format_hits(rep: Replay) -> str:
    lines = [f"{'time s':>8s}  {'limb':10s} {'drum':14s} {'note':>4s} {'vel':>4s} {'speed':>6s}"]
    for h in rep.hits:
        lines.append(f"{(h.t_ns - rep.t0_ns) / 1e9:8.3f}  {h.limb:10s} {h.drum:14s} {h.note:4d} {h.velocity:4d} "
                     f"{h.speed:6.2f}")
    counts: dict[str, int] = {}
    for h in rep.hits:
        counts[h.drum] = counts.get(h.drum, 0) + 1
    per_drum = ", ".join(f"{d} {n}" for d, n in sorted(counts.items())) or "none"
    lines.append(f"{len(rep.hits)} hits over {(rep.times_ns[-1] - rep.t0_ns) / 1e9:.2f} s at {rep.fps:.1f} fps "
                 f"({per_drum}); the recording played {len(rep.recorded_hits)}")
    return "\n".join(lines)


def plot_replay(rep: Replay, out: str | Path) -> Path:
    """Wrist and ankle heights over time (body units, down is down) with the replayed hits marked."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_h, ax_f) = plt.subplots(2, 1, figsize=(12, 6), sharex=True, height_ratios=(2, 1))
    colours = {"right_hand": "tab:blue", "left_hand": "tab:orange", "right_foot": "tab:green",
               "left_foot": "tab:red"}
    names = {"right_hand": "right wrist", "left_hand": "left wrist", "right_foot": "right ankle",
             "left_foot": "left ankle"}
    t0 = rep.t0_ns * 1e-9
    for limb, samples in rep.heights.items():
        ax = ax_h if limb.endswith("hand") else ax_f
        ax.plot([t - t0 for t, _ in samples], [y for _, y in samples], lw=0.8, color=colours[limb],
                label=names[limb])
    for h in rep.hits:
        ax = ax_h if h.limb.endswith("hand") else ax_f
        t = (h.t_ns - rep.t0_ns) / 1e9
        ax.plot([t], [h.y], "v", color=colours[h.limb], ms=4 + h.velocity / 20)
        ax.annotate(h.drum, (t, h.y), textcoords="offset points", xytext=(0, 6), fontsize=6, ha="center")
    for ax, what in ((ax_h, "wrist"), (ax_f, "ankle")):
        ax.invert_yaxis()           # image y points down: a downstroke goes down on the plot too
        ax.set_ylabel(f"{what} y (shoulder widths)")
        ax.legend(loc="upper right", fontsize=7)
        ax.grid(alpha=0.3)
    ax_f.set_xlabel("time (s)")
    ax_h.set_title(f"{len(rep.hits)} hits replayed (triangles: size = velocity)")
    fig.tight_layout()
    out = Path(out)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
