"""`lalelu bench precision`: what each OpenVINO precision costs in accuracy, per model, side by side in one run.

Per model and precision (f32, bf16, int8 where its IR is built): keypoint distances against f32 on frames of
people (Sports2D's demo clip, evaluation frames, 640 px wide) with the bars (median 2 px, p95 6 px); the f32
model's own noise floor on the same frames (+-1 grey level of input noise) for scale; against Google's official
int8 Lightning (Lightning only; the project's bar is a median of 8 px); and the strike detector's F1 on the
scripted drummer rendered offline at 100 fps (hands, feet, all), with whether it is no lower than f32's.
"""

from __future__ import annotations

import json
import os
import sys

from lalelu import config
from lalelu.pose import accuracy


def _estimator(model: str, precision: str, threads: int):
    from lalelu.pose import load_estimator

    old = os.environ.get("LALELU_OV_PRECISION")
    os.environ["LALELU_OV_PRECISION"] = precision
    try:
        return load_estimator(model, "openvino", threads)
    finally:
        if old is None:
            del os.environ["LALELU_OV_PRECISION"]
        else:
            os.environ["LALELU_OV_PRECISION"] = old


GOOGLE_INT8 = "lite-model_movenet_singlepose_lightning_tflite_int8_4.tflite"


def _google_reference():
    """Google's official int8 Lightning, in the workplace's shared folder (tests/test_pose.py looks there too),
    or None."""
    shared = config.shared_dir()
    path = shared / "reference" / GOOGLE_INT8 if shared is not None else None
    return path if path is not None and path.exists() else None


def measure(models: list[str], seconds: float, threads: int, frames_of_people: int, say) -> list[dict]:
    from lalelu.pose import openvino_build as build
    from lalelu.pose.auto import int8_built
    from lalelu.gesture_f1 import detector_score, drummer_take, keypoint_streams
    from lalelu.pose.models import resolve_model
    from lalelu.pose.real_frames import demo_frames

    people = demo_frames(frames_of_people, "evaluation")
    take = drummer_take(seconds) if seconds > 0 else None
    google_path = _google_reference()
    rows = []
    for model in models:
        precisions = [p for p in build.runnable_precisions("CPU") if p != "int8" or int8_built(resolve_model(model))]
        skipped = [p for p in build.PRECISIONS if p not in precisions]
        estimators = {p: _estimator(model, p, threads) for p in precisions}
        f32 = estimators["f32"]
        reference = [f32(f)[0].keypoints for f in people]
        floor = accuracy.noise_floor(f32.backend.run, people, f32.input_size)
        google = None
        if model == "lightning" and google_path is not None:
            from lalelu.pose import load_estimator

            g = load_estimator(str(google_path), "litert", threads)
            google = [g(f)[0].keypoints for f in people]
        say(f"{model}: checking {', '.join(precisions)} on {len(people)} frames of people"
            + (f" and {seconds:g} s of the scripted drummer ..." if take else " ..."))
        streams = keypoint_streams(take, estimators) if take else {}
        hands = ["left_hand", "right_hand"]
        f1_f32 = (detector_score(take, streams["f32"], hands).f1, detector_score(take, streams["f32"]).f1) if take \
            else None
        for precision, estimator in estimators.items():
            found = [estimator(f)[0].keypoints for f in people]
            against = accuracy.compare(reference, found)
            row = {"model": model, "precision": precision, "vs_f32": against.to_json(), "passes": against.passes(),
                   "noise_floor": floor.to_json()}
            if google is not None:
                row["vs_google_int8"] = accuracy.compare(google, found).to_json()
            if take:
                s = streams[precision]
                f1_hands, f1_all = detector_score(take, s, hands).f1, detector_score(take, s).f1
                row["f1"] = {"hands": round(f1_hands, 3),
                             "feet": round(detector_score(take, s, ["left_foot", "right_foot"]).f1, 3),
                             "all": round(f1_all, 3)}
                row["f1_no_lower_than_f32"] = {"hands": f1_hands >= f1_f32[0], "all": f1_all >= f1_f32[1]}
            rows.append(row)
        for precision in skipped:
            why = ("not built: `lalelu models build --backend openvino`" if precision == "int8"
                   else "this CPU cannot run it")
            rows.append({"model": model, "precision": precision, "error": why})
    return rows


def format_rows(rows: list[dict]) -> list[str]:
    head = (f"{'model':10s} {'precision':9s} {'vs f32 med/p95 px':>18s} {'bars':>5s} {'noise floor':>12s} "
            f"{'vs Google int8':>15s} {'F1 hands':>9s} {'feet':>6s} {'all':>6s} {'>= f32 hands/all':>17s}")
    lines = [head, "-" * len(head)]
    for r in rows:
        if "error" in r:
            lines.append(f"{r['model']:10s} {r['precision']:9s} {r['error']}")
            continue
        v, n = r["vs_f32"], r["noise_floor"]
        g = r.get("vs_google_int8")
        google = f"{g['median_px']:6.2f}/{g['p95_px']:6.2f}" if g else "-"
        f1 = r.get("f1")
        no_lower = r.get("f1_no_lower_than_f32", {})
        verdict = "/".join("yes" if no_lower.get(k) else "NO" for k in ("hands", "all"))
        gestures = f"{f1['hands']:9.3f} {f1['feet']:6.3f} {f1['all']:6.3f} {verdict:>17s}" if f1 else ""
        lines.append(f"{r['model']:10s} {r['precision']:9s} {v['median_px']:8.2f} / {v['p95_px']:6.2f} "
                     f"{'pass' if r['passes'] else 'FAIL':>5s} {n['median_px']:5.2f}/{n['p95_px']:5.2f} "
                     f"{google:>15s} {gestures}")
    lines.append(f"vs f32 / noise floor / vs Google: median / p95 of keypoint distances (px, 640-px frames of people, "
                 f"keypoints both score >= {accuracy.MIN_SCORE}); bars: median <= {accuracy.MEDIAN_MAX_PX:g}, p95 <= "
                 f"{accuracy.P95_MAX_PX:g}; noise floor: f32 against itself with +-1 grey level of input noise; "
                 "F1: strike detector on the scripted drummer, 100 fps, offline")
    return lines


def bench_precision_main(model: str | None, seconds: float, threads: int, frames: int, as_json: bool) -> int:
    from lalelu.pose.openvino_build import import_openvino

    import_openvino()
    models = [model] if model else ["lightning", "thunder"]
    rows = measure(models, seconds, threads, frames, say=lambda s: print(s, file=sys.stderr))
    if as_json:
        print(json.dumps(rows, indent=1))
    else:
        print("\n".join(format_rows(rows)))
    return 0
