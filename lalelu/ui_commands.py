"""Command-line front of the window: `lalelu app`, and the `--gui` variant of `lalelu bench pipeline`.

`register(subparsers)` adds `app`. For the benchmark, `add_gui_argument(pipeline_parser)` adds `--gui`, and
`bench_pipeline_gui_main(...)` runs the headless benchmark and then the same one with the window open, in
one process, and prints both (`--json`: `{"headless": {...}, "gui": {...}}`, each as the headless form).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, TextIO

from lalelu.engine import DEFAULT_THREADS
from lalelu.errors import LaleluError

GUI_BUDGET_MS = 0.5  # the window may cost the end-to-end p99 at most this much


def register(subparsers: argparse._SubParsersAction) -> None:
    from lalelu.ui.app import add_app_arguments

    app = subparsers.add_parser("app", help="open the lalelu window (video, live latency plots, controls)")
    add_app_arguments(app)
    app.set_defaults(func=app_command)


def app_command(args: argparse.Namespace) -> int:
    from lalelu.ui.app import run_app

    return run_app(args)


def add_gui_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--gui", action="store_true",
                        help="also run it with the window open (same run) and compare end-to-end p99")


def run_pipeline_with_window(seconds: float = 30.0, fps: float = 100.0, model: str = "lightning",
                             backend: str = "litert", threads: int = DEFAULT_THREADS, midi: bool = True,
                             cores: tuple[int | None, int | None] = (0, 1), ui_fps: float = 30.0,
                             notes: list[str] | None = None) -> dict[str, Any]:
    """bench_pipeline.run_pipeline's measurement, with the window open on the engine and Qt's loop running."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from lalelu.bench_pipeline import bench_config, bench_midi_port, played_results, scripted_hits_of
    from lalelu.trace import TraceCursor
    from lalelu.ui.app import check_display
    from lalelu.ui.engine_process import EngineProcess
    from lalelu.ui.settings import UiSettings
    from lalelu.ui.window import MainWindow

    notes = notes if notes is not None else []
    try:
        check_display()
    except LaleluError:
        # The benchmark needs the window's work (drawing, plots, snapshots), not a screen to show it on.
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        notes.append("no display: the window is drawn offscreen (QT_QPA_PLATFORM=offscreen), with all its work")
    with bench_midi_port(midi, notes) as midi_port:
        engine = EngineProcess(bench_config(fps, model, backend, threads, midi_port, cores))   # as the app runs it
        app = QApplication.instance() or QApplication([sys.argv[0]])
        settings = UiSettings(source="synthetic", model=model, backend=backend, midi_port=midi_port or "off")
        window = MainWindow(engine_factory=lambda _settings: engine, settings=settings, ui_fps=ui_fps,
                            remember=False)
        window.resize(1240, 780)
        window.show()
        for _ in range(5):   # the first layout and paint (fonts, plot items) happen before the engine plays
            app.processEvents()
        records: list = []
        try:
            if not window.start_engine():
                raise OSError(window.error)
            cursor = TraceCursor(engine.ring)
            collector = QTimer()
            collector.timeout.connect(lambda: records.extend(cursor.read()))
            collector.start(200)
            # Qt's own loop, as in the app (it sleeps between events); quits early if the engine stops.
            QTimer.singleShot(int(seconds * 1000), app.quit)
            watchdog = QTimer()
            watchdog.timeout.connect(lambda: None if engine.running else app.quit())
            watchdog.start(500)
            app.exec()
            watchdog.stop()
            collector.stop()
            redraws = window.redraws
            window.timer.stop()
            source, stats = engine.source, engine.stats()
            engine.stop()
            records.extend(cursor.read())
            scripted = scripted_hits_of(source, max((r.t_capture for r in records), default=0))
        finally:
            window.stop_engine()
            window.close()
            window.deleteLater()
            app.processEvents()
    results = played_results(engine, cursor, records, scripted, stats, fps, threads, midi_port is not None, notes)
    results["ui_redraws_per_s"] = redraws / seconds
    return results


def bench_pipeline_gui_main(seconds: float = 30.0, as_json: bool = False, fps: float = 100.0, threads: int = DEFAULT_THREADS,
                            model: str = "lightning", backend: str = "litert",
                            cores: tuple[int | None, int | None] = (0, 1), ui_fps: float = 30.0,
                            out: TextIO | None = None) -> int:
    """`lalelu bench pipeline --gui`: headless, then with the window open, in the same process."""
    from lalelu import bench_pipeline
    from lalelu.bench_pipeline import format_pipeline, run_pipeline

    out = out or sys.stdout
    notes: list[str] = []
    headless = run_pipeline(seconds=seconds, fps=fps, model=model, backend=backend, threads=threads,
                            cores=cores, notes=notes)
    gui = run_pipeline_with_window(seconds=seconds, fps=fps, model=model, backend=backend, threads=threads,
                                   cores=cores, ui_fps=ui_fps, notes=notes)
    for note in notes:
        print(note, file=sys.stderr)
    if as_json:
        keys = bench_pipeline.JSON_KEYS   # each in the headless benchmark's own form
        print(json.dumps({"headless": {k: headless[k] for k in keys}, "gui": {k: gui[k] for k in keys}}), file=out)
        return 0
    p99_headless, p99_gui = headless["e2e_ms"]["p99"], gui["e2e_ms"]["p99"]
    print("headless:\n" + format_pipeline(headless, seconds, fps), file=out)
    print(f"\nwith the window open ({gui['ui_redraws_per_s']:.0f} redraws/s):\n"
          + format_pipeline(gui, seconds, fps), file=out)
    if p99_headless is not None and p99_gui is not None:
        diff = p99_gui - p99_headless
        verdict = "within" if diff <= GUI_BUDGET_MS else "OVER"
        print(f"\nend-to-end p99: headless {p99_headless:.2f} ms, window open {p99_gui:.2f} ms, "
              f"difference {diff:+.2f} ms ({verdict} the {GUI_BUDGET_MS} ms budget)", file=out)
    return 0
