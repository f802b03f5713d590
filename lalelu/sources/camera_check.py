"""The camera check: play a source for a few seconds and say whether it is fit for drumming.

It measures what the source really delivers (fps, the jitter of its frame intervals, the driver's delivery
latency when the frames carry a kernel stamp), the exposure and the brightness, and whether the player is in
the picture from head to ankles (MoveNet on frames kept along the way, run after the capture so that it does
not slow the capture it measures).

    result = check_source(open_source("camera:0"), seconds=5, estimator=load_estimator(...))
    print(format_check(result))
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

import numpy as np

from lalelu.core.keypoints import DRAW_MIN_SCORE, Keypoint
from lalelu.core.protocols import Source
from lalelu.errors import SourceInterrupted
from lalelu.report import fmt_ms, summarize_ns
from lalelu.sources.exposure import DARK, MAX_PERIOD_FRACTION, brightness

HEAD = (Keypoint.NOSE, Keypoint.LEFT_EYE, Keypoint.RIGHT_EYE, Keypoint.LEFT_EAR, Keypoint.RIGHT_EAR)
ANKLES = (Keypoint.LEFT_ANKLE, Keypoint.RIGHT_ANKLE)
EDGE = 0.02               # a keypoint this close to the picture's edge (fraction of its size) is likely cut off
HEAD_TOP = 0.05           # the face's keypoints lie below the top of the head: nearer the top edge, it is cut
IN_FRAME_SHARE = 0.6      # the player counts as in frame when seen whole in this share of the sampled frames
POSE_SAMPLES = 12         # frames kept for the pose check, spread over the check
BRIGHT = 225.0            # mean luma above this: washed out
FPS_SHORTFALL = 0.9       # delivering less than this share of the rate granted is a problem
JITTER_SHARE = 0.25       # interval jitter above this share of the frame period is a problem


def missing_parts(keypoints: np.ndarray, size: tuple[int, int], min_score: float = DRAW_MIN_SCORE) -> list[str]:
    """Of the head and the two ankles, those not seen in one frame's (17, 3) keypoints (x, y, score) of a
    picture `size` = (width, height): scored too low, or on the picture's edge."""
    w, h = size

    def seen(k: Keypoint) -> bool:
        x, y, score = keypoints[k]
        top = HEAD_TOP if k in HEAD else EDGE
        return score >= min_score and EDGE * w <= x <= (1 - EDGE) * w and top * h <= y <= (1 - EDGE) * h

    missing = [] if any(seen(k) for k in HEAD) else ["head"]
    return missing + [k.label.replace("_", " ") for k in ANKLES if not seen(k)]


@dataclass
class Framing:
    in_frame: bool
    frames: int                       # frames looked at
    whole: int                        # of them, those with head and both ankles seen
    missing: dict[str, int] = field(default_factory=dict)   # part -> in how many frames it was missing

    @property
    def summary(self) -> str:
        if not self.frames:
            return "not checked (no frames)"
        if self.in_frame:
            return f"yes: head to ankles in {self.whole} of {self.frames} frames"
        if not self.missing:
            return "no player found"
        worst = ", ".join(f"{part} ({n} of {self.frames})" for part, n in
                          sorted(self.missing.items(), key=lambda kv: -kv[1]))
        return f"no: missing {worst}"


def judge_framing(samples: list[tuple[np.ndarray | None, tuple[int, int]]]) -> Framing:
    """Framing over frames: (keypoints or None when nobody was found, picture size) each."""
    missing: dict[str, int] = {}
    whole = 0
    for keypoints, size in samples:
        parts = ["player"] if keypoints is None else missing_parts(keypoints, size)
        whole += not parts
        for part in parts:
            missing[part] = missing.get(part, 0) + 1
    frames = len(samples)
    return Framing(in_frame=frames > 0 and whole >= IN_FRAME_SHARE * frames, frames=frames, whole=whole,
                   missing=missing)


@dataclass
class CheckResult:
    source: str
    seconds: float
    frames: int
    fps_granted: float
    fps_delivered: float
    interval_ms: dict
    delivery_ms: dict | None          # driver stamp -> arrival, when the frames carry one
    exposure_ms: float | None
    gain: float | None
    auto_exposure: bool | None
    brightness: float | None
    framing: Framing
    problems: list[str] = field(default_factory=list)
    stopped: str = ""                 # why the check ended early, if it did

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict:
        out = asdict(self)
        out["framing"]["summary"] = self.framing.summary
        out["ok"] = self.ok
        return out


def _pose(estimator, image: np.ndarray) -> np.ndarray | None:
    people = estimator(image)
    if not people:
        return None
    return max(people, key=lambda p: p.score).keypoints


