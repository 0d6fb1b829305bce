"""Convert musicnn's MSD and MTT TensorFlow checkpoints to ONNX (developer tool, not the app).

Runs in the tooling environment made by ``tools/musicnn_env.sh`` (TensorFlow 2.15, tf2onnx 1.16,
musicnn 0.1.0 installed with --no-deps)::

    /work/tfenv/bin/python tools/convert_musicnn.py [--out models] [--opset 13]

For each of ``MSD_musicnn`` and ``MTT_musicnn`` it rebuilds musicnn's graph with musicnn's own
``models.define_model`` (so variable names match the checkpoint), restores the checkpoint that
ships inside the installed musicnn package, freezes the variables and exports with tf2onnx:

- input ``patches``: float32 [batch, 187, 96] (batch axis dynamic), log-mel patches;
- output ``tags``: float32 [batch, 50], sigmoid of the logits (musicnn's ``normalized_y``);
- output ``embedding``: float32 [batch, 200], musicnn's ``penultimate`` feature (the batch-normed
  200-unit dense layer before the output layer).

The graph is built in inference mode with ``is_training=False`` as a Python constant instead of
musicnn's boolean placeholder: batch normalisation then uses its moving statistics and dropout is
the identity, with no ``tf.cond`` left in the graph for the converter. ``check_musicnn.py``
compares the result with musicnn's own placeholder graph fed ``is_training: False``.

Also writes a sidecar ``<name>.meta.json`` per model (labels, input recipe, licence, training
data, mapping of tags onto the GTZAN labels) that ``tools/build_manifest.py`` folds into
``models/manifest.json``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import warnings
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# musicnn builds its graph with tf.compat.v1.layers, which warns once per layer; noise only.
warnings.filterwarnings("ignore", message=r"`tf\.layers\.", category=UserWarning)

import musicnn  # noqa: E402
import numpy as np  # noqa: E402
import onnx  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf2onnx  # noqa: E402
from musicnn import configuration as mconfig  # noqa: E402
from musicnn import models as mmodels  # noqa: E402

log = logging.getLogger("convert_musicnn")

N_FRAMES = 187  # librosa.time_to_frames(3, sr=16000, n_fft=512, hop_length=256) + 1, as musicnn's extractor
N_MELS = mconfig.N_MELS
EMBEDDING_DIM = 200

# Which musicnn checkpoints become which bundled model. MSD_musicnn_big is not in the PyPI
# package; the VGG models have no 200-d penultimate layer.
MODELS = {
    "musicnn_msd": {
        "checkpoint": "MSD_musicnn",
        "labels": list(mconfig.MSD_LABELS),
        "training_data": "Million Song Dataset subset with Last.fm tags: the 50 most frequent tags "
        "(musicnn MSD_musicnn checkpoint, Pons & Serra 2019)",
    },
    "musicnn_mtt": {
        "checkpoint": "MTT_musicnn",
        "labels": list(mconfig.MTT_LABELS),
        "training_data": "MagnaTagATune: the 50 most frequent tags "
        "(musicnn MTT_musicnn checkpoint, Pons & Serra 2019)",
    },
}

# Tags mapped onto the ten GTZAN labels. A tag maps to at most one label, and only where it names
# (a sub-style of) that genre; mood, era, instrument and vocal tags are never mapped. Labels with
# no fitting tag stay empty: MSD has no classical/disco/reggae tag, MTT no blues/hiphop/jazz/reggae.
# Considered and deliberately NOT mapped: MSD 'dance'/'funk'/'House' (disco is one of their
# roots, but they fire on pop and electronic music as much), 'rnb'/'soul' (between pop and
# hiphop), 'alternative'/'indie'/'indie pop' (rock or pop), 'electronic'; MTT 'dance'/'techno',
# 'opera'/'choir'/'choral'/'harpsichord' (covered well enough by 'classical'/'classic').
GENRE_MAPS = {
    "musicnn_msd": {
        "blues": ["blues"],
        "classical": [],
        "country": ["country"],
        "disco": [],
        "hiphop": ["Hip-Hop"],
        "jazz": ["jazz"],
        "metal": ["metal", "heavy metal"],
        "pop": ["pop"],
        "reggae": [],
        "rock": ["rock", "classic rock", "hard rock", "alternative rock", "indie rock", "punk",
                 "Progressive rock"],
    },
    "musicnn_mtt": {
        "blues": [],
        "classical": ["classical", "classic"],
        "country": ["country"],
        "disco": [],
        "hiphop": [],
        "jazz": [],
        "metal": ["metal"],
        "pop": ["pop"],
        "reggae": [],
        "rock": ["rock"],
    },
}

GENRE_MAP_NOTES = {
    "musicnn_msd": "Covers 7 of the 10 GTZAN labels; MSD's Last.fm tags have no classical, disco or "
    "reggae tag. Not mapped: dance, funk, House (disco's relatives, but they fire on pop and "
    "electronic music as much), rnb, soul, alternative, indie, indie pop, electronic.",
    "musicnn_mtt": "Covers 5 of the 10 GTZAN labels (classical, country, metal, pop, rock); "
    "MagnaTagATune has no blues, hiphop, jazz or reggae tag. Not mapped: dance, techno, opera, "
    "choir, choral, harpsichord.",
}

GENRE_MAP_RULE = (
    "score(label) = max over the label's tags of the mean tag score over patches; the mapped "
    "distribution is these scores renormalised over the labels that have at least one tag "
    "(labels without tags are absent, not zero)."
)

# Version of the input recipe; equals genre_desktop.features.musicnn_input.RECIPE_VERSION (tested).
FEATURE_RECIPE = "musicnn-logmel-1"

INPUT_RECIPE = {
    "samplerate": mconfig.SR,
    "channels": 1,
    "n_fft": mconfig.FFT_SIZE,
    "hop_length": mconfig.FFT_HOP,
    "n_mels": N_MELS,
    "mel": "librosa.feature.melspectrogram defaults (power 2, slaney mel scale and norm, centred "
    "frames, constant padding), computed in float32",
    "scaling": "log10(10000 * mel + 1)",
    "patch_frames": N_FRAMES,
    "patch_hop_frames": N_FRAMES,
    "last_partial_patch": "dropped (as musicnn's batch_data); audio shorter than one patch is "
    "zero-padded (digital silence) to one patch",
    "code": "genre_desktop.features.musicnn_input.musicnn_patches",
}


def checkpoint_prefix(checkpoint: str) -> str:
    """The restore prefix musicnn's extractor uses: ``<package>/<MODEL>/`` (files '.index' etc.)."""
    return os.path.join(os.path.dirname(musicnn.__file__), checkpoint) + "/"


