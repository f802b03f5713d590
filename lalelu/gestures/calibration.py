"""A player's calibration: their body proportions, where they put each drum, and their own thresholds.

`calibrate()` turns recorded frames (a neutral pose, then a few strokes per zone) into a `Calibration`;
`save_calibration` / `load_calibration` keep it in calibration/NAME.toml. A file from an older format, for
another kit, or with a broken value is refused with a message that says what to do; it never falls back
to defaults silently.
"""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from lalelu.config import calibration_dir
from lalelu.core.body import neutral_pose
from lalelu.core.protocols import Detector as StrikeDetector
from lalelu.core.tomlfile import TomlFile
from lalelu.errors import LaleluError
from lalelu.gestures.detector import (  # the detector finds the strokes' bottoms
    Detector,
    play_frames,
)
from lalelu.gestures.kit import Kit

CALIBRATION_FORMAT = 1
_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")

Frames = list[tuple[int, "object"]]   # (t_ns, keypoints (17, 3)) pairs


def calibration_path(player: str) -> Path:
    if not _NAME_RE.match(player):
        raise LaleluError(f"player name {player!r}: use letters, digits, '-', '_' or '.' (at most 64)")
    return calibration_dir() / f"{player}.toml"


@dataclass(frozen=True)
class Calibration:
    player: str
    kit: str                                      # the kit's name it was made with
    shoulder_width_px: float                      # body scale at calibration (for information)
    torso_ratio: float                            # shoulder width / torso length
    zone_centers: dict[str, tuple[float, float]]  # hand zones, body units
    hand_on_speed: float
    hand_min_travel: float
    created: str = ""
    strokes: dict[str, int] = field(default_factory=dict)   # strokes seen per zone

    def apply(self, kit: Kit) -> Kit:
        """The kit with this player's zone centres and thresholds; refuses a kit it was not made for."""
        hand = {z.name for z in kit.hand_zones}
        if set(self.zone_centers) != hand:
            raise LaleluError(
                f"calibration for player {self.player!r} was made with kit {self.kit!r} (zones "
                f"{', '.join(sorted(self.zone_centers))}), but kit {kit.name!r} has hand zones "
                f"{', '.join(sorted(hand))}: run `lalelu calibrate --player {self.player} --kit ...` with this kit")
        zones = tuple(replace(z, center=self.zone_centers[z.name]) if z.name in self.zone_centers else z
                      for z in kit.zones)
        th = replace(kit.thresholds, hand_on_speed=self.hand_on_speed, hand_min_travel=self.hand_min_travel,
                     torso_ratio=self.torso_ratio)
        return replace(kit, zones=zones, thresholds=th)


def calibrate(player: str, kit: Kit, neutral: Frames, zone_strokes: dict[str, Frames], fps: float = 100.0,
              min_strokes: int = 2, detector: Callable[[Kit, float], StrikeDetector] | None = None) -> Calibration:
    """neutral: frames of the player standing still; zone_strokes: per hand zone, frames of a few strokes;
    detector(kit, fps): a fresh detector that finds the strokes (None: the heuristic one)."""
    calibration_path(player)                        # refuses a bad player name before any work
    width, ratio = neutral_pose(neutral, kit.thresholds.min_score)
    # listen with half the kit's thresholds: a soft player's strokes must count too
    th = kit.thresholds
    listening = kit.with_thresholds(hand_on_speed=th.hand_on_speed * 0.5, hand_min_travel=th.hand_min_travel * 0.5,
                                    torso_ratio=ratio)
    centers: dict[str, tuple[float, float]] = {}
    counts: dict[str, int] = {}
    speeds: list[float] = []
    travels: list[float] = []
    for zone in kit.hand_zones:
        frames = zone_strokes.get(zone.name, [])
        fresh = Detector(listening, fps=fps) if detector is None else detector(listening, fps)
        hits, heights = play_frames(fresh, frames)
        hits = [h for h in hits if h.limb.endswith("hand")]
        if hits:
            # the hand that played the zone is the one with the most (and hardest) strokes; the other one
            # only fidgeted
            effort: dict[str, float] = {}
            for h in hits:
                effort[h.limb] = effort.get(h.limb, 0.0) + h.speed
            player_hand = max(effort, key=effort.__getitem__)
            hits = [h for h in hits if h.limb == player_hand]
            # a hand sinking back to rest is no stroke: keep the strokes played with intent
            typical = statistics.median(h.speed for h in hits)
            hits = [h for h in hits if h.speed >= 0.5 * typical]
            # ... and one far from where the others landed was aimed elsewhere
            mx, my = statistics.median(h.x for h in hits), statistics.median(h.y for h in hits)
            hits = [h for h in hits if (h.x - mx) ** 2 + (h.y - my) ** 2 <= 0.3 ** 2]
        if len(hits) < min_strokes:
            raise LaleluError(f"calibration: saw {len(hits)} strokes in zone '{zone.name}' (need {min_strokes}); "
                              "play that zone again with clear down-strokes")
        centers[zone.name] = (round(statistics.median(h.x for h in hits), 3),
                              round(statistics.median(h.y for h in hits), 3))
        counts[zone.name] = len(hits)
        speeds.extend(h.speed for h in hits)
        travels.append(_spread([y for _, y in heights[hits[0].limb]]))     # the playing hand's
    # the player's own thresholds: arm at 40 % of their softest stroke, within 0.6 to 1.5 times the kit's
    on_speed = min(max(0.4 * min(speeds), 0.6 * th.hand_on_speed), 1.5 * th.hand_on_speed)
    min_travel = min(max(0.3 * min(travels), 0.05), th.hand_min_travel * 1.5) if travels else th.hand_min_travel
    return Calibration(player=player, kit=kit.name, shoulder_width_px=round(width, 2), torso_ratio=round(ratio, 4),
                       zone_centers=centers, hand_on_speed=round(on_speed, 3), hand_min_travel=round(min_travel, 3),
                       created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), strokes=counts)


