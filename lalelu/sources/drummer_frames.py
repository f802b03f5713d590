"""The scripted drummer's frames, beside the demo clip's people, for calibrating an int8 model (NNCF) and for
checking a precision: the drummer plays the rock pattern at 100 BPM for "calibration" and the basic one at
120 BPM for "evaluation", so the two sets never share a frame (see lalelu/pose/real_frames.py)."""

from __future__ import annotations

import numpy as np

from lalelu.errors import LaleluError
from lalelu.pose.real_frames import WIDTH, check_split, demo_frames


def drummer_frames(count: int, split: str = "calibration") -> list[np.ndarray]:
    """`count` frames of the scripted drummer (640x480), spread over one loop of its rock pattern."""
    from lalelu.gestures.kit import load_kit
    from lalelu.sources.script import DrumScript
    from lalelu.sources.synthetic import SyntheticDrummer

    kit = load_kit("default")
    pattern, tempo = (("rock", 100.0), ("basic", 120.0))[check_split(split)]
    drummer = SyntheticDrummer(DrumScript(tempo=tempo, pattern=pattern, kit=kit), kit, fps=100.0,
                               size=(WIDTH, 480), realtime=False)
    start = drummer.motion.lead_in
    step = drummer.script.duration / count
    return [drummer.render(start + step * k) for k in range(count)]


def real_frames(count: int, split: str = "calibration", say=None) -> list[np.ndarray]:
    """Half demo clip, half scripted drummer. Without the clip (no network on the first call), the drummer
    alone, and `say` is told why."""
    try:
        people = demo_frames(count // 2, split)
    except LaleluError as exc:
        if say is not None:
            say(f"the Sports2D demo clip is not available ({exc}); using the scripted drummer only")
        people = []
    return people + drummer_frames(count - len(people), split)
