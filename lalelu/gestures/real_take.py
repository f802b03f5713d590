"""The real drummer's development take: a trace of a real person drumming, with hand-annotated strokes.

The data is not part of the project (its source has no licence): it is read where it lies, from
the shared folder's `data/` (lalelu.config.shared_dir: $LALELU_SHARED, else ../shared, else /work/shared). `real-drummer-dev/` holds
`trace.jsonl` (a lalelu trace: MediaPipe landmarks mapped to the 17 COCO keypoints, 30 fps) and
`hits.json` (stroke times per wrist in ms from the first frame, a tolerance, ambiguous windows).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from lalelu import config
from lalelu.errors import LaleluError
from lalelu.gestures.scoring import TrueStroke
from lalelu.trace import read_trace

TAKE = "real-drummer-dev"
_WRIST_LIMB = {"right_wrist": "right_hand", "left_wrist": "left_hand", "right_ankle": "right_foot",
               "left_ankle": "left_foot"}


def find_take(name: str = TAKE) -> Path:
    """The folder of a shared take (lalelu.config.shared_dir: $LALELU_SHARED, ../shared, /work/shared); a
    clear error when it is not there."""
    shared = config.shared_dir()
    folder = shared / "data" / name if shared is not None else None
    if folder is None or not ((folder / "trace.jsonl").is_file() and (folder / "hits.json").is_file()):
        raise LaleluError(f"the real drummer's take {name!r} is not here ({folder or 'no shared folder found'}); "
                          f"set LALELU_SHARED to the folder that holds data/{name}/trace.jsonl and hits.json")
    return folder


@dataclass
class RealTake:
    name: str
    fps: float
    times_ns: list[int]
    keypoints: list                    # (17, 3) per frame
    strokes: list[TrueStroke]
    ambiguous: list[tuple[int, int]]
    tolerance_ns: int


def load_take(name: str = TAKE) -> RealTake:

    folder = find_take(name)
    _, records = read_trace(folder / "trace.jsonl")
    frames = [(r.t_capture, r.keypoints) for r in records if r.keypoints is not None and not r.dropped]
    if len(frames) < 10:
        raise LaleluError(f"{folder / 'trace.jsonl'}: too few frames with keypoints ({len(frames)})")
    try:
        spec = json.loads((folder / "hits.json").read_text(encoding="utf-8"))
        t0 = frames[0][0]
        strokes = []
        for key, times in spec["hits_ms"].items():
            limb = _WRIST_LIMB[key]
            strokes += [TrueStroke(t0 + int(round(ms * 1e6)), limb) for ms in times]
        ambiguous = [(t0 + int(a * 1e6), t0 + int(b * 1e6)) for a, b in spec.get("ambiguous_ms", [])]
        tolerance = int(float(spec.get("tolerance_ms", 67)) * 1e6)
    except (KeyError, TypeError, ValueError, json.JSONDecodeError) as exc:
        raise LaleluError(f"{folder / 'hits.json'}: not a hits file as expected ({exc})") from None
    strokes.sort(key=lambda s: s.t_ns)
    times = [t for t, _ in frames]
    gaps = sorted(b - a for a, b in zip(times, times[1:]) if b > a)
    fps = 1e9 / gaps[len(gaps) // 2]
    return RealTake(name, fps, times, [kp for _, kp in frames], strokes, ambiguous, tolerance)
