"""Drum kits: TOML files that map where a hit lands (in body units) to a MIDI note.

A kit names its zones, their notes and MIDI channel, the detector's thresholds and the velocity curve.
Coordinates are body-normalised: origin = midpoint of the shoulders, unit = shoulder width, x to image
right, y down. A bad file is refused with the file, the line and the key at fault.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from lalelu.config import kits_dir
from lalelu.core.body import DEFAULT_TORSO_RATIO
from lalelu.core.limbs import FOOT, HAND, LIMB_KINDS, SIDES
from lalelu.core.tomlfile import TomlFile
from lalelu.errors import LaleluError

KIT_FORMAT = 1


@dataclass(frozen=True)
class Zone:
    """One drum. Hand zones have a centre (the nearest centre wins); foot zones name their foot."""

    name: str
    note: int
    kind: str                                   # the kind of limb that plays it: "hand" or "foot"
    center: tuple[float, float] | None = None   # body units, hand zones only
    foot: str | None = None                     # "left" or "right", foot zones only


@dataclass(frozen=True)
class Thresholds:
    """Detector thresholds; speeds in shoulder widths per second, distances in shoulder widths."""

    min_score: float = 0.15         # keypoints below this score count as missing
    hand_on_speed: float = 3.0      # a stroke's downward speed must pass this to arm a hit
    hand_min_travel: float = 0.12   # ... and the wrist must have come down at least this far
    foot_on_speed: float = 4.0
    foot_min_travel: float = 0.08
    release: float = 0.35           # without a clear bottom, a hit fires once the speed falls below release * peak
    rearm_travel: float = 0.05      # after a hit the limb must rise this far (or move sideways) before the next
    refractory_ms: float = 60.0     # no second hit from one limb within this time
    max_speed: float = 40.0         # a faster jump between frames is a keypoint flicker, not motion
    body_motion_speed: float = 0.8  # feet are muted while the body travels faster than this (walking)
    torso_ratio: float = DEFAULT_TORSO_RATIO  # shoulder width / torso length, floors the scale when turning


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
        return tuple(z for z in self.zones if z.kind == HAND)

    def foot_zone(self, foot: str) -> Zone | None:
        for z in self.zones:
            if z.kind == FOOT and z.foot == foot:
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
    """A kit name ("default") is a file in the built-in kits' folder; anything with a suffix or a slash is a path."""
    p = Path(name_or_path)
    if p.suffix or "/" in name_or_path or "\\" in name_or_path:
        return p
    return kits_dir() / f"{name_or_path}.toml"


def available_kits() -> list[str]:
    return sorted(p.stem for p in kits_dir().glob("*.toml"))


def load_kit(name_or_path: str = "default") -> Kit:
    path = kit_path(name_or_path)
    if not path.is_file():
        raise LaleluError(f"kit {name_or_path!r}: no file {path}; built-in kits: {', '.join(available_kits())}, "
                          "or give the path of a .toml kit file")
    return _read_kit(TomlFile.load(path))


def parse_kit(text: str, source: str = "<kit>") -> Kit:
    return _read_kit(TomlFile(text, source))


def _read_kit(toml: TomlFile) -> Kit:
    data = toml.data
    toml.unknown("", data, {"format", "name", "channel", "zones", "thresholds", "velocity"})
    fmt = toml.integer("", data, "format", 1, 1000, default=KIT_FORMAT)
    if fmt != KIT_FORMAT:
        raise toml.fail("", "format", f"this lalelu reads kit format {KIT_FORMAT}, the file has {fmt}")
    name = toml.string("", data, "name", default=Path(toml.source).stem)
    channel = toml.integer("", data, "channel", 1, 16, default=10) - 1
    return Kit(name=name, channel=channel, zones=_zones(toml, data.get("zones")),
               thresholds=_thresholds(toml, toml.table("", data, "thresholds", default={})),
               velocity=_velocity(toml, toml.table("", data, "velocity", default={})), path=toml.source)


def _zones(toml: TomlFile, zones: object) -> tuple[Zone, ...]:
    if not isinstance(zones, dict) or not zones:
        raise toml.fail("zones", "", "a kit needs at least one [zones.NAME] table")
    out = []
    feet_used: dict[str, str] = {}
    for name, z in zones.items():
        table = f"zones.{name}"
        if not isinstance(z, dict):
            raise toml.fail("zones", name, "expected a table [zones.NAME]")
        toml.unknown(table, z, {"note", "limb", "center", "foot"})
        note = toml.integer(table, z, "note", 0, 127)
        kind = z.get("limb", HAND)
        if kind not in LIMB_KINDS:
            raise toml.fail(table, "limb", f"expected \"hand\" or \"foot\", got {kind!r}")
        center = foot = None
        if kind == HAND:
            if z.get("center") is None:
                raise toml.fail(table, "", "a hand zone needs 'center = [x, y]' (shoulder widths)")
            center = toml.point(table, z, "center", 5.0, "shoulder widths")
            twin = next((other.name for other in out if other.center == center), None)
            if twin is not None:   # the nearest centre wins, the first of two equal ones always: never hit
                raise toml.fail(table, "center", f"{list(center)} is zone '{twin}'s centre too, so this zone "
                                                 "could never be hit; move one of them")
            if "foot" in z:
                raise toml.fail(table, "foot", "only foot zones name a foot")
        else:
            foot = z.get("foot")
            if foot not in SIDES:
                raise toml.fail(table, "foot", f"expected \"left\" or \"right\", got {foot!r}")
            if foot in feet_used:
                raise toml.fail(table, "foot", f"the {foot} foot already plays zone '{feet_used[foot]}'")
            feet_used[foot] = name
            if "center" in z:
                raise toml.fail(table, "center", "foot zones are chosen by foot, not by a centre")
        out.append(Zone(name=name, note=note, kind=kind, center=center, foot=foot))
    if not any(z.kind == HAND for z in out):
        raise toml.fail("zones", "", "a kit needs at least one hand zone")
    return tuple(out)


def _thresholds(toml: TomlFile, d: dict) -> Thresholds:
    toml.unknown("thresholds", d, set(THRESHOLD_RANGES))
    base = Thresholds()
    return Thresholds(**{f.name: toml.number("thresholds", d, f.name, *THRESHOLD_RANGES[f.name],
                                             default=getattr(base, f.name))
                         for f in fields(Thresholds)})


def _velocity(toml: TomlFile, d: dict) -> VelocityCurve:
    toml.unknown("velocity", d, {"min_speed", "max_speed", "gamma", "min_velocity", "max_velocity"})
    base = VelocityCurve()
    curve = VelocityCurve(
        min_speed=toml.number("velocity", d, "min_speed", 0.0, 100.0, default=base.min_speed),
        max_speed=toml.number("velocity", d, "max_speed", 0.0, 200.0, default=base.max_speed),
        gamma=toml.number("velocity", d, "gamma", 0.1, 10.0, default=base.gamma),
        min_velocity=toml.integer("velocity", d, "min_velocity", 1, 127, default=base.min_velocity),
        max_velocity=toml.integer("velocity", d, "max_velocity", 1, 127, default=base.max_velocity),
    )
    if curve.max_speed <= curve.min_speed:
        raise toml.fail("velocity", "max_speed", f"must be above min_speed ({curve.min_speed})")
    if curve.max_velocity < curve.min_velocity:
        raise toml.fail("velocity", "max_velocity", f"must be at least min_velocity ({curve.min_velocity})")
    return curve
