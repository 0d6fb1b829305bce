#!/usr/bin/env python
"""The EfficientAT members of the ten-genre vote: a genre head on its outputs, and its zero-shot
genre scores mapped to the ten through the genre tree.

Input: the cache of ``tools/extract_audio_vectors.py`` (every 10 s excerpt of every clip through
the network, by the app's own decoding, 32 kHz resampling and front end). Fixed seeds throughout;
nothing is chosen on valid; the test split is never used.

1. **Zero-shot member** (``efficientat_genres``, no fitting): for each GTZAN label, the genre
   tree's node for it and every node below it that is not itself a GTZAN label (rock: Rock, Punk
   Rock, Grunge, Progressive Rock, Rock and Roll, Psychedelic Rock, but not Heavy Metal) name a
   set of AudioSet classes; the label's score is the highest of their (excerpt-averaged) scores,
   and the ten scores are renormalised to sum to one. Exported as a fixed ONNX graph with the
   embedding head's interface (input ``embedding_stats`` = ``efficientat.scores.mean``).
2. **Head** (``efficientat_head``): statistics sets of the network's outputs (embedding mean, the
   527 class scores, both; and, as a reference that would need the MSD network too, the
   embedding with the MSD statistics of the bundled head) x excerpts per window (1: the middle
   10 s, what the app runs by default; 3: all) x logistic regression C, by 5-fold
   cross-validation on the TRAIN audio grouped by artist proxy (blocks of ten clip numbers), over
   ``REPEATS`` fold seeds, classes balanced; the pick maximises CV accuracy + macro F1 among
   the sets that read EfficientAT alone.
3. The chosen head fitted on train and judged on VALID once; then refitted on train+valid and
   exported to ONNX (onnxruntime must match predict_proba to 1e-5).

Writes ``models/efficientat_head.onnx`` + ``.json`` (every figure), ``models/efficientat_genres.onnx``
and ``/work/cache/efficientat_head_choice.json`` (read by ``tools/train_ensemble.py --head``).

Usage: nice python tools/train_efficientat_head.py [--cache FILE] [--out models/]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

from audio_data import DEFAULT_CACHE, EFFICIENTAT, AudioSet, load  # noqa: E402
from train_audio_head import (  # noqa: E402
    INPUT_NAME, LOGREG_C, check_onnx, cv_figure, fit_head, onnx_proba, scores, to_onnx,
)
from genre_desktop.fsutil import atomic_write_bytes, atomic_write_json  # noqa: E402
from genre_desktop.training import classical as C  # noqa: E402

log = logging.getLogger("train_efficientat_head")

SEED = 20151
HEAD = "efficientat_head"
ZERO_SHOT = "efficientat_genres"
CHOICE_PATH = Path("/work/cache/efficientat_head_choice.json")
E, MSD = EFFICIENTAT, "musicnn_msd"
STAT_SETS: dict[str, list[str]] = {
    "effat_emb_mean": [f"{E}.embedding.mean"],
    "effat_scores_mean": [f"{E}.scores.mean"],
    "effat_emb_scores_mean": [f"{E}.embedding.mean", f"{E}.scores.mean"],
    "effat_emb_mean_max": [f"{E}.embedding.mean", f"{E}.embedding.max"],
}
REFERENCE_SETS: dict[str, list[str]] = {  # two networks per window: measured, never chosen
    "effat_emb_msd_mean_max": [f"{E}.embedding.mean", f"{MSD}.embedding.mean", f"{MSD}.embedding.max"],
}
EXCERPTS = [1, 3]  # per 30 s window: the middle 10 s (the app's default), or all three
MSD_PATCHES = 2  # the bundled head's musicnn patches, for the reference set


def zero_shot_map() -> dict[str, list[int]]:
    """GTZAN label -> AudioSet class indices of its tree node and the nodes below it that are not
    themselves GTZAN labels."""
    from genre_desktop.core import genre as G

    gtzan = G.gtzan_nodes()
    own = {n.key for n in gtzan.values()}
    out = {}
    for label in C.GTZAN_LABELS:
        node = gtzan[label]
        under = [d for d in G.descendants(node.key) if d.key not in own
                 and not any(G.default_tree().is_under(d.key, o) for o in own - {node.key}
                             if G.default_tree().is_under(o, node.key))]
        out[label] = sorted({n.class_index for n in [node, *under] if n.class_index is not None})
    return out


def zero_shot_proba(scores_mean: np.ndarray, mapping: dict[str, list[int]]) -> np.ndarray:
    """(n, 10): each label's best mapped class score, renormalised over the ten."""
    raw = np.stack([scores_mean[:, mapping[g]].max(axis=1) for g in C.GTZAN_LABELS], axis=1).astype(np.float64)
    return raw / np.clip(raw.sum(axis=1, keepdims=True), 1e-12, None)