def build_frozen_graph(checkpoint: str, n_classes: int) -> tf.compat.v1.GraphDef:
    """Rebuild musicnn's graph in inference mode, restore the checkpoint, freeze the variables."""
    graph = tf.Graph()
    with graph.as_default():
        # Same scope and layer order as musicnn.extractor, so the auto-generated variable names
        # (conv2d_1/kernel, batch_normalization_3/moving_mean, ...) match the checkpoint.
        with tf.compat.v1.name_scope("model"):
            x = tf.compat.v1.placeholder(tf.float32, [None, N_FRAMES, N_MELS], name="patches")
            outs = mmodels.define_model(x, False, checkpoint, n_classes)
            logits, penultimate = outs[0], outs[-1]
        tf.identity(tf.nn.sigmoid(logits), name="tags")
        tf.identity(penultimate, name="embedding")
        with tf.compat.v1.Session(graph=graph) as sess:
            saver = tf.compat.v1.train.Saver()
            saver.restore(sess, checkpoint_prefix(checkpoint))
            frozen = tf.compat.v1.graph_util.convert_variables_to_constants(
                sess, graph.as_graph_def(), ["tags", "embedding"]
            )
    return frozen


def rename_io(model: onnx.ModelProto, mapping: dict[str, str]) -> None:
    """Give the graph's inputs/outputs plain names (tf2onnx keeps TF's 'tensor:0' names)."""
    graph = model.graph
    for value in list(graph.input) + list(graph.output):
        if value.name in mapping:
            value.name = mapping[value.name]
    for node in graph.node:
        node.input[:] = [mapping.get(n, n) for n in node.input]
        node.output[:] = [mapping.get(n, n) for n in node.output]


