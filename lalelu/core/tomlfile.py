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
        except RecursionError:   # arrays nested thousands deep
            raise LaleluError(f"{source}: {invalid}: nested too deeply{hint}") from None

    @classmethod
    def load(cls, path: Path, **options) -> "TomlFile":
        """Read `path`; a file that cannot be read or is not UTF-8 text is refused like one that is not TOML."""
        return cls(read_text(path, options.get("invalid", "not valid TOML"), options.get("hint", "")), str(path),
                   **options)

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


def read_text(path: Path, invalid: str = "not valid TOML", hint: str = "") -> str:
    """The text of a file the user named; a folder, an unreadable file or one that is not UTF-8 is a
    LaleluError that says so."""
    path = Path(path)
    if path.exists() and not path.is_file() and not path.is_dir():   # a device or a pipe could never end
        raise LaleluError(f"{path}: not a file{hint}")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LaleluError(f"{path}: cannot read it: {exc.strerror or exc}{hint}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise LaleluError(f"{path}:{line}: {invalid}: not UTF-8 text (byte {exc.start}); is it the right "
                          f"file?{hint}") from None


def _header(line: str) -> str | None:
    """The table name of a `[table]` header line, without a comment after it; None for other lines.
    An array of tables (`[[name]]`) is named `[[name]]`, so that its keys are never taken for a table's."""
    s = line.strip()
    if not s.startswith("["):
        return None
    double = s.startswith("[[")
    quote = None
    for i, c in enumerate(s[2 if double else 1:], 2 if double else 1):
        if quote:
            if c == quote:
                quote = None
        elif c in "\"'":
            quote = c
        elif c == "]":
            name = s[2 if double else 1:i].strip()
            rest = s[i + (2 if double else 1):].strip()
            if rest and not rest.startswith("#"):   # `[0.2, 1.3],` inside a multi-line array: no header
                return None
            return f"[[{name}]]" if double else name
    return None


def find_key_line(lines: list[str], table: str, key: str) -> int | None:
    """1-based line of `key` inside `[table]` (or of the table's header when key is empty), else None."""
    def bare(name: str) -> str:   # `zones."floor tom"` and `zones.floor tom` alike
        return name.replace('"', "").replace("'", "").replace(" ", "")

    current = ""
    header_line = None
    for i, raw in enumerate(lines, 1):
        s = raw.strip()
        name = _header(s)
        if name is not None:
            current = bare(name)
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
