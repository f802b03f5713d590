"""`lalelu bench inference | pipeline | soak | tracking | gestures | camera`: the benchmarks, each printing
figures (BENCHMARKS.md keeps the latest)."""

from __future__ import annotations

import argparse
import json
import time

from lalelu.bench_pipeline import bench_pipeline_main
from lalelu.cli.options import (FPS, MAX_SECONDS, SECONDS, THREADS, add_engine_options, add_kit_options, number,
                                parse_cores, played_kit, resolved, sound_options)
from lalelu.errors import LaleluError
from lalelu.gestures import corpus_bench
from lalelu.gestures.bench import format_table, run_bench, summary
from lalelu.gestures.corpus import FAMILIES, SPLITS
from lalelu.gestures.corpus.filmed import BACKEND as FILMED_BACKEND
from lalelu.gestures.corpus.filmed import MODEL as FILMED_MODEL
from lalelu.gestures.factory import DETECTORS
from lalelu.gestures.floor import timing_floor
from lalelu.gestures.scenarios import NOISE_LEVELS
from lalelu.pose.backends import BACKENDS
from lalelu.pose.bench import bench_inference_main
from lalelu.report import p95_abs


def register(subparsers: argparse._SubParsersAction) -> None:
    bench = subparsers.add_parser("bench", help="benchmarks that print figures").add_subparsers(
        dest="bench_command", required=True)

    p = bench.add_parser("inference", help="model x backend inference times")
    p.add_argument("--model", help="one model (default: every installed one)")
    p.add_argument("--backend", help="one backend (default: litert, tensorflow, onnxruntime, openvino in each "
                                     "precision, and tensorrt on a GPU); openvino-bf16 etc. for one precision")
    p.add_argument("--threads", type=THREADS, help="one thread count (default: 1 and 2)")
    p.add_argument("--runs", type=number("number of runs", int, lo=1), default=200, help="timed calls per row after warm-up (default: 200)")
    p.add_argument("--warmup", type=number("number of warm-up calls", int, lo=0), default=20, help="untimed calls after the first (default: 20)")
    p.add_argument("--json", action="store_true", help="print the rows as JSON")
    p.add_argument("--turns", action="store_true",
                   help="time a model's backends in turns in one process (not tensorflow), for ratios on a "
                        "busy machine")
    p.set_defaults(func=run_inference)

    p = bench.add_parser("precision", help="OpenVINO precisions: keypoint bars and gesture F1",
                         description="Per model and OpenVINO precision (f32, bf16, int8 where built): keypoints "
                                     "against f32 on frames of people (the bars), the noise floor, Google's int8 "
                                     "Lightning, and the strike detector's F1 on the scripted drummer.")
    p.add_argument("--model", choices=("lightning", "thunder"), help="lightning or thunder (default: both)")
    p.add_argument("--seconds", type=number("number of seconds", lo=0.0, hi=MAX_SECONDS), default=20.0,
                   help="seconds of the scripted drummer for the gesture F1 (default 20; 0: none)")
    p.add_argument("--frames", type=number("number of frames", int, lo=1, hi=10_000), default=80,
                   help="frames of people for the keypoint bars (default 80)")
    p.add_argument("--threads", type=THREADS, default=2, help="inference threads (default 2)")
    p.add_argument("--json", action="store_true", help="print the rows as JSON")
    p.set_defaults(func=run_precision)

    p = bench.add_parser("pipeline", help="the whole instrument against the scripted drummer",
                         description="Scripted drummer at 100 fps -> pose -> detector -> MIDI, headless.")
    p.add_argument("--seconds", type=SECONDS, default=30.0, help="how long to play (default 30)")
    p.add_argument("--json", action="store_true", help="print the results as one JSON object")
    add_engine_options(p, ("model", "backend", "precision", "device", "threads", "detector", "fps", "cores",
                           "sound", "osc"))
    p.add_argument("--gui", action="store_true",
                   help="also run it with the window open (same run) and compare end-to-end p99")
    p.set_defaults(func=run_pipeline)

    p = bench.add_parser("soak", help="play for a long time: RSS growth, latency per minute, drops, hits",
                         description="The scripted drummer at 100 fps -> pose -> detector -> MIDI for N minutes "
                                     "(a JACK server and a MIDI receiver of its own): each minute's e2e p50 and "
                                     "p99, drops and hits matched, then the RSS growth per hour after the warm-up, "
                                     "the first and last minutes' e2e p99 side by side, and the notes left hanging.")
    p.add_argument("--minutes", type=number("number of minutes", above=0.0, hi=MAX_SECONDS / 60), default=60.0,
                   help="how long to play (default 60)")
    p.add_argument("--warmup-minutes", type=number("number of minutes", lo=0.0, hi=MAX_SECONDS / 60), default=2.0,
                   help="RSS growth is measured after this (default 2: the first minutes' allocations settle)")
    p.add_argument("--json", action="store_true", help="print the results as one JSON object (minutes on stderr)")
    add_engine_options(p, ("model", "backend", "precision", "device", "threads", "fps", "cores"))
    p.set_defaults(func=run_soak)

    p = bench.add_parser("tracking", help="the player tracker: its cost per frame, and a passer-by kept out",
                         description="PlayerTracker.pick's cost per frame (the scripted drummer's true keypoints, "
                                     "alone and with a passer-by's), and MultiPose on the drummer with a passer-by "
                                     "crossing behind: frames the passer-by played by the old rule and the tracker.")
    p.add_argument("--seconds", type=SECONDS, default=8.0, help="length of the MultiPose scene (default 8)")
    p.add_argument("--fps", type=FPS, default=25.0, help="frame rate of the MultiPose scene (default 25)")
    p.set_defaults(func=run_tracking)

    p = bench.add_parser("gestures", help="both strike detectors on the gesture corpus and the real take",
                         description="Both strike detectors side by side on the gesture corpus (seeded takes of "
                                     "drawn players: every family, the train/dev/test splits, keypoints modelled or "
                                     "filmed through MoveNet) and on the real drummer's dev take. --scenarios (or "
                                     "--noise, --floor, --json): the older scripted conditions, for one detector.")
    p.add_argument("--detector", action="append", choices=DETECTORS,
                   help="detector(s) to compare (repeatable; default: both; the scripted conditions: the first)")
    p.add_argument("--split", action="append", choices=SPLITS, help="split(s) to play (default: all)")
    p.add_argument("--family", action="append", choices=tuple(FAMILIES), help="famil(ies) to play (default: all)")
    p.add_argument("--build", action="store_true",
                   help="film the takes of the filmed share that are not cached (minutes; else they are left out)")
    p.add_argument("--no-real", action="store_true", help="leave out the real drummer's take")
    p.add_argument("--pose-model", choices=("lightning", "thunder"), default=FILMED_MODEL,
                   help=f"the MoveNet that films the filmed share (default {FILMED_MODEL}; another is filmed once "
                        "with --build and cached beside it): which model's keypoints make the better hits")
    p.add_argument("--pose-backend", choices=BACKENDS, default=FILMED_BACKEND,
                   help=f"its backend (default {FILMED_BACKEND}; openvino: $LALELU_OV_PRECISION or the fastest "
                        "precision that passes the accuracy bars)")
    p.add_argument("--corpus-json", action="store_true", help="print the corpus figures as JSON")
    p.add_argument("--scenarios", action="store_true", help="the scripted conditions instead of the corpus")
    p.add_argument("--json", action="store_true", help="scripted conditions: print a JSON list of rows")
    p.add_argument("--noise", action="append", choices=tuple(NOISE_LEVELS),
                   help="scripted conditions: noise level(s) to run (repeatable; default: all)")
    p.add_argument("--seconds", type=SECONDS, default=8.0, help="scripted conditions: length of each (default 8)")
    add_kit_options(p, player=False)
    p.add_argument("--fps", type=FPS, default=100.0, help="scripted conditions: frame rate (default 100)")
    p.add_argument("--seed", type=number("random seed", int, lo=0), default=0, help="scripted conditions: seed")
    p.add_argument("--floor", action="store_true",
                   help="scripted conditions: also fit the exact stroke template to each hand stroke (an oracle) "
                        "and print its timing error beside the detector's: the floor that noise sets")
    p.set_defaults(func=run_gestures)

    p = bench.add_parser("camera", help="the camera's per-frame cost and the blur of each exposure",
                         description="The capture path with the driver's stamp (a video file stands in for the "
                                     "webcam), the brightness measure, and how far the scripted drummer's "
                                     "fastest wrist smears at each exposure.")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.set_defaults(func=run_camera)


