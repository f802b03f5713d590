"""`lalelu bench camera`: what the camera work costs per frame, and what an exposure costs in blur.

1. The capture path: OpenCV's grab + retrieve alone, against CameraSource.read() with the driver's stamp read
   and mapped (an MJPG video stands in for the webcam: the same OpenCV calls, the same decode).
2. The window's brightness measure on one 640x480 frame.
3. Motion blur: the scripted drummer's fastest wrist (its true keypoints at 1 ms steps), smeared over each
   exposure: the length of the smear in pixels at 640x480.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from lalelu.sources.camera import CameraSource
from lalelu.sources.clock import KernelStampMapper, msec_to_ns
from lalelu.sources.exposure import blur_px, brightness, peak_speed_px_s

EXPOSURES_MS = (2.0, 5.0, 10.0, 16.7, 33.3)


class _VideoCamera(CameraSource):
    """CameraSource's own read path on an MJPG video in place of /dev/videoN."""

    def __init__(self, path: Path) -> None:
        self.path = path
        super().__init__(index=0, fps=100.0)

    def _device(self) -> str:
        return str(self.path)

    def _capture(self) -> cv2.VideoCapture:
        return cv2.VideoCapture(str(self.path))


def _write_video(path: Path, frames: int) -> Path:
    from lalelu.sources.mannequin import Mannequin, rest_pose

    image = Mannequin((640, 480)).render(rest_pose())
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 100.0, (640, 480))
    for i in range(frames):
        writer.write(np.roll(image, i, axis=1))
    writer.release()
    return path


def _median_us(samples: list[int]) -> float:
    return float(np.median(samples)) / 1000.0


def bench_capture(frames: int = 600) -> dict:
    """The two paths read alternately, frame by frame, so that a busy machine weighs on both alike."""
    with tempfile.TemporaryDirectory() as folder:
        video = _write_video(Path(folder) / "camera.avi", frames)
        plain, stamped, stamp_only = [], [], []
        cap = cv2.VideoCapture(str(video))
        camera = _VideoCamera(video)
        mapper = KernelStampMapper()
        try:
            for _ in range(frames):
                t0 = time.perf_counter_ns()
                if not cap.grab():
                    break
                cap.retrieve()
                t1 = time.perf_counter_ns()
                mapper.to_monotonic(msec_to_ns(cap.get(cv2.CAP_PROP_POS_MSEC)), time.monotonic_ns())
                t2 = time.perf_counter_ns()
                try:
                    camera.read()
                except Exception:   # the file's end: the camera "stops delivering"
                    break
                t3 = time.perf_counter_ns()
                plain.append(t1 - t0)
                stamp_only.append(t2 - t1)
                stamped.append(t3 - t2)
        finally:
            cap.release()
            camera.close()
    image = np.roll(np.full((480, 640, 3), 90, np.uint8), 3, axis=0)
    light = []
    for _ in range(300):
        t0 = time.perf_counter_ns()
        brightness(image)
        light.append(time.perf_counter_ns() - t0)
    return {"frames": len(plain), "grab_retrieve_us": _median_us(plain), "camera_read_us": _median_us(stamped),
            "stamp_us": _median_us(stamp_only), "brightness_us": _median_us(light)}


def bench_blur(seconds: float = 8.0) -> dict:
    from lalelu.core.keypoints import Keypoint
    from lalelu.sources.script import DrumScript
    from lalelu.sources.synthetic import SyntheticDrummer

    drummer = SyntheticDrummer(DrumScript(), fps=100.0, realtime=False, loop=True)
    times = np.arange(0.0, seconds, 0.001)
    peak = 0.0
    for wrist in (Keypoint.LEFT_WRIST, Keypoint.RIGHT_WRIST):
        points = np.array([[*drummer.keypoints_at(t)[wrist][:2], 1.0] for t in times])
        peak = max(peak, peak_speed_px_s((times * 1e9).astype(np.int64), points) or 0.0)
    return {"peak_wrist_px_s": round(peak, 1),
            "blur_px": {f"{e:g}": round(blur_px(e, peak), 1) for e in EXPOSURES_MS}}


def bench_camera_main(as_json: bool = False) -> int:
    capture, blur = bench_capture(), bench_blur()
    if as_json:
        print(json.dumps({"capture": capture, "blur": blur}, indent=2))
        return 0
    print(f"capture path, median per frame over {capture['frames']} MJPG 640x480 frames, the two read alternately "
          "(a video file stands in for the webcam):")
    print(f"  OpenCV grab + retrieve          {capture['grab_retrieve_us']:8.1f} us")
    print(f"  CameraSource.read (with stamp)  {capture['camera_read_us']:8.1f} us")
    print(f"  the stamp alone (get + map)     {capture['stamp_us']:8.1f} us")
    print(f"  brightness of a 640x480 frame   {capture['brightness_us']:8.1f} us   (the window, 4 times a second)")
    print(f"motion blur of the scripted drummer's fastest wrist ({blur['peak_wrist_px_s']:.0f} px/s at 640x480):")
    for exposure, px in blur["blur_px"].items():
        print(f"  exposure {exposure:>5} ms: smear {px:6.1f} px")
    return 0
