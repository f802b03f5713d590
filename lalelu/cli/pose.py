"""`lalelu pose IMAGE_OR_VIDEO`: the keypoints of the people in an image or a video, and the skeleton drawn."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2

from lalelu.cli.options import POSE_OPTIONS, add_engine_options, number, resolved
from lalelu.core.keypoints import DRAW_MIN_SCORE, KEYPOINT_NAMES
from lalelu.errors import LaleluError
from lalelu.pose import load_estimator
from lalelu.pose.draw import draw_people
from lalelu.sources.video import VideoFileSource

VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v"}


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("pose", help="estimate poses in an image or a video")
    p.add_argument("path", help="an image or a video file")
    add_engine_options(p, POSE_OPTIONS)
    p.add_argument("--json", action="store_true", help="one JSON object per image or frame")
    p.add_argument("--out", help="write the image (or video) with the skeleton drawn")
    p.add_argument("--max-frames", type=number("number of frames", int, lo=0), default=0, help="stop a video after this many frames")
    p.set_defaults(func=run)


def _frames(path: Path, max_frames: int):
    """(index, BGR image, fps) of an image (fps 0) or of a video's frames, decoded as fast as they come."""
    if not path.exists():
        raise LaleluError(f"{path}: no such file")
    if path.suffix.lower() in VIDEO_SUFFIXES:
        with VideoFileSource(path, realtime=False) as video:
            if video.warning:
                print(f"warning: {video.warning}", file=sys.stderr)
            for frame in video:
                if 0 < max_frames <= frame.index:
                    break
                yield frame.index, frame.image, video.fps
            if video.skipped:
                print(f"warning: {video.warning}", file=sys.stderr)
    else:
        frame = cv2.imread(str(path))
        if frame is None:
            raise LaleluError(f"{path}: not an image OpenCV can read (use .jpg, .png or a video file)")
        yield 0, frame, 0.0


def run(args: argparse.Namespace) -> int:
    estimator = load_estimator(resolved(args, "model"), resolved(args, "backend"), resolved(args, "threads"))
    path = Path(args.path)
    writer = None
    for index, frame, fps in _frames(path, args.max_frames):
        people = estimator(frame)
        if args.json:
            print(json.dumps({"frame": index, "people": [p.to_json() for p in people]}), flush=True)
        else:
            for n, person in enumerate(people):
                good = int((person.keypoints[:, 2] > DRAW_MIN_SCORE).sum())
                print(f"frame {index} person {n}: score {person.score:.2f}, {good}/17 keypoints above "
                      f"{DRAW_MIN_SCORE:g}")
                for name, (x, y, s) in zip(KEYPOINT_NAMES, person.keypoints):
                    print(f"  {name:15s} x {x:7.1f}  y {y:7.1f}  score {s:.2f}")
        if args.out:
            drawn = draw_people(frame.copy(), people)
            if fps:
                if writer is None:
                    writer = cv2.VideoWriter(args.out, cv2.VideoWriter_fourcc(*"mp4v"), fps, drawn.shape[1::-1])
                writer.write(drawn)
            elif not cv2.imwrite(args.out, drawn):
                raise LaleluError(f"could not write {args.out}: use a .png or .jpg name in a writable folder")
    if writer is not None:
        writer.release()
    if args.out:
        print(f"wrote {args.out}", file=sys.stderr)
    return 0
