"""How MoveNet errs on a keypoint sequence: the figures that compare the corpus's renders with real video.

Two kinds of figures, both in shoulder widths (the body frame's unit, floored by the torso) and per second:
- against the truth (the corpus, the scripted drummer): the wrists' jitter (robust spread of the error
  about its steady offset, on slow frames), their jumps (episodes farther than JUMP from where the
  offset puts them), dropouts (episodes scored below MIN_SCORE), and whole-body left/right flips;
- from temporal continuity alone (any video, real people too, where there is no truth): the wrists'
  residual jitter (a frame against a quadratic through its four neighbours and itself),
  their spikes (a frame farther than JUMP from both neighbours, which agree with each other), dropouts,
  and flips (the skeleton matches the previous frame's much better mirrored than as it is).
The continuity figures are also taken of the truth itself, so that what genuine motion adds to them is
known.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lalelu.core.keypoints import Keypoint

JUMP = 0.3            # shoulder widths
MIN_SCORE = 0.15
SLOW = 1.0            # shoulder widths per second: a wrist this slow is "still" for the jitter
WRISTS = (Keypoint.LEFT_WRIST, Keypoint.RIGHT_WRIST)
CORE = (Keypoint.LEFT_SHOULDER, Keypoint.RIGHT_SHOULDER, Keypoint.LEFT_HIP, Keypoint.RIGHT_HIP)
_MIRROR = list(range(17))
for _a, _b in ((1, 2), (3, 4), (5, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16)):
    _MIRROR[_a], _MIRROR[_b] = _b, _a


@dataclass
class Figures:
    seconds: float = 0.0
    jitter: float = float("nan")          # wrists, robust std per axis
    jumps: float = 0.0                    # wrist episodes per second (per wrist)
    dropouts: float = 0.0                 # wrist episodes per second (per wrist)
    flips: float = 0.0                    # whole-body flip episodes per second
    flip_share: float = 0.0               # share of frames flipped

    def row(self) -> str:
        return (f"jitter {self.jitter:.4f}  jumps/s {self.jumps:.2f}  dropouts/s {self.dropouts:.2f}  "
                f"flips/s {self.flips:.2f} ({100 * self.flip_share:.1f} % of frames)")


def _episodes(mask: np.ndarray) -> int:
    m = np.asarray(mask, bool)
    return int(m[0]) + int(np.sum(m[1:] & ~m[:-1])) if len(m) else 0


def body_scale(kp: np.ndarray, torso_ratio: float = 0.7) -> float:
    """Median body scale (pixels per shoulder width, floored by the torso) of a sequence (n, 17, 2+)."""
    sw = np.hypot(*(kp[:, Keypoint.LEFT_SHOULDER, :2] - kp[:, Keypoint.RIGHT_SHOULDER, :2]).T)
    mid_s = (kp[:, Keypoint.LEFT_SHOULDER, :2] + kp[:, Keypoint.RIGHT_SHOULDER, :2]) / 2
    mid_h = (kp[:, Keypoint.LEFT_HIP, :2] + kp[:, Keypoint.RIGHT_HIP, :2]) / 2
    torso = np.hypot(*(mid_h - mid_s).T)
    return float(np.median(np.maximum(sw, torso * torso_ratio)))


def against_truth(kp: np.ndarray, truth: np.ndarray, times: np.ndarray, scale: float) -> Figures:
    """kp (n, 17, 3) MoveNet; truth (n, 17, 2) the true keypoints (blurred over the exposure) in pixels."""
    n = len(kp)
    secs = float(times[-1] - times[0]) if n > 1 else 0.0
    d = (kp[:, :, :2] - truth) / scale
    d_m = (kp[:, _MIRROR, :2] - truth) / scale
    err = np.median(np.hypot(d[:, CORE, 0], d[:, CORE, 1]), axis=1)
    err_m = np.median(np.hypot(d_m[:, CORE, 0], d_m[:, CORE, 1]), axis=1)
    flipped = err_m < 0.5 * err
    v = np.gradient(truth, times, axis=0) / scale
    speed = np.hypot(v[..., 0], v[..., 1])
    res, jumps, drops = [], 0, 0
    for w in WRISTS:
        seen = kp[:, w, 2] >= MIN_SCORE
        use = ~flipped & seen
        if use.sum() < 10:
            continue
        bias = np.median(d[use, w], axis=0)
        r = d[:, w] - bias
        far = use & (np.hypot(r[:, 0], r[:, 1]) > JUMP)
        jumps += _episodes(far)
        drops += _episodes(~seen)
        still = use & ~far & (speed[:, w] < SLOW)
        res.append(r[still])
    out = Figures(seconds=secs, flips=_episodes(flipped) / max(secs, 1e-9), flip_share=float(flipped.mean()))
    if res:
        r = np.concatenate(res)
        if len(r) > 20:
            out.jitter = float(1.4826 * np.median(np.abs(r - np.median(r, axis=0))))
    out.jumps = jumps / len(WRISTS) / max(secs, 1e-9)
    out.dropouts = drops / len(WRISTS) / max(secs, 1e-9)
    return out


def from_continuity(kp: np.ndarray, times: np.ndarray, scale: float) -> Figures:
    """Figures of a sequence without truth: kp (n, 17, 3) pixels and scores (a truth: scores of 1)."""
    n = len(kp)
    secs = float(times[-1] - times[0]) if n > 1 else 0.0
    xy = kp[:, :, :2] / scale
    # flips: shoulders and hips both the other way round than most of the frames within a second around,
    # and clearly so (a body seen from the side, whose shoulders overlap, is left out)
    sh = xy[:, Keypoint.LEFT_SHOULDER, 0] - xy[:, Keypoint.RIGHT_SHOULDER, 0]
    hp = xy[:, Keypoint.LEFT_HIP, 0] - xy[:, Keypoint.RIGHT_HIP, 0]
    half = max(1, int(round(1.0 / max(np.median(np.diff(times)), 1e-3))))
    flipped = np.zeros(n, bool)
    for k in range(n):
        a, b = max(0, k - half), min(n, k + half + 1)
        ref = np.sign(np.median(sh[a:b]))
        flipped[k] = (np.sign(sh[k]) == -ref) and (np.sign(hp[k]) == -ref) and abs(sh[k]) > 0.2 and ref != 0
    res, spikes, drops = [], 0, 0
    for w in WRISTS:
        p = xy[:, w]
        seen = kp[:, w, 2] >= MIN_SCORE
        drops += _episodes(~seen)
        ok = seen[1:-1] & seen[:-2] & seen[2:]
        r = p[1:-1] - (p[:-2] + p[2:]) / 2
        rn = np.hypot(r[:, 0], r[:, 1])
        span = np.hypot(*(p[2:] - p[:-2]).T)
        spike = ok & (rn > JUMP) & (span < JUMP)
        spikes += _episodes(spike)
        # jitter: the residual of a quadratic through five frames (it follows steady acceleration), whose
        # variance is 18/35 of white jitter's, on frames whose five are all seen and none a spike
        if n >= 5:
            q = p[2:-2] - (-3 * p[:-4] + 12 * p[1:-3] + 17 * p[2:-2] + 12 * p[3:-1] - 3 * p[4:]) / 35
            good = seen[:-4] & seen[1:-3] & seen[2:-2] & seen[3:-1] & seen[4:]
            qn = np.hypot(q[:, 0], q[:, 1])
            res.append(q[good & (qn < JUMP / 2)] / np.sqrt(18 / 35))
    out = Figures(seconds=secs, flips=_episodes(flipped) / max(secs, 1e-9), flip_share=float(flipped.mean()))
    r = np.concatenate(res) if res else np.zeros((0, 2))
    if len(r) > 20:
        out.jitter = float(1.4826 * np.median(np.abs(r - np.median(r, axis=0))))
    out.jumps = spikes / len(WRISTS) / max(secs, 1e-9)
    out.dropouts = drops / len(WRISTS) / max(secs, 1e-9)
    return out


def merge(figs: list[Figures]) -> Figures:
    """Time-weighted mean of several takes' figures."""
    total = sum(f.seconds for f in figs)
    if not total:
        return Figures()
    def avg(name):
        vals = [(getattr(f, name), f.seconds) for f in figs if not np.isnan(getattr(f, name))]
        return sum(v * s for v, s in vals) / max(sum(s for _, s in vals), 1e-9) if vals else float("nan")
    return Figures(seconds=total, jitter=avg("jitter"), jumps=avg("jumps"), dropouts=avg("dropouts"),
                   flips=avg("flips"), flip_share=avg("flip_share"))


