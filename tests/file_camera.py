"""A stand-in for a webcam: CameraSource's own logic (open, read, lose, look for it again) on a real OpenCV
capture of an MJPG video file in place of /dev/videoN, since the test machine has no webcam. Moving the file
away is unplugging the camera; the end of the file is the camera going silent."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from lalelu.sources import v4l2
from lalelu.sources.camera import CameraSource
from lalelu.sources.exposure import ExposureLimits

V4L2_DATA = Path(__file__).parent / "data" / "v4l2"


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


class StandInControls:
    """Exposure/gain controls where no device exists: records what the camera source set."""

    def __init__(self, limits: ExposureLimits) -> None:
        self._limits = limits
        self.calls: list[tuple] = []
        self.auto, self.exposure_ms, self.gain = True, None, None

    def limits(self) -> ExposureLimits:
        return self._limits

    def set_auto(self) -> None:
        self.calls.append(("auto",))
        self.auto = True

    def set_manual(self, exposure_ms: float) -> None:
        self.calls.append(("manual", exposure_ms))
        self.auto, self.exposure_ms = False, exposure_ms

    def set_gain(self, gain: float) -> None:
        self.calls.append(("gain", gain))
        self.gain = gain

    def read(self):
        return self.auto, self.exposure_ms, self.gain


ARDUCAM_LIMITS = ExposureLimits(exposure_ms=(1.0, 66.0), gain=(1, 16), auto=True)


def recorded_arducam(index: int = 7) -> v4l2.Camera:
    """The Arducam B0589 as v4l2-ctl described it (tests/data/v4l2): name, serial, modes, controls."""
    info = (V4L2_DATA / "arducam_b0589_all_video0.txt").read_text()
    return v4l2.Camera(index=index, path=f"/dev/video{index}", info=v4l2.parse_info(info),
                       modes=v4l2.parse_formats((V4L2_DATA / "arducam_b0589_list_formats_ext.txt").read_text()),
                       controls=v4l2.parse_controls(info))


class RecordedArducam(FileCamera):
    """A FileCamera that v4l2-ctl 'describes' as the recorded Arducam: its identity and modes."""

    def _probe(self, device):
        return recorded_arducam(self.index)


def arducam_file_camera(video: Path, **kwargs) -> RecordedArducam:
    return RecordedArducam(video, **kwargs)
