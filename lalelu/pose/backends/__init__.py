"""Pose backends, each a plain module chosen by name (mido's habit), loaded only when asked for."""

from __future__ import annotations

import importlib

from lalelu.errors import LaleluError

BACKENDS = ("litert", "tensorflow", "onnxruntime", "openvino", "tensorrt", "auto")
# Python packages each backend imports, for the error a user sees when one is missing.
_NEEDS = {"litert": "ai-edge-litert", "tensorflow": "tensorflow", "onnxruntime": "onnxruntime",
          "tensorrt": "tensorrt (and an NVIDIA GPU with its driver)", "openvino": "openvino",
          "auto": "one of ai-edge-litert, onnxruntime, openvino"}


def backend_class(name: str):
    if name not in BACKENDS:
        raise LaleluError(f"unknown pose backend {name!r}: choose from {', '.join(BACKENDS)}")
    try:
        module = importlib.import_module(f"lalelu.pose.backends.{name}")
    except ImportError as exc:
        raise LaleluError(f"pose backend {name} needs {_NEEDS[name]}, which is not importable ({exc}); "
                          f"install it, or use --backend litert") from exc
    return module.Backend
