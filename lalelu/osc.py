"""OSC out: each hit, and the playing limbs' positions and speeds at the frame rate, to a Pure Data, Max or
TouchDesigner patch (`--osc HOST:PORT`; python-osc builds the messages).

Messages (UDP, one OSC message per datagram, no bundles: Pd's [oscparse] reads them as they come):

    /lalelu/hit   limb drum note velocity time      s s i i f
    /lalelu/pose  limb x y vx vy time               s f f f f f

limb: left_hand, right_hand, left_foot, right_foot. time: seconds since lalelu started playing (the hit's
stroke bottom; the frame's capture). x, y: the wrist's or ankle's place in the body frame (origin between the
shoulders, one unit = one shoulder width, x to the image's right, y DOWN: a raised hand has y < 0); vx, vy: its
speed in shoulder widths per second, from the last frame it was seen in. A limb the camera does not see in a
frame is left out of that frame's messages.

The hot path only puts a reference in a queue (a hit, or the frame's keypoints) and returns; a thread of its own
computes, encodes and sends with a non-blocking socket. When it falls behind, the queue's limit drops the newest
items and counts them; an unreachable host or a closed port costs nothing but a message.
"""

from __future__ import annotations

import collections
import math
import queue
import socket
import struct
import threading
import time

import numpy as np

from lalelu.core.body import DEFAULT_TORSO_RATIO, shoulder_frame
from lalelu.core.hits import Hit
from lalelu.core.keypoints import DRAW_MIN_SCORE
from lalelu.core.limbs import Limb
from lalelu.core.messages import Message, drain, info, warning

HIT_ADDRESS = "/lalelu/hit"
POSE_ADDRESS = "/lalelu/pose"
QUEUE_LIMIT = 512           # items waiting for the sender (5 s of pose at 100 fps, with hits)
SPEED_GAP_S = 0.25          # a limb unseen for longer starts again with speed 0
_LIMBS = tuple((str(limb), int(limb.keypoint)) for limb in Limb)
_STOP = None
_FIVE_FLOATS = struct.Struct(">5f")   # OSC floats are big-endian float32


def parse_target(text: str) -> tuple[str, int]:
    """"HOST:PORT" (or "[IPv6]:PORT") -> (host, port); ValueError saying what is wrong."""
    host, sep, port_text = str(text).strip().rpartition(":")
    host = host.strip("[]")
    if not sep or not host:
        raise ValueError(f"--osc {text!r}: give HOST:PORT, e.g. --osc 127.0.0.1:9000")
    try:
        port = int(port_text)
    except ValueError:
        raise ValueError(f"--osc {text!r}: the port {port_text!r} is not a number; give HOST:PORT, e.g. "
                         "127.0.0.1:9000") from None
    if not 1 <= port <= 65535:
        raise ValueError(f"--osc {text!r}: the port must be 1-65535, not {port}")
    return host, port


