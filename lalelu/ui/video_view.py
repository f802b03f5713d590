"""The live picture: the newest frame, the skeleton on it, the kit's zones, and a flash on each hit zone.

The pixel work (scaling to the widget, skeleton, zone circles) is done with OpenCV, outside Python's GIL,
so the window's own threads (the one receiving the engine's records) keep up while it draws; Qt only blits
the result and writes a few labels. The engine itself plays in a process of its own.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import cv2
import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter
from PySide6.QtWidgets import QSizePolicy, QWidget

from lalelu.core.body import shoulder_frame
from lalelu.core.keypoints import DRAW_MIN_SCORE
from lalelu.core.limbs import Limb
from lalelu.pose.draw import draw_skeleton

FLASH_NS = 180_000_000           # how long a zone stays lit after a hit
MAX_ZONE_RADIUS = 0.3            # in shoulder widths; zones are "nearest centre wins", so circles are a guide
FOOT_PAD = (96, 24)              # foot pad size in source pixels

# BGR, for OpenCV
BONE_BGR = (120, 230, 80)
JOINT_BGR = (255, 255, 255)
ZONE_BGR = (255, 170, 120)
FLASH_BGR = (40, 200, 255)
BACKGROUND = QColor(20, 20, 24)


@dataclass
class BodyFrame:
    """Body-normalised coordinates: origin = shoulder midpoint, unit = shoulder width, y down."""

    origin: np.ndarray
    unit: float

    def to_pixels(self, point: tuple[float, float]) -> tuple[float, float]:
        return (float(self.origin[0] + point[0] * self.unit), float(self.origin[1] + point[1] * self.unit))


def body_frame(keypoints: np.ndarray | None, torso_ratio: float = 0.0,
               min_score: float = DRAW_MIN_SCORE) -> BodyFrame | None:
    """The frame the detector places zones in (its scale floored by the torso, with the kit's torso_ratio, so
    that the drawn zones do not shrink when the player turns), for this one picture."""
    frame = None if keypoints is None else shoulder_frame(keypoints, torso_ratio, min_score)
    if frame is None or frame[2] < 1.0:
        return None
    mx, my, unit = frame
    return BodyFrame(origin=np.array([mx, my]), unit=float(unit))


def zone_radii(zones) -> dict[str, float]:
    """A circle per hand zone, at most half the way to its nearest neighbour, so circles never overlap."""
    centers = {z.name: np.asarray(z.center, float) for z in zones if z.center is not None}
    radii = {}
    for name, c in centers.items():
        gaps = [float(np.hypot(*(c - other))) for n, other in centers.items() if n != name]
        radii[name] = min([MAX_ZONE_RADIUS] + [g / 2 * 0.9 for g in gaps])
    return radii


def fit_rect(width: int, height: int, box_w: int, box_h: int) -> tuple[int, int, int, int]:
    """(x, y, w, h) of a width x height picture scaled down to fit the box (never up: that costs a resize
    per frame and shows nothing more), centred."""
    scale = min(box_w / width, box_h / height, 1.0)
    w, h = max(1, int(width * scale)), max(1, int(height * scale))
    return (box_w - w) // 2, (box_h - h) // 2, w, h


@dataclass
class Label:
    x: float
    y: float
    text: str
    lit: bool
    pad: bool = False   # drawn as a foot pad (box) rather than a caption


class VideoView(QWidget):
    """Paints what it was last given; never pulls from the engine itself."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setMinimumSize(320, 240)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._raw: np.ndarray | None = None          # newest source frame (BGR), not modified
        self._keypoints: np.ndarray | None = None
        self._composed: np.ndarray | None = None     # the frame scaled to the widget, overlay drawn on it
        self._qimage: QImage | None = None           # wraps _composed (no copy)
        self._target = (0, 0, 1, 1)
        self._labels: list[Label] = []
        self._zones: list = []
        self._torso_ratio = 0.0
        self._radii: dict[str, float] = {}
        self._flash_until: dict[str, int] = {}
        self.flash_counts: dict[str, int] = {}       # flashes per zone since the window opened
        self._drawn_lit: set[str] = set()            # the zones lit in the composed picture
        self._message = "Press Start to play"
        self._label_font = QFont()
        self._label_font.setPointSize(9)
        self._label_font.setBold(True)
        self._message_font = QFont()
        self._message_font.setPointSize(12)

    # --- what the window feeds it -------------------------------------------------------------
    def set_zones(self, zones: list, torso_ratio: float = 0.0) -> None:
        """The zones to draw, and the kit's torso_ratio for the body frame they are placed in."""
        self._zones = list(zones)
        self._torso_ratio = torso_ratio
        self._radii = zone_radii(self._zones)
        self._compose()

    def set_frame(self, image: np.ndarray | None, keypoints: np.ndarray | None) -> None:
        if image is not None:
            self._raw = image
        self._keypoints = keypoints
        self._compose()

    def set_message(self, text: str) -> None:
        """Shown over the video (or alone when there is none): why nothing plays."""
        self._message = text
        self.update()

    def flash(self, drum: str, now_ns: int | None = None) -> None:
        now_ns = time.monotonic_ns() if now_ns is None else now_ns
        self._flash_until[drum] = now_ns + FLASH_NS
        self.flash_counts[drum] = self.flash_counts.get(drum, 0) + 1

    def lit_zones(self, now_ns: int | None = None) -> set[str]:
        now_ns = time.monotonic_ns() if now_ns is None else now_ns
        return {name for name, until in self._flash_until.items() if until > now_ns}

    def expire_flashes(self, now_ns: int | None = None) -> None:
        """Redraw when a flash went out (or came) with no new frame to show it: a stalled or paused source
        must not keep a zone lit."""
        if self.lit_zones(now_ns) != self._drawn_lit:
            self._compose(now_ns)

    def image_rect(self) -> QRectF | None:
        """Where the picture is in the widget (None before the first frame)."""
        if self._raw is None:
            return None
        x, y, w, h = fit_rect(self._raw.shape[1], self._raw.shape[0], self.width(), self.height())
        return QRectF(x, y, w, h)

    # --- composing (OpenCV, outside the GIL) ----------------------------------------------------
    def _compose(self, now_ns: int | None = None) -> None:
        raw = self._raw
        if raw is None:
            self.update()
            return
        src_h, src_w = raw.shape[:2]
        x0, y0, w, h = fit_rect(src_w, src_h, self.width(), self.height())
        scale = w / src_w
        if (w, h) == (src_w, src_h):
            out = raw.copy()
        else:
            out = cv2.resize(raw, (w, h), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        self._labels = self._draw_overlay(out, scale, now_ns)
        self._composed = np.ascontiguousarray(out)
        self._qimage = QImage(self._composed.data, w, h, 3 * w, QImage.Format.Format_BGR888)
        self._target = (x0, y0, w, h)
        self.update()

    def _draw_overlay(self, out: np.ndarray, scale: float, now_ns: int | None = None) -> list[Label]:
        labels: list[Label] = []
        lit = self._drawn_lit = self.lit_zones(now_ns)
        kp = self._keypoints
        frame = body_frame(kp, self._torso_ratio)
        line = max(2, int(round(2.5 * scale)))
        aa = cv2.LINE_AA
        foot_zones = []
        for zone in self._zones:
            if zone.center is None:
                foot_zones.append(zone)
                continue
            if frame is None:
                continue
            cx, cy = frame.to_pixels(zone.center)
            r = self._radii.get(zone.name, MAX_ZONE_RADIUS) * frame.unit * scale
            c = (int(cx * scale), int(cy * scale))
            is_lit = zone.name in lit
            if is_lit:
                self._blend_disc(out, c, int(r), FLASH_BGR, 0.45)
            cv2.circle(out, c, int(r), FLASH_BGR if is_lit else ZONE_BGR, line * (2 if is_lit else 1), aa)
            labels.append(Label(c[0], c[1] - r - 8, zone.name.replace("_", " "), is_lit))
        labels += self._foot_pads(out, foot_zones, lit, scale, line)
        if kp is not None:
            draw_skeleton(out, kp, line + 1, line + 1, scale, DRAW_MIN_SCORE, BONE_BGR, JOINT_BGR)
        return labels

    def _foot_pads(self, out: np.ndarray, zones: list, lit: set[str], scale: float, line: int) -> list[Label]:
        """Foot zones have no place in the air: a pad beside the ankle of their foot (or in a corner)."""
        labels = []
        h, w = out.shape[:2]
        pw, ph = int(FOOT_PAD[0] * scale), int(FOOT_PAD[1] * scale)
        for zone in zones:
            foot = zone.foot
            ankle = None if self._keypoints is None else self._keypoints[Limb.of("foot", foot).keypoint]
            if ankle is not None and ankle[2] >= DRAW_MIN_SCORE:   # on the outside of the foot
                ax, ay = ankle[0] * scale, ankle[1] * scale
                x = ax - pw + 12 * scale if foot == "right" else ax - 12 * scale
                y = ay + 10 * scale
            else:   # the player's right foot is on the image's left
                x, y = (8 if foot == "right" else w - pw - 8), h - ph - 8
            x, y = int(min(max(x, 0), w - pw)), int(min(max(y, 0), h - ph))
            is_lit = zone.name in lit
            if is_lit:
                roi = out[y:y + ph, x:x + pw]
                roi[:] = (roi * 0.4 + np.array(FLASH_BGR) * 0.6).astype(np.uint8)
            cv2.rectangle(out, (x, y), (x + pw, y + ph), FLASH_BGR if is_lit else ZONE_BGR, line, cv2.LINE_AA)
            labels.append(Label(x + pw / 2, y + ph / 2, zone.name.replace("_", " "), is_lit, pad=True))
        return labels

    @staticmethod
    def _blend_disc(out: np.ndarray, c: tuple[int, int], r: int, color, alpha: float) -> None:
        """A translucent filled circle, blended only inside its bounding box."""
        h, w = out.shape[:2]
        x0, y0, x1, y1 = max(c[0] - r, 0), max(c[1] - r, 0), min(c[0] + r + 1, w), min(c[1] + r + 1, h)
        if x1 <= x0 or y1 <= y0:
            return
        roi = out[y0:y1, x0:x1]
        disc = roi.copy()
        cv2.circle(disc, (c[0] - x0, c[1] - y0), r, color, -1, cv2.LINE_AA)
        cv2.addWeighted(disc, alpha, roi, 1 - alpha, 0, dst=roi)

    # --- painting (a blit and a few labels) -----------------------------------------------------
    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        self._compose()
        super().resizeEvent(event)

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        painter = QPainter(self)
        try:
            self._paint(painter)
        finally:
            painter.end()  # a painter left open would break every later paint of the window

    def _paint(self, painter: QPainter) -> None:
        painter.fillRect(self.rect(), BACKGROUND)
        if self._qimage is not None:
            x0, y0, _, _ = self._target
            painter.drawImage(x0, y0, self._qimage)
            painter.setFont(self._label_font)
            for label in self._labels:
                rect = QRectF(x0 + label.x - 60, y0 + label.y - 8, 120, 16)
                painter.setPen(QColor(20, 20, 20) if label.lit and label.pad else QColor(235, 240, 255))
                painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, label.text)
        if self._message:
            painter.setPen(QColor(235, 235, 235))
            painter.setFont(self._message_font)
            painter.drawText(self.rect().adjusted(10, 10, -10, -10),
                             Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft | Qt.TextFlag.TextWordWrap,
                             self._message)
