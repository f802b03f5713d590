"""What each family of the corpus plays: the strokes of a take, from a drawn player and a seeded generator.

Families (each a function rng, player, duration -> strokes, and whether the body moves):
- grooves: rock and funk beats at 70-180 BPM, hi-hat or ride, backbeat, kicks, fills and crashes;
- ghosts: soft ghost notes beside accented backbeats;
- backswing: sparse accents with preparatory lifts and pauses at the top, often up in a cymbal's zone;
- from_rest: short phrases with the hands dropping to rest between them and lifting into the first stroke
  (and lifts that end in a drop without a stroke);
- rudiments: doubles, flams, paradiddles and 16th-note rolls at 140 BPM;
- crossing: both hands at once, a cross-handed hi-hat, hands crossing in front of the face and the torso;
- lean_turn: grooves played while leaning, turning, swaying and bobbing;
- tempo: 60 to 220 BPM, tempo changes within a take;
- silence: nothing played: standing, fidgeting, lifting and dropping the hands, walking, turning.
Kicks and the hi-hat pedal play under most of them.
"""

from __future__ import annotations

import numpy as np

from lalelu.gestures.corpus.kinematics import Stroke
from lalelu.gestures.corpus.players import Player

LEAD_IN = 1.0      # every take opens with the player standing still


def _hh(player: Player) -> str:
    return "hihat_closed"


def _feet(rng, player: Player, beats: list[float], beat_s: float, t0: float, t_end: float) -> list[Stroke]:
    """Kicks and hi-hat pedal under a pattern: kick on 1 and 3 (and some offbeats), pedal on 2 and 4."""
    out = []
    if rng.random() < 0.15:
        return out
    pedal = rng.random() < 0.6
    kick_extra = rng.random() < 0.5
    for b in beats:
        t = t0 + b * beat_s
        if t > t_end:
            break
        pos = b % 4
        if pos in (0.0, 2.0) or (kick_extra and pos == 2.5):
            out.append(player.stroke(t, "right_foot", "kick", rng.uniform(0.4, 1.0)))
        elif pedal and pos in (1.0, 3.0):
            out.append(player.stroke(t, "left_foot", "hihat_pedal", rng.uniform(0.2, 0.7)))
    return out


