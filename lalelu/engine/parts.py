"""The engine's parts, built from its configuration by name: the source, the pose estimator, the detector
and the note sinks (MIDI, the built-in sound, OSC). A part passed in ready-made is used as it is; the parts built here are the
engine's own, and it closes them."""

from __future__ import annotations

from dataclasses import dataclass, field

from lalelu.core.protocols import Detector, NoteSink, PoseEstimator, Source
from lalelu.engine.scheduling import workers_realtime
from lalelu.gestures.calibration import load_calibration
from lalelu.gestures.factory import make_detector, player_weights
from lalelu.gestures.kit import Kit, load_kit
from lalelu.midi import DEFAULT_PORT, MidiOut
from lalelu.osc import OscOut
from lalelu.pose import load_estimator
from lalelu.sources import open_source
from lalelu.sources.exposure import ExposureRequest


@dataclass
class Parts:
    kit: Kit                    # the kit as the detector plays it (a player's calibration applied)
    source: Source
    estimator: PoseEstimator
    detector: Detector
    sinks: list[NoteSink]
    owned: list = field(default_factory=list)   # the parts built here, to close at the end, newest last


def build_parts(config, *, source: Source | None = None, estimator: PoseEstimator | None = None,
                detector: Detector | None = None, sinks: list[NoteSink] | None = None) -> Parts:
    """The parts not given, built from `config` (an EngineConfig). On failure, whatever was built is closed."""
    owned: list = []
    try:
        kit = load_kit(config.kit) if source is None or detector is None else detector.kit
        sound = None
        if sinks is None and config.sound:
            from lalelu.sound import SoundOut   # FluidSynth and JACK-Client load in the sound process only

            # Started first, not waited for: its process loads the soundfont while the model loads here, and
            # play does not wait for it (the picture and MIDI come first; hits before it is ready are counted
            # as not sounded, and it says how many).
            sound = SoundOut(soundfont=config.soundfont, driver=config.audio_driver, volume=config.volume,
                             on=config.sound_on, gate_ms=config.gate_ms, wait_s=0)
            owned.append(sound)
        if estimator is None:
            with workers_realtime(config.rt_priority):   # the runtime's worker threads start here
                estimator = load_estimator(model=config.model, backend=config.backend, threads=config.threads)
        if source is None:
            source = open_source(config.source, fps=config.fps, realtime=config.realtime, loop=config.loop,
                                 size=config.size, kit=kit,
                                 exposure=ExposureRequest(config.exposure_ms, config.gain, config.auto_exposure))
            owned.append(source)
        if detector is None:
            calibration = load_calibration(config.player) if config.player else None
            # the rate the frames really come at (a video's own, what a camera granted): the detector's
            # windows are in frames
            detector = make_detector(config.detector, kit, source.fps or config.fps, calibration,
                                     weights=player_weights(config.player))
        if sinks is None:
            sinks = []
            if config.midi_port is not None:
                # The default name opens our own virtual port; any other name means a port that already exists.
                virtual = config.midi_port == DEFAULT_PORT if config.midi_virtual is None else config.midi_virtual
                midi = MidiOut(port=config.midi_port, backend=config.midi_backend, virtual=virtual,
                               gate_ms=config.gate_ms)
                owned.append(midi)
                sinks.append(midi)
            if sound is not None:
                sinks.append(sound)
            if config.osc:
                thresholds = detector.kit.thresholds   # the body frame the detector plays in
                osc = OscOut(config.osc, min_score=thresholds.min_score, torso_ratio=thresholds.torso_ratio)
                owned.append(osc)
                sinks.append(osc)
    except BaseException:
        close_parts(owned)
        raise
    return Parts(kit=detector.kit, source=source, estimator=estimator, detector=detector, sinks=sinks, owned=owned)


def close_parts(parts: list) -> list[str]:
    """Close each part, newest first; returns what failed (closing must not hide what stopped the engine)."""
    problems = []
    while parts:
        part = parts.pop()
        try:
            part.close()
        except Exception as exc:
            problems.append(f"closing {type(part).__name__}: {exc}")
    return problems
