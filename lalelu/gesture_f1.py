"""Does a pose model (a precision, a backend, another model) cost the instrument hits? Its gesture F1 against
another's on the same performances.

A `Take` is a performance with its answer key: frames (rendered or decoded on demand, never all held), the
frame rate, the true hits (time, limb, drum) and the kit. `keypoint_streams` runs several estimators over one take in
one pass; a scorer turns a keypoint stream into a `Score` (hits matched, extra, missed). The default scorer
plays the stream through the strike detector and matches its hits to the key with the project's one matching
rule (lalelu.core.matching, as `lalelu bench pipeline` does); a match on the wrong drum counts as a miss and an
extra hit. Recorded keypoint sequences (the gesture corpus, once it exists) go straight
to `scores_of_streams` with a scorer of their own.

`drummer_take` is the scripted drummer rendered offline (realtime=False: exact frame times, as fast as it
renders) at 640x480.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from lalelu.core.matching import MATCH_WINDOW_NS, Tagged, match_hits

Stream = list[tuple[int, np.ndarray]]   # (t_ns, keypoints (17, 3) in pixels), one per frame with a person


@dataclass(frozen=True)
class Score:
    matched: int = 0
    extra: int = 0
    missed: int = 0

    def __add__(self, other: "Score") -> "Score":
        return Score(self.matched + other.matched, self.extra + other.extra, self.missed + other.missed)

    @property
    def precision(self) -> float:
        sent = self.matched + self.extra
        return self.matched / sent if sent else 1.0

    @property
    def recall(self) -> float:
        key = self.matched + self.missed
        return self.matched / key if key else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def __str__(self) -> str:
        return (f"F1 {self.f1:.3f} (matched {self.matched}, extra {self.extra}, missed {self.missed}; "
                f"precision {self.precision:.3f}, recall {self.recall:.3f})")


@dataclass
class Take:
    name: str
    fps: float
    frames: Callable[[], Iterable[tuple[int, np.ndarray]]]   # a fresh iterator of (t_ns, BGR image)
    hits: list[Tagged]                                        # (t_ns, limb, drum): the answer key
    kit: Any


Scorer = Callable[[Take, Stream], Score]


def detector_score(take: Take, stream: Stream, limbs: Sequence[str] | None = None) -> Score:
    """The strike detector (the kit's thresholds, the take's frame rate) on the stream, matched to the key.
    With `limbs`, only the key hits and detected hits of those limbs count."""
    from lalelu.gestures.detector import Detector

    detector = Detector(take.kit, fps=take.fps)
    sent = []
    for t_ns, keypoints in stream:
        sent.extend(Tagged(t_ns, str(h.limb), h.drum) for h in detector.update(t_ns, keypoints)
                    if limbs is None or h.limb in limbs)
    key = [h for h in take.hits if limbs is None or h.limb in limbs]
    found = match_hits(key, sent, MATCH_WINDOW_NS)
    wrong = found.wrong_drum(key, sent)
    return Score(len(found.pairs) - wrong, len(found.extra) + wrong, len(found.missed) + wrong)


def keypoint_streams(take: Take, estimators: Mapping[str, Any]) -> dict[str, Stream]:
    """Each estimator's keypoints over the take, in one pass over its frames (the first person of each)."""
    streams: dict[str, Stream] = {name: [] for name in estimators}
    for t_ns, image in take.frames():
        for name, estimator in estimators.items():
            people = estimator(image)
            if people:
                streams[name].append((t_ns, people[0].keypoints))
    return streams


def scores_of_streams(takes: Sequence[Take], streams: Mapping[str, Sequence[Stream]],
                      score: Scorer = detector_score) -> dict[str, Score]:
    """Per model name, its score summed over the takes; streams[name][i] is its stream of takes[i]."""
    return {name: sum((score(take, s) for take, s in zip(takes, per_take)), Score())
            for name, per_take in streams.items()}


def scores(takes: Sequence[Take], estimators: Mapping[str, Any], score: Scorer = detector_score) -> dict[str, Score]:
    """Per estimator, its score over the takes (rendering or decoding each take once)."""
    per_take = [keypoint_streams(take, estimators) for take in takes]
    return scores_of_streams(takes, {name: [s[name] for s in per_take] for name in estimators}, score)


def no_lower(found: Mapping[str, Score], chosen: str, reference: str) -> bool:
    """Issue 17's bar: the chosen precision's F1 is no lower than the reference's (f32)."""
    return found[chosen].f1 >= found[reference].f1


def drummer_take(seconds: float, fps: float = 100.0, tempo: float = 100.0, pattern: str = "rock",
                 kit_name: str = "default", size: tuple[int, int] = (640, 480)) -> Take:
    """The scripted drummer, rendered offline for `seconds` (lead-in included), with its script as the key."""
    from lalelu.gestures.kit import load_kit
    from lalelu.sources.script import DrumScript
    from lalelu.sources.synthetic import SyntheticDrummer

    kit = load_kit(kit_name)
    script = DrumScript(tempo=tempo, pattern=pattern, kit=kit)
    t0_ns = 0
    count = int(round(seconds * fps))

    def frames() -> Iterator[tuple[int, np.ndarray]]:
        drummer = SyntheticDrummer(script, kit, fps=fps, size=size, realtime=False, loop=True)
        drummer.t0_ns = t0_ns   # a fixed clock: every pass gives the same times
        for i in range(count):
            yield t0_ns + int(round(i * 1e9 / fps)), drummer.render(drummer.time_of(i))

    # Only hits the stream can show: the detector answers up to a few frames after a stroke's bottom.
    last_s = (count - 1) / fps - 3 / fps
    key = [h for h in script.hits_between(0.0, last_s, loop=True)]
    return Take(name=f"scripted drummer, {pattern} at {tempo:g} BPM, {seconds:g} s at {fps:g} fps", fps=fps,
                frames=frames, hits=[Tagged(t0_ns + int(round(h.t_s * 1e9)), str(h.limb), h.drum) for h in key],
                kit=kit)
