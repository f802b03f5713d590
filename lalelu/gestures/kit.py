"""Drum kits: TOML files that map where a hit lands (in body units) to a MIDI note.

A kit names its zones, their notes and MIDI channel, the detector's thresholds and the velocity curve.
Coordinates are body-normalised: origin = midpoint of the shoulders, unit = shoulder width, x to image
right, y down. A bad file is refused with the file, the line and the key at fault.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from lalelu.errors import LaleluError

KITS_DIR = Path(__file__).resolve().parents[2] / "assets" / "kits"
KIT_FORMAT = 1
LIMBS = ("hand", "foot")
FEET = ("left", "right")


@dataclass(frozen=True)
class Zone:
    """One drum. Hand zones have a centre (the nearest centre wins); foot zones name their foot."""

    name: str
    note: int
    limb: str                                   # "hand" or "foot"
    center: tuple[float, float] | None = None   # body units, hand zones only
    foot: str | None = None                     # "left" or "right", foot zones only


@dataclass(frozen=True)
class Thresholds:
    """Detector thresholds; speeds in shoulder widths per second, distances in shoulder widths."""

    min_score: float = 0.15         # keypoints below this score count as missing
    hand_on_speed: float = 3.0      # a stroke's downward speed must pass this to arm a hit
    hand_min_travel: float = 0.12   # ... and the wrist must have come down at least this far
    foot_on_speed: float = 5.5
    foot_min_travel: float = 0.08
    release: float = 0.35           # without a clear bottom, a hit fires once the speed falls below release * peak
    rearm_travel: float = 0.05      # after a hit the limb must rise this far (or move sideways) before the next
    refractory_ms: float = 60.0     # no second hit from one limb within this time
    max_speed: float = 40.0         # a faster jump between frames is a keypoint flicker, not motion
    body_motion_speed: float = 0.8  # feet are muted while the body travels faster than this (walking)
    torso_ratio: float = 0.7        # shoulder width / torso length, floors the scale when the player turns


# the values each threshold may take; a kit file or an override outside them is refused
THRESHOLD_RANGES = {
    "min_score": (0.0, 1.0), "hand_on_speed": (0.1, 100.0), "hand_min_travel": (0.0, 3.0),
    "foot_on_speed": (0.1, 100.0), "foot_min_travel": (0.0, 3.0), "release": (0.01, 0.99),
    "rearm_travel": (0.0, 2.0), "refractory_ms": (0.0, 2000.0), "max_speed": (1.0, 1000.0),
    "body_motion_speed": (0.0, 100.0), "torso_ratio": (0.1, 3.0),
}


@dataclass(frozen=True)
class VelocityCurve:
    """Maps a stroke's peak downward speed (shoulder widths per second) to MIDI velocity 1..127."""

    min_speed: float = 2.5
    max_speed: float = 14.0
    gamma: float = 1.0      # < 1 makes soft strokes louder, > 1 softer
    min_velocity: int = 20
    max_velocity: int = 127

    def speed(self, velocity: int) -> float:
        """The curve backwards: the peak downward speed (shoulder widths / s) that plays this MIDI velocity
        (what the scripted drummer and the benchmark's scenarios play)."""
        u = (velocity - self.min_velocity) / max(1, self.max_velocity - self.min_velocity)
        u = min(1.0, max(0.0, u)) ** (1.0 / self.gamma)
        return self.min_speed + u * (self.max_speed - self.min_speed)

    def velocity(self, speed: float) -> int:
        span = self.max_speed - self.min_speed
        u = (speed - self.min_speed) / span if span > 0 else 1.0
        u = 0.0 if u < 0.0 else 1.0 if u > 1.0 else u
        v = self.min_velocity + (self.max_velocity - self.min_velocity) * u ** self.gamma
        return max(1, min(127, int(round(v))))


