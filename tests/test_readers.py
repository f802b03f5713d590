"""The readers of the files a user hands to lalelu (kits, calibrations, traces): any bytes give a kit, a
calibration, a trace or a clear `lalelu:` error that names the file (and the line and key where there is
one), never a traceback. Hand-written cases for the defects found, then property-based fuzzing."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lalelu.cli import main
from lalelu.errors import LaleluError
from lalelu.gestures.calibration import Calibration, load_calibration, save_calibration
from lalelu.gestures.kit import kit_path, load_kit, parse_kit
from lalelu.gestures.replay import format_hits, replay_trace
from lalelu.report import format_report, latency_stats
from lalelu.trace import TraceRecord, read_trace

# Fuzzing checks behaviour, not speed: no deadline (a busy machine is slow), and the slow-data health check off.
FUZZ = settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow,
                                                                        HealthCheck.function_scoped_fixture])
NOT_UTF8 = b"format = 1\nname = \"\xff\xfe broken\"\n" + bytes(range(128, 256))
DEFAULT_KIT = kit_path("default")


def lalelu(capsys, *argv: str) -> tuple[int, str]:
    """`lalelu ARGV` in this process: (exit status, what it printed on stderr)."""
    try:
        status = main(list(argv))
    except SystemExit as exc:     # argparse's own errors
        status = exc.code
    return status, capsys.readouterr().err


def a_calibration(tmp_path: Path) -> Path:
    kit = load_kit()
    cal = Calibration(player="ana", kit=kit.name, shoulder_width_px=80.0, torso_ratio=0.7,
                      zone_centers={z.name: (z.center[0] + 0.1, z.center[1]) for z in kit.hand_zones},
                      hand_on_speed=2.5, hand_min_travel=0.1, created="2025-01-01T00:00:00Z",
                      strokes={z.name: 3 for z in kit.hand_zones})
    return save_calibration(cal, tmp_path / "ana.toml")


def a_trace(tmp_path: Path, frames: int = 40) -> Path:
    lines = [json.dumps({"lalelu_trace": 1, "source": "test"})]
    kp = [[100.0 + i, 200.0, 0.9] for i in range(17)]
    for i in range(frames):
        t = 1_000_000_000 + i * 10_000_000
        lines.append(json.dumps({"i": i, "cap": t, "inf0": t + 1, "inf1": t + 8_000_000, "det": t + 8_100_000,
                                 "sent": t + 8_200_000, "drop": False, "kp": kp}))
    path = tmp_path / "t.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


# --- not UTF-8, a folder, a missing file (issue 14, items 1 and 2) -----------------------------------------

def test_a_kit_calibration_or_trace_that_is_not_utf8_is_refused_with_its_name(tmp_path: Path) -> None:
    broken = tmp_path / "k.toml"
    broken.write_bytes(NOT_UTF8)
    with pytest.raises(LaleluError, match=rf"^{re.escape(str(broken))}:2: .*not UTF-8"):
        load_kit(str(broken))
    with pytest.raises(LaleluError, match=rf"^{re.escape(str(broken))}:2: broken calibration file: not UTF-8"):
        load_calibration(broken)
    trace = tmp_path / "t.jsonl"
    trace.write_bytes(b'{"lalelu_trace": 1}\n{"i": "\xff\xfe"}\n{}\n')
    with pytest.raises(LaleluError, match=rf"^{re.escape(str(trace))}:2: not a trace record \(not UTF-8 text\)"):
        read_trace(trace)


def test_the_commands_say_so_on_binary_files_without_a_traceback(tmp_path: Path, capsys) -> None:
    binary = tmp_path / "k.toml"
    binary.write_bytes(NOT_UTF8 * 10)
    for argv in (["run", "--headless", "--kit", str(binary)], ["report", str(binary)],
                 ["replay", str(binary)], ["replay", a_trace(tmp_path), "--kit", str(binary)],
                 ["replay", a_trace(tmp_path), "--player", str(binary)]):
        status, err = lalelu(capsys, *map(str, argv))
        assert status == 2 and err.startswith("lalelu: ") and str(binary) in err, (argv, err)


@pytest.mark.parametrize("verb", ["report", "replay"])
def test_a_missing_trace_or_a_folder_is_a_message(tmp_path: Path, capsys, verb: str) -> None:
    for path, why in ((tmp_path / "absent.jsonl", "No such file"), (tmp_path, "Is a directory")):
        status, err = lalelu(capsys, verb, str(path))
        assert status == 2 and err.startswith(f"lalelu: cannot read the trace file {path}: {why}"), err


def test_a_device_is_not_read_for_ever(capsys) -> None:
    for argv in (["report", "/dev/zero"], ["replay", "/dev/urandom"], ["run", "--headless", "--kit", "/dev/zero"]):
        status, err = lalelu(capsys, *argv)
        assert status == 2 and err.startswith("lalelu: ") and "/dev/" in err, (argv, err)


def test_a_kit_or_calibration_that_is_a_folder_is_a_message(tmp_path: Path) -> None:
    folder = tmp_path / "kit.toml"
    folder.mkdir()
    with pytest.raises(LaleluError, match="no file"):
        load_kit(str(folder))
    with pytest.raises(LaleluError, match="no calibration"):
        load_calibration(folder)


# --- file, line and key in the shipped files (item 3) -------------------------------------------------------

def key_lines(text: str) -> list[tuple[int, str]]:
    """(line number, key) of every `key = value` line."""
    return [(n, line.split("=", 1)[0].strip().strip('"')) for n, line in enumerate(text.splitlines(), 1)
            if "=" in line and not line.lstrip().startswith(("#", "["))]


def break_value(text: str, line_no: int, value: str = "[]") -> str:
    """The text with the value on `line_no` replaced (its comment kept, so the header parsing is tried)."""
    lines = text.splitlines()
    key, _, rest = lines[line_no - 1].partition("=")
    comment = rest[rest.index("#"):] if "#" in rest else ""
    lines[line_no - 1] = f"{key}= {value}   {comment}"
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("line_no,key", key_lines(DEFAULT_KIT.read_text()))
def test_every_key_of_the_default_kit_is_refused_at_its_own_line(tmp_path: Path, line_no: int, key: str) -> None:
    """Among them the keys of `[zones.crash]  # ...`: a table header with a comment lost the line number."""
    path = tmp_path / "kit.toml"
    path.write_text(break_value(DEFAULT_KIT.read_text(), line_no))
    with pytest.raises(LaleluError) as refused:
        load_kit(str(path))
    message = str(refused.value)
    assert message.startswith(f"{path}:{line_no}: key '") and f"{key}'" in message, message


@pytest.mark.parametrize("key", ["format", "player", "kit", "shoulder_width_px", "torso_ratio", "hand_on_speed",
                                 "hand_min_travel", "snare", "crash"])
def test_every_key_of_a_written_calibration_is_refused_at_its_own_line(tmp_path: Path, key: str) -> None:
    """The calibration writer's `[zones]   # ...` header carries a comment too."""
    path = a_calibration(tmp_path)
    text = path.read_text()
    line_no = next(n for n, k in key_lines(text) if k == key)
    path.write_text(break_value(text, line_no))
    with pytest.raises(LaleluError, match=rf"^{re.escape(str(path))}:{line_no}: key '[a-z.]*{key}"):
        load_calibration(path)


