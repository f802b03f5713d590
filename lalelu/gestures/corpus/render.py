"""Video of a take: a drawn figure of a seeded look, filmed by the take's camera.

The figure is the scripted drummer's kind of mannequin (head, torso, tapered limbs in plain colours,
drumsticks), which MoveNet finds with keypoint scores around 0.3-0.9, but its look is drawn per take:
skin, hair, shirt, sleeves (long or short), trousers, background, limb widths, sticks or none. The camera
averages the scene over its exposure (motion blur: sub-frames spread over the exposure, placed before,
around or after the frame time), changes its light (auto exposure, a flicker), adds sensor noise and
passes the frame through JPEG. Deterministic per take.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import cv2
import numpy as np

from lalelu.gestures.corpus.take import Take

MAX_SUBFRAMES = 8
SUBFRAME_S = 0.00125        # one sub-frame per 1.25 ms of exposure
# Frames are drawn at half the camera's size and scaled back up: the pose model shrinks a 640x480 frame
# to 192 px anyway, so this costs it little and the renderer a quarter of its time. Sensor noise is
# halved with it (the halving averages it down by about that much).
DRAW_SCALE = 0.5


@dataclass(frozen=True)
class Look:
    background: tuple[int, int, int]
    wall: tuple[int, int, int]          # a second tone behind the player (a wall, a door)
    skin: tuple[int, int, int]
    hair: tuple[int, int, int]
    shirt: tuple[int, int, int]
    sleeve: tuple[int, int, int]
    long_sleeves: bool
    trousers: tuple[int, int, int]
    shoes: tuple[int, int, int]
    outline: bool
    width: float                        # limb width factor
    sticks: bool
    stick: tuple[int, int, int]


def _hsv(h: float, s: float, v: float) -> tuple[int, int, int]:
    """An OpenCV HSV colour (hue 0-180) as BGR."""
    px = np.array([[[h % 180, s, v]]], np.uint8)
    return tuple(int(c) for c in cv2.cvtColor(px, cv2.COLOR_HSV2BGR)[0, 0])


def draw_look(family: str, seed: int) -> Look:
    """A look around the scripted drummer's (which MoveNet finds well): a light, calm room; clothes of
    strong colours, the sleeves another hue than the vest; dark trousers; skin of several tones."""
    rng = np.random.default_rng([zlib.crc32(family.encode()), seed, 11])
    skins = [(140, 175, 225), (110, 150, 200), (80, 110, 160), (60, 80, 120), (170, 200, 235)]
    skin = skins[int(rng.integers(len(skins)))]
    background = _hsv(rng.uniform(0, 180), rng.uniform(0, 60), rng.uniform(160, 235))
    wall = _hsv(rng.uniform(0, 180), rng.uniform(0, 80), rng.uniform(130, 225))
    for _ in range(100):         # sleeves that stand out from the skin (and the hands from the sleeves)
        sleeve_hue = rng.uniform(0, 180)
        sleeve = _hsv(sleeve_hue, rng.uniform(150, 255), rng.uniform(160, 235))
        if np.linalg.norm(np.subtract(sleeve, skin)) >= 110:
            break
    shirt_hue = sleeve_hue + rng.uniform(40, 140)
    return Look(background=background, wall=wall, skin=skin, hair=_hsv(rng.uniform(0, 30), rng.uniform(50, 200),
                rng.uniform(20, 90)),
                shirt=_hsv(shirt_hue, rng.uniform(120, 255), rng.uniform(70, 150)),
                sleeve=sleeve,
                long_sleeves=bool(rng.random() < 0.85), trousers=_hsv(rng.uniform(0, 180), rng.uniform(0, 150),
                rng.uniform(30, 100)), shoes=_hsv(0, 0, rng.uniform(15, 50)),
                outline=bool(rng.random() < 0.85), width=float(rng.uniform(0.9, 1.2)), sticks=bool(rng.random() < 0.85),
                stick=_hsv(rng.uniform(10, 30), rng.uniform(40, 120), rng.uniform(150, 230)))


class Renderer:
    """Frames of one take as its camera films them."""

    def __init__(self, take: Take):
        self.take = take
        self.camera = take.camera
        self.look = draw_look(take.family, take.seed)
        w, h = int(self.camera.width * DRAW_SCALE), int(self.camera.height * DRAW_SCALE)
        self.size = (w, h)
        bg = np.empty((h, w, 3), np.uint8)
        bg[:] = self.look.background
        rng = np.random.default_rng([take.seed, 13])
        x0 = int(rng.uniform(0, w))
        bg[:, x0:x0 + int(rng.uniform(0.1, 0.5) * w)] = self.look.wall
        bg[int(rng.uniform(0.75, 0.95) * h):] = tuple(int(c * 0.7) for c in self.look.background)
        self._background = bg
        self._rng = np.random.default_rng([take.seed, 17])
        self._noise = np.empty((h, w, 3), np.float32)

    @property
    def subframes(self) -> int:
        return int(np.clip(round(self.camera.exposure_s / SUBFRAME_S), 1, MAX_SUBFRAMES))

    def subframe_points(self, times: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Every drawn point (pixels of the drawing) at each sub-frame of each frame time: (frames * subframes)."""
        cam = self.camera
        k = self.subframes
        offsets = (np.arange(k) + 0.5) / k * cam.exposure_s - cam.exposure_end * cam.exposure_s
        sub_t = (times[:, None] + offsets[None, :]).ravel()
        order = np.argsort(sub_t, kind="stable")
        pts_sorted = self.take.points_at(sub_t[order])
        inverse = np.empty_like(order)
        inverse[order] = np.arange(len(order))
        return {name: (x[inverse] * DRAW_SCALE, y[inverse] * DRAW_SCALE) for name, (x, y) in pts_sorted.items()}

    def frames(self, times: np.ndarray, pts: dict | None = None):
        """Yield the filmed frame (BGR uint8, the camera's size) at each frame time (s)."""
        cam = self.camera
        k = self.subframes
        pts = pts if pts is not None else self.subframe_points(times)
        acc = np.empty((self.size[1], self.size[0], 3), np.float32)
        duration = self.take.duration
        phase = self._rng.uniform(0, 6.283)
        for i, t in enumerate(times):
            acc[:] = 0.0
            for j in range(k):
                idx = i * k + j
                img = self._draw({n: (x[idx], y[idx]) for n, (x, y) in pts.items()})
                cv2.add(acc, img.astype(np.float32), dst=acc)
            gain = (1.0 + cam.light * 0.5 * np.sin(2 * np.pi * t / max(duration, 1.0) * 1.5 + phase)
                    + cam.light * 0.05 * np.sin(2 * np.pi * 7.0 * t))
            acc *= gain / k
            if cam.sensor_noise > 0:
                cv2.randn(self._noise, 0.0, cam.sensor_noise * DRAW_SCALE)
                acc += self._noise
            frame = np.clip(acc, 0, 255).astype(np.uint8)
            # back to the camera's size: the pose model's own shrinking (a Gaussian halving, then bilinear)
            # then sees the soft edges of a real frame, not the hard ones of a small drawing
            frame = cv2.resize(frame, (cam.width, cam.height), interpolation=cv2.INTER_LINEAR)
            if cam.jpeg:
                ok, buf = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, cam.jpeg])
                frame = cv2.imdecode(buf, cv2.IMREAD_COLOR)
            yield frame

    def _draw(self, j: dict[str, tuple[float, float]]) -> np.ndarray:
        look = self.look
        img = self._background.copy()
        u = self.take.body.scale * DRAW_SCALE * look.width
        aa = cv2.LINE_AA

        def p(name):
            x, y = j[name]
            return int(round(x)), int(round(y))

        def seg(a, b, width, colour):
            cv2.line(img, p(a), p(b), colour, max(1, int(width * u)), aa)

        for s in ("left", "right"):
            seg(f"{s}_hip", f"{s}_knee", 0.30, look.trousers)
            seg(f"{s}_knee", f"{s}_ankle", 0.24, look.trousers)
            seg(f"{s}_ankle", f"{s}_toe", 0.16, look.shoes)
        ls, rs, lh, rh = (np.array(j[n]) for n in ("left_shoulder", "right_shoulder", "left_hip", "right_hip"))
        across = (ls - rs) / max(np.hypot(*(ls - rs)), 1e-6)
        down = (lh + rh - ls - rs) / max(np.hypot(*(lh + rh - ls - rs)), 1e-6)
        torso = np.array([ls + (across * 0.08 - down * 0.05) * u, rs - (across * 0.08 + down * 0.05) * u,
                          rh + (down * 0.05 - across * 0.14) * u, lh + (across * 0.14 + down * 0.05) * u])
        cv2.fillConvexPoly(img, torso.round().astype(np.int32), look.shirt, aa)
        head = np.array(j["head"])
        neck = (ls + rs) / 2
        cv2.line(img, p("head"), (int(neck[0]), int(neck[1])), look.skin, max(1, int(0.22 * u)), aa)
        hr = max(2, int(self.take.body.head * self.take.body.scale * DRAW_SCALE))
        for s in ("left", "right"):
            cv2.circle(img, p(f"{s}_ear"), max(2, int(0.07 * u)), look.skin, -1, aa)
        cv2.ellipse(img, p("head"), (hr, int(hr * 1.12)), 0, 0, 360, look.skin, -1, aa)
        cv2.ellipse(img, p("head"), (hr, int(hr * 1.12)), 0, 200, 340, look.hair, -1, aa)
        # a face MoveNet can tell from the back of a head: eyes, brows, nose and mouth
        eye_r = max(1, int(0.05 * u))
        for s in ("left", "right"):
            ex, ey = p(f"{s}_eye")
            cv2.circle(img, (ex, ey), eye_r + 1, (235, 235, 235), -1, aa)
            cv2.circle(img, (ex, ey), max(1, eye_r // 2 + 1), (40, 30, 30), -1, aa)
            cv2.line(img, (ex - eye_r - 1, ey - 2 * eye_r - 1), (ex + eye_r + 1, ey - 2 * eye_r - 1), look.hair,
                     max(1, int(0.025 * u)), aa)
        nx, ny = p("nose")
        cv2.circle(img, (nx, ny), max(1, int(0.035 * u)), tuple(int(c * 0.75) for c in look.skin), -1, aa)
        mouth = (int(head[0]), int(head[1] + 0.16 * u))
        cv2.ellipse(img, mouth, (max(2, int(0.09 * u)), max(1, int(0.025 * u))), 0, 0, 360, (70, 70, 150), -1, aa)
        # the arm that has crossed over to the other side is in front
        lw, rw = j["left_wrist"][0], j["right_wrist"][0]
        order = ("left", "right") if lw > rw else ("right", "left")
        for s in order:
            forearm = look.sleeve if look.long_sleeves else look.skin
            if look.outline:
                seg(f"{s}_shoulder", f"{s}_elbow", 0.35, (40, 35, 30))
                seg(f"{s}_elbow", f"{s}_wrist", 0.23, (40, 35, 30))
            seg(f"{s}_shoulder", f"{s}_elbow", 0.30, look.sleeve)
            seg(f"{s}_elbow", f"{s}_wrist", 0.18, forearm)
            cv2.circle(img, p(f"{s}_hand"), max(2, int(0.16 * u)), look.skin, -1, aa)
            if look.sticks:
                seg(f"{s}_hand", f"{s}_stick", 0.06, look.stick)
        return img
