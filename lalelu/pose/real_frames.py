"""Frames of real people for calibrating an int8 model and for checking a precision's accuracy, in two disjoint
sets, and a frame as a model's input.

People in Sports2D's demo clip (1768x994, two people moving their arms, fetched once with pip download), 640 px
wide, the size the accuracy bars are stated for. "calibration" frames feed NNCF's statistics; "evaluation"
frames judge the result, and the two never share a frame: the clip is cut into blocks of 10 frames (a third of
a second), even blocks for calibration, odd ones for evaluation. The scripted drummer's frames (the other half
of int8's calibration) come from lalelu/sources/drummer_frames.py: pose imports no sources.
"""

from __future__ import annotations

import cv2
import numpy as np

from lalelu.errors import LaleluError

WIDTH = 640
SPLITS = ("calibration", "evaluation")
BLOCK = 10   # frames of the clip that go to the same split


def check_split(split: str) -> int:
    if split not in SPLITS:
        raise ValueError(f"split {split!r}: choose {' or '.join(SPLITS)}")
    return SPLITS.index(split)


def demo_frames(count: int, split: str = "calibration") -> list[np.ndarray]:
    """`count` frames of the split, spread over the whole demo clip, 640 px wide (decoded in order: no seeking)."""
    from lalelu.samples import demo_video_path

    parity = check_split(split)
    path = demo_video_path()
    cap = cv2.VideoCapture(str(path))
    try:
        total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        mine = [i for i in range(total) if (i // BLOCK) % 2 == parity]
        if len(mine) < count:
            raise LaleluError(f"{path} has {len(mine)} {split} frames, fewer than the {count} asked for: delete "
                              "it and run again to fetch it anew")
        wanted = {mine[int(k * len(mine) / count)] for k in range(count)}
        frames = []
        for index in range(max(wanted) + 1):
            ok, frame = cap.read()
            if not ok:
                raise LaleluError(f"{path} stopped decoding at frame {index}: delete it and run again")
            if index in wanted:
                height = round(frame.shape[0] * WIDTH / frame.shape[1])
                frames.append(cv2.resize(frame, (WIDTH, height), interpolation=cv2.INTER_AREA))
        return frames
    finally:
        cap.release()


def model_input(frame_bgr: np.ndarray, size: int) -> np.ndarray:
    """A frame letterboxed into MoveNet's int32 RGB input [1,size,size,3], as the Estimator prepares it."""
    from lalelu.pose.estimator import Letterbox, shrink

    box = Letterbox(*frame_bgr.shape[:2], size)
    batch = np.zeros((1, size, size, 3), np.int32)
    small = shrink(frame_bgr, box.width, box.height)
    batch[0, box.pad_y:box.pad_y + box.height, box.pad_x:box.pad_x + box.width] = small[:, :, ::-1]
    return batch
