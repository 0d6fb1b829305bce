#!/usr/bin/env python
"""Calibrate the broad genres: one threshold on what the app shows should mean one thing.

The broad genres are the genre tree's nodes scored by the EfficientAT network: a node's raw score
is the highest excerpt-averaged class score (sigmoid) of the node itself and every node below it
(a parent scores at least its best child; nodes with no network class and none below are not
scored). AudioSet's sigmoid scores are low on old recordings (a GTZAN blues clip: Blues 0.18),
so the app shows calibrated probabilities instead.

Method (fixed before fitting): Platt scaling shared by all nodes, on the raw score's log-odds,
``p = 1 / (1 + exp(-(a * logit(s) + b)))``: two numbers, monotone, so the ranking of the nodes
is unchanged. Fitted on the TRAIN audio with every (clip, scored node) pair as one example:

- positive: the clip's GTZAN genre's node, and the nodes above it (a metal clip is Heavy Metal
  and Rock);
- left out: the nodes below the clip's genre (a jazz clip may or may not be Swing; the labels do
  not say);
- negative: every other node (including relatives the clip may well deserve: R&B on a blues clip
  counts as wrong, so the calibration errs on the modest side).

Per-node calibration is measured as an alternative (grouped 5-fold CV on train, the ten GTZAN
nodes only: the other 55 nodes have no positive example here) and is not chosen unless it beats
the shared fit's CV log-loss on those nodes.

Judged once on VALID: reliability (calibrated probability bins against the observed share of
positives), precision and recall at thresholds 0.5 and 0.8, and how often the clip's genre (or a
node below it) is the top broad genre and among the top three (ranked by probability, a node
before its parent when they are equal).

Writes ``models/broad_calibration.json``, the data file the analysis applies.

Usage: nice python tools/train_broad_calibration.py [--cache FILE] [--excerpts 1]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

from audio_data import DEFAULT_CACHE, EFFICIENTAT, AudioSet, grouped_folds, load  # noqa: E402
from genre_desktop.fsutil import atomic_write_json  # noqa: E402

log = logging.getLogger("train_broad_calibration")

SEED = 20151
EPS = 1e-6  # raw scores are clipped to [EPS, 1 - EPS] before the log-odds
THRESHOLDS = (0.3, 0.5, 0.8)
BINS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
GRID_POINTS = 401
CALIBRATION_FORMAT = "genre-desktop-broad-calibration-1"  # inference/broad.py reads this


def tree_nodes():
    """(nodes with a score, for each the class indices of itself and everything below it)."""
    from genre_desktop.core import genre as G

    tree = G.default_tree()
    scored, classes = [], []
    for node in tree:
        own = [n.class_index for n in (node, *tree.descendants(node.key)) if n.class_index is not None]
        if own:
            scored.append(node)
            classes.append(sorted(set(own)))
    return tree, scored, classes


def node_scores(class_scores: np.ndarray, classes: list[list[int]]) -> np.ndarray:
    """(n, nodes) raw node scores: the max over each node's classes."""
    return np.stack([class_scores[:, c].max(axis=1) for c in classes], axis=1)


def targets(data: AudioSet, tree, scored) -> np.ndarray:
    """(n, nodes) 1 positive, 0 negative, -1 left out (below the clip's genre)."""
    from genre_desktop.core import genre as G

    gtzan = G.gtzan_nodes()
    out = np.zeros((len(data.genre), len(scored)), dtype=np.int8)
    for i, label in enumerate(data.genre):
        own = gtzan[label]
        above = {n.key for n in tree.ancestors(own.key)}
        for j, node in enumerate(scored):
            if node.key == own.key or node.key in above:
                out[i, j] = 1
            elif tree.is_under(node.key, own.key):
                out[i, j] = -1
    return out


def logit(s: np.ndarray) -> np.ndarray:
    s = np.clip(s, EPS, 1 - EPS)
    return np.log(s / (1 - s))


