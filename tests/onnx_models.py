"""Small ONNX models written with onnx's own helpers, for tests of file-based models."""

import numpy as np


def write_softmax_regression(path, weights, dtype=np.float32, batch=None):
    """x (n, p) -> softmax(x @ weights) in ``dtype``: a linear classifier saved as ONNX,
    for any n, or only n = ``batch`` (as torch.onnx.export writes without dynamic axes)."""
    import onnx
    from onnx import helper, numpy_helper

    p, c = weights.shape
    kind = helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["x", "W"], ["z"]),
            helper.make_node("Softmax", ["z"], ["p"], axis=1),
        ],
        "softmax_regression",
        [helper.make_tensor_value_info("x", kind, [batch, p])],
        [helper.make_tensor_value_info("p", kind, [batch, c])],
        [numpy_helper.from_array(np.asarray(weights, dtype=dtype), "W")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def write_labelled_classifier(path, weights):
    """As a converter such as skl2onnx writes a classifier: the predicted label (int64)
    first, the probabilities second."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    p, c = weights.shape
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["x", "W"], ["z"]),
            helper.make_node("Softmax", ["z"], ["probabilities"], axis=1),
            helper.make_node("ArgMax", ["z"], ["label"], axis=1, keepdims=0),
        ],
        "labelled_classifier",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, p])],
        [
            helper.make_tensor_value_info("label", TensorProto.INT64, [None]),
            helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [None, c]),
        ],
        [numpy_helper.from_array(np.asarray(weights, dtype=np.float32), "W")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def write_cast_regression(path, weights, dtype):
    """x (n, p) of integers or bools ``dtype`` -> softmax(float(x) @ weights): a model of
    counts or flags, which onnxruntime refuses floats for."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    p, c = weights.shape
    kind = helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    graph = helper.make_graph(
        [
            helper.make_node("Cast", ["x"], ["xf"], to=TensorProto.FLOAT),
            helper.make_node("MatMul", ["xf", "W"], ["z"]),
            helper.make_node("Softmax", ["z"], ["p"], axis=1),
        ],
        "cast_regression",
        [helper.make_tensor_value_info("x", kind, [None, p])],
        [helper.make_tensor_value_info("p", TensorProto.FLOAT, [None, c])],
        [numpy_helper.from_array(np.asarray(weights, dtype=np.float32), "W")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path