def test_a_calibration_zone_centre_out_of_range_names_its_line(tmp_path: Path) -> None:
    path = a_calibration(tmp_path)
    text = path.read_text()
    line_no = next(n for n, k in key_lines(text) if k == "tom_low")
    path.write_text(break_value(text, line_no, "{ center = [9.0, 1.0], strokes = 3 }"))
    with pytest.raises(LaleluError, match=rf"^{re.escape(str(path))}:{line_no}: key 'zones.tom_low.center': "
                                          r"\[9.0, 1.0\] is more than 5 shoulder widths"):
        load_calibration(path)


# --- zones that can never be hit (item 10) ------------------------------------------------------------------

def test_a_zone_on_another_zones_centre_is_refused_at_its_line(tmp_path: Path) -> None:
    text = DEFAULT_KIT.read_text().replace("center = [-0.35, 0.70]", "center = [0.25, 0.7]")   # tom_low on tom_high
    line_no = next(n for n, line in enumerate(text.splitlines(), 1) if line == "center = [0.25, 0.7]")
    with pytest.raises(LaleluError, match=rf"^k:{line_no}: key 'zones.tom_low.center': \[0.25, 0.7\] is zone "
                                          r"'tom_high's centre too, so this zone could never be hit"):
        parse_kit(text, "k")


def test_a_calibration_that_puts_two_zones_on_one_centre_is_refused(tmp_path: Path) -> None:
    path = a_calibration(tmp_path)
    text = path.read_text()
    snare = next(line for line in text.splitlines() if line.startswith('"snare"'))
    line_no = next(n for n, k in key_lines(text) if k == "ride")
    path.write_text(break_value(text, line_no, snare.split("=", 1)[1].strip()))
    with pytest.raises(LaleluError, match=rf"^{re.escape(str(path))}:{line_no}: .*'snare's centre too"):
        load_calibration(path)


# --- property-based: any bytes, any values -----------------------------------------------------------------