def run_camera(args: argparse.Namespace) -> int:
    from lalelu.sources.bench_camera import bench_camera_main

    return bench_camera_main(args.json)


def run_inference(args: argparse.Namespace) -> int:
    return bench_inference_main(args.model, args.backend, args.threads, args.runs, args.warmup, args.json,
                                turns=args.turns)


def run_precision(args: argparse.Namespace) -> int:
    from lalelu.bench_precision import bench_precision_main

    return bench_precision_main(args.model, args.seconds, args.threads, args.frames, args.json)


def run_pipeline(args: argparse.Namespace) -> int:
    options = dict(seconds=args.seconds, as_json=args.json, fps=resolved(args, "fps"),
                   threads=resolved(args, "threads"), model=resolved(args, "model"),
                   backend=resolved(args, "backend"), cores=parse_cores(args.cores),
                   detector=resolved(args, "detector"))
    sound = sound_options(args)
    try:
        if args.gui:
            from lalelu.ui.bench import bench_pipeline_gui_main   # Qt is loaded only for the window

            return bench_pipeline_gui_main(**options)
        return bench_pipeline_main(**options, sound=sound["sound"], osc=sound["osc"])
    except OSError as exc:
        raise LaleluError(str(exc)) from exc


def run_soak(args: argparse.Namespace) -> int:
    from lalelu.bench_soak import bench_soak_main

    try:
        return bench_soak_main(args.minutes, fps=resolved(args, "fps"), model=resolved(args, "model"),
                               backend=resolved(args, "backend"), threads=resolved(args, "threads"),
                               cores=parse_cores(args.cores), warmup_minutes=args.warmup_minutes,
                               as_json=args.json)
    except OSError as exc:
        raise LaleluError(str(exc)) from exc


