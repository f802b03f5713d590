"""What the engine and its parts tell the player: a level and a sentence, never printed on the hot path."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Level(Enum):
    INFO = "info"          # news: the MIDI port is back, the source is back
    WARNING = "warning"    # play goes on, worse: no real-time priority, a camera granting fewer fps
    ERROR = "error"        # something stopped: the source, a recording, a sink


@dataclass(frozen=True)
class Message:
    level: Level
    text: str

    def __str__(self) -> str:
        return self.text if self.level is Level.INFO else f"{self.level.value}: {self.text}"


def drain(pending) -> list[Message]:
    """Take every message out of a deque that one thread appends to and another reads (each handed out once)."""
    out = []
    while pending:
        out.append(pending.popleft())
    return out


def info(text: str) -> Message:
    return Message(Level.INFO, text)


def warning(text: str) -> Message:
    return Message(Level.WARNING, text)


def error(text: str) -> Message:
    return Message(Level.ERROR, text)
