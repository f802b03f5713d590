"""A drum hit as the detector plays it, and as a script (the scripted drummer, a calibration routine) plans it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Hit:
    drum: str
    note: int
    velocity: int       # 1..127
    channel: int        # 0-based (General MIDI drums = 9)
    t_ns: int           # the detector's estimate of the time of the stroke's bottom
    limb: str           # a Limb: "right_hand", "left_hand", "right_foot", "left_foot"
    speed: float = 0.0  # peak downward speed of the stroke, shoulder widths per second
    x: float = 0.0      # where the limb was at the bottom, body units
    y: float = 0.0


@dataclass(frozen=True)
class ScriptedHit:
    t_s: float        # seconds from the source's time zero (first pass, lead-in included)
    drum: str         # kit zone name
    note: int
    limb: str         # a Limb
    velocity: int     # 1..127
