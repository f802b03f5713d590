"""Every numeric option of every command: 0, -1, nan, inf and text are refused with a clear error when the
command line is parsed (argparse: exit status 2, the option named), never a traceback or a silent misbehaviour
(`--fps -10` used to play at 230 fps, `--duration nan` never ended); property-based over any text too."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lalelu.cli import build_parser, main
from lalelu.cli.options import MAX_FPS, MAX_THREADS, engine_config, resolved
from lalelu.errors import LaleluError

# (the command's words, the option, the lowest value it takes, the highest, whether it must be an integer)
OPTIONS = [
    (["run", "--headless"], "--fps", 1.0, MAX_FPS, False),
    (["run", "--headless"], "--duration", 0.0, 1e6, False),
    (["run", "--headless"], "--threads", 1, MAX_THREADS, True),
    (["app"], "--fps", 1.0, MAX_FPS, False),
    (["app"], "--ui-fps", 0.0, 60.0, False),
    (["app"], "--quit-after", 0.0, 1e6, False),
    (["replay", "t.jsonl"], "--fps", 1.0, MAX_FPS, False),
    (["calibrate", "--player", "p"], "--fps", 1.0, MAX_FPS, False),
    (["calibrate", "--player", "p"], "--neutral-seconds", 0.0, 1e6, False),
    (["calibrate", "--player", "p"], "--zone-seconds", 0.0, 1e6, False),
    (["calibrate", "--player", "p"], "--strokes", 2, 100, True),
    (["pose", "x.jpg"], "--threads", 1, MAX_THREADS, True),
    (["pose", "x.jpg"], "--max-frames", 0, None, True),
    (["bench", "pipeline"], "--seconds", 0.0, 1e6, False),
    (["bench", "pipeline"], "--fps", 1.0, MAX_FPS, False),
    (["bench", "soak"], "--minutes", 0.0, 1e6 / 60, False),
    (["bench", "soak"], "--fps", 1.0, MAX_FPS, False),
    (["bench", "tracking"], "--seconds", 0.0, 1e6, False),
    (["bench", "tracking"], "--fps", 1.0, MAX_FPS, False),
    (["bench", "gestures"], "--seconds", 0.0, 1e6, False),
    (["bench", "gestures"], "--fps", 1.0, MAX_FPS, False),
    (["bench", "gestures"], "--seed", 0, None, True),
    (["bench", "inference"], "--runs", 1, None, True),
    (["bench", "inference"], "--warmup", 0, None, True),
    (["bench", "inference"], "--threads", 1, MAX_THREADS, True),
    (["synth", "--script"], "--tempo", 0.0, None, False),
    (["synth", "--script"], "--seconds", 0.0, 1e6, False),
    (["synth", "--out", "x.mp4"], "--fps", 1.0, MAX_FPS, False),
]
IDS = [" ".join(words[:2] + [option]) for words, option, *_ in OPTIONS]


def parse(argv: list[str]):
    """The parsed arguments, or the SystemExit status argparse gave."""
    try:
        return build_parser().parse_args(argv)
    except SystemExit as exc:
        return exc.code


@pytest.mark.parametrize("words,option,lo,hi,integer", OPTIONS, ids=IDS)
def test_zero_negative_nan_inf_and_text_are_refused(words, option, lo, hi, integer, capsys) -> None:
    bad = ["-1", "nan", "inf", "-inf", "", "ten", "1e999"]
    if lo > 0 or option in ("--duration", "--seconds", "--quit-after", "--neutral-seconds", "--zone-seconds",
                            "--minutes", "--tempo", "--ui-fps"):
        bad.append("0")
    if integer:
        bad.append("2.5")
    for text in bad:
        assert parse([*words, f"{option}={text}"]) == 2, (option, text)   # `=`: "-inf" is a value, not an option
        err = capsys.readouterr().err
        assert f"error: argument {option}" in err and "Traceback" not in err, err
        assert "give " in err or "not an integer" in err or "not a number" in err, err


@pytest.mark.parametrize("words,option,lo,hi,integer", OPTIONS, ids=IDS)
def test_a_usable_value_is_taken(words, option, lo, hi, integer) -> None:
    value = 3 if integer else 2.5
    args = parse([*words, option, str(value)])
    assert getattr(args, option.lstrip("-").replace("-", "_")) == value


@settings(deadline=None, max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(index=st.integers(0, len(OPTIONS) - 1),
       text=st.one_of(st.floats().map(repr), st.integers(-10 ** 6, 10 ** 6).map(str), st.text(max_size=8)))
def test_any_text_for_any_numeric_option(index: int, text: str) -> None:
    """Any value either parses to a finite number within the option's bounds, or is refused (status 2)."""
    words, option, lo, hi, integer = OPTIONS[index]
    args = parse([*words, f"{option}={text}"])
    if args == 2:
        return
    value = getattr(args, option.lstrip("-").replace("-", "_"))
    if isinstance(value, list):
        value = value[0]
    assert math.isfinite(value) and value >= lo and (hi is None or value <= hi), (option, text, value)
    assert not integer or isinstance(value, int)