def zero_shot_onnx(mapping: dict[str, list[int]], n_classes: int = 527) -> bytes:
    """The zero-shot member as ONNX: input ``embedding_stats`` [n, 527] (the excerpt-averaged class
    scores), output ``probabilities`` [n, 10] (the same arithmetic as :func:`zero_shot_proba`)."""
    import onnx
    from onnx import TensorProto, helper

    nodes, inits, maxes = [], [], []
    for i, label in enumerate(C.GTZAN_LABELS):
        inits.append(helper.make_tensor(f"idx_{label}", TensorProto.INT64, [len(mapping[label])], mapping[label]))
        nodes.append(helper.make_node("Gather", [INPUT_NAME, f"idx_{label}"], [f"g_{label}"], axis=1))
        nodes.append(helper.make_node("ReduceMax", [f"g_{label}"], [f"m_{label}"], axes=[1], keepdims=1))
        maxes.append(f"m_{label}")
    nodes.append(helper.make_node("Concat", maxes, ["raw"], axis=1))
    nodes.append(helper.make_node("ReduceSum", ["raw", "sum_axes"], ["total"], keepdims=1))
    inits.append(helper.make_tensor("sum_axes", TensorProto.INT64, [1], [1]))
    inits.append(helper.make_tensor("tiny", TensorProto.FLOAT, [], [1e-12]))
    nodes.append(helper.make_node("Max", ["total", "tiny"], ["safe_total"]))
    nodes.append(helper.make_node("Div", ["raw", "safe_total"], ["probabilities"]))
    graph = helper.make_graph(
        nodes, ZERO_SHOT,
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, [None, n_classes])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [None, len(C.GTZAN_LABELS)])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="genre-desktop")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model.SerializeToString()


def _key(fig: dict) -> float:
    return fig["accuracy"] + fig["macro_f1"]


