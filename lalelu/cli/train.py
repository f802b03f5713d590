"""`lalelu train`: train the learned strike detector on the gesture corpus (TensorFlow), and export it."""

from __future__ import annotations

import argparse

from lalelu.errors import LaleluError
from lalelu.gestures.corpus import build_filmed
from lalelu.gestures.kit import load_kit
from lalelu.gestures.training import fit_pose_noise, train_detector


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "train", help="train the learned strike detector on the corpus (TensorFlow), export it",
        description="Films the corpus's filmed share where it is not cached (MoveNet on rendered video, "
                    "minutes), fits the pose-error model if it never was, trains the learned detector on the "
                    "train split (seeded: the same seed gives the same weights), chooses its threshold on the "
                    "dev split, and writes the weights the detector reads and a TFLite export.")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=int, default=14)
    p.add_argument("--kit", default="default", help="kit name or .toml path")
    p.add_argument("--out", help="weights file to write (default: the built-in detector's, assets/detectors/)")
    p.add_argument("--refit-noise", action="store_true", help="fit the pose-error model to the filmed share again")
    p.add_argument("--film-only", action="store_true", help="only film the missing takes of the filmed share")
    p.set_defaults(func=run)


def _say(message: str) -> None:
    print(message, flush=True)


def run(args: argparse.Namespace) -> int:
    if args.film_only:
        build_filmed(say=_say)
        if args.refit_noise:
            fit_pose_noise(say=_say)
        return 0
    if args.epochs < 1:
        raise LaleluError("--epochs: train at least one epoch")
    train_detector(load_kit(args.kit), seed=args.seed, epochs=args.epochs, out=args.out,
                   refit_noise=args.refit_noise, say=_say)
    return 0
