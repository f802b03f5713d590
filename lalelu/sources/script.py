"""The scripted drummer's part: which limb hits which drum when, and how hard.

A `DrumScript` is a whole number of bars of a named pattern at a tempo, after a short lead-in (the
drummer holds its sticks up, so that the first strokes come from above like all the others). The bars are
one loop: the scripted drummer plays them over and over, so hit times repeat every `script.duration`
seconds (the lead-in is not repeated). Drum names and
notes come from the kit, so the detector and the script agree on what each zone is called.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from lalelu.core.hits import ScriptedHit
from lalelu.core.limbs import FOOT, Limb
from lalelu.errors import LaleluError
from lalelu.gestures.kit import Kit, load_kit

LIMB_ORDER = tuple(Limb)   # simultaneous hits are listed in this order
MIN_LIMB_GAP_S = 0.15          # two strokes of one limb closer than this would blur into one
BEATS_PER_BAR = 4

# A role in a pattern -> kit zone names to try, then General MIDI notes to try.
ROLES: dict[str, tuple[tuple[str, ...], tuple[int, ...]]] = {
    "hihat": (("hihat_closed", "hihat", "hi_hat", "hh"), (42, 44, 46)),
    "snare": (("snare",), (38, 40)),
    "tom_high": (("tom_high", "tom_hi", "high_tom"), (48, 50, 47)),
    "tom_low": (("tom_low", "tom_lo", "low_tom", "tom_mid"), (45, 47, 43, 41)),
    "crash": (("crash",), (49, 57)),
    "kick": (("kick", "bass_drum"), (36, 35)),
}


@dataclass(frozen=True)
class _Step:
    """A hit in a pattern: position in the bar (in beats), role, limb, velocity."""
    beat: float
    role: str
    limb: str
    velocity: int


def _rock_bar(bar: int, fills: bool) -> list[_Step]:
    """One bar of a rock beat; in a 4-bar phrase the last bar ends with a tom fill, the first opens on a crash.

    Open-handed (no crossed arms, which confuse pose models): the left hand keeps time on the hi-hat
    (the player's left, image right), the right hand plays the snare, toms and crash.
    """
    steps: list[_Step] = []
    phrase_bar = bar % 4
    crash = fills and phrase_bar == 0
    fill = fills and phrase_bar == 3
    for eighth in range(8):
        beat = eighth / 2
        if fill and beat >= 2:
            break
        if crash and eighth == 0:
            steps.append(_Step(0.0, "crash", "right_hand", 120))
            continue
        steps.append(_Step(beat, "hihat", "left_hand", 95 if eighth % 2 == 0 else 70))
    steps.append(_Step(1.0, "snare", "right_hand", 110))
    if not fill:
        steps.append(_Step(3.0, "snare", "right_hand", 110))
    steps.append(_Step(0.0, "kick", "right_foot", 110))
    steps.append(_Step(2.0, "kick", "right_foot", 100))
    if fill:  # sixteenths on beats 3 and 4, hands alternating, getting louder
        for k in range(8):
            hand, role = ("right_hand", "tom_low") if k % 2 == 0 else ("left_hand", "tom_high")
            steps.append(_Step(2.0 + k / 4, role, hand, 80 + 5 * k))
    return steps


PATTERNS = {
    "rock": lambda bar: _rock_bar(bar, fills=True),
    "basic": lambda bar: _rock_bar(bar, fills=False),
}


def _resolve_role(kit, role: str) -> tuple[str, int]:
    names, notes = ROLES[role]
    zones = list(kit.zones)
    foot = role == "kick"
    for name in names:
        for z in zones:
            if z.name == name:
                return z.name, z.note
    for note in notes:
        for z in zones:
            if z.note == note and (z.kind == FOOT) == foot:
                return z.name, z.note
    raise LaleluError(f"kit {kit.name!r} has no zone for {role!r} (tried names {', '.join(names)} and notes "
                      f"{', '.join(map(str, notes))}); add one to the kit or choose another pattern")


class DrumScript:
    """`bars` bars of `pattern` at `tempo` BPM: enough whole bars to fill `duration` seconds (at least one),
    starting `lead_in` seconds after time zero. `hits` is the first pass; `end_s` is when it ends."""

    def __init__(self, tempo: float = 100.0, pattern: str = "rock", duration: float | None = None, kit=None,
                 lead_in: float = 0.5):
        if pattern not in PATTERNS:
            raise LaleluError(f"unknown drum pattern {pattern!r}; choose one of {', '.join(PATTERNS)}")
        if not 30.0 <= tempo <= 200.0:
            raise LaleluError(f"tempo {tempo:g} BPM is out of range: use 30 to 200")
        if kit is None:
            kit = load_kit("default")
        self.tempo = float(tempo)
        self.pattern = pattern
        self.kit = kit
        self.beat_s = 60.0 / self.tempo
        bar_s = self.beat_s * BEATS_PER_BAR
        default_bars = 4  # one phrase: fill and crash included
        self.bars = default_bars if duration is None else max(1, math.ceil(duration / bar_s - 1e-9))
        self.duration = self.bars * bar_s
        self.lead_in = float(lead_in)
        self.end_s = self.lead_in + self.duration
        hits = []
        for bar in range(self.bars):
            for step in PATTERNS[pattern](bar):
                drum, note = _resolve_role(kit, step.role)
                t = round(self.lead_in + (bar * BEATS_PER_BAR + step.beat) * self.beat_s, 6)
                hits.append(ScriptedHit(t, drum, note, step.limb, step.velocity))
        self.hits: list[ScriptedHit] = sorted(hits, key=lambda h: (h.t_s, LIMB_ORDER.index(h.limb)))
        self._check()

    def _check(self) -> None:
        """Each limb's strokes must stay distinct, also across the loop's seam."""
        for limb in Limb:
            times = [h.t_s for h in self.hits if h.limb == limb]
            if len(times) < 2:
                continue
            gaps = [b - a for a, b in zip(times, times[1:])] + [times[0] + self.duration - times[-1]]
            if min(gaps) < MIN_LIMB_GAP_S - 1e-9:
                raise LaleluError(f"pattern {self.pattern!r} at {self.tempo:g} BPM puts two {limb} strokes "
                                  f"{min(gaps) * 1000:.0f} ms apart (minimum {MIN_LIMB_GAP_S * 1000:.0f} ms): "
                                  "lower the tempo")

    def hits_between(self, start_s: float, end_s: float, loop: bool = True) -> list[ScriptedHit]:
        """Hits with start_s <= t_s < end_s, with times continued over the loops when `loop`."""
        out = []
        first = max(0, math.floor((start_s - self.lead_in) / self.duration)) if loop else 0
        last = max(0, math.floor((end_s - self.lead_in) / self.duration)) if loop else 0
        for k in range(first, last + 1):
            for h in self.hits:
                t = h.t_s + k * self.duration
                if start_s <= t < end_s:
                    out.append(ScriptedHit(round(t, 6), h.drum, h.note, h.limb, h.velocity))
        return out

    def table(self, seconds: float | None = None) -> str:
        """The hits as a plain text table (what `lalelu synth --script` prints)."""
        hits = self.hits if seconds is None else self.hits_between(0.0, seconds)
        lines = [f"# pattern {self.pattern}, {self.tempo:g} BPM, {self.bars} bars after a {self.lead_in:g} s lead-in, "
                 f"loop {self.duration:.3f} s, "
                 f"kit {self.kit.name}, {len(hits)} hits",
                 f"{'t_s':>9}  {'bar':>4} {'beat':>5}  {'drum':<14} {'note':>4}  {'limb':<10} {'velocity':>8}"]
        bar_s = self.beat_s * BEATS_PER_BAR
        for h in hits:
            t = h.t_s - self.lead_in
            bar = int(t // bar_s + 1e-9)
            beat = (t - bar * bar_s) / self.beat_s + 1
            lines.append(f"{h.t_s:9.3f}  {bar + 1:4d} {beat:5.2f}  {h.drum:<14} {h.note:4d}  {h.limb:<10} "
                         f"{h.velocity:8d}")
        return "\n".join(lines)


class CalibrationScript:
    """What the scripted drummer plays for `lalelu calibrate --source synthetic`: still, then a few strokes per
    zone (each hand plays the zones on its own side: no hand crosses the body)."""

    pattern = "calibration"
    tempo = 100.0

    def __init__(self, kit: Kit, neutral_s: float, zone_s: float, strokes: int = 4):
        self.kit = kit
        hits = []
        for i, zone in enumerate(kit.hand_zones):
            start = neutral_s + i * zone_s
            limb = Limb.RIGHT_HAND if zone.center[0] < 0.0 else Limb.LEFT_HAND
            step = (zone_s - 1.0) / strokes
            for k in range(strokes):
                t_s = round(start + 0.7 + k * step, 6)
                hits.append(ScriptedHit(t_s, zone.name, zone.note, limb, 70 + 10 * (k % 3)))
        self.hits = hits
        self.duration = neutral_s + len(kit.hand_zones) * zone_s

    def hits_between(self, start_s: float, end_s: float, loop: bool = False) -> list[ScriptedHit]:
        return [h for h in self.hits if start_s <= h.t_s < end_s]
