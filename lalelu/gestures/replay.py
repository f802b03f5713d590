"""Offline replay: run the detector again over a recorded trace, with another kit, calibration or thresholds.

Tuning without the performer: the trace keeps every frame's keypoints and capture time, so the hits a
different configuration would have played can be listed, compared with the recorded ones, and drawn over
the wrists' trajectories.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from lalelu.errors import LaleluError
from lalelu.gestures.detector import Detector, Hit
from lalelu.gestures.kit import Kit
from lalelu.pose.keypoints import KP
from lalelu.trace import read_trace


@dataclass
class Replay:
    header: dict
    times_ns: list[int]               # capture time of each frame that had keypoints
    keypoints: list                   # (17, 3) arrays, the same frames
    hits: list[Hit]                   # what the detector plays now
    recorded_hits: list[Hit]          # what it played when the trace was recorded
    fps: float

    @property
    def t0_ns(self) -> int:
        return self.times_ns[0] if self.times_ns else 0


def replay_trace(path: str | Path, kit: Kit, calibration=None, fps: float | None = None) -> Replay:
    header, records = read_trace(path)
    frames = [(r.t_capture, r.keypoints) for r in records if r.keypoints is not None and not r.dropped]
    if not frames:
        raise LaleluError(f"{path}: the trace has no frames with keypoints to replay; record one with "
                          "`lalelu run --record FILE`")
    times = [t for t, _ in frames]
    if fps is None:
        gaps = sorted(b - a for a, b in zip(times, times[1:]) if b > a)
        fps = 1e9 / gaps[len(gaps) // 2] if gaps else 100.0
    det = Detector(kit, calibration, fps=fps)
    hits: list[Hit] = []
    for t, kp in frames:
        hits.extend(det.update(t, kp))
    recorded = [h for r in records for h in r.hits]
    return Replay(header, times, [kp for _, kp in frames], hits, recorded, fps)


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


def body_trajectories(rep: Replay, min_score: float = 0.3) -> dict[str, tuple[list[float], list[float], list[float]]]:
    """Per limb keypoint: (time s, x, y) in body units (raw, unsmoothed), frames where it was seen."""
    out: dict[str, tuple[list[float], list[float], list[float]]] = {}
    names = ("right_wrist", "left_wrist", "right_ankle", "left_ankle")
    for name in names:
        out[name] = ([], [], [])
    ls_i, rs_i = KP["left_shoulder"], KP["right_shoulder"]
    for t, kp in zip(rep.times_ns, rep.keypoints):
        ls, rs = kp[ls_i], kp[rs_i]
        if ls[2] < min_score or rs[2] < min_score:
            continue
        ox, oy = (ls[0] + rs[0]) / 2, (ls[1] + rs[1]) / 2
        s = math.hypot(float(ls[0] - rs[0]), float(ls[1] - rs[1]))
        if s < 1.0:
            continue
        for name in names:
            k = kp[KP[name]]
            if k[2] >= min_score:
                ts, xs, ys = out[name]
                ts.append((t - rep.t0_ns) / 1e9)
                xs.append(float(k[0] - ox) / s)
                ys.append(float(k[1] - oy) / s)
    return out


def plot_replay(rep: Replay, out: str | Path, min_score: float = 0.3) -> Path:
    """Wrist and ankle heights over time (body units, down is down) with the replayed hits marked."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    traj = body_trajectories(rep, min_score)
    fig, (ax_h, ax_f) = plt.subplots(2, 1, figsize=(12, 6), sharex=True, height_ratios=(2, 1))
    colours = {"right_wrist": "tab:blue", "left_wrist": "tab:orange", "right_ankle": "tab:green",
               "left_ankle": "tab:red"}
    limb_of = {"right_hand": "right_wrist", "left_hand": "left_wrist", "right_foot": "right_ankle",
               "left_foot": "left_ankle"}
    for name, (ts, _, ys) in traj.items():
        ax = ax_h if name.endswith("wrist") else ax_f
        ax.plot(ts, ys, lw=0.8, color=colours[name], label=name.replace("_", " "))
    for h in rep.hits:
        name = limb_of.get(h.limb, "right_wrist")
        ax = ax_h if name.endswith("wrist") else ax_f
        t = (h.t_ns - rep.t0_ns) / 1e9
        ax.plot([t], [h.y], "v", color=colours[name], ms=4 + h.velocity / 20)
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
