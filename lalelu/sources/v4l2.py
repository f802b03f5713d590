"""V4L2 cameras as Debian's `v4l2-ctl` (v4l-utils) describes them: names, serials, modes and controls.

Why v4l2-ctl rather than a Python binding: it is the V4L2 project's own tool, maintained with the kernel
headers, and run as a separate program it keeps lalelu (Apache-2.0) clear of the GPL that the Python bindings
carry (linuxpy is GPLv3). Its text layout is stable (the parsers below accept the layouts of v4l-utils 1.14
to 1.22 and are tested on outputs recorded on real webcams), and nothing here is on the hot path: listing
happens before play, a control change is one short-lived process, off the capture and inference threads.
Frames themselves come through OpenCV (lalelu.sources.camera), which also hands over the kernel's buffer
timestamp.

    cameras = list_cameras()                 # every capture device under /dev, with its modes and controls
    best_mode(cameras[0].modes)              # the mode to play in: most fps at 320x240 or more, in MJPG
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from lalelu.errors import LaleluError

V4L2_CTL = "v4l2-ctl"
TIMEOUT_S = 5.0
MIN_PLAY_SIZE = (320, 240)       # below this MoveNet's 192-256 px input is upscaled noise
PREFERRED_PIXELS = 640 * 480     # among modes of equal fps: the size nearest this (decode cost vs picture)
PLAY_FORMATS = ("MJPG", "JPEG")  # compressed: USB 2 carries high rates only compressed

# Control IDs (linux/v4l2-controls.h). Matched by ID: their names changed in kernel 5.x
# (exposure_auto -> auto_exposure, exposure_absolute -> exposure_time_absolute, ...).
CID_GAIN = 0x00980913
CID_AUTO_EXPOSURE = 0x009A0901               # menu: 0 auto, 1 manual, 2 shutter priority, 3 aperture priority
CID_EXPOSURE_ABSOLUTE = 0x009A0902           # in units of 100 us
CID_EXPOSURE_DYNAMIC_FRAMERATE = 0x009A0903  # "auto priority": 1 lets auto exposure lower the frame rate
AUTO_EXPOSURE_MANUAL = 1
AUTO_EXPOSURE_MODES = (3, 0, 2)              # aperture priority (what UVC webcams offer), full auto, shutter prio


class V4L2Error(LaleluError):
    """v4l2-ctl is missing, or could not do what it was asked for (no device, busy, not a camera)."""


@dataclass(frozen=True, order=True)
class Mode:
    fourcc: str
    width: int
    height: int
    fps: float

    def __str__(self) -> str:
        return f"{self.fourcc} {self.width}x{self.height} @ {self.fps:g} fps"


@dataclass(frozen=True)
class Control:
    name: str
    id: int
    type: str                 # int, bool, menu, intmenu, button, ...
    minimum: int = 0
    maximum: int = 0
    step: int = 1
    default: int = 0
    value: int | None = None
    flags: tuple[str, ...] = ()
    menu: dict[int, str] = field(default_factory=dict)

    @property
    def inactive(self) -> bool:
        return "inactive" in self.flags

    @property
    def writable(self) -> bool:
        return not {"read-only", "disabled", "grabbed"} & set(self.flags)


@dataclass(frozen=True)
class DeviceInfo:
    driver: str = ""
    card: str = ""
    bus: str = ""
    serial: str = ""
    capture: bool = False     # the node delivers video (a UVC camera's second node carries only metadata)


@dataclass
class Camera:
    """One capture device: /dev/videoN, what it is, what it can do; `problem` says what could not be read."""

    index: int
    path: str
    info: DeviceInfo = field(default_factory=DeviceInfo)
    modes: list[Mode] = field(default_factory=list)
    controls: dict[int, Control] = field(default_factory=dict)
    problem: str = ""

    @property
    def name(self) -> str:
        return self.info.card or self.path

    @property
    def identity(self) -> str:
        """What the camera's settings are remembered under: its name and serial (else the USB port), never the
        index, which changes with the order cameras were plugged in."""
        return f"{self.name}|{self.info.serial or self.info.bus or self.path}"

    @property
    def best(self) -> Mode | None:
        return best_mode(self.modes)

    def to_json(self) -> dict:
        return {"index": self.index, "path": self.path, "name": self.name, "driver": self.info.driver,
                "bus": self.info.bus, "serial": self.info.serial, "identity": self.identity,
                "modes": [m.__dict__ for m in self.modes], "best": None if self.best is None else self.best.__dict__,
                "exposure_control": CID_EXPOSURE_ABSOLUTE in self.controls, "gain_control": CID_GAIN in self.controls,
                "problem": self.problem}


# --- choosing the mode to play in ----------------------------------------------------------------------

def best_mode(modes: list[Mode]) -> Mode | None:
    """The mode for playing: MJPG at MIN_PLAY_SIZE or more with the most fps; among equal rates the size
    nearest 640x480 (a bigger picture costs decode time, MoveNet sees 192-256 px anyway). None when no mode
    qualifies."""
    usable = [m for m in modes if m.fourcc in PLAY_FORMATS and m.fps > 0
              and m.width >= MIN_PLAY_SIZE[0] and m.height >= MIN_PLAY_SIZE[1]]
    if not usable:
        return None
    return max(usable, key=lambda m: (round(m.fps, 1), -abs(m.width * m.height - PREFERRED_PIXELS), m.width))


# --- parsing v4l2-ctl's output ---------------------------------------------------------------------

_FORMAT_NEW = re.compile(r"^\s*\[\d+\]:\s*'(?P<fourcc>[^']{1,4})'")                 # [1]: 'MJPG' (Motion-JPEG,...)
_FORMAT_OLD = re.compile(r"^\s*Pixel Format\s*:\s*'(?P<fourcc>[^']{1,4})'")         # Pixel Format: 'MJPG' (compressed)
_SIZE = re.compile(r"^\s*Size:\s*(?P<kind>\w+)\s+(?P<w>\d+)x(?P<h>\d+)(?:\s*-\s*(?P<w2>\d+)x(?P<h2>\d+))?")
_INTERVAL = re.compile(r"^\s*Interval:\s*(?P<kind>\w+)\s+.*\((?P<fps>[\d.]+)(?:-(?P<fps2>[\d.]+))?\s*fps\)")


def parse_formats(text: str) -> list[Mode]:
    """Modes from `v4l2-ctl --list-formats-ext`: one per format, discrete size and frame rate. A stepwise or
    continuous size (no rates listed) gives its largest size at 0 fps: known to exist, rate unknown."""
    modes: list[Mode] = []
    fourcc = size = None
    for line in text.splitlines():
        if match := _FORMAT_NEW.match(line) or _FORMAT_OLD.match(line):
            fourcc, size = match["fourcc"].strip(), None
        elif fourcc and (match := _SIZE.match(line)):
            if match["kind"] == "Discrete":
                size = (int(match["w"]), int(match["h"]))
            else:
                size = None
                w, h = (int(match["w2"] or match["w"]), int(match["h2"] or match["h"]))
                modes.append(Mode(fourcc, w, h, 0.0))
        elif fourcc and size and (match := _INTERVAL.match(line)):
            # a continuous/stepwise interval lists "(min-max fps)": the fastest is what a player wants
            fps = max(float(match["fps"]), float(match["fps2"] or 0))
            modes.append(Mode(fourcc, size[0], size[1], fps))
    return list(dict.fromkeys(modes))     # some drivers list a rate twice


_CONTROL = re.compile(r"^\s*(?P<name>\w+)\s+(?P<id>0x[0-9a-fA-F]+)\s+\((?P<type>[\w-]+)\)\s*:(?P<rest>.*)$")
_CONTROL_NO_ID = re.compile(r"^\s*(?P<name>\w+)\s+\((?P<type>[\w-]+)\)\s*:(?P<rest>.*)$")   # v4l-utils < 1.12
_MENU_ITEM = re.compile(r"^\s*(?P<index>\d+):\s*(?P<label>.+?)\s*$")
_FIELD = re.compile(r"(\w+)=(\S+(?:, [\w-]+)*)")
_KNOWN_IDS = {"gain": CID_GAIN, "exposure_auto": CID_AUTO_EXPOSURE, "auto_exposure": CID_AUTO_EXPOSURE,
              "exposure_absolute": CID_EXPOSURE_ABSOLUTE, "exposure_time_absolute": CID_EXPOSURE_ABSOLUTE,
              "exposure_auto_priority": CID_EXPOSURE_DYNAMIC_FRAMERATE,
              "exposure_dynamic_framerate": CID_EXPOSURE_DYNAMIC_FRAMERATE}


def _int(text: str, default: int = 0) -> int:
    try:
        return int(text, 0)
    except ValueError:
        return default


def parse_controls(text: str) -> dict[int, Control]:
    """Controls by ID from `v4l2-ctl --list-ctrls(-menus)` or `--all`. Old v4l-utils print no IDs: the few
    controls lalelu uses are then recognised by name."""
    controls: dict[int, Control] = {}
    last: Control | None = None
    for line in text.splitlines():
        match = _CONTROL.match(line)
        if match:
            cid = int(match["id"], 16)
        elif (match := _CONTROL_NO_ID.match(line)) and match["name"] in _KNOWN_IDS:
            cid = _KNOWN_IDS[match["name"]]
        else:
            item = _MENU_ITEM.match(line)
            if item and last is not None and last.type in ("menu", "intmenu"):
                last.menu[int(item["index"])] = item["label"]
            continue
        fields = dict(_FIELD.findall(match["rest"]))
        last = Control(name=match["name"], id=cid, type=match["type"], minimum=_int(fields.get("min", "0")),
                       maximum=_int(fields.get("max", "0")), step=_int(fields.get("step", "1"), 1),
                       default=_int(fields.get("default", "0")),
                       value=_int(fields["value"]) if "value" in fields else None,
                       flags=tuple(f.strip() for f in fields.get("flags", "").split(",") if f.strip()))
        controls[cid] = last
    return controls


_INFO_FIELDS = {"Driver name": "driver", "Card type": "card", "Bus info": "bus", "Serial": "serial"}


def parse_info(text: str) -> DeviceInfo:
    """Name, driver, bus and serial from `v4l2-ctl --all` (or --info). The serial is in the media controller's
    part ("Media Driver Info"), which v4l-utils 1.16 and later print for UVC cameras."""
    found: dict[str, str] = {}
    caps_block, device_caps = False, []
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        key = key.strip()
        if sep and key in _INFO_FIELDS and _INFO_FIELDS[key] not in found:
            found[_INFO_FIELDS[key]] = value.strip()
        if sep and key == "Device Caps":
            caps_block = True
            continue
        if caps_block:
            if line.startswith((" ", "\t")) and not sep:
                device_caps.append(line.strip())
                continue
            caps_block = False
    # Without a "Device Caps" block (very old drivers), trust the device-wide capabilities.
    capture = "Video Capture" in device_caps if device_caps else "Video Capture" in text
    return DeviceInfo(capture=capture, **found)


# --- running v4l2-ctl ------------------------------------------------------------------------------

def v4l2_ctl_path() -> str:
    path = shutil.which(V4L2_CTL)
    if path is None:
        raise V4L2Error("v4l2-ctl is not installed: install Debian's v4l-utils (`apt-get install v4l-utils`, "
                        "./bootstrap does) to list cameras and set their exposure")
    return path


def v4l2_ctl_command(device: str, *args: str) -> list[str]:
    command = [v4l2_ctl_path(), "-d", str(device), *args]
    if hasattr(os, "sched_getscheduler") and os.sched_getscheduler(0) != os.SCHED_OTHER and shutil.which("chrt"):
        # asked from a real-time thread (the capture thread finding a replugged camera): the child would inherit
        # its real-time priority; it gets the normal one
        command = [shutil.which("chrt"), "--other", "0", *command]
    return command


def run_v4l2_ctl(device: str, *args: str, timeout: float = TIMEOUT_S) -> str:
    """v4l2-ctl's output for `device`; V4L2Error saying what went wrong (missing, busy, gone, not a camera)."""
    command = v4l2_ctl_command(device, *args)
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, errors="replace")
    except subprocess.TimeoutExpired:
        raise V4L2Error(f"{device}: v4l2-ctl did not answer within {timeout:g} s (the camera hangs in its "
                        "driver?): unplug it and plug it in again") from None
    if done.returncode != 0:
        said = (done.stderr.strip() or done.stdout.strip()).splitlines()
        said_text = said[-1] if said else f"exit code {done.returncode}"
        if not Path(device).exists():
            raise V4L2Error(f"{device} is not there (unplugged?): {said_text}")
        if "Device or resource busy" in said_text:
            raise V4L2Error(f"{device} is busy: another program uses it ({said_text})")
        if "Permission denied" in said_text and "controls" not in said_text:
            raise V4L2Error(f"{device}: permission denied: add this user to the group 'video'")
        raise V4L2Error(f"{device}: {said_text}")
    return done.stdout