def run_tracking(args: argparse.Namespace) -> int:
    from lalelu.bench_tracking import bench_tracking_main

    return bench_tracking_main(args.seconds, args.fps)


def run_gestures(args: argparse.Namespace) -> int:
    if args.scenarios or args.noise or args.floor or args.json:
        return run_scenarios(args)
    kit = played_kit(args)
    detectors = tuple(args.detector or DETECTORS)
    t0 = time.perf_counter()
    res = corpus_bench.run(kit, detectors, splits=tuple(args.split or SPLITS), families=args.family,
                           build=args.build, real=not args.no_real, pose=(args.pose_model, args.pose_backend))
    if args.corpus_json:
        print(json.dumps(corpus_bench.as_json(res, detectors), indent=1))
        return 0
    print(f"filmed share: MoveNet {args.pose_model} on {args.pose_backend}")
    print(corpus_bench.format_result(res, detectors))
    print()
    print("F1 within one frame of the true impact (stated hit time); xS/xB/xD = extra hits in silence, at the top "
          "of a backswing, in a drop to rest; first = first strokes after rest found; s50/s95 = true impact -> "
          "note sent (ms); rho = rank correlation of the velocity with the true impact speed")
    print(corpus_bench.targets(res, detectors))
    if res.missing_filmed:
        print(f"{res.missing_filmed} filmed takes are not cached and were left out: `lalelu bench gestures --build` "
              "(with the same --pose-model and --pose-backend) or `lalelu train --film-only` films them")
    if len(detectors) > 1 and res.real:
        print(f"best on test and the real take: {corpus_bench.best_detector(res, detectors)}")
    print(f"bench run time {time.perf_counter() - t0:.0f} s")
    return 0


def run_scenarios(args: argparse.Namespace) -> int:
    """The older scripted conditions (lalelu.gestures.scenarios), for the heuristic detector."""
    kit = played_kit(args)
    noises = tuple(args.noise) if args.noise else tuple(NOISE_LEVELS)
    rows = run_bench(kit, noises, seconds=args.seconds, seed=args.seed, fps=args.fps)
    if args.json:
        keys = ("condition", "noise", "precision", "recall", "f1", "timing_mean_ms", "timing_p95_ms",
                "wrong_drum", "silent_hits")
        print(json.dumps([{k: r[k] for k in keys} for r in rows], indent=1))
        return 0
    print(format_table(rows))
    print()
    print(f"noise std per keypoint (shoulder widths): "
          f"{', '.join(f'{n} {NOISE_LEVELS[n]:g}' for n in noises)}; 'late' = hits emitted more than one frame "
          f"after the true bottom; '1frame' = share of hits emitted within one frame of it, early or late (when "
          f"the note sounds)")
    for noise, s in summary(rows).items():
        print(f"{noise:>9s}: worst F1 {s['f1_min']:.3f}, worst timing p95 {s['timing_p95_max_ms']:.1f} ms, "
              f"worst wrong-drum rate {s['wrong_max']:.3f}, hits in silent stretches {s['silent_hits']}, "
              f"sent within one frame {100 * s['sent_within_frame_min']:.0f} % (worst)")
    cost = sorted(r["detector_us_per_frame"] for r in rows)
    print(f"detector cost (Detector.update, all limbs): median {cost[len(cost) // 2]:.1f} us per frame, "
          f"worst condition {cost[-1]:.1f} us")
    if args.floor:
        print("timing floor: the exact stroke template fitted to the wrist up to one frame past the true bottom "
              "(hand strokes, conditions without dropouts), p95 of |error| against the detector's on the same "
              "strokes:")
        for noise in noises:
            r = timing_floor(kit, noise, seconds=args.seconds, seed=args.seed, fps=args.fps)
            print(f"{noise:>9s}: oracle {p95_abs(r['oracle_ms']):5.1f} ms, "
                  f"detector {p95_abs(r['detector_ms']):5.1f} ms ({r['strokes']} strokes)")
    return 0