def _groove_bar(rng, player, t0, beat_s, bar, phrase_bars, ride: bool, crossed: bool, eighths: bool) -> list[Stroke]:
    out = []
    cym_hand = "right_hand" if crossed or ride else "left_hand"
    snare_hand = "left_hand" if crossed or ride else "right_hand"
    cym = "ride" if ride else "hihat_closed"
    fill = bar % phrase_bars == phrase_bars - 1 and rng.random() < 0.7
    crash = bar % phrase_bars == 0 and rng.random() < 0.6
    steps = np.arange(0, 4, 0.5 if eighths else 1.0)
    for b in steps:
        if fill and b >= 2:
            break
        if crash and b == 0:
            out.append(player.stroke(t0, "right_hand", "crash", rng.uniform(0.8, 1.0)))
            continue
        loud = rng.uniform(0.55, 0.8) if b % 1 == 0 else rng.uniform(0.3, 0.55)
        out.append(player.stroke(t0 + b * beat_s, cym_hand, cym, loud))
    for b in (1.0, 3.0):
        if fill and b == 3.0:
            continue
        out.append(player.stroke(t0 + b * beat_s, snare_hand, "snare", rng.uniform(0.7, 1.0)))
    if fill:
        sixteenth = beat_s / 4 >= 0.09
        n, step = (8, 0.25) if sixteenth else (4, 0.5)
        toms = ["tom_high", "tom_high", "tom_low", "tom_low", "snare", "snare", "tom_low", "tom_low"]
        for k in range(n):
            hand = "right_hand" if k % 2 == 0 else "left_hand"
            drum = toms[(k * 8) // n]
            if hand == "left_hand" and drum == "tom_low":
                drum = "tom_high"
            out.append(player.stroke(t0 + (2 + k * step) * beat_s, hand, drum, 0.5 + 0.06 * k))
    return out


def grooves(rng, player: Player, duration: float) -> list[Stroke]:
    bpm = rng.uniform(70, 180)
    return _grooves(rng, player, duration, bpm)


def _grooves(rng, player, duration, bpm, crossed=None, ride=None) -> list[Stroke]:
    beat_s = 60.0 / bpm
    crossed = rng.random() < 0.3 if crossed is None else crossed
    ride = rng.random() < 0.25 if ride is None else ride
    eighths = beat_s / 2 >= 0.15
    phrase_bars = int(rng.choice([2, 4]))
    out = []
    t, bar = LEAD_IN + rng.uniform(0.2, 0.8), 0
    beats = []
    while t + 4 * beat_s < duration - 0.3:
        out += _groove_bar(rng, player, t, beat_s, bar, phrase_bars, ride, crossed, eighths)
        beats += [bar * 4 + b for b in np.arange(0, 4, 0.5)]
        t += 4 * beat_s
        bar += 1
    t0 = out[0].t if out else LEAD_IN
    out += _feet(rng, player, [b for b in beats], beat_s, min(s.t for s in out) if out else t0, duration - 0.3)
    return out


def ghosts(rng, player: Player, duration: float) -> list[Stroke]:
    """Backbeat accents with ghost notes on the 16ths around them, the other hand on the hi-hat."""
    bpm = rng.uniform(70, 115)
    beat_s = 60.0 / bpm
    crossed = rng.random() < 0.6
    snare_hand = "left_hand" if crossed else "right_hand"
    hh_hand = "right_hand" if crossed else "left_hand"
    out = []
    t, bar = LEAD_IN + rng.uniform(0.2, 0.8), 0
    beats = []
    while t + 4 * beat_s < duration - 0.3:
        for b in np.arange(0, 4, 0.5):
            out.append(player.stroke(t + b * beat_s, hh_hand, "hihat_closed", rng.uniform(0.35, 0.7)))
        last = -1.0
        for b in np.arange(0, 4, 0.25):
            if b in (1.0, 3.0):
                out.append(player.stroke(t + b * beat_s, snare_hand, "snare", rng.uniform(0.8, 1.0)))
                last = b
            elif b % 1 != 0 and (b - last) * beat_s >= 0.12 and rng.random() < 0.45:
                # ghosts are low and soft; one right after an accent comes from its rebound
                out.append(player.stroke(t + b * beat_s, snare_hand, "snare", rng.uniform(0.0, 0.15)))
                last = b
        beats += [bar * 4 + b for b in np.arange(0, 4, 0.5)]
        t += 4 * beat_s
        bar += 1
    out += _feet(rng, player, beats, beat_s, LEAD_IN + 0.2, duration - 0.3)
    return out


def backswing(rng, player: Player, duration: float) -> list[Stroke]:
    """Sparse accents, each prepared by a big lift that pauses at the top (often in a cymbal's zone),
    with an overshoot that settles down; some soft strokes between them."""
    bpm = rng.uniform(60, 110)
    beat_s = 60.0 / bpm
    out = []
    t = LEAD_IN + rng.uniform(0.3, 1.0)
    drums_r = ["snare", "tom_low", "ride", "crash", "tom_high"]
    drums_l = ["hihat_closed", "tom_high", "hihat_open", "snare"]
    while t < duration - 0.5:
        hand = "right_hand" if rng.random() < 0.6 else "left_hand"
        drum = str(rng.choice(drums_r if hand == "right_hand" else drums_l))
        pause = rng.uniform(0.12, 0.6)
        settle = rng.uniform(0.02, 0.14)
        out.append(player.stroke(t, hand, drum, rng.uniform(0.75, 1.0), pause_s=pause, settle=settle,
                                 height=rng.uniform(0.9, 1.5)))
        if rng.random() < 0.5:                   # a few quick strokes after the accent
            for k in range(int(rng.integers(1, 4))):
                t += beat_s * 0.5
                out.append(player.stroke(t, hand, drum, rng.uniform(0.2, 0.6)))
        t += beat_s * float(rng.choice([2.0, 3.0, 4.0])) + pause
    beats = list(np.arange(0, (duration - LEAD_IN) / beat_s, 1.0))
    out += [s for s in _feet(rng, player, beats, beat_s, LEAD_IN + 0.3, duration - 0.3) if rng.random() < 0.7]
    return out


def from_rest(rng, player: Player, duration: float) -> list[Stroke]:
    """Short phrases separated by rests long enough that the hands drop; the first stroke after a rest
    is often an accent (or a crash)."""
    out = []
    t = LEAD_IN + rng.uniform(0.3, 0.9)
    while t < duration - 1.0:
        bpm = rng.uniform(70, 160)
        beat_s = 60.0 / bpm
        bars = int(rng.integers(1, 3))
        phrase_end = min(t + bars * 4 * beat_s, duration - 0.4)
        hands = rng.random()
        first = True
        b = 0.0
        while t + b * beat_s < phrase_end:
            tt = t + b * beat_s
            if hands < 0.4:                       # one hand
                hand = "right_hand"
                drum = "crash" if first and rng.random() < 0.4 else str(rng.choice(["snare", "tom_low", "ride"]))
            elif hands < 0.7:
                hand = "left_hand" if int(b * 2) % 2 == 0 else "right_hand"
                drum = "hihat_closed" if hand == "left_hand" else "snare"
            else:
                hand = "right_hand" if int(b * 2) % 2 == 0 else "left_hand"
                drum = "tom_low" if hand == "right_hand" else "tom_high"
            loud = rng.uniform(0.7, 1.0) if first else rng.uniform(0.3, 0.8)
            out.append(player.stroke(tt, hand, drum, loud))
            first = False
            b += 0.5 if beat_s * 0.5 >= 0.16 else 1.0
        if rng.random() < 0.6:
            out += _feet(rng, player, list(np.arange(0, b, 0.5)), beat_s, t, phrase_end)
        t = phrase_end + rng.uniform(1.4, 3.2)
    return out


def rudiments(rng, player: Player, duration: float) -> list[Stroke]:
    out = []
    t = LEAD_IN + rng.uniform(0.3, 0.8)
    kinds = ["singles", "doubles", "paradiddle", "flams"]
    while t < duration - 1.0:
        kind = str(rng.choice(kinds))
        bpm = 140.0 if kind == "singles" and rng.random() < 0.6 else rng.uniform(80, 140)
        beat_s = 60.0 / bpm
        sixteenth = beat_s / 4
        n = int(rng.integers(8, 25))
        drum_r, drum_l = (("snare", "snare") if rng.random() < 0.6 else ("tom_low", "tom_high"))
        if kind == "flams":
            for k in range(n // 2):
                tt = t + k * beat_s
                main = "right_hand" if k % 2 == 0 else "left_hand"
                grace = "left_hand" if main == "right_hand" else "right_hand"
                out.append(player.stroke(tt - rng.uniform(0.02, 0.045), grace, drum_l if grace == "left_hand" else drum_r,
                                         rng.uniform(0.0, 0.25)))
                out.append(player.stroke(tt, main, drum_r if main == "right_hand" else drum_l, rng.uniform(0.7, 1.0)))
            t += (n // 2) * beat_s
        else:
            if kind == "singles":
                sticking = "RL" * n
            elif kind == "doubles":
                sticking = "RRLL" * n
            else:
                sticking = "RLRRLRLL" * n
            for k in range(n):
                hand = "right_hand" if sticking[k] == "R" else "left_hand"
                accent = (k % 4 == 0)
                out.append(player.stroke(t + k * sixteenth, hand, drum_r if hand == "right_hand" else drum_l,
                                         rng.uniform(0.7, 1.0) if accent else rng.uniform(0.25, 0.6)))
            t += n * sixteenth
        t += rng.uniform(0.5, 2.5)
    out += [s for s in _feet(rng, player, list(np.arange(0, duration, 1.0)), 60.0 / 100, LEAD_IN + 0.5,
                             duration - 0.3) if s.limb == "right_foot"]
    return out


def crossing(rng, player: Player, duration: float) -> list[Stroke]:
    """Both hands at once, a cross-handed hi-hat, and hands crossing in front of the face (a crash on the
    far side) and of the torso."""
    out = []
    bpm = rng.uniform(70, 140)
    beat_s = 60.0 / bpm
    t = LEAD_IN + rng.uniform(0.3, 0.8)
    while t < duration - 0.6:
        kind = rng.integers(4)
        if kind == 0:      # unisons
            pairs = [("crash", "hihat_open"), ("tom_low", "tom_high"), ("snare", "hihat_closed"), ("ride", "snare")]
            for k in range(int(rng.integers(2, 6))):
                r, l_ = pairs[int(rng.integers(len(pairs)))]
                loud = rng.uniform(0.5, 1.0)
                out.append(player.stroke(t, "right_hand", r, loud))
                out.append(player.stroke(t, "left_hand", l_, loud))
                t += beat_s
        elif kind == 1:    # cross-handed hi-hat: the right hand plays the hi-hat over the left, which plays the snare
            for k in range(8):
                out.append(player.stroke(t + k * beat_s / 2, "right_hand", "hihat_closed", rng.uniform(0.4, 0.8)))
                if k % 4 == 2:
                    out.append(player.stroke(t + k * beat_s / 2, "left_hand", "snare", rng.uniform(0.7, 1.0)))
            t += 4 * beat_s
        elif kind == 2:    # a hand crosses in front of the face to the far cymbal
            hand, drum = (("left_hand", "crash") if rng.random() < 0.5 else ("right_hand", "hihat_open"))
            for k in range(int(rng.integers(1, 4))):
                out.append(player.stroke(t, hand, drum, rng.uniform(0.6, 1.0)))
                t += beat_s
        else:              # hands swap sides across the torso: right on the high tom and snare, left on the low tom
            for k in range(int(rng.integers(2, 6))):
                out.append(player.stroke(t, "left_hand", "tom_low", rng.uniform(0.4, 0.9)))
                out.append(player.stroke(t + beat_s / 2, "right_hand", "tom_high", rng.uniform(0.4, 0.9)))
                t += beat_s
        t += beat_s * float(rng.choice([1.0, 2.0]))
    out += _feet(rng, player, list(np.arange(0, (duration - LEAD_IN) / beat_s, 0.5)), beat_s, LEAD_IN + 0.3,
                 duration - 0.3)
    return out


def lean_turn(rng, player: Player, duration: float) -> list[Stroke]:
    return _grooves(rng, player, duration, rng.uniform(70, 160))


def tempo(rng, player: Player, duration: float) -> list[Stroke]:
    """Alternating strokes whose tempo changes from 60 to 220 BPM (or back) within the take."""
    lo, hi = 60.0, 220.0
    a, b = (lo, hi) if rng.random() < 0.5 else (hi, lo)
    a += rng.uniform(0, 40) * (1 if a == lo else -1)
    t = LEAD_IN + rng.uniform(0.3, 0.8)
    out = []
    k = 0
    drums = {"right_hand": ["snare", "tom_low", "ride"], "left_hand": ["hihat_closed", "tom_high", "snare"]}
    choice = {h: str(rng.choice(d)) for h, d in drums.items()}
    span = duration - 0.5 - t
    t_start = t
    while t < duration - 0.5:
        frac = (t - t_start) / span
        bpm = a + (b - a) * frac
        hand = "right_hand" if k % 2 == 0 else "left_hand"
        if k % 16 == 0:
            choice = {h: str(rng.choice(d)) for h, d in drums.items()}
        out.append(player.stroke(t, hand, choice[hand], rng.uniform(0.3, 1.0)))
        t += 60.0 / bpm * (0.5 if 60.0 / bpm * 0.5 >= 0.13 else 1.0)
        k += 1
    out += [s for s in _feet(rng, player, list(np.arange(0, 100, 1.0)), 60.0 / ((a + b) / 2), LEAD_IN + 0.5,
                             duration - 0.3)]
    return out


def silence(rng, player: Player, duration: float) -> list[Stroke]:
    return []


FAMILIES = {
    "grooves": (grooves, False),
    "ghosts": (ghosts, False),
    "backswing": (backswing, False),
    "from_rest": (from_rest, False),
    "rudiments": (rudiments, False),
    "crossing": (crossing, False),
    "lean_turn": (lean_turn, True),
    "tempo": (tempo, False),
    "silence": (silence, False),
}
