"""Where the model files are, what each one is, and checking that they are intact.

Built models live in `models/<name>/` with a `manifest.json` that records where they came from and the
sha256 of every file; a user's own model (`--model PATH`) is a SavedModel directory, a .tflite, an .onnx or an
OpenVINO IR (.xml with its .bin).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from lalelu.config import models_dir
from lalelu.errors import LaleluError

# The model names the project builds, their TFJS files in the npm package and their square input size.
MODEL_SPECS = {
    "lightning": {"tfjs": "movenet-lightning", "input_size": 192, "multipose": False},
    "thunder": {"tfjs": "movenet-thunder", "input_size": 256, "multipose": False},
    "multipose": {"tfjs": "movenet-multipose", "input_size": 256, "multipose": True},
}
MANIFEST = "manifest.json"
SAVED_MODEL = "saved_model"
TFLITE = "model_fp16.tflite"
ONNX = "model.onnx"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class ModelFiles:
    """One model and the files each backend loads (None where that format is missing)."""

    name: str
    input_size: int
    multipose: bool
    saved_model: Path | None = None
    tflite: Path | None = None
    onnx: Path | None = None
    openvino: Path | None = None  # a user's own OpenVINO IR (.xml); built models get theirs from their ONNX
    checksums: dict[str, str] = field(default_factory=dict)  # path -> sha256, for built models
    folder: Path | None = None

    def file_for(self, kind: str) -> Path:
        """The file a backend needs ('tflite', 'onnx' or 'saved_model'), verified, or a clear error."""
        path = getattr(self, kind)
        if path is None:
            have = [k for k in ("tflite", "onnx", "saved_model", "openvino") if getattr(self, k) is not None]
            raise LaleluError(f"model {self.name} has no {kind} file (it has: {', '.join(have) or 'nothing'}); "
                              f"choose a backend for one of those, or give --model a {kind} file")
        if not path.exists():
            raise LaleluError(f"{path} is missing: run `lalelu models install` to build it again")
        self._verify(path)
        return path

    def _verify(self, path: Path) -> None:
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for f in files:
            rel = str(f.relative_to(self.folder)) if self.folder else None
            expected = self.checksums.get(rel) if rel else None
            if expected and sha256_of(f) != expected:
                raise LaleluError(f"{f} is corrupt (its sha256 differs from {self.folder / MANIFEST}): "
                                  "run `lalelu models install --force` to rebuild it")


def installed_models() -> list[str]:
    return [n for n in MODEL_SPECS if (models_dir() / n / MANIFEST).exists()]


def read_manifest(folder: Path) -> dict:
    path = folder / MANIFEST
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise LaleluError(f"model {folder.name} is not installed ({path} is missing): "
                          "run `lalelu models install`") from None
    except (OSError, ValueError) as exc:
        raise LaleluError(f"{path} is unreadable ({exc}): run `lalelu models install --force`") from exc


def resolve_model(model: str) -> ModelFiles:
    """A model by name (lightning, thunder, multipose) or by path to a user's own model."""
    if model in MODEL_SPECS:
        folder = models_dir() / model
        manifest = read_manifest(folder)
        return ModelFiles(
            name=model, input_size=int(manifest["input_size"]), multipose=bool(manifest["multipose"]),
            saved_model=folder / SAVED_MODEL, tflite=folder / TFLITE, onnx=folder / ONNX,
            checksums=manifest.get("files", {}), folder=folder,
        )
    return user_model(Path(model))


def user_model(path: Path) -> ModelFiles:
    """Inspect a user's own MoveNet file or SavedModel folder to learn its input size and kind."""
    if not path.exists():
        raise LaleluError(f"no model named {path}: use lightning, thunder, multipose or the path of a "
                          "SavedModel folder, a .tflite or an .onnx file")
    try:
        if path.is_dir():
            size, outputs = _inspect_saved_model(path)
            files = ModelFiles(path.name, size, False, saved_model=path)
        elif path.suffix == ".tflite":
            size, outputs = _inspect_tflite(path)
            files = ModelFiles(path.stem, size, False, tflite=path)
        elif path.suffix == ".onnx":
            size, outputs = _inspect_onnx(path)
            files = ModelFiles(path.stem, size, False, onnx=path)
        elif path.suffix == ".xml":
            from lalelu.pose.openvino_build import inspect_ir

            size, outputs = inspect_ir(path)
            files = ModelFiles(path.stem, size, False, openvino=path)
        else:
            raise LaleluError(f"{path}: unknown model format; expected a SavedModel folder, a .tflite, an .onnx "
                              "or an OpenVINO .xml")
    except LaleluError:
        raise
    except Exception as exc:  # each runtime raises its own types for a corrupt file
        raise LaleluError(f"{path} is not a readable model ({type(exc).__name__}: {exc}); expected a MoveNet "
                          "SavedModel folder, .tflite or .onnx") from exc
    if outputs[-2:] == [17, 3]:
        files.multipose = False
    elif outputs[-1:] == [56]:
        files.multipose = True
    else:
        raise LaleluError(f"{path} is not a MoveNet model: its output shape is {outputs}, expected "
                          "[1,1,17,3] (SinglePose) or [1,6,56] (MultiPose)")
    return files


def _square(size, path: Path, default: int | None) -> int:
    if size and size > 1:   # a size of 1 (or -1, None) is a placeholder for a dynamic input
        return int(size)
    if default is None:
        raise LaleluError(f"{path} has a dynamic input size; MoveNet SinglePose needs a fixed square input")
    return default


def _inspect_tflite(path: Path) -> tuple[int, list[int]]:
    from ai_edge_litert.interpreter import Interpreter

    interp = Interpreter(model_path=str(path))
    details = interp.get_input_details()[0]
    shape = [int(v) for v in details.get("shape_signature", details["shape"])]   # -1 where dynamic
    out = [int(v) for v in interp.get_output_details()[0]["shape"]]
    return _square(shape[1], path, 256), out


def _inspect_onnx(path: Path) -> tuple[int, list[int]]:
    import onnxruntime as ort

    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    shape = sess.get_inputs()[0].shape
    out = [d if isinstance(d, int) else -1 for d in sess.get_outputs()[0].shape]
    return _square(shape[1] if isinstance(shape[1], int) else None, path, 256), out


def _inspect_saved_model(path: Path) -> tuple[int, list[int]]:
    import tensorflow as tf

    fn = tf.saved_model.load(str(path)).signatures["serving_default"]
    spec = next(iter(fn.structured_input_signature[1].values()))
    out = next(iter(fn.structured_outputs.values())).shape.as_list()
    size = spec.shape.as_list()[1]
    return _square(size, path, 256), [-1 if d is None else d for d in out]