class OscOut:
    """A NoteSink (hits) that also takes every frame's keypoints (the pose stream): see the module's doc.
    min_score and torso_ratio are the kit's (the body frame the detector plays in). Raises OSError when the
    host cannot be resolved."""

    name = "OSC"

    def __init__(self, target: str, min_score: float = DRAW_MIN_SCORE, torso_ratio: float = DEFAULT_TORSO_RATIO,
                 t0_ns: int | None = None, queue_limit: int = QUEUE_LIMIT) -> None:
        from pythonosc.osc_message_builder import OscMessageBuilder

        self._builder = OscMessageBuilder
        self.host, self.port = parse_target(target)
        try:
            infos = socket.getaddrinfo(self.host, self.port, type=socket.SOCK_DGRAM)
        except socket.gaierror as exc:
            raise OSError(f"--osc {target}: cannot resolve {self.host!r}: {exc.strerror}") from exc
        family, _, _, _, self.address = infos[0]
        self._sock = socket.socket(family, socket.SOCK_DGRAM)
        self._sock.setblocking(False)   # a full send buffer drops the message, it never waits
        self.min_score, self.torso_ratio = min_score, torso_ratio
        self.t0_ns = time.monotonic_ns() if t0_ns is None else t0_ns
        self.limit = queue_limit
        self.sent = 0          # datagrams sent
        self.dropped = 0       # hits and frames dropped: the queue was full, or the send failed
        self.hits = 0          # hits handed over
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._events: collections.deque[Message] = collections.deque(maxlen=100)
        self._failure: str | None = None
        self._status = f"sending to {self.host}:{self.port}"
        self._last: dict[str, tuple[float, float, float]] = {}   # limb -> (t_s, x, y) when last seen
        self._pose_prefix: dict[str, bytes] = {}
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="lalelu-osc", daemon=True)
        self._thread.start()

    # -- the hot path ---------------------------------------------------------------------------------
    def play(self, hit: Hit) -> int:
        if self._queue.qsize() >= self.limit:
            self.dropped += 1
            return 0
        self._queue.put_nowait(hit)
        self.hits += 1
        return time.monotonic_ns()

    def frame(self, t_ns: int, keypoints: np.ndarray | None) -> None:
        """The pose stream: one played frame's keypoints (None: nobody seen). Returns at once."""
        if keypoints is None:
            return
        if self._queue.qsize() >= self.limit:
            self.dropped += 1
            return
        self._queue.put_nowait((t_ns, keypoints))

    # -- state ----------------------------------------------------------------------------------------
    @property
    def status(self) -> str:
        return self._status

    @property
    def connected(self) -> bool:
        return self._failure is None

    def messages(self) -> list[Message]:
        return drain(self._events)

    def close(self) -> None:
        if self._closing:
            return
        self._closing = True
        self._queue.put(_STOP)
        self._thread.join(2.0)
        self._sock.close()

    def __enter__(self) -> "OscOut":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- the sender thread ----------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            try:
                if isinstance(item, Hit):
                    self._send(HIT_ADDRESS, (str(item.limb), item.drum, int(item.note), int(item.velocity),
                                             self._seconds(item.t_ns)))
                else:
                    for message in self.pose_messages(*item):
                        self._send(POSE_ADDRESS, message)
            except Exception as exc:   # a bug must not end the stream silently
                self._events.append(warning(f"OSC: {exc!r}"))

    def _seconds(self, t_ns: int) -> float:
        return (t_ns - self.t0_ns) / 1e9

    def pose_messages(self, t_ns: int, keypoints: np.ndarray) -> list[tuple]:
        """The /lalelu/pose arguments of one frame: (limb, x, y, vx, vy, time) for each limb seen."""
        rows = keypoints.tolist()
        body = shoulder_frame(rows, self.torso_ratio, self.min_score)
        if body is None:
            return []
        mx, my, scale = body
        if not scale > 0:
            return []
        t = self._seconds(t_ns)
        out = []
        for limb, k in _LIMBS:
            x, y, score = rows[k]
            if score < self.min_score:
                continue
            bx, by = (x - mx) / scale, (y - my) / scale
            last = self._last.get(limb)
            vx = vy = 0.0
            if last is not None and 0 < t - last[0] <= SPEED_GAP_S:
                vx, vy = (bx - last[1]) / (t - last[0]), (by - last[2]) / (t - last[0])
            self._last[limb] = (t, bx, by)
            if all(math.isfinite(v) for v in (bx, by, vx, vy)):
                out.append((limb, bx, by, vx, vy, t))
        return out

    def _encode(self, address: str, args: tuple) -> bytes:
        if address == POSE_ADDRESS:   # 400 a second at 100 fps: python-osc's own bytes for the limb, floats packed
            prefix = self._pose_prefix.get(args[0])
            if prefix is None:
                prefix = self._pose_prefix[args[0]] = self._build(address, (args[0], 0.0, 0.0, 0.0, 0.0, 0.0))[:-20]
            return prefix + _FIVE_FLOATS.pack(*args[1:])
        return self._build(address, args)

    def _build(self, address: str, args: tuple) -> bytes:
        builder = self._builder(address)
        for arg in args:
            builder.add_arg(arg)
        return builder.build().dgram

    def _send(self, address: str, args: tuple) -> None:
        try:
            self._sock.sendto(self._encode(address, args), self.address)
        except OSError as exc:   # BlockingIOError (buffer full), unreachable network...: drop and say so once
            self.dropped += 1
            problem = f"sending to {self.host}:{self.port} fails ({exc.strerror or exc}); hits and pose are dropped"
            if problem != self._failure:
                self._failure = problem
                self._status = problem
                self._events.append(warning(f"OSC: {problem}"))
            return
        self.sent += 1
        if self._failure is not None:
            self._failure = None
            self._status = f"sending to {self.host}:{self.port}"
            self._events.append(info(f"OSC: {self._status} again"))
