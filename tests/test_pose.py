"""Pose estimation on real photographs and video, against Google's official int8 Lightning."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from lalelu import config
from lalelu.errors import LaleluError
from lalelu.pose import load_estimator
from lalelu.core.keypoints import Keypoint

REFERENCE_NAME = "lite-model_movenet_singlepose_lightning_tflite_int8_4.tflite"
# Google's int8 Lightning is an oracle the workplace provides beside the checkout (../shared/reference);
# it is never copied into the project. lalelu.config.shared_dir() finds that folder ($LALELU_SHARED for a
# checkout that lives apart from it).
SHARED = config.shared_dir()
REFERENCE = (SHARED or Path("../shared")) / "reference" / REFERENCE_NAME
BACKENDS = ("litert", "tensorflow", "onnxruntime")


def astronaut() -> np.ndarray:
    from skimage import data

    return cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)


@pytest.fixture(scope="module")
def demo_frames() -> list[np.ndarray]:
    """Twelve frames of Sports2D's demo video (two people moving their arms), scaled to 640 px wide."""
    from lalelu.sources.samples import demo_video_path

    cap = cv2.VideoCapture(str(demo_video_path()))
    count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    frames = []
    # Frames 60-180: the people are in full view (before, one jumps on a box; after, one is behind a tree).
    assert count > 180
    for index in np.linspace(60, 180, 12).astype(int):
        cap.set(cv2.CAP_PROP_POS_FRAMES, int(index))
        ok, frame = cap.read()
        assert ok, f"frame {index} of the demo video did not decode"
        frames.append(cv2.resize(frame, (640, round(frame.shape[0] * 640 / frame.shape[1]))))
    return frames


@pytest.fixture(scope="module")
def estimators():
    return {b: load_estimator("lightning", b, threads=2) for b in BACKENDS}


def assert_plausible(kp: np.ndarray, min_visible: int = 7, min_torso: float = 0.3) -> None:
    """Nose above shoulders above hips (image y grows downwards); the visible joints are confident."""
    nose_y = kp[Keypoint.NOSE, 1]
    shoulders_y = kp[[Keypoint.LEFT_SHOULDER, Keypoint.RIGHT_SHOULDER], 1].mean()
    hips_y = kp[[Keypoint.LEFT_HIP, Keypoint.RIGHT_HIP], 1].mean()
    assert nose_y < shoulders_y < hips_y
    torso = kp[[Keypoint.LEFT_SHOULDER, Keypoint.RIGHT_SHOULDER, Keypoint.LEFT_HIP, Keypoint.RIGHT_HIP], 2]
    assert torso.mean() > min_torso, f"torso scores {np.round(torso, 2)}"
    assert (kp[:, 2] > 0.3).sum() >= min_visible, f"scores {np.round(kp[:, 2], 2)}"


def test_astronaut_keypoints_are_plausible(estimators):
    image = astronaut()  # 512x512, a half-length portrait: her legs are out of frame
    person = estimators["litert"](image)[0]
    kp = person.keypoints
    assert_plausible(kp)
    for name in ("nose", "left_eye", "right_eye", "left_shoulder", "right_shoulder"):
        assert kp[Keypoint[name.upper()], 2] > 0.5, f"{name} scored {kp[Keypoint[name.upper()], 2]:.2f}"
    assert 0 <= kp[Keypoint.NOSE, 0] < 512 and 0 <= kp[Keypoint.NOSE, 1] < 512
    for name in ("left_ankle", "right_ankle"):
        assert kp[Keypoint[name.upper()], 2] < 0.3, f"{name} is out of frame but scored {kp[Keypoint[name.upper()], 2]:.2f}"


