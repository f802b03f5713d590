"""`lalelu cameras`: the V4L2 cameras, their modes and the one lalelu plays in; `--check N`: a 5 s camera check."""

from __future__ import annotations

import argparse
import json

from lalelu.errors import LaleluError


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("cameras", help="list the webcams and their modes, or check one (--check N)",
                              description="Every V4L2 camera with its name, serial, formats, sizes and frame "
                                          "rates; the mode lalelu plays in is marked (the most fps at 320x240 "
                                          "or more in MJPG). With --check: play a few seconds and say whether "
                                          "the camera is fit for drumming.")
    p.add_argument("--check", metavar="N", help="check camera N (or any source: camera:N, file:PATH, synthetic): "
                                                "fps delivered, interval jitter, exposure, brightness, and whether "
                                                "the player is in frame from head to ankles")
    p.add_argument("--seconds", type=float, default=5.0, help="how long the check plays (default 5)")
    p.add_argument("--exposure-ms", type=float, metavar="MS", help="the exposure to check with (ms)")
    p.add_argument("--gain", type=float, help="the gain to check with")
    p.add_argument("--auto-exposure", action="store_const", const=True, help="check with the camera's auto exposure")
    p.add_argument("--model", default="lightning", help="the MoveNet model for the framing check")
    p.add_argument("--backend", default="litert", help="its backend")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.check is not None:
        return check(args)
    from lalelu.sources.v4l2 import device_paths, format_cameras, list_cameras

    devices = list_cameras(capture_only=False)
    cameras = [c for c in devices if c.info.capture]
    if args.json:
        print(json.dumps([c.to_json() | {"capture": c.info.capture} for c in devices], indent=2))
    elif devices:
        print(format_cameras(devices))
    if not cameras and not args.json:
        found = "" if not device_paths() else " (only nodes that carry no video, or unreadable ones)"
        print(f"no V4L2 camera found{found}: connect a webcam; meanwhile lalelu plays the scripted drummer")
    return 0 if cameras else 1


def check(args: argparse.Namespace) -> int:
    import math

    from lalelu.pose import load_estimator
    from lalelu.sources import open_source
    from lalelu.sources.camera_check import check_source, format_check
    from lalelu.sources.exposure import ExposureRequest

    if not math.isfinite(args.seconds) or args.seconds <= 0:
        raise LaleluError(f"--seconds {args.seconds:g}: give a positive number of seconds")
    spec = args.check.strip()
    if spec.isdigit():
        spec = f"camera:{spec}"
    exposure = ExposureRequest(args.exposure_ms, args.gain, args.auto_exposure).validated()
    source = open_source(spec, exposure=exposure, loop=True)   # first: no camera fails before the model loads
    try:
        estimator = load_estimator(model=args.model, backend=args.backend, threads=1)
        result = check_source(source, seconds=args.seconds, estimator=estimator)
    finally:
        source.close()
    print(json.dumps(result.to_json(), indent=2) if args.json else format_check(result))
    return 0 if result.ok else 1