@dataclass(frozen=True)
class Kit:
    name: str
    channel: int                    # 0-based (General MIDI drums = 9; the file says 10)
    zones: tuple[Zone, ...]
    thresholds: Thresholds = field(default_factory=Thresholds)
    velocity: VelocityCurve = field(default_factory=VelocityCurve)
    path: str = ""

    @property
    def hand_zones(self) -> tuple[Zone, ...]:
        return tuple(z for z in self.zones if z.limb == "hand")

    def foot_zone(self, foot: str) -> Zone | None:
        for z in self.zones:
            if z.limb == "foot" and z.foot == foot:
                return z
        return None

    def zone(self, name: str) -> Zone:
        for z in self.zones:
            if z.name == name:
                return z
        raise KeyError(name)

    def nearest_hand_zone(self, x: float, y: float, keep: Zone | None = None, advantage: float = 0.0) -> Zone | None:
        """The hand zone whose centre is nearest to (x, y), body units; `keep` still wins when it is at most
        `advantage` farther."""
        best, best_d = None, math.inf
        for z in self.zones:
            if z.center is not None:
                d = math.hypot(z.center[0] - x, z.center[1] - y)
                if z is keep:
                    d -= advantage
                if d < best_d:
                    best, best_d = z, d
        return best

    def with_thresholds(self, **changes: float) -> "Kit":
        """A copy with some thresholds changed; a value outside THRESHOLD_RANGES raises ValueError."""
        for key, value in changes.items():
            lo, hi = THRESHOLD_RANGES[key]
            if not lo <= value <= hi:
                raise ValueError(f"{key} = {value:g} is out of range [{lo:g}, {hi:g}]")
        return replace(self, thresholds=replace(self.thresholds, **changes))


def kit_path(name_or_path: str) -> Path:
    """A kit name ("default") is a file in assets/kits/; anything with a suffix or a slash is a path."""
    p = Path(name_or_path)
    if p.suffix or "/" in name_or_path or "\\" in name_or_path:
        return p
    return KITS_DIR / f"{name_or_path}.toml"


def available_kits() -> list[str]:
    return sorted(p.stem for p in KITS_DIR.glob("*.toml"))


def load_kit(name_or_path: str = "default") -> Kit:
    path = kit_path(name_or_path)
    if not path.is_file():
        raise LaleluError(f"kit {name_or_path!r}: no file {path}; built-in kits: {', '.join(available_kits())}, "
                          "or give the path of a .toml kit file")
    text = path.read_text(encoding="utf-8")
    return parse_kit(text, str(path))


def parse_kit(text: str, source: str = "<kit>") -> Kit:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise LaleluError(f"{source}: not valid TOML: {e}") from None
    return _KitReader(text, source).read(data)


