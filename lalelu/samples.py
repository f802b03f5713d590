"""Sample media for tests, benchmarks and checking a model's accuracy, fetched once into a cache folder (a room
of its own, below pose and sources: both read the demo clip).

The real video is the demo clip that the `sports2d` package ships (1768x994, 30 fps, two people moving
their arms). It is taken out of the package's wheel, fetched with pip without its dependencies.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from lalelu.errors import LaleluError
from lalelu.config import cache_dir

SPORTS2D_VERSION = "0.8.34"
DEMO_MEMBER = "Sports2D/Demo/demo.mp4"


def demo_video_path() -> Path:
    """Path of the cached demo.mp4; fetches the sports2d wheel the first time."""
    target = cache_dir() / f"sports2d-{SPORTS2D_VERSION}-demo.mp4"
    if target.is_file() and target.stat().st_size > 0:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lalelu-sample-") as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               f"sports2d=={SPORTS2D_VERSION}", "-d", tmp, "-q"]
        result = subprocess.run(cmd, capture_output=True, text=True)
        wheels = list(Path(tmp).glob("sports2d-*.whl"))
        if result.returncode != 0 or not wheels:
            raise LaleluError(
                f"could not fetch the sample video (pip download sports2d=={SPORTS2D_VERSION} failed: "
                f"{(result.stderr or result.stdout).strip()[-300:]}); check the network or put a copy of "
                f"{DEMO_MEMBER} at {target}")
        with zipfile.ZipFile(wheels[0]) as wheel:
            try:
                data = wheel.read(DEMO_MEMBER)
            except KeyError:
                raise LaleluError(f"{wheels[0].name} has no {DEMO_MEMBER}; put a copy of it at {target}") from None
        partial = target.with_suffix(".part")
        partial.write_bytes(data)
        partial.replace(target)  # atomic: a concurrent reader never sees half a file
    return target
