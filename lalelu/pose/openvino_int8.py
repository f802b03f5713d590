"""The int8 IR: NNCF's post-training quantisation of MoveNet, calibrated on real frames (Sports2D's demo clip and
the scripted drummer: lalelu/sources/drummer_frames.py, which the caller passes in), with the heads and the
decoding left in float."""

from __future__ import annotations

import logging
import re

from lalelu.errors import LaleluError

CALIBRATION_FRAMES = 200   # half the demo clip's calibration frames, half the scripted drummer
INT8_HINT = "pip install 'lalelu[openvino-int8]' (or: pip install nncf)"


def float_ops(model) -> list[str]:
    """Names of the ops int8 must leave in float: the four heads (centre, keypoint heatmap, offsets,
    regression) and the decoding after them (argmax, gathers, the arithmetic on grid coordinates), i.e.
    every op that is not on the way into a convolution of the MoveNet backbone. Quantising the decoding puts
    keypoints whole grid cells off; quantising the heads costs accuracy and gains no speed (measured)."""
    heads = re.compile(r"(^|/)(center|kpt_heatmap|kpt_offset|kpt_regress|box_offset|box_scale)_\d+/")
    ops = list(model.get_ordered_ops())
    convs = [o for o in ops if o.get_type_name() in ("Convolution", "GroupConvolution")
             and not heads.search(o.get_friendly_name())]
    trunk: set[str] = set()
    stack = list(convs)
    while stack:
        node = stack.pop()
        name = node.get_friendly_name()
        if name in trunk:
            continue
        trunk.add(name)
        stack.extend(i.get_source_output().get_node() for i in node.inputs())
    return [o.get_friendly_name() for o in ops
            if o.get_friendly_name() not in trunk and o.get_type_name() not in ("Constant", "Parameter", "Result")]


def quantize_int8(model, input_size: int, frames, say=print):
    """NNCF post-training quantisation of an f32 OpenVINO model, calibrated on `frames` (BGR images)."""
    try:
        import nncf
    except ImportError as exc:
        raise LaleluError(f"int8 needs the Python package nncf, which is not installed ({exc}): {INT8_HINT}; "
                          "or use --precision f32 or bf16") from None
    from lalelu.pose.real_frames import model_input

    nncf.set_log_level(logging.ERROR)   # its per-node INFO lines would bury what lalelu says
    batches = [model_input(f, input_size) for f in frames]
    keep = float_ops(model)
    say(f"quantising to int8 with NNCF on {len(batches)} real frames ({len(keep)} ops of the heads and decoding "
        "left in float) ...")
    quantized = nncf.quantize(model, nncf.Dataset(batches), subset_size=len(batches),
                              ignored_scope=nncf.IgnoredScope(names=keep, validate=False))
    return quantized, len(batches)