class _KitReader:
    """Checks each value and, when one is wrong, names the file, line and key."""

    def __init__(self, text: str, source: str):
        self.lines = text.splitlines()
        self.source = source

    def fail(self, table: str, key: str, why: str) -> LaleluError:
        return key_error(self.source, self.lines, table, key, why)

    def number(self, table: str, d: dict, key: str, default: float, lo: float, hi: float) -> float:
        if key not in d:
            return default
        v = d[key]
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise self.fail(table, key, f"expected a number, got {v!r}")
        if not lo <= v <= hi:
            raise self.fail(table, key, f"{v} is out of range [{lo}, {hi}]")
        return float(v)

    def integer(self, table: str, d: dict, key: str, default: int | None, lo: int, hi: int) -> int:
        if key not in d:
            if default is None:
                raise self.fail(table, "", f"missing key '{key}'")
            return default
        v = d[key]
        if isinstance(v, bool) or not isinstance(v, int):
            raise self.fail(table, key, f"expected an integer, got {v!r}")
        if not lo <= v <= hi:
            raise self.fail(table, key, f"{v} is out of range [{lo}, {hi}]")
        return v

    def unknown(self, table: str, d: dict, allowed: set[str]) -> None:
        for key in d:
            if key not in allowed:
                raise self.fail(table, key, f"unknown key; allowed: {', '.join(sorted(allowed))}")

    def read(self, data: dict) -> Kit:
        self.unknown("", data, {"format", "name", "channel", "zones", "thresholds", "velocity"})
        fmt = self.integer("", data, "format", KIT_FORMAT, 1, 1000)
        if fmt != KIT_FORMAT:
            raise self.fail("", "format", f"this lalelu reads kit format {KIT_FORMAT}, the file has {fmt}")
        name = data.get("name", Path(self.source).stem)
        if not isinstance(name, str):
            raise self.fail("", "name", "expected a string")
        channel = self.integer("", data, "channel", 10, 1, 16) - 1
        return Kit(name=name, channel=channel, zones=self.zones(data.get("zones")),
                   thresholds=self.thresholds(data.get("thresholds", {})),
                   velocity=self.velocity(data.get("velocity", {})), path=self.source)

    def zones(self, zones: object) -> tuple[Zone, ...]:
        if not isinstance(zones, dict) or not zones:
            raise self.fail("zones", "", "a kit needs at least one [zones.NAME] table")
        out = []
        feet_used: dict[str, str] = {}
        for name, z in zones.items():
            table = f"zones.{name}"
            if not isinstance(z, dict):
                raise self.fail("zones", name, "expected a table [zones.NAME]")
            self.unknown(table, z, {"note", "limb", "center", "foot"})
            note = self.integer(table, z, "note", None, 0, 127)
            limb = z.get("limb", "hand")
            if limb not in LIMBS:
                raise self.fail(table, "limb", f"expected \"hand\" or \"foot\", got {limb!r}")
            center = foot = None
            if limb == "hand":
                c = z.get("center")
                if c is None:
                    raise self.fail(table, "", "a hand zone needs 'center = [x, y]' (shoulder widths)")
                if (not isinstance(c, list) or len(c) != 2
                        or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in c)):
                    raise self.fail(table, "center", f"expected [x, y] in shoulder widths, got {c!r}")
                if not all(-5.0 <= v <= 5.0 for v in c):
                    raise self.fail(table, "center", f"{c} is more than 5 shoulder widths from the shoulders")
                center = (float(c[0]), float(c[1]))
                if "foot" in z:
                    raise self.fail(table, "foot", "only foot zones name a foot")
            else:
                foot = z.get("foot")
                if foot not in FEET:
                    raise self.fail(table, "foot", f"expected \"left\" or \"right\", got {foot!r}")
                if foot in feet_used:
                    raise self.fail(table, "foot", f"the {foot} foot already plays zone '{feet_used[foot]}'")
                feet_used[foot] = name
                if "center" in z:
                    raise self.fail(table, "center", "foot zones are chosen by foot, not by a centre")
            out.append(Zone(name=name, note=note, limb=limb, center=center, foot=foot))
        if not any(z.limb == "hand" for z in out):
            raise self.fail("zones", "", "a kit needs at least one hand zone")
        return tuple(out)

    def thresholds(self, d: object) -> Thresholds:
        if not isinstance(d, dict):
            raise self.fail("thresholds", "", "expected a table [thresholds]")
        self.unknown("thresholds", d, set(THRESHOLD_RANGES))
        base = Thresholds()
        values = {f.name: self.number("thresholds", d, f.name, getattr(base, f.name), *THRESHOLD_RANGES[f.name])
                  for f in fields(Thresholds)}
        return Thresholds(**values)

    def velocity(self, d: object) -> VelocityCurve:
        if not isinstance(d, dict):
            raise self.fail("velocity", "", "expected a table [velocity]")
        self.unknown("velocity", d, {"min_speed", "max_speed", "gamma", "min_velocity", "max_velocity"})
        base = VelocityCurve()
        curve = VelocityCurve(
            min_speed=self.number("velocity", d, "min_speed", base.min_speed, 0.0, 100.0),
            max_speed=self.number("velocity", d, "max_speed", base.max_speed, 0.0, 200.0),
            gamma=self.number("velocity", d, "gamma", base.gamma, 0.1, 10.0),
            min_velocity=self.integer("velocity", d, "min_velocity", base.min_velocity, 1, 127),
            max_velocity=self.integer("velocity", d, "max_velocity", base.max_velocity, 1, 127),
        )
        if curve.max_speed <= curve.min_speed:
            raise self.fail("velocity", "max_speed", f"must be above min_speed ({curve.min_speed})")
        if curve.max_velocity < curve.min_velocity:
            raise self.fail("velocity", "max_velocity", f"must be at least min_velocity ({curve.min_velocity})")
        return curve


def key_error(source: str, lines: list[str], table: str, key: str, why: str) -> LaleluError:
    """The error for a bad value in a TOML file (kit or calibration): names the file, line and key."""
    line = find_key_line(lines, table, key)
    where = f"{source}:{line}" if line else source
    full = f"{table}.{key}" if table and key else (table or key)
    return LaleluError(f"{where}: key '{full}': {why}")


def find_key_line(lines: list[str], table: str, key: str) -> int | None:
    """1-based line of `key` inside `[table]` (or of the table's header when key is empty), else None."""
    def bare(name: str) -> str:   # `zones."floor tom"` and `zones.floor tom` alike
        return name.replace('"', "").replace(" ", "")

    current = ""
    header_line = None
    for i, raw in enumerate(lines, 1):
        s = raw.strip()
        if s.startswith("[") and not s.startswith("[["):
            current = bare(s.strip("[]").strip())
            if current == bare(table):
                header_line = i
            continue
        if current == bare(table) and key and "=" in s:
            k = s.split("=", 1)[0].strip().strip('"')
            if k == key:
                return i
    if key and header_line is None and table:
        # a dotted key such as `zones.snare.note = 38`, or an inline table in its parent: `snare = { ... }`
        parent, _, last = table.rpartition(".")
        return find_key_line(lines, "", f"{table}.{key}") or find_key_line(lines, parent, last)
    return header_line
