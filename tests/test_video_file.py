"""Video files that are not what the player hoped: a damaged stretch is skipped and said (the video plays on to
its end), and a video too small for pose estimation is warned about. Real MJPG files decoded by OpenCV."""

from __future__ import annotations

import random
from pathlib import Path

import cv2
import numpy as np
import pytest

from lalelu.sources.video import VideoFileSource
from tests.file_camera import write_mjpg_video

FRAMES, DAMAGED = 60, range(17, 26)   # frames 17 to 25 of 60 do not decode


def damage(video: Path, frames: range) -> Path:
    """The same file with the JPEG data of `frames` overwritten by noise (the AVI index left intact)."""
    data = bytearray(video.read_bytes())
    starts = [i for i in range(len(data) - 1) if data[i] == 0xFF and data[i + 1] == 0xD8]   # JPEG SOI markers
    assert len(starts) == FRAMES
    rng = random.Random(1)
    for k in frames:
        end = starts[k + 1] if k + 1 < len(starts) else len(data)
        for j in range(starts[k], end - 8):
            data[j] = rng.randrange(256)
    damaged = video.with_name("damaged.avi")
    damaged.write_bytes(bytes(data))
    return damaged


@pytest.fixture
def damaged_video(tmp_path: Path) -> Path:
    return damage(write_mjpg_video(tmp_path / "take.avi", frames=FRAMES), DAMAGED)


def test_a_damaged_stretch_is_skipped_counted_and_said(damaged_video: Path) -> None:
    video = VideoFileSource(damaged_video, realtime=False)
    frames = list(video)
    video.close()
    assert len(frames) == FRAMES - len(DAMAGED), "it plays on to the end, past the damaged stretch"
    assert video.skipped == len(DAMAGED)
    assert "skipped 9 unreadable frames" in video.warning and "play goes on" in video.warning
    assert [f.index for f in frames] == list(range(len(frames)))
    # the frames after the stretch are the file's own (the moving bar), not a repeat of the last good one
    bar = [int(np.argmax(f.image[120, :, 0] < 100)) for f in frames]
    assert bar[17] - bar[16] == 5 * (len(DAMAGED) + 1)


def test_the_engine_says_so_while_it_plays(damaged_video: Path) -> None:
    from lalelu.engine import Engine, EngineConfig
    from lalelu.pose import load_estimator

    engine = Engine(EngineConfig(midi_port=None, capture_core=None, inference_core=None, rt_priority=None),
                    source=VideoFileSource(damaged_video, realtime=False),
                    estimator=load_estimator("lightning", "litert", 1))
    engine.start()
    try:
        assert engine.wait(60.0), "the video ends"
    finally:
        engine.stop()
    said = [str(m) for m in engine.messages()]
    assert any("skipped 9 unreadable frames" in m for m in said), said
    assert engine.frames_captured == FRAMES - len(DAMAGED)


def test_damaged_last_frames_are_counted_at_the_end(tmp_path: Path) -> None:
    video = VideoFileSource(damage(write_mjpg_video(tmp_path / "t.avi", frames=FRAMES), range(55, 60)),
                            realtime=False)
    assert sum(1 for _ in video) == 55 and video.skipped == 5
    assert "its last 5 frames did not decode" in video.warning


def test_a_video_too_small_for_pose_estimation_is_warned_about(tmp_path: Path) -> None:
    path = tmp_path / "tiny.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30.0, (1, 1))
    for i in range(10):
        writer.write(np.full((1, 1, 3), 20 * i, np.uint8))
    writer.release()
    video = VideoFileSource(path, realtime=False)
    assert "only 1x1 pixels: too small for pose estimation" in video.warning
    assert VideoFileSource(write_mjpg_video(tmp_path / "ok.avi", frames=3), realtime=False).warning == ""