# --- the comparison: `python -m lalelu.bench_poseerrors` ------------------------------------------

def corpus_rows(splits=("train", "dev", "test")) -> dict:
    """The filmed share (from the cache): figures against the truth and from continuity, per frame rate."""
    from lalelu.gestures.corpus import takes
    from lalelu.gestures.corpus.filmed import filmed_keypoints
    from lalelu.gestures.corpus.posenoise import blurred_truth

    by: dict = {}
    for split in splits:
        for take in takes(split, "filmed"):
            kp = filmed_keypoints(take, build=False)
            if kp is None:
                continue
            t, scale = take.frame_times(), take.body.scale
            a = against_truth(kp, blurred_truth(take, t), t, scale)
            c = from_continuity(kp, t, scale)
            for key in (f"{take.fps:g} fps", "all"):
                by.setdefault(key, ([], []))
                by[key][0].append(a)
                by[key][1].append(c)
    return {k: (merge(a), merge(c)) for k, (a, c) in by.items()}


def scripted_rows(seconds: float = 10.0) -> dict:
    """The scripted drummer (lalelu.sources.synthetic) rendered and posed by MoveNet Lightning."""
    from lalelu.pose import load_estimator
    from lalelu.sources.synthetic import SyntheticDrummer

    est = load_estimator("lightning", "litert", 1)
    out = {}
    for fps in (30.0, 100.0):
        drummer = SyntheticDrummer(fps=fps, realtime=False)
        n = int(seconds * fps)
        t = np.arange(n) / fps
        kp, truth = np.zeros((n, 17, 3)), np.zeros((n, 17, 2))
        for i in range(n):
            people = est(drummer.render(t[i]))
            if people:
                kp[i] = people[0].keypoints
            truth[i] = drummer.keypoints_at(t[i])
        scale = drummer.mannequin.unit
        out[f"{fps:g} fps"] = (against_truth(kp, truth, t, scale), from_continuity(kp, t, scale))
    return out


