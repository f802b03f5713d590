"""Who plays: the player is kept by identity from frame to frame, so that a second person walking into the
picture does not take over the drums because the pose model scores them higher.

Of the people a frame holds (MultiPose finds up to six; a single-pose model gives one, which may be the wrong
one), the player is the one whose body is where the player's body has been: the median distance of the body's
keypoints (nose, shoulders, hips, knees, ankles: not the hands, which drum) to the player's place, in shoulder
widths. That place follows the player slowly (an average over about a second), so someone passing behind,
whose keypoints blend with the player's for a few frames, cannot drag it away. Nobody within MAX_OFF means the
player was not seen in this frame (the detector treats it as a missing frame): a single-pose model that jumped
to someone else plays nobody. A player unseen for REACQUIRE_S is looked for afresh: the highest-scored person
plays.

MAX_OFF was measured on the scripted drummer (tests/test_player_tracking.py): the player's body stays within
0.32 shoulder widths of its place alone (Lightning, 100 fps, 10 s; p95 0.17) and 0.42 with someone passing
behind (MultiPose), once a body whose sides MoveNet swapped is compared side for side; a passer-by is 0.43 to
3.2 away (median 1.9). Nearest wins whenever both are seen; a passer-by right beside a player that MultiPose
missed may play a frame, never two in a row.
"""

from __future__ import annotations

import math

from lalelu.core.keypoints import Keypoint, Person

MIN_SCORE = 0.2          # keypoints scored below this are not compared
MIN_COMMON = 3           # body keypoints seen in both for a comparison to count (a player framed waist-up)
MAX_OFF = 0.5            # shoulder widths: the player's body stays this close to its place
FOLLOW_S = 1.0           # the place follows the player's body with this time constant
REACQUIRE_S = 1.0        # after this long without the player, whoever scores highest is the player
BODY = (Keypoint.NOSE, Keypoint.LEFT_SHOULDER, Keypoint.RIGHT_SHOULDER, Keypoint.LEFT_HIP, Keypoint.RIGHT_HIP,
        Keypoint.LEFT_KNEE, Keypoint.RIGHT_KNEE, Keypoint.LEFT_ANKLE, Keypoint.RIGHT_ANKLE)
MIRRORED = (Keypoint.NOSE, Keypoint.RIGHT_SHOULDER, Keypoint.LEFT_SHOULDER, Keypoint.RIGHT_HIP, Keypoint.LEFT_HIP,
            Keypoint.RIGHT_KNEE, Keypoint.LEFT_KNEE, Keypoint.RIGHT_ANKLE, Keypoint.LEFT_ANKLE)
_LS, _RS = Keypoint.LEFT_SHOULDER, Keypoint.RIGHT_SHOULDER


class PlayerTracker:
    """pick(people, t_ns) -> the player's Person, or None when the player is not among them. On the hot path:
    plain Python over nine points (a few microseconds; numpy's per-call cost is larger at this size)."""

    def __init__(self, max_off: float = MAX_OFF, follow_s: float = FOLLOW_S, reacquire_s: float = REACQUIRE_S):
        self.max_off = max_off
        self.follow_ns = follow_s * 1e9
        self.reacquire_ns = int(reacquire_s * 1e9)
        self._place: list[list[float] | None] | None = None   # where each body keypoint has been (None: unseen)
        self._scale = 0.0                         # the player's shoulder width, pixels
        self._seen_ns = 0
        self.rejected = 0                         # frames where someone was found but not the player

    def reset(self) -> None:
        self._place = None

    def pick(self, people: list[Person], t_ns: int) -> Person | None:
        if not people:
            return None
        if self._place is None or t_ns - self._seen_ns > self.reacquire_ns:
            self._place = None
            best = max(people, key=lambda p: p.score) if len(people) > 1 else people[0]
            self._accept(best.keypoints.tolist(), t_ns)
            return best
        best, best_kp, best_off = None, None, math.inf
        for person in people:
            kp = person.keypoints.tolist()
            off = self._off(kp)
            if off < best_off:
                best, best_kp, best_off = person, kp, off
        if best_off > self.max_off:
            self.rejected += 1
            return None
        self._accept(best_kp, t_ns)
        return best

    def _off(self, kp: list[list[float]]) -> float:
        """Median distance of the body keypoints from the player's place, in the player's shoulder widths; the
        smaller of it and that of the keypoints with left and right swapped (MoveNet swaps the sides of a body
        when the arms cross it: still the same person)."""
        return min(self._median_off(kp, BODY), self._median_off(kp, MIRRORED))

    def _median_off(self, kp: list[list[float]], order: tuple[int, ...]) -> float:
        d = []
        for k, place in zip(order, self._place):
            x, y, score = kp[k]
            if place is not None and score >= MIN_SCORE:
                d.append(math.hypot(x - place[0], y - place[1]))
        n = len(d)
        if n < MIN_COMMON:
            return math.inf
        d.sort()
        median = d[n // 2] if n % 2 else 0.5 * (d[n // 2 - 1] + d[n // 2])
        return median / self._scale

    def _accept(self, kp: list[list[float]], t_ns: int) -> None:
        if self._place is None:
            self._place = [None] * len(BODY)
            self._scale = 0.0
            a = 1.0
        else:
            a = min(1.0, (t_ns - self._seen_ns) / self.follow_ns)
        place = self._place
        for i, k in enumerate(BODY):
            x, y, score = kp[k]
            if score < MIN_SCORE:
                continue
            p = place[i]
            if p is None:                 # first seen now: taken as it is
                place[i] = [x, y]
            else:
                p[0] += a * (x - p[0])
                p[1] += a * (y - p[1])
        (lx, ly, ls), (rx, ry, rs) = kp[_LS], kp[_RS]
        if ls >= MIN_SCORE and rs >= MIN_SCORE:
            width = math.hypot(lx - rx, ly - ry)
            if width > 1.0:
                self._scale = width if self._scale <= 0.0 else self._scale + a * (width - self._scale)
        if self._scale <= 0.0:      # never saw both shoulders: a rough scale from the visible body's height
            ys = [y for _, y, score in kp if score >= MIN_SCORE]
            self._scale = max(1.0, (max(ys) - min(ys)) / 4.6 if len(ys) > 1 else 1.0)
        self._seen_ns = t_ns
