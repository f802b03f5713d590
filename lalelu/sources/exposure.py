"""Exposure for a drummer: short enough that a stroke does not smear, gain raised to keep the picture bright.

A webcam on auto exposure in indoor light stretches its exposure to 30 ms and drops to 30 fps: the wrist,
fastest exactly at the impact, smears across the frame and MoveNet places it late and wide. A manual exposure
of at most 5 ms (half the frame period at 100 fps) keeps it sharp; the gain makes up the light.

    request = ExposureRequest(exposure_ms=None, gain=None, auto=False)   # None: lalelu chooses
    plan = plan_exposure(request, fps=60, limits=ExposureLimits(...))    # what to set, and any warnings
    gain = tune_gain(measure, set_gain, limits, target)                  # bisection on measured brightness
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from lalelu.errors import LaleluError

DEFAULT_EXPOSURE_MS = 5.0      # lalelu_drums: a 10 ms exposure is half of its 20 ms light-to-sound latency
MAX_PERIOD_FRACTION = 0.5      # the default exposure fits in half a frame period
TARGET_BRIGHTNESS = (80.0, 130.0)   # mean luma the gain aims for (what auto exposure would give, kept in this band)
BRIGHTNESS_TOLERANCE = 0.12    # within 12 % of the target is bright enough; the camera's steps are coarse
TUNE_STEPS = 7                 # bisection steps: 1/128 of the gain's range
DARK = 40.0                    # mean luma below this: MoveNet starts losing limbs


@dataclass(frozen=True)
class ExposureRequest:
    """What the player asked for; None = not asked (then the camera's remembered setting, else lalelu's
    choice)."""

    exposure_ms: float | None = None
    gain: float | None = None
    auto: bool | None = None

    def validated(self) -> "ExposureRequest":
        for name, value, what in (("--exposure-ms", self.exposure_ms, "milliseconds, e.g. 4"),
                                  ("--gain", self.gain, "the camera's own units (see `lalelu cameras`)")):
            if value is not None and (not math.isfinite(value) or value < 0 or (name == "--exposure-ms"
                                                                                 and value == 0)):
                raise LaleluError(f"{name} {value:g}: give a positive number of {what}")
        return self

    def over(self, saved: "ExposureRequest") -> "ExposureRequest":
        """This request, with what it leaves open taken from `saved` (the camera's remembered settings)."""
        return ExposureRequest(
            exposure_ms=self.exposure_ms if self.exposure_ms is not None else saved.exposure_ms,
            gain=self.gain if self.gain is not None else saved.gain,
            auto=self.auto if self.auto is not None else saved.auto)

    def to_settings(self) -> dict[str, str]:
        out = {}
        if self.exposure_ms is not None:
            out["exposure_ms"] = f"{self.exposure_ms:g}"
        if self.gain is not None:
            out["gain"] = f"{self.gain:g}"
        if self.auto is not None:
            out["auto_exposure"] = "1" if self.auto else "0"
        return out

    @classmethod
    def from_settings(cls, saved: dict[str, str]) -> "ExposureRequest":
        """From a camera's remembered settings; anything unreadable is ignored (they are only a memory)."""
        def number(key: str) -> float | None:
            try:
                value = float(saved[key])
            except (KeyError, ValueError):
                return None
            return value if math.isfinite(value) and value >= 0 else None

        auto = saved.get("auto_exposure")
        return cls(exposure_ms=number("exposure_ms") or None, gain=number("gain"),
                   auto=None if auto not in ("0", "1") else auto == "1")


@dataclass(frozen=True)
class ExposureLimits:
    """What the camera's controls allow (None: the camera has no such control)."""

    exposure_ms: tuple[float, float] | None = None     # min, max
    gain: tuple[int, int] | None = None
    auto: bool = False                                 # it can be switched to auto exposure and back


@dataclass
class ExposurePlan:
    auto: bool
    exposure_ms: float | None = None     # None: leave the exposure alone
    gain: float | None = None            # None: tune it (manual exposure) or leave it (auto)
    tune_gain: bool = False
    notes: list[str] = field(default_factory=list)


def default_exposure_ms(fps: float) -> float:
    """At most 5 ms, and at most half the frame period (4.2 ms at 120 fps)."""
    return min(DEFAULT_EXPOSURE_MS, MAX_PERIOD_FRACTION * 1000.0 / fps) if fps > 0 else DEFAULT_EXPOSURE_MS


def plan_exposure(request: ExposureRequest, fps: float, limits: ExposureLimits) -> ExposurePlan:
    """What to set on a camera playing at `fps`: the request where given, else a short manual exposure with the
    gain tuned to keep the brightness. Notes say what the camera did not allow."""
    if request.auto:
        return ExposurePlan(auto=True, gain=request.gain if limits.gain else None,
                            notes=[] if limits.auto else ["this camera offers no auto exposure to go back to"])
    if limits.exposure_ms is None:
        return ExposurePlan(auto=False, notes=["this camera has no exposure time control: lalelu leaves its "
                                               "exposure alone (strokes may smear in dim light)"])
    notes = []
    period_ms = 1000.0 / fps if fps > 0 else 0.0
    wanted = request.exposure_ms if request.exposure_ms is not None else default_exposure_ms(fps)
    low, high = limits.exposure_ms
    exposure = min(max(wanted, low), high)
    if abs(exposure - wanted) > 1e-6:
        notes.append(f"exposure {wanted:g} ms is outside what the camera allows ({low:g}-{high:g} ms): "
                     f"{exposure:g} ms")
    if period_ms and exposure > period_ms:
        notes.append(f"exposure {exposure:g} ms is longer than the frame period ({period_ms:.1f} ms at "
                     f"{fps:g} fps): the camera will lower its frame rate")
    gain = None
    if request.gain is not None and limits.gain is not None:
        gain = float(min(max(request.gain, limits.gain[0]), limits.gain[1]))
        if gain != request.gain:
            notes.append(f"gain {request.gain:g} is outside the camera's {limits.gain[0]}-{limits.gain[1]}: {gain:g}")
    elif request.gain is not None:
        notes.append("this camera has no gain control")
    return ExposurePlan(auto=False, exposure_ms=exposure, gain=gain,
                        tune_gain=request.gain is None and limits.gain is not None, notes=notes)


# --- brightness and blur ---------------------------------------------------------------------------

def brightness(image: np.ndarray) -> float:
    """Mean luma (0-255) of a BGR image, on every 4th pixel of every 4th row: a few microseconds per frame."""
    sample = image[::4, ::4]
    if sample.ndim == 2:
        return float(sample.mean())
    b, g, r = (sample[..., i].mean() for i in range(3))
    return float(0.114 * b + 0.587 * g + 0.299 * r)


def brightness_target(auto_brightness: float | None) -> float:
    """The brightness to keep: what auto exposure gave (it aims for a mid grey), kept in a sane band."""
    low, high = TARGET_BRIGHTNESS
    if auto_brightness is None or not math.isfinite(auto_brightness):
        return (low + high) / 2
    return min(max(auto_brightness, low), high)


def blur_px(exposure_ms: float | None, speed_px_s: float | None) -> float | None:
    """How far a point moving at `speed_px_s` travels during one exposure: the length of its smear."""
    if exposure_ms is None or speed_px_s is None:
        return None
    return speed_px_s * exposure_ms / 1000.0


def peak_speed_px_s(times_ns: np.ndarray, points: np.ndarray, min_score: float = 0.3) -> float | None:
    """The highest speed (px/s) between consecutive observations of one keypoint, (N, 3) x, y, score rows at
    `times_ns`; observations scored below `min_score` are skipped. None with fewer than two."""
    keep = points[:, 2] >= min_score
    t, xy = np.asarray(times_ns, np.int64)[keep], points[keep, :2]
    if len(t) < 2:
        return None
    dt = np.diff(t) / 1e9
    ok = dt > 0
    if not ok.any():
        return None
    speeds = np.hypot(*np.diff(xy, axis=0)[ok].T) / dt[ok]
    return float(speeds.max())


# --- tuning the gain -------------------------------------------------------------------------------

@dataclass
class GainTuning:
    gain: float
    brightness: float
    steps: int
    reached: bool        # within tolerance of the target (else: the camera's gain ran out)


def tune_gain(measure: Callable[[], float], set_gain: Callable[[float], None], gain_range: tuple[int, int],
              target: float, steps: int = TUNE_STEPS) -> GainTuning:
    """Bisection on the gain until the measured brightness is within BRIGHTNESS_TOLERANCE of `target`.
    Assumes only that brightness grows with gain (cameras differ in units: linear, dB, ISO-like).
    `measure()` returns the brightness of frames taken after the last set_gain()."""
    low, high = float(gain_range[0]), float(gain_range[1])
    best: tuple[float, float, float] | None = None    # (error, gain, brightness)
    done = 0
    for done in range(1, steps + 1):
        gain = float(round((low + high) / 2))
        set_gain(gain)
        seen = measure()
        error = abs(seen - target) / target
        if best is None or error < best[0]:
            best = (error, gain, seen)
        if error <= BRIGHTNESS_TOLERANCE or high - low <= 1:
            break
        if seen < target:
            low = gain
        else:
            high = gain
    if best[0] > BRIGHTNESS_TOLERANCE and best[2] < target:
        # too dark even near the top: try the very top, the most light this exposure can give
        set_gain(float(gain_range[1]))
        seen = measure()
        if abs(seen - target) / target < best[0]:
            best = (abs(seen - target) / target, float(gain_range[1]), seen)
        else:
            set_gain(best[1])
    elif best[1] != gain:
        set_gain(best[1])
    return GainTuning(gain=best[1], brightness=best[2], steps=done, reached=best[0] <= BRIGHTNESS_TOLERANCE)