def describe(path: str | Path) -> Camera:
    """One device: what it is (v4l2-ctl --all) and its modes (--list-formats-ext). Never raises for the device
    itself: what could not be read is in `problem`."""
    path = str(path)
    index = int(m.group(1)) if (m := re.search(r"(\d+)$", path)) else -1
    camera = Camera(index=index, path=path)
    try:
        text = run_v4l2_ctl(path, "--all")
        camera.info = parse_info(text)
        camera.controls = parse_controls(text)
        if camera.info.capture:
            camera.modes = parse_formats(run_v4l2_ctl(path, "--list-formats-ext"))
    except V4L2Error as error:
        camera.problem = str(error)
    return camera


def device_paths(dev_dir: str | Path = "/dev") -> list[Path]:
    """/dev/video0, /dev/video1, ... in number order."""
    found = [p for p in Path(dev_dir).glob("video*") if p.name[5:].isdigit()]
    return sorted(found, key=lambda p: int(p.name[5:]))


def list_cameras(dev_dir: str | Path = "/dev", capture_only: bool = True) -> list[Camera]:
    """Every video capture device, with what could not be read in `problem`; with capture_only=False also the
    nodes that carry no video (a UVC camera's metadata node). V4L2Error when v4l2-ctl is missing and there are
    devices to ask about."""
    paths = device_paths(dev_dir)
    if not paths:
        return []
    v4l2_ctl_path()
    cameras = [describe(p) for p in paths]
    return [c for c in cameras if c.info.capture or c.problem or not capture_only]


