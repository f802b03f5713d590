"""The gesture corpus: seeded takes of drawn players whose true strokes are known.

Each take is a family (what is played), a seed (who plays it, how, before which camera) and a length.
Seeds split the corpus: 0-99999 train, 100000-199999 dev, 200000-299999 test (never tune on test).
Keypoints reach a detector one of two ways:
- filmed: the take rendered to video and posed by the real MoveNet Lightning (cached: `filmed.py`);
- modelled: the true keypoints through the pose-error model fitted to the filmed share (`posenoise.py`).
`takes(split, share)` lists the takes of the corpus as the benchmark and the training use them.
"""

from __future__ import annotations

from lalelu.gestures.corpus.families import FAMILIES
from lalelu.gestures.corpus.filmed import Filmer, filmed_keypoints
from lalelu.gestures.corpus.take import SPLIT_BASE, SPLITS, Take, make_take

TAKE_S = 10.0
# takes per family: (modelled, filmed)
COUNTS = {"train": (40, 5), "dev": (6, 2), "test": (6, 2)}
# the filmed share uses its own seeds, after the modelled ones
FILMED_OFFSET = 50_000


def take_seeds(split: str, share: str, count: int | None = None) -> list[int]:
    modelled, filmed = COUNTS[split]
    if share == "modelled":
        n = modelled if count is None else count
        return [SPLIT_BASE[split] + k for k in range(n)]
    n = filmed if count is None else count
    return [SPLIT_BASE[split] + FILMED_OFFSET + k for k in range(n)]


def takes(split: str, share: str, families=None, count: int | None = None) -> list[Take]:
    return [make_take(f, s, TAKE_S) for f in (families or FAMILIES) for s in take_seeds(split, share, count)]


def build_filmed(splits=SPLITS, say=print) -> int:
    """Film every take of the filmed share that is not cached yet; returns how many were filmed."""
    import time


    filmer = None
    done = 0
    t0 = time.perf_counter()
    for split in splits:
        for take in takes(split, "filmed"):
            if filmed_keypoints(take, build=False) is not None:
                continue
            filmer = filmer or Filmer()
            filmed_keypoints(take, filmer, say=say)
            done += 1
    if done:
        say(f"filmed {done} takes in {time.perf_counter() - t0:.0f} s")
    return done


__all__ = ["FAMILIES", "SPLITS", "TAKE_S", "COUNTS", "Take", "make_take", "take_seeds", "takes", "build_filmed"]