def fit_platt(x: np.ndarray, t: np.ndarray) -> tuple[float, float]:
    """a, b minimising the log-loss of sigmoid(a x + b) against 0/1 targets (unregularised)."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=1e6, max_iter=1000).fit(x.reshape(-1, 1), t)
    return float(model.coef_[0, 0]), float(model.intercept_[0])


def platt(x: np.ndarray, a: float, b: float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-(a * x + b)))


def max_map_error(a: float, b: float) -> float:
    """Largest |piecewise-linear map - Platt formula| over a fine grid of raw scores."""
    grid = 1.0 / (1.0 + np.exp(-np.linspace(np.log(EPS / (1 - EPS)), -np.log(EPS / (1 - EPS)), GRID_POINTS)))
    fine = np.linspace(EPS, 1 - EPS, 200001)
    return float(np.abs(np.interp(fine, grid, platt(logit(grid), a, b)) - platt(logit(fine), a, b)).max())


def log_loss(p: np.ndarray, t: np.ndarray) -> float:
    p = np.clip(p, 1e-12, 1 - 1e-12)
    return float(-np.mean(t * np.log(p) + (1 - t) * np.log(1 - p)))


def pairs(raw: np.ndarray, target: np.ndarray, rows: np.ndarray, cols: np.ndarray | None = None):
    """Flattened (log-odds, target, column) of the known pairs of ``rows`` (and ``cols``)."""
    r, t = raw[rows], target[rows]
    if cols is not None:
        r, t = r[:, cols], t[:, cols]
    col = np.broadcast_to(np.arange(r.shape[1]) if cols is None else cols, r.shape)
    known = t >= 0
    return logit(r[known]), t[known].astype(float), col[known]


def cv_compare(raw, target, data: AudioSet, tr: np.ndarray, gtzan_cols: np.ndarray) -> dict:
    """Grouped CV on train: shared Platt vs one Platt per GTZAN node, log-loss on those nodes' pairs."""
    shared_ll, per_ll, n = 0.0, 0.0, 0
    for fit, held in grouped_folds(data.y[tr], data.groups[tr], 5, SEED):
        x, t, _ = pairs(raw, target, tr[fit])
        a, b = fit_platt(x, t)
        xh, th, ch = pairs(raw, target, tr[held], gtzan_cols)
        shared_ll += log_loss(platt(xh, a, b), th) * len(th)
        per_p = np.zeros(len(th))
        for col in gtzan_cols:
            xf, tf, _ = pairs(raw, target, tr[fit], np.array([col]))
            sel = ch == col
            if tf.min() == tf.max():  # no positive (or no negative) in this fold: the shared fit
                per_p[sel] = platt(xh[sel], a, b)
            else:
                per_p[sel] = platt(xh[sel], *fit_platt(xf, tf))
        per_ll += log_loss(per_p, th) * len(th)
        n += len(th)
    return {"shared": shared_ll / n, "per_node": per_ll / n, "pairs": n}


def ranking_hits(p: np.ndarray, data: AudioSet, idx: np.ndarray, tree, scored) -> dict:
    """Top-1 and top-3 of the clip's genre or a node below it; the metal clips also counted with
    their parent (Rock)."""
    from genre_desktop.core import genre as G

    gtzan = G.gtzan_nodes()
    depth = np.array([len(tree.ancestors(n.key)) for n in scored])
    top1 = top3 = 0
    per_genre: dict[str, list[int]] = {}
    for i in idx:
        own = gtzan[data.genre[i]]
        ok = np.array([n.key == own.key or tree.is_under(n.key, own.key) for n in scored])
        order = np.lexsort((-depth, -p[i]))  # by probability, a deeper node first on ties
        hit1, hit3 = bool(ok[order[0]]), bool(ok[order[:3]].any())
        top1 += hit1
        top3 += hit3
        per_genre.setdefault(str(data.genre[i]), []).append(int(hit1))
    n = len(idx)
    return {"top1": top1 / n, "top3": top3 / n, "clips": int(n),
            "top1_by_genre": {g: float(np.mean(v)) for g, v in sorted(per_genre.items())}}


def reliability(p: np.ndarray, t: np.ndarray) -> list[dict]:
    out = []
    for lo, hi in zip(BINS[:-1], BINS[1:]):
        sel = (p >= lo) & ((p < hi) if hi < 1 else (p <= hi))
        if sel.any():
            out.append({"from": lo, "to": hi, "pairs": int(sel.sum()), "mean_probability": float(p[sel].mean()),
                        "positive_share": float(t[sel].mean())})
    return out


