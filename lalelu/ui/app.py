"""The window as an application: `lalelu app`, and `lalelu run` without --headless. Command-line choices win
over the remembered settings, and are remembered like a choice made in the window."""

from __future__ import annotations

import json
import os
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from lalelu.errors import LaleluError
from lalelu.jack import JackServer, ensure_jack_server
from lalelu.sources import choose_source
from lalelu.ui.settings import ENGINE_CHOICES, SOUND_CHOICES, UiSettings, load_settings
from lalelu.ui.window import MainWindow, default_engine_factory

NO_DISPLAY_HINT = ("no display to open the window on (DISPLAY and WAYLAND_DISPLAY are unset): run it on a desktop, "
                   "under a virtual X server (`xvfb-run lalelu app`), or without a screen with "
                   "QT_QPA_PLATFORM=offscreen")


@dataclass
class AppOptions:
    """How the window runs (not what it plays)."""

    start: bool = True                  # start playing at once
    ui_fps: float = 30.0                # redraws per second (at most 60)
    quit_after: float | None = None     # close the window after this many seconds
    screenshot_dir: str | None = None   # for tests and docs: window pictures ...
    screenshot_at: list[float] = field(default_factory=list)   # ... this many seconds after the first pose shown


def check_display() -> None:
    if sys.platform.startswith("linux") and not os.environ.get("QT_QPA_PLATFORM"):
        if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
            raise LaleluError(NO_DISPLAY_HINT)


class AppEngineFactory:
    """Builds engines for the window; makes sure a MIDI backend exists first (starts JACK when needed)."""

    def __init__(self, **overrides) -> None:
        self.jack: JackServer | None = None
        self.overrides = overrides

    def __call__(self, settings: UiSettings):
        if self.jack is None:
            self.jack = ensure_jack_server(notify=lambda note: print(f"lalelu app: {note}", file=sys.stderr),
                                           backend=self.overrides.get("midi_backend") or "auto")
        return default_engine_factory(settings, **self.overrides)

    def close(self) -> None:
        if self.jack is not None:
            self.jack.stop()
            self.jack = None


def save_screenshot(window, folder: Path, name: str) -> Path:
    """The window as the screen shows it, plus where its parts are (for tests that look at regions)."""
    folder.mkdir(parents=True, exist_ok=True)
    screen = window.screen()
    picture = screen.grabWindow(window.winId()) if screen is not None else window.grab()
    if picture.isNull():
        picture = window.grab()
    path = folder / f"{name}.png"
    picture.save(str(path))

    def rect_of(widget, inner=None):
        top_left = widget.mapTo(window, widget.rect().topLeft())
        r = inner if inner is not None else widget.rect()
        return [top_left.x() + int(r.x()), top_left.y() + int(r.y()), int(r.width()), int(r.height())]

    video = window.video
    layout = {"window": [0, 0, window.width(), window.height()], "video": rect_of(video, video.image_rect()),
              "plots": rect_of(window.plots), "redraws": window.redraws,
              "error": window.error, "recording": window.engine.recording_path if window.engine else None}
    (folder / f"{name}.json").write_text(json.dumps(layout))
    return path


def settings_for_run(choices: dict[str, str | None], has_camera=None) -> tuple[UiSettings, str]:
    """(the remembered settings with the choices given on the command line over them, a note for the user).
    `choices` holds the source and the ENGINE_CHOICES, None where not given."""
    settings = load_settings()
    settings.source, note = choose_source(choices.get("source"), has_camera)
    for name in ENGINE_CHOICES + SOUND_CHOICES:
        if choices.get(name) is not None:
            setattr(settings, name, choices[name])
    return settings, note


def run_app(choices: dict[str, str | None], options: AppOptions, **engine_overrides) -> int:
    """Open the window on the given choices (see settings_for_run); `engine_overrides` are EngineConfig fields
    the window does not offer (threads, cores, fps...)."""
    check_display()
    settings, note = settings_for_run(choices)
    if note:
        print(f"lalelu app: {note}", file=sys.stderr)

    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setOrganizationName("lalelu")
    app.setApplicationName("lalelu")
    factory = AppEngineFactory(**engine_overrides)
    window = MainWindow(engine_factory=factory, settings=settings, ui_fps=options.ui_fps)
    window.show()
    if options.start:
        QTimer.singleShot(0, window.start_engine)
    # Screenshots are timed from the first pose the window shows, not from the start: a busy machine takes
    # longer to start the engine; and the window does not close (--quit-after) before the last one is taken.
    pending = {"shots": len(options.screenshot_at) if options.screenshot_dir else 0, "quit": False}

    def shot(i: int) -> None:
        save_screenshot(window, Path(options.screenshot_dir), f"window-{i}")
        pending["shots"] -= 1
        if pending["shots"] == 0 and pending["quit"]:
            window.close()

    def first_pose_shown() -> None:
        if window._last_image_index is None or window._last_keypoints is None:
            return
        waiting.stop()
        for i, at in enumerate(options.screenshot_at):
            QTimer.singleShot(int(at * 1000), lambda i=i: shot(i))

    waiting = QTimer()
    if pending["shots"]:
        waiting.timeout.connect(first_pose_shown)
        waiting.start(50)

    def quit_after() -> None:
        pending["quit"] = True
        if pending["shots"] == 0:
            window.close()

    if options.quit_after:
        QTimer.singleShot(int(options.quit_after * 1000), quit_after)
    # Ctrl+C / SIGTERM close the window cleanly (Python handles signals only between Qt events: tick).
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: window.close())
    ticker = QTimer()
    ticker.timeout.connect(lambda: None)
    ticker.start(200)
    try:
        app.exec()
    finally:
        window.stop_engine()
        factory.close()
        window.deleteLater()
        app.processEvents()
    return 0
