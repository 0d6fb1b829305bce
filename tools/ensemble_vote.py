"""The weighted vote of ``tools/train_ensemble.py``: weight fitting, its cross-validation and the bootstrap.

Weights live on the simplex and are fitted on out-of-fold member probabilities (never by hand);
the pooling and objective are chosen by cross-validating that fit over grouped folds; the
bootstrap over artist blocks measures (ensemble - best member) with its noise.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

from audio_data import grouped_folds  # noqa: E402
from ensemble_members import FOLDS, SEED  # noqa: E402
from train_audio_head import scores  # noqa: E402
from genre_desktop.inference.ensemble import POOLINGS, weighted_mean  # noqa: E402
from genre_desktop.training import classical as C  # noqa: E402

log = logging.getLogger("train_ensemble")  # the script's logger: its log lines read as before the split

BOOTSTRAP = 2000


OBJECTIVES = ("log_loss", "balanced_log_loss", "accuracy")


def fit_weights(probas: dict[str, np.ndarray], y: np.ndarray, pooling: str, objective: str) -> dict[str, float]:
    """Vote weights on the simplex. ``balanced_log_loss``: the log-loss with each genre weighing the
    same in total (blues, classical and jazz are two thirds of the clips; the targets include macro
    F1); softmax parametrisation, Nelder-Mead from equal weights (deterministic). Else
    ``classical.fit_vote_weights``."""
    if objective != "balanced_log_loss":
        return C.fit_vote_weights(probas, y, pooling, objective)
    from scipy.optimize import minimize

    names = list(probas)
    counts = np.bincount(y, minlength=len(C.GTZAN_LABELS)).astype(float)
    w_row = 1.0 / counts[y]
    rows = np.arange(len(y))

    def weights_of(theta: np.ndarray) -> dict[str, float]:
        w = np.exp(theta - theta.max())
        return dict(zip(names, w / w.sum()))

    def loss(theta: np.ndarray) -> float:
        q = weighted_mean(probas, weights_of(theta), pooling)
        return float(-np.sum(w_row * np.log(np.clip(q[rows, y], 1e-12, None))) / w_row.sum())

    result = minimize(loss, np.zeros(len(names)), method="Nelder-Mead",
                      options={"xatol": 1e-4, "fatol": 1e-7, "maxiter": 4000})
    return {n: float(v) for n, v in weights_of(result.x).items()}


def cross_validated_vote(probas: dict[str, np.ndarray], y: np.ndarray, groups: np.ndarray, pooling: str,
                         objective: str) -> np.ndarray:
    """Out-of-fold vote: weights fitted on the other grouped folds' rows only."""
    out = np.zeros_like(next(iter(probas.values())), dtype=np.float64)
    for fit, held in grouped_folds(y, groups, FOLDS, SEED):
        weights = fit_weights({m: p[fit] for m, p in probas.items()}, y[fit], pooling, objective)
        out[held] = weighted_mean({m: p[held] for m, p in probas.items()}, weights, pooling)
    return out


def choose_vote(oof: dict[str, np.ndarray], y: np.ndarray, groups: np.ndarray) -> dict:
    """Pooling and objective by cross-validating the weight fit over the out-of-fold rows."""
    candidates = {}
    for objective in OBJECTIVES if len(oof) <= 6 else ("log_loss", "balanced_log_loss"):
        for pooling in POOLINGS:
            q = cross_validated_vote(oof, y, groups, pooling, objective)
            s = scores(q, y)
            candidates[f"{pooling}/{objective}"] = {"pooling": pooling, "objective": objective,
                                                    **{k: s[k] for k in ("accuracy", "macro_f1", "log_loss")}}
            log.info("vote %s/%s: nested-CV acc %.3f F1 %.3f", pooling, objective, s["accuracy"], s["macro_f1"])
    key = max(candidates, key=lambda k: (candidates[k]["accuracy"] + candidates[k]["macro_f1"], -candidates[k]["log_loss"]))
    pick = candidates[key]
    weights = fit_weights(oof, y, pick["pooling"], pick["objective"])
    return {"pooling": pick["pooling"], "objective": pick["objective"], "weights": weights, "candidates": candidates}


def bootstrap_diff(p_ens: np.ndarray, p_best: np.ndarray, y: np.ndarray, groups: np.ndarray, seed: int) -> dict:
    """Accuracy and macro F1 of (ensemble - best member), resampling valid artist blocks with replacement."""
    from sklearn.metrics import f1_score

    rng = np.random.default_rng(seed)
    blocks = np.unique(groups)
    members = {b: np.flatnonzero(groups == b) for b in blocks}
    ce, cb = p_ens.argmax(1), p_best.argmax(1)
    d_acc, d_f1 = [], []
    for _ in range(BOOTSTRAP):
        idx = np.concatenate([members[b] for b in rng.choice(blocks, len(blocks), replace=True)])
        d_acc.append(np.mean(ce[idx] == y[idx]) - np.mean(cb[idx] == y[idx]))
        labels = sorted(set(y[idx].tolist()))
        d_f1.append(f1_score(y[idx], ce[idx], labels=labels, average="macro", zero_division=0)
                    - f1_score(y[idx], cb[idx], labels=labels, average="macro", zero_division=0))
    out = {}
    for key, d in (("accuracy", np.array(d_acc)), ("macro_f1", np.array(d_f1))):
        out[key] = {"mean": float(d.mean()), "ci95": [float(np.percentile(d, 2.5)), float(np.percentile(d, 97.5))],
                    "p_greater_than_0": float(np.mean(d > 0))}
    out["note"] = (f"{BOOTSTRAP} resamples of the {len(blocks)} valid artist blocks with replacement; macro F1 "
                   "over the genres present in each resample")
    return out