def at_threshold(p: np.ndarray, t: np.ndarray) -> list[dict]:
    out = []
    for th in THRESHOLDS:
        shown = p >= th
        out.append({"threshold": th, "shown": int(shown.sum()),
                    "precision": float(t[shown].mean()) if shown.any() else None,
                    "recall": float(t[shown].sum() / max(t.sum(), 1))})
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--excerpts", type=int, default=1, help="10 s excerpts per window (the app's setting)")
    parser.add_argument("--out", type=Path, default=ROOT / "models" / "broad_calibration.json")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    data = load(args.cache)
    tree, scored, classes = tree_nodes()
    raw = node_scores(data.stats([f"{EFFICIENTAT}.scores.mean"], None, args.excerpts), classes)
    target = targets(data, tree, scored)
    tr, va = np.flatnonzero(data.mask("train")), np.flatnonzero(data.mask("valid"))
    from genre_desktop.core import genre as G

    gtzan_keys = {n.key for n in G.gtzan_nodes().values()}
    gtzan_cols = np.array([j for j, n in enumerate(scored) if n.key in gtzan_keys])

    cv = cv_compare(raw, target, data, tr, gtzan_cols)
    log.info("grouped CV on train, log-loss on the GTZAN nodes' pairs: shared %.4f, per node %.4f",
             cv["shared"], cv["per_node"])
    x, t, _ = pairs(raw, target, tr)
    a, b = fit_platt(x, t)
    log.info("shared Platt on %d train pairs (%d positive): a=%.4f b=%.4f", len(t), int(t.sum()), a, b)

    xv, tv, _ = pairs(raw, target, va)
    pv = platt(xv, a, b)
    calibrated = platt(logit(raw), a, b)
    valid = {
        "pairs": int(len(tv)), "positives": int(tv.sum()),
        "log_loss": log_loss(pv, tv), "log_loss_raw_scores": log_loss(np.clip(1 / (1 + np.exp(-xv)), EPS, 1), tv),
        "reliability": reliability(pv, tv), "thresholds": at_threshold(pv, tv),
        "raw_score_of_positives": {"median": float(np.median(1 / (1 + np.exp(-xv[tv == 1])))),
                                   "quartiles": [float(q) for q in np.percentile(1 / (1 + np.exp(-xv[tv == 1])), [25, 75])]},
        "ranking": ranking_hits(calibrated, data, va, tree, scored),
    }
    train_rank = ranking_hits(calibrated, data, tr, tree, scored)
    log.info("valid: log-loss %.4f (raw %.4f); thresholds %s", valid["log_loss"], valid["log_loss_raw_scores"],
             [(d["threshold"], d["shown"], None if d["precision"] is None else round(d["precision"], 3),
               round(d["recall"], 3)) for d in valid["thresholds"]])
    log.info("valid: top-1 %.3f, top-3 %.3f (train %.3f / %.3f); by genre %s", valid["ranking"]["top1"],
             valid["ranking"]["top3"], train_rank["top1"], train_rank["top3"], valid["ranking"]["top1_by_genre"])
    # The analysis applies piecewise-linear maps per AudioSet class or one default map
    # (inference/broad.py), to each class's raw score before the tree's max; the shared Platt map is
    # monotone, so calibrating the classes and then taking the max is calibrating the node's score.
    grid = 1.0 / (1.0 + np.exp(-np.linspace(np.log(EPS / (1 - EPS)), -np.log(EPS / (1 - EPS)), GRID_POINTS)))
    report = {
        "format": CALIBRATION_FORMAT,
        "network": EFFICIENTAT,
        "default": {"x": [float(v) for v in grid], "y": [float(v) for v in platt(logit(grid), a, b)]},
        "default_note": f"the Platt map below sampled at {GRID_POINTS} raw scores evenly spaced in log-odds; "
                        "linear between them (largest deviation from the formula: "
                        f"{max_map_error(a, b):.1e})",
        "fitted_by": "tools/train_broad_calibration.py: Platt scaling shared by the genre tree's nodes, fitted on "
                     "the GTZAN train audio (artist-filtered split); test split never used",
        "excerpts_per_window": args.excerpts,
        "score": "raw score of a tree node = the highest class score (sigmoid of the logit, averaged over the "
                 "window's excerpts) of the node and every node below it; nodes with no class at or below them "
                 "have no score",
        "method": "platt",
        "a": a, "b": b, "clip": EPS,
        "formula": "p = 1 / (1 + exp(-(a * ln(s / (1 - s)) + b))) with s clipped to [clip, 1 - clip]; monotone "
                   "in s, so the ranking of the nodes is the raw scores' ranking",
        "rank": "by p, a node before its parent when equal (the parent's score is the child's)",
        "fitted_on": {"split": "train", "clips": int(len(tr)), "pairs": int(len(t)), "positives": int(t.sum()),
                      "positives_rule": "the clip's GTZAN node and its ancestors; nodes below it left out; every "
                                        "other scored node negative"},
        "chosen_over": {"per_node_platt_cv_log_loss": cv["per_node"], "shared_platt_cv_log_loss": cv["shared"],
                        "cv_pairs": cv["pairs"],
                        "note": "grouped 5-fold CV on train, judged on the ten GTZAN nodes' pairs (the only nodes "
                                "with positives here); per-node fits cannot be made for the other nodes"},
        "valid": valid,
        "train_ranking": train_rank,
        "nodes": [n.key for n in scored],
        "seed": SEED,
    }
    if cv["per_node"] < cv["shared"]:
        log.warning("per-node calibration had the lower CV log-loss on the GTZAN nodes; the shared fit is kept "
                    "because the other nodes have no positives to fit on")
    atomic_write_json(args.out, report, indent=1)
    log.info("wrote %s", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
