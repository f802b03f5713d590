"""`lalelu app`: opens the window. Command-line choices win over the remembered settings, and are remembered
like a choice made in the window."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path

from lalelu.errors import LaleluError

NO_DISPLAY_HINT = ("no display to open the window on (DISPLAY and WAYLAND_DISPLAY are unset): run it on a desktop, "
                   "under a virtual X server (`xvfb-run lalelu app`), or without a screen with "
                   "QT_QPA_PLATFORM=offscreen")


def add_app_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", help="synthetic, camera:N or file:PATH (default: the last one used; "
                                         "first run: camera:0 if there is a webcam, else the scripted drummer)")
    parser.add_argument("--model", help="lightning, thunder, multipose or a model path")
    parser.add_argument("--backend", help="litert, onnxruntime, tensorflow or tensorrt")
    parser.add_argument("--midi-port", help="virtual output port name or an existing port")
    parser.add_argument("--kit", help="kit name or .toml path")
    parser.add_argument("--player", help="calibration name (calibration/NAME.toml)")
    parser.add_argument("--no-start", action="store_true", help="open the window without starting to play")
    parser.add_argument("--ui-fps", type=float, default=30.0, help="window redraws per second (at most 60)")
    parser.add_argument("--screenshot-dir", help=argparse.SUPPRESS)   # for tests and docs: window pictures ...
    parser.add_argument("--screenshot-at", type=float, nargs="*", default=[], help=argparse.SUPPRESS)  # ... at s
    parser.add_argument("--quit-after", type=float, help="close the window after this many seconds")


def check_display() -> None:
    if sys.platform.startswith("linux") and not os.environ.get("QT_QPA_PLATFORM"):
        if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
            raise LaleluError(NO_DISPLAY_HINT)


def camera_opens(index: int) -> bool:
    from lalelu.sources.camera import camera_available

    return camera_available(index)


def startup_source(saved: str | None, given: str | None, has_camera=camera_opens) -> tuple[str, str]:
    """(source to play, note for the user). A source given on the command line is used as is; otherwise the
    remembered one, or the one headless play would choose (LALELU_SOURCE, the first webcam); a camera that
    does not open falls back to the scripted drummer."""
    if given:
        return given, ""
    if saved is None:
        from lalelu.sources import choose_default_source

        saved = choose_default_source(has_camera)[0]
    kind, _, rest = saved.partition(":")
    if kind == "camera":
        index = int(rest) if rest.isdigit() else 0
        if not has_camera(index):
            return "synthetic", f"no webcam at /dev/video{index}: playing the scripted drummer"
    return saved, ""


class AppEngineFactory:
    """Builds engines for the window; makes sure a MIDI backend exists first (starts JACK when needed)."""

    def __init__(self, **overrides) -> None:
        self.jack = None
        self.overrides = overrides

    def __call__(self, settings):
        from lalelu.jack import ensure_jack_server
        from lalelu.ui.window import default_engine_factory

        if self.jack is None:
            self.jack = ensure_jack_server(notify=lambda note: print(f"lalelu app: {note}", file=sys.stderr))
        return default_engine_factory(settings, **self.overrides)

    def close(self) -> None:
        if self.jack is not None:
            self.jack.stop()
            self.jack = None


def engine_overrides(args: argparse.Namespace) -> dict:
    """Engine settings `lalelu run` may pass that the window does not offer (threads, cores, fps...)."""
    out = {}
    for name in ("threads", "midi_backend", "fps"):
        if getattr(args, name, None) is not None:
            out[name] = getattr(args, name)
    if getattr(args, "cores", None):
        from lalelu.engine_commands import parse_cores

        out["capture_core"], out["inference_core"] = parse_cores(args.cores)
    return out


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


def settings_for_run(args: argparse.Namespace):
    """(the remembered settings with the choices given on the command line over them, note for the user)."""
    from lalelu.ui.settings import load_settings, settings_were_saved

    settings = load_settings()
    settings.source, note = startup_source(settings.source if settings_were_saved() else None,
                                           getattr(args, "source", None))
    for name in ("model", "backend", "midi_port", "kit", "player"):
        value = getattr(args, name, None)
        if value is not None:
            setattr(settings, name, value)
    return settings, note


def run_app(args: argparse.Namespace) -> int:
    check_display()
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from lalelu.ui.window import MainWindow

    settings, note = settings_for_run(args)
    if note:
        print(f"lalelu app: {note}", file=sys.stderr)

    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setOrganizationName("lalelu")
    app.setApplicationName("lalelu")
    factory = AppEngineFactory(**engine_overrides(args))
    window = MainWindow(engine_factory=factory, settings=settings, ui_fps=args.ui_fps)
    window.show()
    if not args.no_start:
        QTimer.singleShot(0, window.start_engine)
    if args.screenshot_dir:
        folder = Path(args.screenshot_dir)
        for i, at in enumerate(args.screenshot_at):
            QTimer.singleShot(int(at * 1000), lambda i=i: save_screenshot(window, folder, f"window-{i}"))
    if args.quit_after:
        QTimer.singleShot(int(args.quit_after * 1000), window.close)
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lalelu app", description="the lalelu window")
    add_app_arguments(parser)
    try:
        return run_app(parser.parse_args(argv))
    except LaleluError as exc:
        print(f"lalelu app: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