def toml_value(v) -> str:
    """A TOML inline value (the fuzzers build their files with it)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return "{ " + ", ".join(f"{json.dumps(k)} = {toml_value(x)}" for k, x in v.items()) + " }"


def toml_text(data: dict) -> str:
    """Top-level scalars first, then one `[table]` (with a comment) per table, nested tables inline."""
    lines = [f"{json.dumps(k)} = {toml_value(v)}" for k, v in data.items() if not isinstance(v, dict)]
    for name, table in data.items():
        if isinstance(table, dict):
            lines.append(f"[{json.dumps(name)}]   # a comment")
            lines += [f"{json.dumps(k)} = {toml_value(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"


scalars = st.booleans() | st.integers(-2 ** 70, 2 ** 70) | st.floats(allow_nan=True) | st.text(max_size=12)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)


def mutated(base: dict, draw) -> dict:
    """`base` with some values replaced by anything, some keys dropped and some unknown ones added."""
    out = {}
    for key, value in base.items():
        action = draw(st.sampled_from(["keep", "keep", "replace", "drop", "recurse"]))
        if action == "drop":
            continue
        if action == "replace":
            out[key] = draw(values)
        elif action == "recurse" and isinstance(value, dict):
            out[key] = mutated(value, draw)
        else:
            out[key] = value
    if draw(st.booleans()):
        out[draw(st.text(max_size=6))] = draw(values)
    return out


def kit_dict() -> dict:
    import tomllib

    return tomllib.loads(DEFAULT_KIT.read_text())


def calibration_dict(tmp_path: Path) -> dict:
    import tomllib

    return tomllib.loads(a_calibration(tmp_path).read_text())


def only_clear_errors(read, path: Path) -> None:
    """`read(path)` returns, or raises a LaleluError naming the file; anything else fails the test."""
    try:
        read(path)
    except LaleluError as exc:
        assert str(path) in str(exc), exc


@FUZZ
@given(data=st.binary(max_size=3000))
def test_any_bytes_as_a_kit_calibration_or_trace(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "fuzz.toml"
    path.write_bytes(data)
    only_clear_errors(lambda p: load_kit(str(p)), path)
    only_clear_errors(load_calibration, path)
    only_clear_errors(read_trace, path)


@FUZZ
@given(st.data())
def test_any_values_in_a_kit(tmp_path: Path, data) -> None:
    path = tmp_path / "fuzz.toml"
    path.write_text(toml_text(mutated(kit_dict(), data.draw)))
    only_clear_errors(lambda p: load_kit(str(p)), path)


@FUZZ
@given(st.data())
def test_any_values_in_a_calibration(tmp_path: Path, data) -> None:
    path = tmp_path / "fuzz.toml"
    path.write_text(toml_text(mutated(calibration_dict(tmp_path), data.draw)))
    only_clear_errors(load_calibration, path)
    try:   # a calibration that loads is applied to the kit, or refused for another kit: never a traceback
        load_calibration(path).apply(load_kit())
    except LaleluError:
        pass


record_values = st.one_of(values, st.integers(0, 2 ** 64))


@FUZZ
@given(st.data())
def test_any_values_in_a_trace_then_report_and_replay(tmp_path: Path, data) -> None:
    """A trace with damaged records: read_trace refuses it at the line, or what it accepts goes through the
    report and the replay without a traceback."""
    base = a_trace(tmp_path, frames=12)
    lines = base.read_text().splitlines()
    for n in data.draw(st.lists(st.integers(1, len(lines) - 1), max_size=4)):
        record = json.loads(lines[n])
        mutated_record = mutated(record, data.draw)
        if data.draw(st.booleans()):
            mutated_record["hits"] = data.draw(st.lists(
                st.fixed_dictionaries({"drum": st.sampled_from(["snare", 3]), "note": record_values,
                                       "velocity": st.integers(-5, 200), "channel": st.integers(-1, 17),
                                       "t_ns": st.integers(-1, 2 ** 64), "limb": st.just("right_hand")}),
                max_size=2))
        lines[n] = json.dumps(mutated_record)
    base.write_text("\n".join(lines) + "\n")
    try:
        header, records = read_trace(base)
    except LaleluError as exc:
        assert str(base) in str(exc)
        return
    if records:
        format_report(latency_stats(records), header)
    try:
        format_hits(replay_trace(base, load_kit()))
    except LaleluError as exc:
        assert str(base) in str(exc)


def test_records_that_are_not_objects_or_have_bad_fields_are_refused_at_their_line(tmp_path: Path) -> None:
    for bad in ('[1, 2]', '"text"', '{"i": "0", "cap": 1}', '{"i": 0, "cap": -5}', '{"i": 0, "cap": 1.5}',
                '{"i": 0, "cap": 1, "kp": [[1, 2]]}', '{"i": 0, "cap": 1, "kp": ' + json.dumps([[1, 2, None]] * 17)
                + '}', '{"i": 0, "cap": 1, "hits": [{"drum": "snare"}]}', '{"i": 0, "cap": 1, "hits": 5}',
                '{"i": 0, "cap": 1, "kp": ' + json.dumps([[1e400, 2, 0.5]] * 17) + '}'):
        path = tmp_path / "t.jsonl"
        path.write_text('{"lalelu_trace": 1}\n' + bad + '\n{"i": 1, "cap": 2}\n')
        with pytest.raises(LaleluError, match=rf"^{re.escape(str(path))}:2: not a trace record"):
            read_trace(path)
    assert isinstance(TraceRecord.from_json({"i": 0, "cap": 1}), TraceRecord)
