"""`camera:N`: a webcam through OpenCV's V4L2 backend, in its best mode for playing, with a short exposure.

Before opening, v4l2-ctl (lalelu.sources.v4l2) says what the camera is (name, serial) and what it offers: the
mode asked for is the best one for playing (most fps in MJPG at 320x240 or more, at most the fps asked). The
driver decides what it grants: the size and rate are read back and reported (`description`), with a warning
when the rate is below what was asked. Then the exposure is set (lalelu.sources.exposure): a short manual
exposure with the gain tuned to keep the brightness, unless the player asked otherwise or this camera's
remembered settings say otherwise.

Why OpenCV for the frames: grab() waits in the driver with the GIL released and decodes MJPG in C++, and it
hands over the kernel's buffer timestamp (CAP_PROP_POS_MSEC is the dequeued v4l2_buffer's timestamp, for
every pixel format). read() blocks in the driver until the next frame arrives; the frame is stamped when
grab() returns, before decoding, so decode time counts as latency, and it carries the driver's own stamp
beside it (lalelu.sources.clock), so that the camera's delivery latency can be told apart.

A camera that stops delivering frames (a kicked USB cable) is released and looked for again every RETRY_S;
meanwhile read() raises SourceInterrupted, so that the engine keeps the MIDI side up, says so, and plays on
when the camera is back.
"""

from __future__ import annotations

import os
import stat
import statistics
import time

import cv2

from lalelu import config
from lalelu.core.frames import Frame
from lalelu.errors import LaleluError, SourceInterrupted
from lalelu.sources import v4l2
from lalelu.sources.base import BaseSource
from lalelu.sources.camera_controls import CameraState, V4L2Controls
from lalelu.sources.clock import KernelStampMapper, msec_to_ns
from lalelu.sources.exposure import (DARK, ExposureRequest, brightness, brightness_target, plan_exposure,
                                     tune_gain)

RETRY_S = 0.5   # how often a lost camera is looked for
DECODE_TRIES = 5   # torn frames in a row before the camera is given up
SETTLE_FRAMES = 2  # frames a webcam takes to show a new exposure or gain
MEASURE_FRAMES = 3


def camera_device(index: int) -> str:
    return f"/dev/video{index}"


def is_device(path: str) -> bool:
    try:
        return stat.S_ISCHR(os.stat(path).st_mode)
    except OSError:
        return False


