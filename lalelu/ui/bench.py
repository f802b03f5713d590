"""`lalelu bench pipeline --gui`: the headless pipeline benchmark, then the same one with the window open on
the engine and Qt's own loop running, in one process; both printed (`--json`: `{"headless": {...}, "gui":
{...}}`, each as the headless form)."""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any, TextIO

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

from lalelu import bench_pipeline
from lalelu.bench_pipeline import bench_config, bench_midi_port, format_pipeline, played_results, run_pipeline
from lalelu.engine import DEFAULT_THREADS
from lalelu.engine.driver import EngineRun
from lalelu.errors import LaleluError
from lalelu.ui.app import check_display
from lalelu.ui.engine_process import EngineProcess
from lalelu.ui.settings import UiSettings
from lalelu.ui.window import MainWindow

GUI_BUDGET_MS = 0.5  # the window may cost the end-to-end p99 at most this much


def run_pipeline_with_window(seconds: float = 30.0, fps: float = 100.0, model: str = "lightning",
                             backend: str = "litert", threads: int = DEFAULT_THREADS, midi: bool = True,
                             cores: tuple[int | None, int | None] = (0, 1), ui_fps: float = 30.0,
                             notes: list[str] | None = None, detector: str | None = None) -> dict[str, Any]:
    """bench_pipeline.run_pipeline's measurement, with the window open on the engine and Qt's loop running."""
    notes = notes if notes is not None else []
    try:
        check_display()
    except LaleluError:
        # The benchmark needs the window's work (drawing, plots, snapshots), not a screen to show it on.
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        notes.append("no display: the window is drawn offscreen (QT_QPA_PLATFORM=offscreen), with all its work")
    with bench_midi_port(midi, notes, sound=True) as midi_port:
        engine = EngineProcess(bench_config(fps, model, backend, threads, midi_port, cores,
                                            detector=detector))   # as the app runs it
        app = QApplication.instance() or QApplication([sys.argv[0]])
        settings = UiSettings(source="synthetic", model=model, backend=backend, midi_port=midi_port or "off")
        window = MainWindow(engine_factory=lambda _settings: engine, settings=settings, ui_fps=ui_fps,
                            remember=False)
        window.resize(1240, 780)
        window.show()
        for _ in range(5):   # the first layout and paint (fonts, plot items) happen before the engine plays
            app.processEvents()
        t_open = time.monotonic_ns()   # the window is up: from here to the first hit's sound
        run = EngineRun(engine, seconds, keep_records=True)
        said = []
        try:
            if not window.start_engine():   # the window starts the engine; the run only reads it
                raise OSError(window.error)
            run.attach()
            # Qt's own loop, as in the app (it sleeps between events); the run's steps ride on a timer. A loop of
            # its own, not app.exec(): once the application's loop has ended, Qt fires no timer any more in
            # this process (a later window, a test's wait).
            loop = QEventLoop()
            stepper = QTimer()
            stepper.timeout.connect(lambda: said.extend(run.step()) if run.reason is None else loop.quit())
            stepper.start(200)
            loop.exec()
            stepper.stop()
            redraws = window.redraws
            window.timer.stop()
            said += run.stop()
        finally:
            window.stop_engine()
            window.close()
            window.deleteLater()
            app.processEvents()
    results = played_results(engine, run, said, fps, threads, midi_port is not None, notes)
    results["ui_redraws_per_s"] = redraws / seconds
    sounds = [s.t_sound for r in run.records for s in r.sounds]
    results["first_sound_s"] = round((min(sounds) - t_open) / 1e9, 3) if sounds else None
    return results


def bench_pipeline_gui_main(seconds: float = 30.0, as_json: bool = False, fps: float = 100.0,
                            threads: int = DEFAULT_THREADS, model: str = "lightning", backend: str = "litert",
                            cores: tuple[int | None, int | None] = (0, 1), ui_fps: float = 30.0,
                            out: TextIO | None = None, detector: str | None = None) -> int:
    """Headless, then with the window open, in the same process."""
    out = out or sys.stdout
    notes: list[str] = []
    headless = run_pipeline(seconds=seconds, fps=fps, model=model, backend=backend, threads=threads,
                            cores=cores, notes=notes, detector=detector)
    gui = run_pipeline_with_window(seconds=seconds, fps=fps, model=model, backend=backend, threads=threads,
                                   cores=cores, ui_fps=ui_fps, notes=notes, detector=detector)
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
    if gui.get("first_sound_s") is not None:
        print(f"window open -> the first hit's sound out: {gui['first_sound_s']:.2f} s (engine and sound processes "
              "started, model loaded; the scripted drummer's first hit comes 0.5 s into play)", file=out)
    return 0
