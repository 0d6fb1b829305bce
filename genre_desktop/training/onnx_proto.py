"""Writing ONNX models without the ``onnx`` package: a small graph builder and its protobuf encoding.

The user's models are exported where the app runs: the wizard and ``train`` in a plain
``pip install``, in the desktop bundle and on a worker machine. The ``onnx`` package (31 MB with
its test data) and the converters built on it (skl2onnx, onnxmltools) are development tools, so
the few graphs a user model needs are written here directly. An ONNX file is a protobuf message
(``onnx/onnx.proto``); this module encodes the handful of message types a model needs, field
numbers as in that file:

- ``ModelProto``: ir_version 1, producer_name 2, producer_version 3, graph 7, opset_import 8
- ``OperatorSetIdProto``: domain 1, version 2
- ``GraphProto``: node 1, name 2, initializer 5, input 11, output 12
- ``NodeProto``: input 1, output 2, name 3, op_type 4, attribute 5, domain 7
- ``AttributeProto``: name 1, f 2, i 3, s 4, t 5, floats 7, ints 8, strings 9, type 20
- ``TensorProto``: dims 1, data_type 2, name 8, raw_data 9
- ``ValueInfoProto``: name 1, type 2; ``TypeProto``: tensor_type 1; ``TypeProto.Tensor``:
  elem_type 1, shape 2; ``TensorShapeProto``: dim 1; ``Dimension``: dim_value 1, dim_param 2

The tests check the bytes with the ``onnx`` package's own checker and run them in onnxruntime.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

IR_VERSION = 8  # ONNX 1.10+: what opset 17 belongs to; onnxruntime 1.17+ reads it
OPSETS = {"": 17, "ai.onnx.ml": 3}

# TensorProto.DataType
FLOAT, INT64, BOOL, DOUBLE = 1, 7, 9, 11
_DTYPES = {np.dtype(np.float32): FLOAT, np.dtype(np.int64): INT64, np.dtype(np.bool_): BOOL,
           np.dtype(np.float64): DOUBLE}
# AttributeProto.AttributeType
_A_FLOAT, _A_INT, _A_STRING, _A_TENSOR, _A_FLOATS, _A_INTS, _A_STRINGS = 1, 2, 3, 4, 6, 7, 8


# --------------------------------------------------------------------------- protobuf wire format

def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # negative int64: two's complement, ten bytes
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _key(number: int, wire: int) -> bytes:
    return _varint((number << 3) | wire)


def _int(number: int, value: int) -> bytes:
    return _key(number, 0) + _varint(int(value))


def _bytes(number: int, value: bytes | str) -> bytes:
    data = value.encode("utf-8") if isinstance(value, str) else bytes(value)
    return _key(number, 2) + _varint(len(data)) + data


def _packed_ints(number: int, values: Sequence[int]) -> bytes:
    return _bytes(number, b"".join(_varint(int(v)) for v in values)) if len(values) else b""


def _packed_floats(number: int, values: Sequence[float]) -> bytes:
    return _bytes(number, np.asarray(values, dtype="<f4").tobytes()) if len(values) else b""


# --------------------------------------------------------------------------- messages

def tensor_proto(name: str, array: np.ndarray) -> bytes:
    array = np.asarray(array)
    if array.dtype not in _DTYPES:
        raise TypeError(f"no ONNX tensor type for {array.dtype}")
    return (_packed_ints(1, array.shape) + _int(2, _DTYPES[array.dtype]) + _bytes(8, name)
            + _bytes(9, np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<")).tobytes()))


def _attribute(name: str, value: Any) -> bytes:
    out = _bytes(1, name)
    if isinstance(value, np.ndarray):
        return out + _bytes(5, tensor_proto("", value)) + _int(20, _A_TENSOR)
    if isinstance(value, bool) or isinstance(value, (int, np.integer)):
        return out + _int(3, int(value)) + _int(20, _A_INT)
    if isinstance(value, (float, np.floating)):
        return out + _key(2, 5) + struct.pack("<f", float(value)) + _int(20, _A_FLOAT)
    if isinstance(value, str):
        return out + _bytes(4, value) + _int(20, _A_STRING)
    values = list(value)
    if values and all(isinstance(v, str) for v in values):
        return out + b"".join(_bytes(9, v) for v in values) + _int(20, _A_STRINGS)
    if values and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values):
        return out + _packed_ints(8, values) + _int(20, _A_INTS)
    if all(isinstance(v, (float, int, np.floating, np.integer)) for v in values):
        return out + _packed_floats(7, values) + _int(20, _A_FLOATS)
    raise TypeError(f"attribute {name!r}: unsupported value {value!r}")


def _value_info(name: str, elem_type: int, shape: Sequence[int | str | None]) -> bytes:
    dims = b""
    for dim in shape:
        if isinstance(dim, int):
            dims += _bytes(1, _int(1, dim))
        else:
            dims += _bytes(1, _bytes(2, dim or "N"))
    tensor = _int(1, elem_type) + _bytes(2, dims)
    return _bytes(1, name) + _bytes(2, _bytes(1, tensor))


# --------------------------------------------------------------------------- graph builder

@dataclass
class Graph:
    """An ONNX graph under construction: constants, nodes, one float input and named outputs.

    ``node`` returns its output name(s), so graphs read like the numpy they replace::

        g = Graph("user_logreg")
        x = g.input("features", FLOAT, [None, 57])
        z = g.node("Add", [g.node("MatMul", [x, g.const(W)]), g.const(b)])
    """

    name: str
    _nodes: list[bytes] = field(default_factory=list)
    _initializers: list[bytes] = field(default_factory=list)
    _inputs: list[bytes] = field(default_factory=list)
    _outputs: list[bytes] = field(default_factory=list)
    _count: int = 0

    def _fresh(self, stem: str) -> str:
        self._count += 1
        return f"{stem}_{self._count}"

    def input(self, name: str, elem_type: int, shape: Sequence[int | str | None]) -> str:
        self._inputs.append(_value_info(name, elem_type, shape))
        return name

    def output(self, name: str, elem_type: int, shape: Sequence[int | str | None]) -> None:
        self._outputs.append(_value_info(name, elem_type, shape))

    def const(self, array: Any, dtype: Any = None) -> str:
        name = self._fresh("c")
        self._initializers.append(tensor_proto(name, np.asarray(array, dtype=dtype)))
        return name

    def node(self, op_type: str, inputs: Sequence[str], outputs: Sequence[str] | str | None = None,
             domain: str = "", n_outputs: int = 1, **attributes: Any) -> Any:
        """Add a node; returns its output name (a list of them when ``n_outputs`` > 1)."""
        if outputs is None:
            outputs = [self._fresh(op_type.lower()) for _ in range(n_outputs)]
        elif isinstance(outputs, str):
            outputs = [outputs]
        body = b"".join(_bytes(1, i) for i in inputs) + b"".join(_bytes(2, o) for o in outputs)
        body += _bytes(3, self._fresh("n")) + _bytes(4, op_type)
        body += b"".join(_bytes(5, _attribute(k, v)) for k, v in attributes.items())
        if domain:
            body += _bytes(7, domain)
        self._nodes.append(body)
        return outputs[0] if len(outputs) == 1 else list(outputs)

    def model_bytes(self, producer: str = "genre-desktop", version: str = "") -> bytes:
        """The serialised ``ModelProto``."""
        graph = (b"".join(_bytes(1, n) for n in self._nodes) + _bytes(2, self.name)
                 + b"".join(_bytes(5, t) for t in self._initializers)
                 + b"".join(_bytes(11, i) for i in self._inputs) + b"".join(_bytes(12, o) for o in self._outputs))
        opsets = b"".join(_bytes(8, (_bytes(1, domain) if domain else b"") + _int(2, v)) for domain, v in OPSETS.items())
        return _int(1, IR_VERSION) + _bytes(2, producer) + (_bytes(3, version) if version else b"") + _bytes(7, graph) + opsets