class CameraSource(BaseSource):
    """`exposure`: what the player asked for (None parts: the camera's remembered settings, else lalelu's
    short exposure). `controls`: the exposure/gain controls to use (default: the device's, through v4l2-ctl;
    tests pass a stand-in)."""

    def __init__(self, index: int = 0, fps: float = 100.0, size: tuple[int, int] = (640, 480),
                 exposure: ExposureRequest | None = None, controls=None):
        self.index = index
        self.wanted = (float(fps), (int(size[0]), int(size[1])))
        self.exposure_request = (exposure or ExposureRequest()).validated()
        self.camera: v4l2.Camera | None = None      # what v4l2-ctl says the device is
        self.controls = controls
        self._controls_given = controls is not None
        self.state: CameraState | None = None
        self.notes: list[str] = []
        self._stamps = KernelStampMapper()
        self._manual_ms: float | None = None   # the last manual exposure set: where "auto off" goes back to
        self._cap = self._open()
        self._retry_at = 0.0   # monotonic s: the next attempt to reopen a lost camera, not before
        asked_fps = self.asked[0]
        problems = list(self.notes)
        if self.fps < asked_fps - 0.5:
            problems.insert(0, f"camera {index} grants {self.fps:g} fps, below the {asked_fps:g} asked: fewer "
                               "frames means later hits; try a smaller size or more light")
        self.warning = "; ".join(problems)
        self._index = 0

    def _device(self) -> str:
        return camera_device(self.index)

    def _capture(self) -> cv2.VideoCapture:
        return cv2.VideoCapture(self.index, cv2.CAP_V4L2)

    def _probe(self, device: str) -> v4l2.Camera | None:
        """What v4l2-ctl says about the device (None for anything that is not one, or without v4l2-ctl)."""
        if not is_device(device):
            return None
        try:
            v4l2.v4l2_ctl_path()
        except v4l2.V4L2Error as error:
            self.notes.append(str(error))
            return None
        camera = v4l2.describe(device)
        if camera.problem:
            self.notes.append(camera.problem)
        return camera

    def _choose_mode(self) -> tuple[float, tuple[int, int], str]:
        """(fps, size, fourcc) to ask for: the size of the camera's best mode for playing when v4l2-ctl listed
        its modes, at its rate or the rate asked if lower."""
        fps, size = self.wanted
        best = v4l2.best_mode(self.camera.modes) if self.camera is not None else None
        if best is None:
            return fps, size, "MJPG"
        return min(best.fps, fps), (best.width, best.height), best.fourcc

    def _open(self) -> cv2.VideoCapture:
        """Open the camera in its best mode, read back what the driver granted, set the exposure."""
        device, index = self._device(), self.index
        if not os.path.exists(device):
            raise LaleluError(f"no camera at index {index} ({device} missing): connect a webcam "
                              "or use --source synthetic")
        self.notes = []
        self.camera = self._probe(device)
        fps, size, fourcc = self._choose_mode()
        self.asked = (fps, size)
        cap = self._capture()
        if not cap.isOpened():
            cap.release()
            raise LaleluError(f"camera {index} ({device}) cannot be opened: is another program using it, "
                              "and may this user read it (group 'video')? Or use --source synthetic")
        cap.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter_fourcc(*fourcc))
        cap.set(cv2.CAP_PROP_FRAME_WIDTH, size[0])
        cap.set(cv2.CAP_PROP_FRAME_HEIGHT, size[1])
        cap.set(cv2.CAP_PROP_FPS, fps)
        cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)   # the newest frame, not a queue of old ones
        self.size = (int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
        self.fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        code = int(cap.get(cv2.CAP_PROP_FOURCC))
        self.fourcc = "".join(chr((code >> (8 * i)) & 0xFF) for i in range(4)).strip("\0") or "?"
        name = f" ({self.camera.name})" if self.camera is not None else ""
        self.description = (f"camera {index}{name}: {self.size[0]}x{self.size[1]} {self.fourcc} @ {self.fps:g} "
                            f"fps granted (asked {size[0]}x{size[1]} @ {fps:g})")
        self._cap = cap
        try:
            self._set_exposure()
        except LaleluError as error:   # the camera plays on with its own exposure; the player is told
            self.notes.append(f"exposure not set: {error}")
        return cap

    # --- exposure -----------------------------------------------------------------------------------

    @property
    def identity(self) -> str:
        return self.camera.identity if self.camera is not None else ""

    def _set_exposure(self) -> None:
        if not self._controls_given:
            self.controls = (V4L2Controls(self.camera.path, self.camera.controls)
                             if self.camera is not None and not self.camera.problem else None)
        if self.controls is None:
            return
        saved = ExposureRequest.from_settings(config.load_camera_settings(self.identity))
        request = self.exposure_request.over(saved)
        limits = self.controls.limits()
        plan = plan_exposure(request, self.fps or self.asked[0], limits)
        self.notes += plan.notes
        if plan.auto:
            self.controls.set_auto()
            if plan.gain is not None:
                self.controls.set_gain(plan.gain)
        elif plan.exposure_ms is not None:
            auto_brightness = self._measure() if plan.tune_gain else None   # what the camera's auto gave
            self.controls.set_manual(plan.exposure_ms)
            self._manual_ms = plan.exposure_ms
            if plan.gain is not None:
                self.controls.set_gain(plan.gain)
            elif plan.tune_gain:
                tuned = tune_gain(self._measure, self.controls.set_gain, limits.gain,
                                  brightness_target(auto_brightness))
                if not tuned.reached and tuned.brightness < DARK:
                    self.notes.append(f"the picture is dark (brightness {tuned.brightness:.0f}/255) at "
                                      f"{plan.exposure_ms:g} ms even at gain {tuned.gain:g}: more light helps; "
                                      "a longer --exposure-ms brightens it but smears strokes")
        self._read_state(limits)

    def _measure(self) -> float:
        """Brightness of the frames after the camera settled on its last setting (median of a few)."""
        seen = []
        for n in range(SETTLE_FRAMES + MEASURE_FRAMES):
            ok, image = self._cap.read()
            if ok and image is not None and n >= SETTLE_FRAMES:
                seen.append(brightness(image))
        if not seen:
            raise LaleluError(f"camera {self.index} sends no frames to measure its brightness")
        return statistics.median(seen)

    def _read_state(self, limits=None) -> CameraState:
        auto, exposure_ms, gain = self.controls.read()
        self.state = CameraState(identity=self.identity, auto=auto, exposure_ms=exposure_ms, gain=gain,
                                 limits=limits or self.controls.limits(), notes=list(self.notes))
        return self.state

    def camera_state(self) -> CameraState | None:
        """The exposure and gain as last set or read (no device call: the window asks several times a second)."""
        return self.state

    def adjust(self, exposure_ms: float | None = None, gain: float | None = None,
               auto: bool | None = None) -> CameraState:
        """Change the exposure while playing (the window's sliders); from any thread but the capture thread's
        own reads, which it does not touch. LaleluError when the camera has no such control."""
        if self.controls is None:
            raise LaleluError(f"camera {self.index} offers no exposure control here (is v4l2-ctl installed?)")
        ExposureRequest(exposure_ms=exposure_ms, gain=gain).validated()
        limits = self.controls.limits()
        if auto:
            self.controls.set_auto()
        elif exposure_ms is not None or auto is False:
            plan = plan_exposure(ExposureRequest(exposure_ms=exposure_ms or self._manual_ms), self.fps, limits)
            if plan.exposure_ms is not None:
                self.controls.set_manual(plan.exposure_ms)
                self._manual_ms = plan.exposure_ms
        if gain is not None:
            self.controls.set_gain(gain)
        return self._read_state(limits)

    # --- frames -------------------------------------------------------------------------------------

    def _reopen(self) -> None:
        """One attempt, at most every RETRY_S, to get a lost camera back; SourceInterrupted if it is not.
        The pause also covers a camera that opens but sends nothing: no busy loop on the capture core."""
        time.sleep(max(0.0, self._retry_at - time.monotonic()))
        self._retry_at = time.monotonic() + RETRY_S
        try:
            self._cap = self._open()
        except LaleluError as exc:
            self._cap = None
            raise SourceInterrupted(f"camera {self.index} is still gone ({exc})") from None

    def read(self) -> Frame | None:
        for _ in range(DECODE_TRIES):
            if self._cap is None:
                self._reopen()
            if not self._cap.grab():
                self._cap.release()
                self._cap = None
                self._retry_at = time.monotonic() + RETRY_S
                raise SourceInterrupted(f"camera {self.index} stopped delivering frames (unplugged?)")
            t_capture = time.monotonic_ns()
            t_kernel = self._stamps.to_monotonic(msec_to_ns(self._cap.get(cv2.CAP_PROP_POS_MSEC)), t_capture)
            ok, image = self._cap.retrieve()
            if ok and image is not None:   # else a torn frame: the next one
                frame = Frame(self._index, t_capture, image, t_kernel)
                self._index += 1
                return frame
        raise LaleluError(f"camera {self.index} delivers frames that do not decode: try another --size, or "
                          "check the camera with another program")

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None


def camera_available(index: int = 0) -> bool:
    """True if /dev/videoN exists and OpenCV can open it (and it is released again)."""
    if not os.path.exists(camera_device(index)):
        return False
    cap = cv2.VideoCapture(index, cv2.CAP_V4L2)
    try:
        return bool(cap.isOpened())
    finally:
        cap.release()
