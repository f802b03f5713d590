"""The one rule that pairs the hits a detector played with the hits that were really struck (a script, a
scenario, an annotated take): used by the gesture and pipeline benchmarks and by the tests.

A true hit is matched to the nearest played hit of the same limb within the window, each played hit used
at most once, true hits taken in time order. A match on another drum is still a match (the stroke was
found) and is counted as a wrong drum.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, Sequence

MATCH_WINDOW_NS = 60_000_000


class Tagged(NamedTuple):
    """A hit as the matcher sees it: when (ns, on whatever clock both sides share), which limb, which drum."""

    t_ns: int
    limb: str
    drum: str


@dataclass
class Matching:
    pairs: list[tuple[int, int]]    # (index of the true hit, index of the played hit), in true-hit time order
    missed: list[int]               # true hits nothing matched
    extra: list[int]                # played hits that matched no true hit
    dt_ns: list[int]                # played minus true time of each pair

    def wrong_drum(self, true: Sequence[Tagged], played: Sequence[Tagged]) -> int:
        return sum(1 for i, j in self.pairs if true[i].drum != played[j].drum)

    def right_drum(self, true: Sequence[Tagged], played: Sequence[Tagged]) -> list[int]:
        """Indices (into pairs) of the matches on the right drum."""
        return [k for k, (i, j) in enumerate(self.pairs) if true[i].drum == played[j].drum]


def match_hits(true: Sequence[Tagged], played: Sequence[Tagged], window_ns: int = MATCH_WINDOW_NS) -> Matching:
    used = [False] * len(played)
    pairs: list[tuple[int, int]] = []
    missed: list[int] = []
    dts: list[int] = []
    for i in sorted(range(len(true)), key=lambda k: true[k].t_ns):
        t = true[i]
        best, best_d = -1, window_ns + 1
        for j, p in enumerate(played):
            if used[j] or p.limb != t.limb:
                continue
            d = abs(p.t_ns - t.t_ns)
            if d < best_d:
                best, best_d = j, d
        if best < 0:
            missed.append(i)
            continue
        used[best] = True
        pairs.append((i, best))
        dts.append(played[best].t_ns - t.t_ns)
    return Matching(pairs, missed, [j for j, u in enumerate(used) if not u], dts)