def test_letterbox_maps_back_to_source_pixels(estimators):
    """The same person padded into a wide frame lands at the same place plus the padding."""
    image = astronaut()
    wide = cv2.copyMakeBorder(image, 0, 0, 200, 100, cv2.BORDER_CONSTANT)
    a = estimators["litert"](image)[0].keypoints
    b = estimators["litert"](wide)[0].keypoints
    good = (a[:, 2] > 0.3) & (b[:, 2] > 0.3)
    assert good.sum() >= 7
    assert np.median(np.abs(b[good, 0] - 200 - a[good, 0])) < 6
    assert np.median(np.abs(b[good, 1] - a[good, 1])) < 6


def test_demo_video_keypoints_are_plausible(estimators, demo_frames):
    """Two small, backlit people in a wide frame: SinglePose picks one with modest scores, MultiPose finds both."""
    multipose = load_estimator("multipose", "litert", threads=2)
    visible, counts = [], []
    for frame in demo_frames:
        kp = estimators["litert"](frame)[0].keypoints
        assert_plausible(kp, min_visible=5, min_torso=0.2)
        visible.append(int((kp[:, 2] > 0.3).sum()))
        people = multipose(frame)
        assert people, "MultiPose found nobody"
        for person in people:
            assert_plausible(person.keypoints, min_visible=12)
        counts.append(len(people))
    assert np.median(visible) >= 12, f"keypoints above 0.3 per frame: {visible}"
    assert max(counts) == 2, f"people per frame: {counts}"


def test_own_lightning_agrees_with_googles_int8(estimators, demo_frames):
    assert REFERENCE.exists(), (f"Google's int8 Lightning is missing: {REFERENCE}; "
                                "set LALELU_SHARED to the shared folder that holds reference/")
    reference = load_estimator(str(REFERENCE), "litert", threads=2)
    frames = demo_frames + [cv2.resize(astronaut(), (640, 640))]
    distances = []
    for frame in frames:
        ours = estimators["litert"](frame)[0].keypoints
        theirs = reference(frame)[0].keypoints
        good = (ours[:, 2] > 0.3) & (theirs[:, 2] > 0.3)
        distances.extend(np.hypot(*(ours[good, :2] - theirs[good, :2]).T))
    assert len(frames) >= 10 and len(distances) >= 100
    median = float(np.median(distances))
    print(f"median distance to Google's int8 Lightning: {median:.2f} px over {len(distances)} keypoints")
    assert median <= 8.0


def test_all_backends_agree(estimators, demo_frames):
    for frame in demo_frames[:4] + [astronaut()]:
        results = {b: e(frame)[0].keypoints for b, e in estimators.items()}
        for b in BACKENDS[1:]:
            diff = np.abs(results[b][:, :2] - results["litert"][:, :2]).max()
            assert diff <= 2.0, f"{b} differs from litert by {diff:.2f} px"


@pytest.mark.parametrize("model", ["thunder", "multipose"])
def test_other_models_agree_across_backends(model):
    image = astronaut()
    results = [load_estimator(model, b, threads=2)(image) for b in BACKENDS]
    for people in results:
        assert len(people) >= 1
        assert_plausible(people[0].keypoints)
        assert np.abs(people[0].keypoints[:, :2] - results[0][0].keypoints[:, :2]).max() <= 2.0
    if model == "multipose":
        x0, y0, x1, y1 = results[0][0].box
        assert 0 <= x0 < x1 <= 512 and 0 <= y0 < y1 <= 512


def test_mannequin_is_detected(estimators):
    from lalelu.sources.mannequin import Mannequin, rest_pose

    mannequin = Mannequin((640, 480))
    pose = rest_pose()
    image = mannequin.render(pose)
    kp = estimators["litert"](image)[0].keypoints
    assert (kp[:, 2] > 0.3).sum() >= 12, f"scores {np.round(kp[:, 2], 2)}"
    truth = mannequin.keypoints(pose)
    for name in ("left_wrist", "right_wrist", "left_shoulder", "right_shoulder"):
        err = np.hypot(*(kp[Keypoint[name.upper()], :2] - truth[Keypoint[name.upper()], :2]))
        assert err < 25, f"{name} is {err:.1f} px from where it was drawn"


