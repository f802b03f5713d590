"""Read a TFJS graph model (model.json + weight shards) into a plain TensorFlow GraphDef.

The TFJS converter stores the graph as protobuf-JSON and the weights, float16-quantised, in shards listed
in `weightsManifest`. It also fuses ops into forms TensorFlow itself cannot run (`FusedDepthwiseConv2dNative`
has no TensorFlow kernel, `_FusedConv2D` is a grappler-internal op the TFLite converter does not take), so
those are split back into their plain parts: convolution, BiasAdd, activation.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np

from lalelu.errors import LaleluError

_DTYPES = {"float32": np.float32, "int32": np.int32, "float16": np.float16, "uint8": np.uint8, "bool": np.bool_}
_ACTIVATIONS = {"Relu", "Relu6", "Elu", "Sigmoid", "Tanh"}


def read_weights(model_json: dict, folder: Path) -> dict[str, np.ndarray]:
    """Decode every weight of the manifest, in manifest order, into float32/int32 arrays."""
    weights: dict[str, np.ndarray] = {}
    for group in model_json["weightsManifest"]:
        data = b"".join((folder / p).read_bytes() for p in group["paths"])
        offset = 0
        for entry in group["weights"]:
            stored = entry.get("quantization", {}).get("dtype", entry["dtype"])
            if stored not in _DTYPES or entry["dtype"] not in _DTYPES:
                raise LaleluError(f"{folder}: weight {entry['name']} has dtype {stored}, which this converter does not read")
            stored_dtype = np.dtype(_DTYPES[stored])
            count = int(np.prod(entry["shape"], dtype=np.int64))
            end = offset + count * stored_dtype.itemsize
            if end > len(data):
                raise LaleluError(f"{folder}: the weight files end before weight {entry['name']}: "
                                  "the model is truncated; delete it and run `lalelu models install` again")
            raw = np.frombuffer(data, dtype=stored_dtype, count=count, offset=offset)
            weights[entry["name"]] = raw.astype(_DTYPES[entry["dtype"]]).reshape(entry["shape"])
            offset = end
        if offset != len(data):
            raise LaleluError(f"{folder}: {len(data) - offset} bytes of weights are left over after the manifest: "
                              "the weight files do not belong to this model.json")
    return weights


def _decode_s(value: str) -> str:
    return base64.b64decode(value).decode()


def _split_fused(node: dict, plain_op: str) -> list[dict]:
    """Split a fused convolution node into conv -> BiasAdd -> activation, the last keeping the node's name."""
    attr = dict(node["attr"])
    fused = [_decode_s(s) for s in attr.pop("fused_ops", {}).get("list", {}).get("s", [])]
    for key in ("num_args", "epsilon", "leakyrelu_alpha", "num_host_args", "filter_format"):
        attr.pop(key, None)
    if plain_op == "DepthwiseConv2dNative":
        for key in ("use_cudnn_on_gpu",):
            attr.pop(key, None)
    inputs = [i for i in node["input"] if not i.startswith("^")]
    if not fused or fused[0] != "BiasAdd" or any(op not in _ACTIVATIONS for op in fused[1:]) or len(inputs) != 3:
        raise LaleluError(f"node {node['name']}: fused ops {fused} are not supported (expected BiasAdd + activation)")
    name = node["name"]
    t_attr = {"T": attr.get("T", {"type": "DT_FLOAT"})}
    conv = {"name": name + "/conv", "op": plain_op, "input": inputs[:2], "attr": attr}
    bias = {"name": name + "/bias_add", "op": "BiasAdd", "input": [conv["name"], inputs[2]],
            "attr": {**t_attr, "data_format": attr.get("data_format", {"s": base64.b64encode(b"NHWC").decode()})}}
    chain = [conv, bias]
    for act in fused[1:]:
        chain.append({"name": chain[-1]["name"] + "/" + act.lower(), "op": act, "input": [chain[-1]["name"]],
                      "attr": dict(t_attr)})
    chain[-1]["name"] = name  # consumers refer to the fused node's name
    return chain


def _new_axis_slice_as_expand_dims(node: dict, weights: dict[str, np.ndarray]) -> list[dict] | None:
    """A StridedSlice that only inserts new axes (`x[:, :, None, None]`) as ExpandDims ops.

    MultiPose builds its coordinate grid this way; TFLite's builtin StridedSlice refuses new_axis_mask.
    Returns None when the slice does more than insert axes.
    """
    attr = node["attr"]
    mask = {k: int(attr.get(k, {}).get("i", 0)) for k in
            ("new_axis_mask", "shrink_axis_mask", "ellipsis_mask", "begin_mask", "end_mask")}
    if not mask["new_axis_mask"] or mask["shrink_axis_mask"] or mask["ellipsis_mask"]:
        return None
    strides = weights.get(node["input"][3])
    if strides is None:
        return None
    rank = len(strides)
    full = (1 << rank) - 1
    if np.any(strides != 1) or (mask["begin_mask"] | mask["new_axis_mask"]) != full \
            or (mask["end_mask"] | mask["new_axis_mask"]) != full:
        return None
    chain, prev = [], node["input"][0]
    for axis in (a for a in range(rank) if mask["new_axis_mask"] >> a & 1):
        const = {"name": f"{node['name']}/axis_{axis}", "op": "Const",
                 "attr": {"dtype": {"type": "DT_INT32"}, "value": {"tensor": {"dtype": "DT_INT32", "tensorShape": {}}}}}
        weights[const["name"]] = np.array(axis, dtype=np.int32)
        expand = {"name": f"{node['name']}/expand_{axis}", "op": "ExpandDims", "input": [prev, const["name"]],
                  "attr": {"T": attr["T"], "Tdim": {"type": "DT_INT32"}}}
        chain += [const, expand]
        prev = expand["name"]
    chain[-1]["name"] = node["name"]
    return chain


def load_graph_def(model_json_path: Path):
    """Return (GraphDef, input name, output name, input size) for a TFJS graph model."""
    import tensorflow as tf
    from google.protobuf import json_format

    try:
        model = json.loads(model_json_path.read_text())
        topology = model["modelTopology"]
        nodes = topology["node"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise LaleluError(f"{model_json_path}: not a TFJS graph model ({exc}); expected a model.json with "
                          "modelTopology.node and weightsManifest") from exc
    weights = read_weights(model, model_json_path.parent)

    plain_nodes = []
    for node in nodes:
        op = node["op"]
        if op == "_FusedConv2D":
            plain_nodes.extend(_split_fused(node, "Conv2D"))
        elif op == "FusedDepthwiseConv2dNative":
            plain_nodes.extend(_split_fused(node, "DepthwiseConv2dNative"))
        elif op == "StridedSlice" and (chain := _new_axis_slice_as_expand_dims(node, weights)):
            plain_nodes.extend(chain)
        else:
            node = dict(node)
            node.pop("device", None)
            plain_nodes.append(node)

    graph_def = json_format.ParseDict({"node": plain_nodes, "versions": topology.get("versions", {})},
                                      tf.compat.v1.GraphDef())
    for node in graph_def.node:
        node.ClearField("device")
        if node.op == "Const":
            if node.name not in weights:
                raise LaleluError(f"{model_json_path}: constant {node.name} has no weights in the manifest")
            node.attr["value"].tensor.CopyFrom(tf.make_tensor_proto(weights[node.name]))

    signature = model.get("signature", {})
    (inp,) = signature["inputs"].values()
    (out,) = signature["outputs"].values()
    size = int(inp["tensorShape"]["dim"][1]["size"])
    return graph_def, inp["name"], out["name"], size
