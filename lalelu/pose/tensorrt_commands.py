"""`lalelu models build --backend tensorrt [--precision fp16|fp32] [--model NAME]`.

`register_models_build(models_subparsers)` adds `build` under `lalelu models`; it sets `func(args) -> int`.
"""

from __future__ import annotations

import argparse

from lalelu.errors import LaleluError
from lalelu.pose.models import installed_models
from lalelu.pose.tensorrt_build import DEFAULT_PRECISION, PRECISIONS

BUILD_BACKENDS = ("tensorrt",)


def register_models_build(models_subparsers: argparse._SubParsersAction) -> None:
    p = models_subparsers.add_parser(
        "build", help="build GPU engines (TensorRT) from the installed models",
        description="Build a TensorRT engine for each installed MoveNet model from its ONNX file. Engines are "
                    "cached per GPU and TensorRT version and rebuilt when either (or the ONNX file) changes.")
    p.add_argument("--backend", choices=BUILD_BACKENDS, default="tensorrt", help="engine kind (tensorrt)")
    p.add_argument("--precision", choices=PRECISIONS, default=DEFAULT_PRECISION,
                   help=f"arithmetic of the engine (default {DEFAULT_PRECISION}); the backend runs the one named "
                        "by $LALELU_TRT_PRECISION, fp16 unless set")
    p.add_argument("--model", action="append", metavar="NAME",
                   help="lightning, thunder, multipose or an .onnx path; repeat for several (default: all installed)")
    p.add_argument("--force", action="store_true", help="rebuild even when the cached engine is up to date")
    p.set_defaults(func=models_build_command)


def models_build_command(args: argparse.Namespace) -> int:
    from lalelu.pose.tensorrt_build import build_engines, gpu_summary, require_gpu

    require_gpu()
    names = args.model or installed_models()
    if not names:
        raise LaleluError("no models are installed: run `lalelu models install` first")
    print(gpu_summary())
    build_engines(names, args.precision, say=print, force=args.force)
    return 0