def run_cli(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lalelu", *args], capture_output=True, text=True, timeout=300, **kw)


def test_pose_command_json_and_drawing(tmp_path):
    image = tmp_path / "astronaut.png"
    cv2.imwrite(str(image), astronaut())
    out = tmp_path / "drawn.png"
    proc = run_cli("pose", str(image), "--json", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    (line,) = proc.stdout.strip().splitlines()
    obj = json.loads(line)
    assert obj["frame"] == 0 and len(obj["people"]) == 1
    kps = obj["people"][0]["keypoints"]
    assert [k["name"] for k in kps][:3] == ["nose", "left_eye", "right_eye"] and len(kps) == 17
    assert all({"x", "y", "score"} <= k.keys() for k in kps)
    drawn = cv2.imread(str(out))
    assert drawn.shape == (512, 512, 3)
    assert np.abs(drawn.astype(int) - astronaut().astype(int)).sum() > 0  # the skeleton was drawn


def test_pose_command_on_video_frames(tmp_path):
    from lalelu.sources.samples import demo_video_path

    proc = run_cli("pose", str(demo_video_path()), "--json", "--max-frames", "3", "--model", "multipose")
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(ln) for ln in proc.stdout.strip().splitlines()]
    assert [ln["frame"] for ln in lines] == [0, 1, 2]
    assert all(1 <= len(ln["people"]) <= 6 for ln in lines)
    assert all(len(p["box"]) == 4 for ln in lines for p in ln["people"])
    xs = [k["x"] for k in lines[0]["people"][0]["keypoints"]]
    assert max(xs) > 640  # source pixels of the 1768-px-wide video, not model pixels


def test_own_multipose_tflite_file_gets_its_working_input_size():
    """A MultiPose .tflite has a dynamic input ([1,1,1,3] until resized): given by path, it must still be
    run at MultiPose's size and find the astronaut."""
    from lalelu.pose import load_estimator
    from lalelu.pose.models import models_dir

    estimator = load_estimator(str(models_dir() / "multipose" / "model_fp16.tflite"), "litert")
    assert len(estimator(astronaut())) >= 1


def test_corrupt_model_file_is_named(tmp_path):
    from lalelu.pose.models import models_dir

    bad = tmp_path / "broken.tflite"
    data = bytearray((models_dir() / "lightning" / "model_fp16.tflite").read_bytes())
    bad.write_bytes(bytes(data[:1000]))
    with pytest.raises(LaleluError, match="broken.tflite"):
        load_estimator(str(bad), "litert")
    with pytest.raises(LaleluError, match="no model named"):
        load_estimator(str(tmp_path / "missing.tflite"), "litert")


def test_foreign_model_is_refused(tmp_path):
    """A valid ONNX file that is not MoveNet: the error names the file and what was expected."""
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 10])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])])
    path = tmp_path / "foreign.onnx"
    onnx.save(helper.make_model(graph), path)
    with pytest.raises(LaleluError, match=r"foreign.onnx is not a MoveNet model.*\[1,1,17,3\]"):
        load_estimator(str(path), "onnxruntime")


def test_tampered_built_model_is_detected(tmp_path, monkeypatch):
    import shutil

    from lalelu.pose.models import models_dir

    copy = tmp_path / "models"
    shutil.copytree(models_dir() / "lightning", copy / "lightning")
    tflite = copy / "lightning" / "model_fp16.tflite"
    data = bytearray(tflite.read_bytes())
    data[len(data) // 2] ^= 0xFF
    tflite.write_bytes(bytes(data))
    monkeypatch.setenv("LALELU_MODELS", str(copy))
    with pytest.raises(LaleluError, match="model_fp16.tflite is corrupt.*models install --force"):
        load_estimator("lightning", "litert")


def test_missing_model_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("LALELU_MODELS", str(tmp_path))
    with pytest.raises(LaleluError, match="lalelu models install"):
        load_estimator("thunder", "litert")
