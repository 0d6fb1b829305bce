"""tools/musicnn_pool_first.py: pooling before the batch norm (signs folded into the conv) computes
the same network, for channels whose batch-norm scale is positive and negative alike."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

ROOT = Path(__file__).resolve().parent.parent


def _tool():
    spec = importlib.util.spec_from_file_location("musicnn_pool_first", ROOT / "tools" / "musicnn_pool_first.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _branch_model(rng) -> "onnx.ModelProto":
    """x (2, 1, 20, 12) -> Conv 3x5 (6 channels) -> Relu -> BatchNorm (3 negative scales) -> MaxPool
    over the whole width -> y (2, 6, 20, 1): musicnn's front-end branch in small."""
    from onnx import TensorProto, helper, numpy_helper

    f32 = np.float32
    gamma = np.array([1.5, -0.7, 0.9, -2.0, 0.3, -0.01], f32)
    init = [numpy_helper.from_array(rng.standard_normal((6, 1, 3, 5)).astype(f32), "W"),
            numpy_helper.from_array(rng.standard_normal(6).astype(f32), "B"),
            numpy_helper.from_array(gamma, "gamma"),
            numpy_helper.from_array(rng.standard_normal(6).astype(f32), "beta"),
            numpy_helper.from_array(rng.standard_normal(6).astype(f32), "mean"),
            numpy_helper.from_array(rng.uniform(0.5, 2.0, 6).astype(f32), "var")]
    nodes = [helper.make_node("Conv", ["x", "W", "B"], ["z"], pads=[1, 0, 1, 0], name="conv"),
             helper.make_node("Relu", ["z"], ["r"], name="relu"),
             helper.make_node("BatchNormalization", ["r", "gamma", "beta", "mean", "var"], ["n"], epsilon=1e-3, name="bn"),
             helper.make_node("MaxPool", ["n"], ["y"], kernel_shape=[1, 8], name="pool")]
    graph = helper.make_graph(nodes, "branch", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 1, 20, 12])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 6, 20, 1])], init)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def _run(model, x):
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(["y"], {"x": x})[0]


def test_pooling_first_gives_the_same_outputs():
    rng = np.random.default_rng(5)
    model = _branch_model(rng)
    x = rng.standard_normal((2, 1, 20, 12)).astype(np.float32)
    before = _run(model, x)
    assert _tool().pool_first(model) == 1
    onnx.checker.check_model(model)
    assert [n.op_type for n in model.graph.node] == ["Conv", "MaxPool", "Mul", "Relu", "BatchNormalization"]
    np.testing.assert_allclose(_run(model, x), before, rtol=1e-5, atol=1e-6)


def test_a_branch_read_twice_is_left_alone():
    from onnx import helper

    model = _branch_model(np.random.default_rng(6))
    model.graph.node.append(helper.make_node("Identity", ["r"], ["r_copy"], name="second_reader"))
    assert _tool().pool_first(model) == 0