def _spread(ys: list[float]) -> float:
    """Rough stroke height: the spread (5th to 95th percentile) of the playing wrist's heights."""
    if len(ys) < 10:
        return 0.0
    ys = sorted(ys)
    return ys[int(0.95 * (len(ys) - 1))] - ys[int(0.05 * (len(ys) - 1))]


# --- the file -------------------------------------------------------------------------------------------

def save_calibration(cal: Calibration, path: str | Path | None = None) -> Path:
    path = Path(path) if path else calibration_path(cal.player)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        f"# lalelu calibration for player {cal.player!r}: written by `lalelu calibrate`; run it again to redo.",
        f"format = {CALIBRATION_FORMAT}",
        f"player = {_q(cal.player)}",
        f"kit = {_q(cal.kit)}",
        f"created = {_q(cal.created)}",
        "",
        "[body]",
        f"shoulder_width_px = {cal.shoulder_width_px}",
        f"torso_ratio = {cal.torso_ratio}          # shoulder width / torso length",
        "",
        "[thresholds]",
        f"hand_on_speed = {cal.hand_on_speed}      # shoulder widths / s",
        f"hand_min_travel = {cal.hand_min_travel}  # shoulder widths",
        "",
        "[zones]                          # centre [x, y] in body units, strokes seen",
    ]
    for name, (x, y) in cal.zone_centers.items():
        lines.append(f"{_q(name)} = {{ center = [{x}, {y}], strokes = {cal.strokes.get(name, 0)} }}")
    tmp = path.with_suffix(".toml.tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def _q(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def load_calibration(player_or_path: str | Path) -> Calibration:
    """load_calibration("NAME") reads calibration/NAME.toml; a path to a .toml file is read as is."""
    p = Path(player_or_path)
    path = p if p.suffix == ".toml" or "/" in str(player_or_path) else calibration_path(str(player_or_path))
    if not path.is_file():
        raise LaleluError(f"no calibration for player {str(player_or_path)!r} ({path}): run "
                          f"`lalelu calibrate --player {p.stem}` first, or leave out --player")
    toml = TomlFile.load(path, invalid="broken calibration file",
                         hint=f"; run `lalelu calibrate --player {p.stem}` again")
    data = toml.data
    fmt = data.get("format")
    if fmt != CALIBRATION_FORMAT:
        raise toml.fail("", "format", f"this lalelu reads calibration format {CALIBRATION_FORMAT}, the file has "
                                      f"{fmt!r} (stale)")
    body, th, zones = (toml.table("", data, name) for name in ("body", "thresholds", "zones"))
    centers, strokes = {}, {}
    for name, z in zones.items():
        if not isinstance(z, dict):
            raise toml.fail("zones", name, "expected { center = [x, y] } in body units")
        centers[name] = toml.point(f"zones.{name}", z, "center", 5.0, "shoulder widths")
        twin = next((other for other, c in centers.items() if other != name and c == centers[name]), None)
        if twin is not None:
            raise toml.fail(f"zones.{name}", "center", f"{list(centers[name])} is zone '{twin}'s centre too, so "
                                                       "this zone could never be hit")
        strokes[name] = z.get("strokes", 0) if isinstance(z.get("strokes", 0), int) else 0
    if not centers:
        raise toml.fail("", "zones", "no zones")
    return Calibration(player=toml.string("", data, "player"), kit=toml.string("", data, "kit"),
                       shoulder_width_px=toml.number("body", body, "shoulder_width_px", 1.0, 100000.0),
                       torso_ratio=toml.number("body", body, "torso_ratio", 0.1, 3.0),
                       zone_centers=centers,
                       hand_on_speed=toml.number("thresholds", th, "hand_on_speed", 0.1, 100.0),
                       hand_min_travel=toml.number("thresholds", th, "hand_min_travel", 0.0, 3.0),
                       created=str(data.get("created", "")), strokes=strokes)
