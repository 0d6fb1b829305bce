#!/usr/bin/env python
"""Measure the musicnn MSD graph with each front-end max-pool moved before its batch norm.

In musicnn's front end every branch is ``Conv -> Relu -> BatchNormalization -> MaxPool`` (the pool
spans the whole frequency axis) -> Squeeze. onnxruntime runs the batch norm as a 1x1 convolution on
the full (2, 208, 187, 59) activation, ~15 % of a run. A batch norm is an affine map per channel,
``s * x + c``; where ``s > 0`` it commutes with a max, where ``s < 0`` it turns it into a min. So
the rewrite multiplies each channel's conv weights and bias by ``sign(s)`` (an exact negation),
pools, multiplies the small pooled tensor by ``sign(s)`` again, then applies the Relu (monotone,
so it commutes with the max) and the batch norm to one value per channel and frame. Same network,
same weights; only the batch norm's rounding on the pooled values differs (float noise).

Measured here (one core, GTZAN clips, 2 patches per run, both graphs in one process): 55.1 -> 48.3
and 62.4 -> 55.1 ms per run in two runs (-12 %, ~7 ms of a ~190 ms window), tags within 4.5e-7
and embeddings within 2e-6 absolute. NOT applied to the
bundled file: its sha256 is the network's identity in the vector cache recipe and in the user
heads trained on its embeddings, so a new file re-analyses every cached track. Applying it needs
an identity that survives an exact rewrite (a decision for the lead), then ``--out`` and
``tools/build_manifest.py``.

Usage: python tools/musicnn_pool_first.py [--model models/musicnn_msd.onnx] [--out FILE] [--runs 15]
Needs the dev extra (onnx).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = Path(os.environ.get("GENRE_DESKTOP_GTZAN") or ROOT.parent / "shared" / "data" / "gtzan")


def pool_first(model):
    """Rewrite ``model`` (an onnx ModelProto, in place) as the module docstring says; returns how
    many branches were rewritten. A branch that is not exactly Conv -> Relu -> BN -> MaxPool, each
    read by the next alone, is left as it is."""
    from onnx import helper, numpy_helper

    graph = model.graph
    inits = {i.name: i for i in graph.initializer}
    nodes = list(graph.node)
    producer = {out: n for n in nodes for out in n.output}
    readers: dict[str, int] = {}
    for n in nodes:
        for name in n.input:
            readers[name] = readers.get(name, 0) + 1
    rewritten = 0
    for pool in [n for n in nodes if n.op_type == "MaxPool"]:
        bn = producer.get(pool.input[0])
        relu = producer.get(bn.input[0]) if bn is not None and bn.op_type == "BatchNormalization" else None
        conv = producer.get(relu.input[0]) if relu is not None and relu.op_type == "Relu" else None
        if conv is None or conv.op_type != "Conv" or len(conv.input) < 3:
            continue
        if any(readers.get(n.output[0], 0) != 1 for n in (conv, relu, bn)):
            continue
        gamma, _beta, _mean, var = (numpy_helper.to_array(inits[x]) for x in bn.input[1:5])
        eps = next((a.f for a in bn.attribute if a.name == "epsilon"), 1e-5)
        sign = np.where(gamma / np.sqrt(var + eps) < 0, -1.0, 1.0).astype(np.float32)
        for name, shape in ((conv.input[1], (-1, 1, 1, 1)), (conv.input[2], (-1,))):
            value = numpy_helper.to_array(inits[name]) * sign.reshape(shape)
            inits[name].CopyFrom(numpy_helper.from_array(value.astype(np.float32), name))
        sign_name = f"{pool.name}/sign"
        graph.initializer.append(numpy_helper.from_array(sign.reshape(1, -1, 1, 1), sign_name))
        pooled_out = pool.output[0]
        pool.input[0], pool.output[0] = conv.output[0], f"{pool.name}/pooled"
        unsign = helper.make_node("Mul", [pool.output[0], sign_name], [f"{pool.name}/unsigned"],
                                  name=f"{pool.name}/unsign")
        relu.input[0], relu.output[0] = unsign.output[0], f"{pool.name}/relu"
        bn.input[0], bn.output[0] = relu.output[0], pooled_out
        nodes.append(unsign)
        rewritten += 1
    # Topological order again (the pools now come before their batch norms).
    ready = {i.name for i in graph.input} | {i.name for i in graph.initializer} | {""}
    ordered, rest = [], nodes
    while rest:
        runnable = [n for n in rest if all(i in ready for i in n.input)]
        if not runnable:
            raise ValueError("the rewritten graph has a cycle")
        for n in runnable:
            ordered.append(n)
            ready.update(n.output)
        rest = [n for n in rest if n not in runnable]
    del graph.node[:]
    graph.node.extend(ordered)
    return rewritten


def clip_patches() -> list[np.ndarray]:
    """Per GTZAN clip, the 2 patches the analysis runs (as ``inference.musicnn`` chooses them)."""
    from genre_desktop.audio import decode
    from genre_desktop.features.musicnn_input import musicnn_patches
    from genre_desktop.inference.common import spread_indices
    from genre_desktop.inference.musicnn import chosen_16k

    out = []
    for path in sorted((DATA / "clips").glob("*.au")):
        patches = musicnn_patches(chosen_16k(decode(path, sr=22050), 0)).astype(np.float32)
        out.append(np.ascontiguousarray(patches[spread_indices(len(patches), 2)]))
    if not out:
        raise SystemExit(f"no GTZAN clips in {DATA / 'clips'} (set GENRE_DESKTOP_GTZAN)")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "musicnn_msd.onnx")
    parser.add_argument("--out", type=Path, help="also keep the rewritten graph here")
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args(argv)
    import onnx
    import onnxruntime as ort

    from genre_desktop.inference.common import session_options

    model = onnx.load(str(args.model))
    count = pool_first(model)
    onnx.checker.check_model(model)
    with tempfile.TemporaryDirectory() as tmp:
        target = args.out or Path(tmp) / "pool_first.onnx"
        onnx.save(model, str(target))
        sessions = {name: ort.InferenceSession(str(path), session_options(1), providers=["CPUExecutionProvider"])
                    for name, path in (("bundled", args.model), ("pool first", target))}
    print(f"{count} branches rewritten")
    patches = clip_patches()
    name = sessions["bundled"].get_inputs()[0].name
    outputs = [o.name for o in sessions["bundled"].get_outputs()]
    worst = dict.fromkeys(outputs, 0.0)
    for x in patches:
        a, b = (s.run(outputs, {name: x}) for s in sessions.values())
        for out, p, q in zip(outputs, a, b):
            worst[out] = max(worst[out], float(np.abs(p - q).max()))
    print("largest absolute difference: " + ", ".join(f"{k} {v:.2e}" for k, v in worst.items()))
    spent = {k: [] for k in sessions}
    for _ in range(args.runs):
        for key, session in sessions.items():
            t = time.process_time()
            for x in patches:
                session.run(outputs, {name: x})
            spent[key].append((time.process_time() - t) / len(patches))
    for key, times in spent.items():
        print(f"{key:<12} {1000 * float(np.median(times)):6.1f} ms per run of 2 patches (median of {args.runs})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