def real_video_rows() -> dict:
    """Sports2D's demo video (real people, 30 fps, no truth): each person followed by a crop of a webcam's
    shape around their last keypoints (the body filling the picture as a drummer's does), posed by MoveNet
    Lightning; figures from continuity."""
    import cv2

    from lalelu.pose import load_estimator
    from lalelu.samples import demo_video_path

    est = load_estimator("lightning", "litert", 1)
    cap = cv2.VideoCapture(str(demo_video_path()))
    frames = []
    while True:
        ok, f = cap.read()
        if not ok:
            break
        frames.append(f)
    cap.release()

    def pose(img, box):
        x0, y0, x1, y1 = box
        cw, ch = x1 - x0, y1 - y0
        warp = np.array([[640 / cw, 0, -x0 * 640 / cw], [0, 480 / ch, -y0 * 480 / ch]])
        people = est(cv2.warpAffine(img, warp, (640, 480), flags=cv2.INTER_AREA))
        if not people:
            return None
        kp = people[0].keypoints.copy()
        kp[:, 0] = kp[:, 0] * cw / 640 + x0
        kp[:, 1] = kp[:, 1] * ch / 480 + y0
        return kp

    def box_of(kp):
        ok = kp[:, 2] > 0.2
        xs, ys = kp[ok, 0], kp[ok, 1]
        cx, cy = (xs.min() + xs.max()) / 2, (ys.min() + ys.max()) / 2
        h = max((ys.max() - ys.min()) * 1.35 + 40, 200)
        return cx - h * 2 / 3, cy - 0.53 * h, cx + h * 2 / 3, cy + 0.47 * h

    def follow(start, box, step):
        got, k = {}, start
        while 0 <= k < len(frames):
            kp = pose(frames[k], box)
            if kp is None or np.mean(kp[:, 2]) < 0.15:
                break
            got[k] = kp
            box = box_of(kp)
            k += step
        return got

    out = {}
    # where each person is first (full-resolution pixels): the man on the roof at frame 0, the woman at 100
    for name, start, box in (("person 1", 0, (560, 40, 1080, 430)), ("person 2", 100, (900, 480, 1476, 912))):
        got = {**follow(start, box, -1), **follow(start, box, 1)}
        ks = sorted(got)
        kp = np.array([got[k] for k in ks])
        out[name] = (None, from_continuity(kp, np.array(ks) / 30.0, body_scale(kp)))
    return out


def main() -> None:
    def show(title, rows):
        for key, (truth, cont) in rows.items():
            if truth is not None:
                print(f"{title:22s} {key:9s} against the truth:  {truth.row()}")
            print(f"{title:22s} {key:9s} from continuity:   {cont.row()}")
    show("corpus filmed share", corpus_rows())
    show("scripted drummer", scripted_rows())
    show("real video (Sports2D)", real_video_rows())


if __name__ == "__main__":
    main()