def choose(data: AudioSet) -> dict:
    """Grouped CV on train over sets x excerpts x C (logistic regression, window rows)."""
    tr = np.flatnonzero(data.mask("train"))
    y, groups = data.y[tr], data.groups[tr]
    grid = []
    for set_name, stats in {**STAT_SETS, **REFERENCE_SETS}.items():
        for excerpts in EXCERPTS:
            if set_name.endswith("_max") and excerpts == 1:
                continue  # the max over one excerpt is its mean
            X = data.stats(stats, MSD_PATCHES, excerpts)[tr]
            rows = (X, y, np.ones(len(tr)), np.arange(len(tr)))
            for c in LOGREG_C:
                fig = cv_figure("logreg", {"C": c}, rows, X, y, groups)
                grid.append({"stats_set": set_name, "excerpts": excerpts, "C": c, "dims": int(X.shape[1]),
                             "eligible": set_name in STAT_SETS,
                             **{k: fig[k] for k in ("accuracy", "macro_f1", "log_loss", "accuracy_runs")}})
                log.info("%-24s excerpts %d C %-5s acc %.3f F1 %.3f ll %.3f", set_name, excerpts, c,
                         fig["accuracy"], fig["macro_f1"], fig["log_loss"])
    eligible = [g for g in grid if g["eligible"]]
    return {"grid": grid, "chosen": max(eligible, key=_key)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--out", type=Path, default=ROOT / "models")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    started = time.monotonic()
    data = load(args.cache)
    if EFFICIENTAT not in data.patches[0]:
        raise SystemExit(f"{args.cache} holds no EfficientAT outputs: rerun tools/extract_audio_vectors.py")
    tr, va = np.flatnonzero(data.mask("train")), np.flatnonzero(data.mask("valid"))

    # 1. The zero-shot member (nothing fitted): its figures on train and valid, by excerpts.
    mapping = zero_shot_map()
    zero = {}
    for excerpts in EXCERPTS:
        p = zero_shot_proba(data.stats([f"{E}.scores.mean"], MSD_PATCHES, excerpts), mapping)
        zero[str(excerpts)] = {split: {k: v for k, v in scores(p[idx], data.y[idx]).items() if k != "confusion"}
                               for split, idx in (("train", tr), ("valid", va))}
        log.info("zero-shot, %d excerpt(s): train acc %.3f F1 %.3f; valid acc %.3f F1 %.3f", excerpts,
                 zero[str(excerpts)]["train"]["accuracy"], zero[str(excerpts)]["train"]["macro_f1"],
                 zero[str(excerpts)]["valid"]["accuracy"], zero[str(excerpts)]["valid"]["macro_f1"])
    zero_bytes = zero_shot_onnx(mapping)
    X_scores = data.stats([f"{E}.scores.mean"], MSD_PATCHES, 1)
    zero_diff = float(np.abs(onnx_proba(zero_bytes, X_scores) - zero_shot_proba(X_scores.astype(np.float32).astype(np.float64), mapping)).max())
    if zero_diff > 1e-5:
        raise AssertionError(f"zero-shot ONNX differs from numpy by {zero_diff:.3g}")

    # 2. The head's configuration by grouped CV on train.
    choice = choose(data)
    best = choice["chosen"]
    stats, excerpts, params = STAT_SETS[best["stats_set"]], best["excerpts"], {"C": best["C"], "mode": "window"}
    log.info("chose %s, %d excerpt(s), C=%s: cv acc %.3f F1 %.3f", best["stats_set"], excerpts, best["C"],
             best["accuracy"], best["macro_f1"])

    # 3. Judged once on valid (fitted on train), then refitted on train+valid and exported.
    X = data.stats(stats, MSD_PATCHES, excerpts)
    model = fit_head("logreg", params, X[tr], data.y[tr], np.ones(len(tr)))
    valid = scores(C.full_proba(model, X[va]), data.y[va])
    log.info("valid (fitted on train): acc %.3f F1 %.3f", valid["accuracy"], valid["macro_f1"])
    final = fit_head("logreg", params, X, data.y, np.ones(len(data.y)))
    onnx_bytes = to_onnx(final, X.shape[1])
    diff = check_onnx(final, onnx_bytes, X)
    args.out.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(args.out / f"{HEAD}.onnx", onnx_bytes)
    atomic_write_bytes(args.out / f"{ZERO_SHOT}.onnx", zero_bytes)
    report = {
        "family": "logreg", "stats_set": best["stats_set"], "stats": stats, "params": params,
        "excerpts_per_window": excerpts, "input_dims": int(X.shape[1]),
        "cv": {"scheme": "StratifiedGroupKFold(5, shuffle) on the train audio, groups = blocks of 10 clip numbers "
                         f"within a genre, mean of 5 fold seeds from {SEED}; pick = max accuracy + macro F1 among "
                         "the sets reading EfficientAT alone",
               "chosen": {k: best[k] for k in ("accuracy", "macro_f1", "log_loss")}, "grid": choice["grid"]},
        "valid": valid, "valid_note": "fitted on the train audio (189 clips), judged on the valid audio (92 clips)",
        "zero_shot": {"mapping": {g: [int(i) for i in v] for g, v in mapping.items()}, "figures": zero,
                      "onnx_max_abs_diff": zero_diff,
                      "rule": "score(label) = max over the label's tree node and the nodes below it that are not "
                              "GTZAN labels of the excerpt-averaged class score; renormalised over the ten"},
        "fitted_on": {"splits": ["train", "valid"], "clips": int(len(data.y))},
        "onnx_max_abs_diff": diff, "onnx_bytes": len(onnx_bytes), "seed": SEED,
        "wall_time_seconds": round(time.monotonic() - started, 1),
    }
    atomic_write_json(args.out / f"{HEAD}.json", report, indent=1)
    atomic_write_json(CHOICE_PATH, {"name": HEAD, "family": "logreg", "stats": stats, "params": params,
                                    "patches_per_window": excerpts}, indent=2)
    log.info("wrote %s.onnx/.json, %s.onnx and %s (%.0f s)", HEAD, ZERO_SHOT, CHOICE_PATH,
             report["wall_time_seconds"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