def test_the_screenshot_times_are_checked_each(capsys) -> None:
    assert parse(["app", "--screenshot-at", "1", "nan"]) == 2
    assert "error: argument --screenshot-at" in capsys.readouterr().err


def test_a_frame_rate_or_thread_count_from_the_settings_file_is_checked_too(tmp_path, monkeypatch) -> None:
    settings_file = tmp_path / "lalelu.ini"
    monkeypatch.setenv("LALELU_SETTINGS", str(settings_file))
    args = build_parser().parse_args(["run", "--headless", "--source", "synthetic"])
    settings_file.write_text("[General]\nfps = nan\n")
    with pytest.raises(LaleluError, match=r"nan is not a usable frame rate \(--fps, or fps in the settings file\)"):
        engine_config(args)
    settings_file.write_text("[General]\nthreads = 0\n")
    with pytest.raises(LaleluError, match="0 is not a usable thread count"):
        resolved(args, "threads")
    settings_file.write_text("[General]\nfps = fast\nthreads = many\n")   # not numbers: the defaults play
    assert resolved(args, "fps") == 100.0 and resolved(args, "threads") == 2


def test_record_onto_an_existing_trace_needs_force(tmp_path, capsys) -> None:
    existing = tmp_path / "take.jsonl"
    existing.write_text("my best take\n")
    assert main(["run", "--headless", "--record", str(existing), "--midi-port", "x", "--duration", "1"]) == 2
    assert "the file exists; give --force to overwrite it" in capsys.readouterr().err
    assert existing.read_text() == "my best take\n"
    assert main(["run", "--headless", "--record", str(tmp_path), "--duration", "1"]) == 2
    assert "that is a folder" in capsys.readouterr().err
    assert main(["run", "--headless", "--record", str(tmp_path / "no" / "t.jsonl"), "--duration", "1"]) == 2
    assert "no folder" in capsys.readouterr().err
    from lalelu.cli.run import check_record_path

    check_record_path(existing, force=True)     # --force: allowed


@settings(deadline=None, max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(options=st.lists(st.tuples(st.sampled_from(["tempo", "seconds", "pattern", "passerby", "speed"]),
                                  st.one_of(st.floats().map(repr), st.integers(-5, 500).map(str), st.text(max_size=6))),
                        max_size=3),
       camera=st.text(max_size=6))
def test_any_source_text_is_a_source_or_a_clear_error(options, camera) -> None:
    """`--source synthetic:KEY=VALUE,...` and `camera:N` with anything after the colon."""
    from lalelu.sources import open_source

    text = "synthetic:" + ",".join(f"{k}={v}" for k, v in options)
    for name in (text, f"camera:{camera}", f"file:{camera}"):
        try:
            source = open_source(name, fps=30.0)
        except LaleluError:
            continue
        source.close()
