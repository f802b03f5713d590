"""Choosing the strike detector by name: `heuristic` (lalelu.gestures.detector) or `learned`
(lalelu.gestures.learned). Both take (kit, calibration, fps) and have `update(t_ns, keypoints) -> hits` and
`kit`; which one plays is resolved as every choice is (lalelu.config: --detector, $LALELU_DETECTOR, the saved
setting, the default).
"""

from __future__ import annotations

from pathlib import Path

from lalelu import config
from lalelu.core.protocols import Detector as StrikeDetector
from lalelu.errors import LaleluError
from lalelu.gestures.calibration import Calibration, calibration_path
from lalelu.gestures.detector import Detector
from lalelu.gestures.kit import Kit
from lalelu.gestures.learned import LearnedDetector

DETECTORS = ("heuristic", "learned")


def player_weights(player: str | None) -> Path | None:
    """A player's own learned detector (retrained from their calibration play-along), if they have one."""
    if not player:
        return None
    path = calibration_path(player).with_suffix(".learned.npz")
    return path if path.is_file() else None


def make_detector(kind: str | None, kit: Kit, fps: float, calibration: Calibration | None = None,
                  weights: str | Path | None = None) -> StrikeDetector:
    """A fresh detector of `kind` (None: the configured one) for `kit` at `fps`; `weights`: a learned
    detector's weights file (a player's own; else the built-in one)."""
    kind = str(config.resolve("detector", kind))
    if kind == "heuristic":
        return Detector(kit, calibration=calibration, fps=fps)
    if kind == "learned":
        return LearnedDetector(kit, calibration=calibration, fps=fps, weights=weights)
    raise LaleluError(f"unknown detector {kind!r}; choose one of {', '.join(DETECTORS)}")