def format_cameras(cameras: list[Camera]) -> str:
    """`lalelu cameras`: each camera, its modes grouped by format and size, the mode lalelu plays in marked."""
    lines = []
    for camera in cameras:
        serial = f", serial {camera.info.serial}" if camera.info.serial else ""
        lines.append(f"camera:{camera.index}  {camera.path}  {camera.name}  ({camera.info.driver or '?'}, "
                     f"{camera.info.bus or '?'}{serial})")
        if camera.problem:
            lines.append(f"    problem: {camera.problem}")
        elif not camera.info.capture:
            lines.append("    carries no video (a camera's metadata node): not a source to play")
            continue
        best = camera.best
        grouped: dict[tuple[str, int, int], list[float]] = {}
        for mode in camera.modes:
            grouped.setdefault((mode.fourcc, mode.width, mode.height), []).append(mode.fps)
        for (fourcc, w, h), rates in grouped.items():
            shown = ", ".join(f"{r:g}" for r in sorted(rates, reverse=True) if r > 0) or "rates not listed"
            mark = f"   <- best for playing: {best.fps:g} fps" if best and (fourcc, w, h) == (
                best.fourcc, best.width, best.height) else ""
            lines.append(f"    {fourcc} {w}x{h}: {shown} fps{mark}")
        if not camera.problem and best is None:
            lines.append("    no MJPG mode at 320x240 or more: lalelu asks OpenCV for its default")
        controls = [name for cid, name in ((CID_EXPOSURE_ABSOLUTE, "exposure"), (CID_GAIN, "gain"))
                    if cid in camera.controls]
        lines.append(f"    controls: {', '.join(controls) or 'no exposure or gain control'}")
    return "\n".join(lines)