def check_source(source: Source, seconds: float = 5.0, estimator=None) -> CheckResult:
    """Play `source` for `seconds` and judge it (see the module's doc). `estimator`: a pose estimator for the
    framing check (None: not checked). The source is started here and left open for the caller to close."""
    source.start()
    arrivals: list[int] = []
    kernel: list[int] = []
    kept: list[np.ndarray] = []
    keep_every_ns = int(seconds * 1e9 / POSE_SAMPLES)
    stopped = ""
    start = time.monotonic_ns()
    end = start + int(seconds * 1e9)
    next_keep = start
    while time.monotonic_ns() < end:
        try:
            frame = source.read()
        except SourceInterrupted as exc:
            stopped = str(exc)
            break
        if frame is None:
            stopped = "the source ended"
            break
        arrivals.append(frame.t_capture)
        kernel.append(frame.t_kernel)
        if frame.t_capture >= next_keep:
            kept.append(frame.image.copy())   # a camera may reuse its buffer
            next_keep = frame.t_capture + keep_every_ns
    elapsed_s = max((time.monotonic_ns() - start) / 1e9, 1e-9)

    intervals = np.diff(np.array(arrivals, np.int64))
    stamped = [(a, k) for a, k in zip(arrivals, kernel) if k]
    delivery = summarize_ns(np.array([a - k for a, k in stamped], np.int64)) if stamped else None
    state = source.camera_state() if hasattr(source, "camera_state") else None
    light = float(np.median([brightness(image) for image in kept])) if kept else None
    framing = judge_framing([(_pose(estimator, image), (image.shape[1], image.shape[0])) for image in kept]
                            ) if estimator is not None else Framing(False, 0, 0)
    granted = float(source.fps or 0.0)
    result = CheckResult(
        source=source.description, seconds=round(elapsed_s, 2), frames=len(arrivals), fps_granted=granted,
        fps_delivered=round(len(arrivals) / elapsed_s, 1), interval_ms=summarize_ns(intervals),
        delivery_ms=delivery, exposure_ms=getattr(state, "exposure_ms", None), gain=getattr(state, "gain", None),
        auto_exposure=getattr(state, "auto", None), brightness=light, framing=framing, stopped=stopped)
    result.problems = judge(result, checked_framing=estimator is not None)
    return result


def judge(result: CheckResult, checked_framing: bool = True) -> list[str]:
    """What is wrong for drumming, each with what to do."""
    problems = []
    if result.stopped:
        problems.append(f"the check stopped after {result.seconds:g} s: {result.stopped}")
    granted = result.fps_granted
    if granted and result.fps_delivered < FPS_SHORTFALL * granted:
        problems.append(f"delivers {result.fps_delivered:g} fps of the {granted:g} granted: a camera on auto "
                        "exposure slows down in dim light; use a short exposure (the default) and more light")
    period_ms = 1000.0 / granted if granted else None
    jitter = result.interval_ms.get("std")
    if period_ms and jitter is not None and jitter > JITTER_SHARE * period_ms:
        problems.append(f"uneven frames: interval jitter {jitter:.1f} ms at a {period_ms:.1f} ms period "
                        "(a busy USB bus, or a hub shared with other devices)")
    if result.auto_exposure:
        problems.append("auto exposure: strokes smear in dim light; drop --auto-exposure for a short exposure")
    elif result.exposure_ms is not None and period_ms and result.exposure_ms > MAX_PERIOD_FRACTION * period_ms:
        problems.append(f"exposure {result.exposure_ms:g} ms is long for {granted:g} fps: strokes smear; "
                        f"try --exposure-ms {MAX_PERIOD_FRACTION * period_ms:.1f} or less with more light")
    if result.brightness is not None and result.brightness < DARK:
        problems.append(f"dark picture (brightness {result.brightness:.0f}/255): more light, or a higher gain")
    elif result.brightness is not None and result.brightness > BRIGHT:
        problems.append(f"washed-out picture (brightness {result.brightness:.0f}/255): less gain")
    if checked_framing and not result.framing.in_frame:
        problems.append(f"player not in frame from head to ankles ({result.framing.summary}): step back, or "
                        "move the camera further away or lower")
    return problems


def format_check(result: CheckResult) -> str:
    iv, dl = result.interval_ms, result.delivery_ms
    exposure = ("auto" if result.auto_exposure else
                f"{result.exposure_ms:g} ms" if result.exposure_ms is not None else "unknown (no control)")
    gain = f", gain {result.gain:g}" if result.gain is not None else ""
    lines = [
        f"camera check: {result.source}",
        f"  fps delivered   {result.fps_delivered:g} of {result.fps_granted:g} granted "
        f"({result.frames} frames in {result.seconds:g} s)",
        f"  interval        p50 {fmt_ms(iv['p50'])} ms, jitter {fmt_ms(iv['std'])} ms, max {fmt_ms(iv['max'])} ms",
        "  delivery        " + (f"p50 {fmt_ms(dl['p50'])} ms, jitter {fmt_ms(dl['std'])} ms (driver stamp -> "
                                "frame ready)" if dl else "unknown (no driver stamps)"),
        f"  exposure        {exposure}{gain}",
        "  brightness      " + (f"{result.brightness:.0f}/255" if result.brightness is not None else "-"),
        f"  in frame        {result.framing.summary}",
    ]
    lines += [f"  problem: {p}" for p in result.problems] or ["  fit for drumming"]
    return "\n".join(lines)
