"""A webcam's exposure and gain, read and set through v4l2-ctl (see lalelu.sources.v4l2 for why).

Controls are found by their V4L2 IDs, so the old names (exposure_auto, exposure_absolute) and the new ones
(auto_exposure, exposure_time_absolute) both work. The switch to manual exposure is set on its own before the
exposure time: UVC cameras refuse an exposure time while auto exposure is still on, even in the same call.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lalelu.sources import v4l2
from lalelu.sources.exposure import ExposureLimits
from lalelu.sources.v4l2 import (AUTO_EXPOSURE_MANUAL, AUTO_EXPOSURE_MODES, CID_AUTO_EXPOSURE,
                                 CID_EXPOSURE_ABSOLUTE, CID_EXPOSURE_DYNAMIC_FRAMERATE, CID_GAIN, Control)

EXPOSURE_UNIT_MS = 0.1     # V4L2_CID_EXPOSURE_ABSOLUTE counts in 100 us


@dataclass
class CameraState:
    """What a camera is set to now, and what it allows: the window's sliders and status read this."""

    identity: str = ""
    auto: bool | None = None
    exposure_ms: float | None = None
    gain: float | None = None
    limits: ExposureLimits = field(default_factory=ExposureLimits)
    notes: list[str] = field(default_factory=list)


class V4L2Controls:
    """Exposure and gain of one V4L2 device. Every method may raise V4L2Error (a LaleluError)."""

    def __init__(self, device: str, controls: dict[int, Control] | None = None) -> None:
        self.device = str(device)
        self.controls = controls if controls is not None else v4l2.parse_controls(
            v4l2.run_v4l2_ctl(self.device, "--list-ctrls-menus"))

    def _name(self, cid: int) -> str | None:
        control = self.controls.get(cid)
        return control.name if control is not None and control.writable else None

    def limits(self) -> ExposureLimits:
        exposure, gain, auto = (self.controls.get(c) for c in (CID_EXPOSURE_ABSOLUTE, CID_GAIN, CID_AUTO_EXPOSURE))
        return ExposureLimits(
            exposure_ms=None if exposure is None else (exposure.minimum * EXPOSURE_UNIT_MS,
                                                       exposure.maximum * EXPOSURE_UNIT_MS),
            gain=None if gain is None else (gain.minimum, gain.maximum),
            auto=auto is not None and any(m in auto.menu or not auto.menu for m in AUTO_EXPOSURE_MODES))

    def _set(self, **values: int) -> None:
        setting = ",".join(f"{name}={value}" for name, value in values.items())
        v4l2.run_v4l2_ctl(self.device, f"--set-ctrl={setting}")

    def set_auto(self) -> None:
        """Auto exposure, with the frame rate held: the camera may not stretch its exposure past a frame."""
        auto = self.controls.get(CID_AUTO_EXPOSURE)
        if auto is None:
            return
        mode = next((m for m in AUTO_EXPOSURE_MODES if m in auto.menu), AUTO_EXPOSURE_MODES[0])
        self._set(**{auto.name: mode})
        if name := self._name(CID_EXPOSURE_DYNAMIC_FRAMERATE):
            self._set(**{name: 0})

    def set_manual(self, exposure_ms: float) -> None:
        if name := self._name(CID_AUTO_EXPOSURE):
            self._set(**{name: AUTO_EXPOSURE_MANUAL})
        exposure = self.controls.get(CID_EXPOSURE_ABSOLUTE)
        if exposure is not None:
            units = min(max(round(exposure_ms / EXPOSURE_UNIT_MS), exposure.minimum), exposure.maximum)
            self._set(**{exposure.name: units})

    def set_gain(self, gain: float) -> None:
        control = self.controls.get(CID_GAIN)
        if control is not None:
            self._set(**{control.name: int(min(max(round(gain), control.minimum), control.maximum))})

    def read(self) -> tuple[bool | None, float | None, float | None]:
        """(auto exposure on, exposure ms, gain) as the camera reports them now."""
        names = {cid: c.name for cid, c in self.controls.items()
                 if cid in (CID_AUTO_EXPOSURE, CID_EXPOSURE_ABSOLUTE, CID_GAIN)}
        if not names:
            return None, None, None
        text = v4l2.run_v4l2_ctl(self.device, f"--get-ctrl={','.join(names.values())}")
        values = parse_get_ctrl(text)
        auto = values.get(names.get(CID_AUTO_EXPOSURE, ""))
        exposure = values.get(names.get(CID_EXPOSURE_ABSOLUTE, ""))
        gain = values.get(names.get(CID_GAIN, ""))
        return (None if auto is None else auto != AUTO_EXPOSURE_MANUAL,
                None if exposure is None else exposure * EXPOSURE_UNIT_MS,
                None if gain is None else float(gain))


def parse_get_ctrl(text: str) -> dict[str, int]:
    """`v4l2-ctl --get-ctrl=a,b` prints `a: 3` per line (v4l2-ctl-common.cpp)."""
    values = {}
    for line in text.splitlines():
        name, sep, value = line.partition(":")
        try:
            values[name.strip()] = int(value.split()[0], 0) if sep else None
        except (IndexError, ValueError):
            continue
    return {k: v for k, v in values.items() if v is not None}
