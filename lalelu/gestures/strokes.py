"""The shape of a scripted downstroke: what the scripted drummer plays and the benchmark's scenarios draw."""

from __future__ import annotations

PEAK_OVER_MEAN = 2.23        # peak speed / (height / duration) of the downstroke profile below


def smoothstep(u: float) -> float:
    u = 0.0 if u < 0.0 else 1.0 if u > 1.0 else u
    return u * u * (3.0 - 2.0 * u)


def downstroke(u: float) -> float:
    """Progress 0..1 of a downstroke at time share u: slow start, fast late, decelerating to rest at u = 1."""
    return smoothstep(u * u)
