"""The four limbs that play: each hand (its wrist) and each foot (its ankle)."""

from __future__ import annotations

from enum import StrEnum

from lalelu.core.keypoints import Keypoint

HAND = "hand"
FOOT = "foot"
LIMB_KINDS = (HAND, FOOT)
SIDES = ("left", "right")


class Limb(StrEnum):
    """A limb by its name, as hits, scripts and traces spell it ("right_hand"); a str, so it compares equal
    to that name and is written to JSON as it."""

    LEFT_HAND = "left_hand"
    RIGHT_HAND = "right_hand"
    LEFT_FOOT = "left_foot"
    RIGHT_FOOT = "right_foot"

    @property
    def kind(self) -> str:
        """"hand" or "foot"."""
        return self.value.split("_")[1]

    @property
    def side(self) -> str:
        """"left" or "right" (the player's own)."""
        return self.value.split("_")[0]

    @property
    def is_hand(self) -> bool:
        return self.kind == HAND

    @property
    def keypoint(self) -> Keypoint:
        """The keypoint that plays: the wrist of a hand, the ankle of a foot."""
        return Keypoint[f"{self.side}_{'wrist' if self.is_hand else 'ankle'}".upper()]

    @classmethod
    def of(cls, kind: str, side: str) -> "Limb":
        return cls(f"{side}_{kind}")
