"""A stand-in for a webcam: CameraSource's own logic (open, read, lose, look for it again) on a real OpenCV
capture of an MJPG video file in place of /dev/videoN, since the test machine has no webcam. Moving the file
away is unplugging the camera; the end of the file is the camera going silent."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from lalelu.sources.camera import CameraSource


def write_mjpg_video(path: Path, frames: int, size: tuple[int, int] = (320, 240), fps: float = 30.0) -> Path:
    """A real MJPG video of moving bars, `frames` long."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, size)
    for i in range(frames):
        image = np.full((size[1], size[0], 3), 200, np.uint8)
        cv2.rectangle(image, (10 + 5 * i, 40), (60 + 5 * i, 200), (40, 80, 160), -1)
        writer.write(image)
    writer.release()
    if not path.exists():
        raise RuntimeError(f"OpenCV wrote no video to {path}: give it a .avi name")
    return path


class FileCamera(CameraSource):
    def __init__(self, path: Path, **kwargs) -> None:
        self.path = Path(path)
        super().__init__(index=7, **kwargs)

    def _device(self) -> str:
        return str(self.path)

    def _capture(self) -> cv2.VideoCapture:
        return cv2.VideoCapture(str(self.path))