def convert(name: str, spec: dict, out_dir: Path, opset: int) -> Path:
    """Convert one checkpoint; returns the ONNX path."""
    labels = spec["labels"]
    frozen = build_frozen_graph(spec["checkpoint"], len(labels))
    model_proto, _ = tf2onnx.convert.from_graph_def(
        frozen,
        input_names=["model/patches:0"],
        output_names=["tags:0", "embedding:0"],
        opset=opset,
    )
    rename_io(model_proto, {"model/patches:0": "patches", "tags:0": "tags", "embedding:0": "embedding"})
    model_proto.doc_string = (
        f"musicnn {spec['checkpoint']} (Pons & Serra 2019, ISC licence), converted with "
        f"tensorflow {tf.__version__} / tf2onnx {tf2onnx.__version__}"
    )
    onnx.checker.check_model(model_proto)
    onnx_path = out_dir / f"{name}.onnx"
    onnx.save(model_proto, str(onnx_path))
    log.info("%s: wrote %s (%.1f MB)", name, onnx_path, onnx_path.stat().st_size / 1e6)
    return onnx_path


def write_meta(name: str, spec: dict, onnx_path: Path, opset: int, keep_metrics: bool = False) -> Path:
    """The sidecar that build_manifest.py reads (sha256 is added there, not here).

    ``metrics`` is written by check_musicnn.py --write-metrics; it is kept only when the ONNX file
    was not re-exported (``keep_metrics``), since a new export must be checked again.
    """
    path = onnx_path.with_name(f"{name}.meta.json")
    old_metrics = None
    if keep_metrics and path.is_file():
        old_metrics = json.loads(path.read_text(encoding="utf-8")).get("metrics")
    meta = {
        "name": name,
        "file": onnx_path.name,
        "kind": "musicnn",
        "inputs": {"patches": [None, N_FRAMES, N_MELS]},
        "outputs": {"tags": [None, len(spec["labels"])], "embedding": [None, EMBEDDING_DIM]},
        "labels": spec["labels"],
        "feature_recipe": FEATURE_RECIPE,
        "input_recipe": INPUT_RECIPE,
        "licence": "ISC (musicnn, Pons & Serra 2019)",
        "training_data": spec["training_data"],
        "source": {
            "package": f"musicnn=={getattr(musicnn, '__version__', '0.1.0')}",
            "checkpoint": spec["checkpoint"],
            "converter": f"tensorflow {tf.__version__}, tf2onnx {tf2onnx.__version__}, opset {opset}",
            "reference": "J. Pons, X. Serra: musicnn: pre-trained convolutional neural networks "
            "for music audio tagging, ISMIR 2019 LBD",
        },
        "genre_map": GENRE_MAPS[name],
        "genre_map_rule": GENRE_MAP_RULE,
        "genre_map_notes": GENRE_MAP_NOTES[name],
    }
    for label, tags in meta["genre_map"].items():
        unknown = set(tags) - set(spec["labels"])
        if unknown:  # a typo here would silently never fire
            raise ValueError(f"{name}: genre_map[{label}] names unknown tags {sorted(unknown)}")
    if old_metrics is not None:
        meta["metrics"] = old_metrics
    path.write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    log.info("%s: wrote %s", name, path)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "models")
    parser.add_argument("--opset", type=int, default=13)
    parser.add_argument("--only", choices=sorted(MODELS), action="append")
    parser.add_argument("--meta-only", action="store_true",
                        help="rewrite the sidecars only (the ONNX export is not byte-reproducible: "
                        "tf2onnx's generated node names vary between runs, the numbers do not)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    tf.compat.v1.disable_eager_execution()
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.only or sorted(MODELS):
        spec = MODELS[name]
        if args.meta_only:
            write_meta(name, spec, args.out / f"{name}.onnx", args.opset, keep_metrics=True)
            continue
        onnx_path = convert(name, spec, args.out, args.opset)
        write_meta(name, spec, onnx_path, args.opset)
        # quick sanity check that the exported graph runs with a batch of 2
        import onnxruntime as ort

        sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
        tags, emb = sess.run(["tags", "embedding"], {"patches": np.zeros((2, N_FRAMES, N_MELS), np.float32)})
        log.info("%s: onnxruntime ok, tags %s embedding %s", name, tags.shape, emb.shape)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
