"""What the engine asks of its parts. Each part is a plain object chosen by name (mido's habit); these
Protocols say what it must offer, so the engine never probes a part with hasattr."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from lalelu.core.frames import Frame
from lalelu.core.hits import Hit
from lalelu.core.keypoints import Person
from lalelu.core.messages import Message

if TYPE_CHECKING:
    from lalelu.gestures.kit import Kit


class Source(Protocol):
    """Frames from a camera, a file or the scripted drummer, read by one capture thread: start(), then
    read() until it returns None, then close(). read() may raise lalelu.errors.SourceInterrupted while the
    source is gone for a while (a camera unplugged); reading again goes on after it."""

    description: str
    fps: float                  # 0 when the source does not say
    size: tuple[int, int]       # (width, height) of the frames
    warning: str                # a sentence for the player ("" when all is well), e.g. fewer fps than asked
    renders_in_python: bool     # read() holds the GIL for a while: the capture thread yields to inference

    def start(self) -> None: ...

    def read(self) -> Frame | None: ...

    def close(self) -> None: ...


class PoseEstimator(Protocol):
    """A BGR image of any size in, the people in it out (keypoints in that image's pixels)."""

    name: str

    def __call__(self, image: np.ndarray) -> list[Person]: ...


class Detector(Protocol):
    """One frame's keypoints in, the hits whose impact was just passed out; called once per frame on the
    hot path, so it never logs, blocks or allocates much."""

    kit: Kit

    def update(self, t_ns: int, keypoints: np.ndarray) -> list[Hit]: ...


class NoteSink(Protocol):
    """Where hits go: MIDI first; a synthesiser or OSC beside it. play() is called on the hot path: it hands
    the hit over and returns at once (time.monotonic_ns() after the hand-over, or 0 when the hit was
    dropped), never blocks and never raises for its own trouble, which it reports through messages()."""

    name: str

    @property
    def status(self) -> str: ...

    @property
    def connected(self) -> bool: ...

    def play(self, hit: Hit) -> int: ...

    def messages(self) -> list[Message]: ...

    def close(self) -> None: ...


@runtime_checkable
class PoseSink(Protocol):
    """A note sink that also takes every played frame's keypoints (OSC's pose stream). frame() is called on
    the hot path after the frame's record: it hands the keypoints over and returns at once."""

    def frame(self, t_ns: int, keypoints: np.ndarray | None) -> None: ...


@runtime_checkable
class SoundingSink(Protocol):
    """A note sink that learns, after the hand-over, when each hit's sound went out (the built-in synth on
    JACK). sounded() returns those since the last call, as (hit, monotonic ns), and never blocks."""

    def sounded(self) -> list[tuple[Hit, int]]: ...
