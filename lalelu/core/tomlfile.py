"""One reader for the project's TOML files (kits, calibrations): each value is checked, and a bad one is
refused with the file, the line and the key at fault, and what to do about it."""

from __future__ import annotations

import math
import tomllib
from pathlib import Path

from lalelu.errors import LaleluError

REQUIRED = object()   # the default of a key that must be there


class TomlFile:
    """A parsed TOML text (`data`) and the checks that read its values.

    invalid: how the whole file is called when it is not TOML at all ("not valid TOML");
    hint: appended to every error, e.g. "; run `lalelu calibrate --player ana` again".
    """

    def __init__(self, text: str, source: str, *, invalid: str = "not valid TOML", hint: str = ""):
        self.source = source
        self.lines = text.splitlines()
        self.hint = hint
        try:
            self.data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise LaleluError(f"{source}: {invalid}: {e}{hint}") from None

    @classmethod
    def load(cls, path: Path, **options) -> "TomlFile":
        return cls(path.read_text(encoding="utf-8"), str(path), **options)

    def fail(self, table: str, key: str, why: str) -> LaleluError:
        line = find_key_line(self.lines, table, key)
        where = f"{self.source}:{line}" if line else self.source
        full = f"{table}.{key}" if table and key else (table or key)
        return LaleluError(f"{where}: key '{full}': {why}{self.hint}")

    def _present(self, table: str, d: dict, key: str, default):
        if key in d:
            return True
        if default is REQUIRED:
            raise self.fail(table, "", f"missing key '{key}'")
        return False

    def number(self, table: str, d: dict, key: str, lo: float, hi: float, default=REQUIRED) -> float:
        if not self._present(table, d, key, default):
            return default
        v = d[key]
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise self.fail(table, key, f"expected a number, got {v!r}")
        if not lo <= v <= hi:         # NaN too
            raise self.fail(table, key, f"{v} is out of range [{lo}, {hi}]")
        return float(v)

    def integer(self, table: str, d: dict, key: str, lo: int, hi: int, default=REQUIRED) -> int:
        if not self._present(table, d, key, default):
            return default
        v = d[key]
        if isinstance(v, bool) or not isinstance(v, int):
            raise self.fail(table, key, f"expected an integer, got {v!r}")
        if not lo <= v <= hi:
            raise self.fail(table, key, f"{v} is out of range [{lo}, {hi}]")
        return v

    def string(self, table: str, d: dict, key: str, default=REQUIRED) -> str:
        if not self._present(table, d, key, default):
            return default
        v = d[key]
        if not isinstance(v, str):
            raise self.fail(table, key, f"expected a string, got {v!r}")
        return v

    def point(self, table: str, d: dict, key: str, limit: float, what: str) -> tuple[float, float]:
        """[x, y], each within +-limit; `what` says in which units, for the error."""
        c = d.get(key)
        if (not isinstance(c, list) or len(c) != 2
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in c)):
            raise self.fail(table, key, f"expected [x, y] in {what}, got {c!r}")
        if not all(-limit <= v <= limit for v in c):
            raise self.fail(table, key, f"{c} is more than {limit:g} {what} from the shoulders")
        return float(c[0]), float(c[1])

    def table(self, parent: str, d: dict, key: str, default=REQUIRED) -> dict:
        if not self._present(parent, d, key, default):
            return default
        v = d[key]
        if not isinstance(v, dict):
            raise self.fail(parent, key, f"expected a table [{f'{parent}.' if parent else ''}{key}]")
        return v

    def unknown(self, table: str, d: dict, allowed: set[str]) -> None:
        for key in d:
            if key not in allowed:
                raise self.fail(table, key, f"unknown key; allowed: {', '.join(sorted(allowed))}")


def find_key_line(lines: list[str], table: str, key: str) -> int | None:
    """1-based line of `key` inside `[table]` (or of the table's header when key is empty), else None."""
    def bare(name: str) -> str:   # `zones."floor tom"` and `zones.floor tom` alike
        return name.replace('"', "").replace(" ", "")

    current = ""
    header_line = None
    for i, raw in enumerate(lines, 1):
        s = raw.strip()
        if s.startswith("[") and not s.startswith("[["):
            current = bare(s.strip("[]").strip())
            if current == bare(table):
                header_line = i
            continue
        if current == bare(table) and key and "=" in s:
            k = s.split("=", 1)[0].strip().strip('"')
            if k == key:
                return i
    if key and header_line is None and table:
        # a dotted key such as `zones.snare.note = 38`, or an inline table in its parent: `snare = { ... }`
        parent, _, last = table.rpartition(".")
        return find_key_line(lines, "", f"{table}.{key}") or find_key_line(lines, parent, last)
    return header_line
