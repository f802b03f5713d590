"""OSC out to a real UDP receiver on 127.0.0.1: every hit, and the pose stream at the frame rate."""

from __future__ import annotations

import socket
import threading
import time

import numpy as np
import pytest
from pythonosc.osc_message import OscMessage

from lalelu.core.body import shoulder_frame
from lalelu.core.hits import Hit
from lalelu.core.limbs import Limb
from lalelu.engine import Engine, EngineConfig
from lalelu.gestures.kit import load_kit
from lalelu.osc import HIT_ADDRESS, POSE_ADDRESS, OscOut, parse_target
from lalelu.sources.script import DrumScript
from lalelu.sources.synthetic import SyntheticDrummer, TruePose


class Receiver:
    """A UDP socket on 127.0.0.1 read by a thread; each datagram parsed by python-osc."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.messages: list[OscMessage] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            self.messages.append(OscMessage(data))

    def close(self) -> list[OscMessage]:
        time.sleep(0.3)   # the last datagrams cross the loopback
        self._stop.set()
        self._thread.join()
        self.sock.close()
        return self.messages


def test_a_udp_receiver_gets_every_hit_and_the_pose_stream() -> None:
    kit = load_kit()
    drummer = SyntheticDrummer(DrumScript(duration=None, kit=kit), kit=kit, fps=50.0, loop=True)
    receiver = Receiver()
    engine = Engine(EngineConfig(source="synthetic", fps=50.0, midi_port=None, osc=f"127.0.0.1:{receiver.port}"),
                    source=drummer, estimator=TruePose(drummer))
    engine.start()
    try:
        time.sleep(3.0)
    finally:
        engine.stop()
    got = receiver.close()
    seq, records = engine.ring.read_since(0)
    osc = next(s for s in engine.sinks if s.name == "OSC")
    assert osc.dropped == 0
    hits = [h for r in records for h in r.hits]
    assert len(hits) > 10
    hit_messages = [m.params for m in got if m.address == HIT_ADDRESS]
    assert [tuple(p[:4]) for p in hit_messages] == [(h.limb, h.drum, h.note, h.velocity) for h in hits]
    assert [p[4] for p in hit_messages] == pytest.approx([(h.t_ns - osc.t0_ns) / 1e9 for h in hits], abs=1e-4)
    # The pose: each played frame's limbs in the body frame, with their speeds.
    thresholds = engine.kit.thresholds
    pose = [m.params for m in got if m.address == POSE_ADDRESS]
    played = [r for r in records if r.played and r.keypoints is not None]
    expected = []
    for r in played:
        rows = r.keypoints.tolist()
        mx, my, scale = shoulder_frame(rows, thresholds.torso_ratio, thresholds.min_score)
        for limb in Limb:
            x, y, score = rows[limb.keypoint]
            if score >= thresholds.min_score:
                expected.append((str(limb), (x - mx) / scale, (y - my) / scale, (r.t_capture - osc.t0_ns) / 1e9))
    assert len(pose) == len(expected) >= 4 * 100
    assert [p[0] for p in pose] == [e[0] for e in expected]
    got_xyt = np.array([(p[1], p[2], p[5]) for p in pose])
    assert got_xyt == pytest.approx(np.array([e[1:] for e in expected]), abs=1e-3)
    # speeds: the change of place over the frame interval, limb by limb
    right = np.array([(p[1], p[2], p[3], p[4], p[5]) for p in pose if p[0] == "right_hand"])
    dt = np.diff(right[:, 4])
    assert right[1:, 2] == pytest.approx(np.diff(right[:, 0]) / dt, abs=0.05)
    assert right[1:, 3] == pytest.approx(np.diff(right[:, 1]) / dt, abs=0.05)
    assert np.abs(right[:, 3]).max() > 1.0, "the drumming hand moves"


def hit() -> Hit:
    return Hit(drum="snare", note=38, velocity=90, channel=9, t_ns=time.monotonic_ns(), limb="left_hand")


def test_a_closed_port_or_a_failing_send_never_stalls_the_hand_over() -> None:
    # A port nobody listens on (UDP: the datagrams are lost, the sender never hears of it), and a send the
    # kernel refuses at once (the loopback broadcast address without SO_BROADCAST: EACCES).
    keypoints = np.random.default_rng(0).random((17, 3)).astype(np.float32) * 100
    keypoints[:, 2] = 1.0
    for target, fails in (("127.0.0.1:9", False), ("127.255.255.255:9000", True)):
        out = OscOut(target, queue_limit=64)
        try:
            calls = []
            player = threading.Thread(target=lambda: calls.extend(
                (out.play(hit()), out.frame(time.monotonic_ns(), keypoints)) for _ in range(5000)))
            player.start()
            player.join(10.0)
            assert not player.is_alive() and len(calls) == 5000
            time.sleep(0.5)
            if fails:
                said = " ".join(map(str, out.messages()))
                assert "fails" in said and "dropped" in said, said
                assert not out.connected and out.sent == 0 and out.dropped > 0
            else:
                assert out.connected and out.sent > 0
            # what the sender could not keep up with was dropped at the queue, and counted
            assert out.hits + out.dropped >= 5000
        finally:
            out.close()


@pytest.mark.parametrize("text, host, port", [("127.0.0.1:9000", "127.0.0.1", 9000), ("[::1]:57120", "::1", 57120),
                                              ("localhost:1", "localhost", 1)])
def test_targets(text: str, host: str, port: int) -> None:
    assert parse_target(text) == (host, port)


@pytest.mark.parametrize("text", ["", "9000", ":9000", "host:", "host:0", "host:-1", "host:65536", "host:nan",
                                  "host:1.5"])
def test_bad_targets_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="--osc"):
        parse_target(text)


def test_the_pure_data_example_patch_loads_and_prints_each_hit(tmp_path) -> None:
    """assets/pd/lalelu-osc.pd in a real Pd (Debian's puredata-core, headless): it loads without an object it
    cannot create, and a hit sent by OscOut reaches its [print hit]."""
    import shutil
    import subprocess
    from pathlib import Path

    pd = shutil.which("pd")
    if pd is None:
        pytest.fail("Pure Data is missing: `apt-get install puredata-core` (bootstrap installs it)")
    patch = Path(__file__).resolve().parents[1] / "assets" / "pd" / "lalelu-osc.pd"
    # Pd listens on the patch's own port, 9000: the test's Pd must be the only one there.
    log = tmp_path / "pd.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([pd, "-nogui", "-noaudio", "-nomidi", "-stderr", "-open", str(patch)],
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        sender = OscOut("127.0.0.1:9000")
        try:
            deadline = time.monotonic() + 20
            while "hit:" not in log.read_text() and time.monotonic() < deadline:
                sender.play(hit())   # until Pd has opened the patch and its port
                time.sleep(0.2)
        finally:
            sender.close()
    finally:
        proc.terminate()
        proc.wait(10)
    text = log.read_text()
    assert "hit: list left_hand snare 38 90" in text, text
    assert "couldn't create" not in text and "error" not in text.lower(), text
