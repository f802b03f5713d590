"""lalelu: a gesture-driven percussion instrument (MoveNet pose -> drum hits -> MIDI)."""

__version__ = "0.1.0"
