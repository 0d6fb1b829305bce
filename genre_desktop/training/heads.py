"""Heads on the cached track vectors: candidates, grouped cross-validation, choice, ONNX export.

Input: the track vector (the mean over windows of the statistics the bundled embedding heads read:
the MSD network's embedding mean and max over 2 patches, the EfficientAT network's embedding and
class-score means over its excerpts, 1311 values with ensemble v4: ``inference/vector_cache.py``),
rounded to float32 because the exported model reads float32.
The linear and SVM heads standardise every column (so both blocks are standardised and
concatenated); XGBoost reads the raw values (see ``classical.build_pipeline``: scaling in front of
trees breaks ONNX parity).

Candidates (small grids: retraining must stay under a minute for 1,000 tracks on two cores):

- ``logreg``: multinomial logistic regression, C in {0.1, 1};
- ``svm``: ``CalibratedClassifierCV(SVC(rbf), method="sigmoid")`` (Platt scaling fitted on internal
  folds; converts to ONNX and matches), C in {1, 10};
- ``xgboost``: 100 trees of depth 3 per class, learning rate 0.1, row and column subsampling.

Which networks' statistics a head reads is chosen the same way when the vector holds more than one
network's (``blocks``, see :func:`stat_blocks`: e.g. the MSD musicnn head's statistics and the
EfficientAT head's): first the logistic regressions on each network's block alone and on the whole
vector, then every candidate on the chosen block (the block search costs two cheap fits per
fold, not a second full grid). A head on a block reads the whole vector and selects its columns
inside the exported model (``params["columns"]``, ``"start:stop"``), so the user model's input
is the same vector whatever was chosen.

The choice is made by cross-validation grouped by artist (``StratifiedGroupKFold``): among the
candidates within 0.01 of the highest out-of-fold macro F1, the lowest out-of-fold log-loss
(:func:`rank`). Every candidate outputs probabilities
(logistic regression and XGBoost by their log-loss training, the SVM by Platt scaling); the
out-of-fold log-loss is reported so the calibration is visible.

Classes absent from a fold's training part (a rare genre whose few artists all fell into the
held-out fold) get probability 0 there; that counts against the candidate, as it should.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold
from sklearn.pipeline import Pipeline

from genre_desktop.cancel import NEVER, CancelToken
from genre_desktop.training import classical

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]

CANDIDATES: dict[str, list[dict[str, Any]]] = {
    "logreg": [{"clf__C": 0.1}, {"clf__C": 1.0}],
    "svm": [{"clf__estimator__C": 1.0}, {"clf__estimator__C": 10.0}],
    # 64 histogram bins and 30 % of the columns per tree: 3.5 times faster than 256 bins and half
    # the columns on 1,000 x 257 rows (1.6 s against 5.5 s per fit), at the same held-out accuracy.
    "xgboost": [{"clf__n_estimators": 100, "clf__max_depth": 3, "clf__learning_rate": 0.1,
                 "clf__subsample": 0.8, "clf__colsample_bytree": 0.3, "clf__max_bin": 64}],
}
_EPS = 1e-7
ONNX_ATOL = 1e-4
F1_TOLERANCE = 0.01


def as_inputs(X: np.ndarray) -> np.ndarray:
    """Round to float32 and back: fit on exactly the values the ONNX model will see."""
    return classical.as_float32_inputs(X)


@dataclass
class FittedHead:
    """A fitted pipeline and the label ids it was fitted on (its columns)."""

    kind: str
    params: dict[str, Any]
    pipeline: Pipeline
    present: np.ndarray  # label ids, in the pipeline's column order
    n_labels: int

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """(n, n_labels): one column per label; labels absent when fitting get 0."""
        proba = self.pipeline.predict_proba(as_inputs(X))
        out = np.zeros((len(X), self.n_labels))
        out[:, self.present] = proba
        return out

    @property
    def complete(self) -> bool:
        return len(self.present) == self.n_labels


def fit_labels(y: np.ndarray, n_labels: int) -> np.ndarray:
    """The label ids a head can be fitted on (two rows or more); ValueError unless there are two."""
    present = np.flatnonzero(np.bincount(y, minlength=n_labels) >= 2)
    if len(present) < 2:
        raise ValueError("a head needs at least two genres with two tracks each")
    return present


def stat_blocks(layout, total: int) -> dict[str, str]:
    """Column blocks of a track vector by network: ``{"musicnn_msd": "0:400", "efficientat": "400:1311"}``.

    ``layout``: what the vector holds, in column order (``TrackVectors.layout``: statistics with
    their widths). Empty (no block search) when the vector holds one network only, a network's
    columns are not contiguous, or the widths do not add up to ``total``.
    """
    spans: dict[str, list[int]] = {}
    start = 0
    for stat in layout:
        if not stat.width:
            return {}
        span = spans.setdefault(stat.network, [start, start])
        if span[1] != start:  # a network's statistics must be contiguous to make one block
            return {}
        span[1] = start = start + int(stat.width)
    if start != total or len(spans) < 2:
        return {}
    return {net: f"{a}:{b}" for net, (a, b) in spans.items()}


def _columns(params: Mapping[str, Any]) -> slice | None:
    spec = params.get("columns")
    if not spec:
        return None
    a, b = (int(v) for v in str(spec).split(":"))
    return slice(a, b)


def _pipeline(kind: str, params: Mapping[str, Any], seed: int) -> Pipeline:
    """The candidate's pipeline; a column block in ``params`` becomes a leading selector (which
    skl2onnx exports, so the model reads the whole vector)."""
    from sklearn.compose import ColumnTransformer

    model_params = {k: v for k, v in params.items() if k.startswith("clf__")}
    pipe = classical.build_pipeline(kind, seed, **model_params)
    cols = _columns(params)
    if cols is not None:
        pipe.steps.insert(0, ("columns", ColumnTransformer([("block", "passthrough", list(range(cols.start, cols.stop)))],
                                                           remainder="drop")))
    return pipe


def fit_head(kind: str, params: dict[str, Any], X: np.ndarray, y: np.ndarray, n_labels: int,
             seed: int = 0, n_jobs: int = 1) -> FittedHead:
    """Fit one candidate on rows X (n, D) track vectors with label ids y.

    Labels with a single row here are dropped from this fit (no calibration fold could hold them);
    with the dataset's minimum of 3 tracks per genre that only happens inside CV folds.
    ``params``: the classifier's (``clf__...``), and optionally ``block``/``columns`` (a block of
    :func:`stat_blocks`).
    """
    present = fit_labels(y, n_labels)
    keep = np.isin(y, present)
    X, y = as_inputs(X[keep]), y[keep]
    encoded = np.searchsorted(present, y)  # contiguous 0..k-1: XGBoost insists
    pipe = _pipeline(kind, params, seed)
    if kind == "svm":
        inner = int(min(5, np.bincount(encoded).min()))
        pipe.set_params(clf__cv=StratifiedKFold(inner, shuffle=True, random_state=seed))
    if kind == "xgboost":
        pipe.set_params(clf__n_jobs=max(1, int(n_jobs)))
        if len(present) == 2:  # multi:softprob needs num_class >= 3 in XGBoost's eyes
            pipe.set_params(clf__objective="binary:logistic", clf__eval_metric="logloss")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", (UserWarning, FutureWarning))
        pipe.fit(X, encoded)
    return FittedHead(kind, dict(params), pipe, present, n_labels)


@dataclass
class CandidateScore:
    kind: str
    params: dict[str, Any]
    accuracy: float
    macro_f1: float
    log_loss: float
    seconds: float

    @property
    def name(self) -> str:
        short = ", ".join(f"{k.split('__')[-1]}={v}" for k, v in self.params.items() if k.startswith("clf__"))
        block = self.params.get("block")
        return f"{self.kind} ({short})" + (f" on {block}" if block else "")


def grouped_folds(y: np.ndarray, groups: np.ndarray, folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified folds with no group on both sides; fewer folds when there are few groups."""
    n_groups = len(np.unique(groups))
    # StratifiedGroupKFold refuses more folds than the largest genre has tracks.
    k = max(2, min(folds, n_groups, int(np.bincount(y).max())))
    splitter = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "least populated class has only N members"
        return list(splitter.split(np.zeros(len(y)), y, groups))


def scores_of(proba: np.ndarray, y: np.ndarray, n_labels: int) -> tuple[float, float, float]:
    """Accuracy, macro F1 (over the labels present in y) and log-loss of probabilities."""
    pred = proba.argmax(axis=1)
    acc = float(accuracy_score(y, pred))
    f1 = float(f1_score(y, pred, average="macro", labels=np.unique(y), zero_division=0))
    ll = float(-np.mean(np.log(np.clip(proba[np.arange(len(y)), y], _EPS, 1.0))))
    return acc, f1, ll


def cross_validate(X: np.ndarray, y: np.ndarray, groups: np.ndarray, n_labels: int, folds: int = 5,
                   seed: int = 0, candidates: dict[str, list[dict[str, Any]]] | None = None,
                   progress: Progress | None = None, cancel: CancelToken = NEVER,
                   n_jobs: int = 1, blocks: Mapping[str, str] | None = None) -> list[CandidateScore]:
    """Out-of-fold scores of every candidate, folds grouped by ``groups``; best first.

    ``blocks`` (:func:`stat_blocks`): when given, the logistic regressions are first run on each
    block alone and on the whole vector, and the other candidates on the best of those only."""
    import time

    candidates = candidates or CANDIDATES
    splits = grouped_folds(y, groups, folds, seed)
    plan = [(kind, params) for kind, grid in candidates.items() for params in grid]
    scores: list[CandidateScore] = []
    if blocks and "logreg" in candidates:
        views = [{}] + [{"block": name, "columns": span} for name, span in blocks.items()]
        first = [("logreg", {**view, **params}) for view in views for params in candidates["logreg"]]
        rest = [(k, p) for k, p in plan if k != "logreg"]
        total = (len(first) + len(rest)) * len(splits)
        scores = _score_plan(first, X, y, n_labels, splits, seed, n_jobs, progress, cancel, 0, total)
        best_view = {k: v for k, v in rank(scores)[0].params.items() if not k.startswith("clf__")}
        plan = [(k, {**best_view, **p}) for k, p in rest]
        done = len(first) * len(splits)
    else:
        total, done = len(plan) * len(splits), 0
    scores += _score_plan(plan, X, y, n_labels, splits, seed, n_jobs, progress, cancel, done, total)
    return rank(scores)


def _score_plan(plan, X, y, n_labels, splits, seed, n_jobs, progress, cancel, done, total) -> list[CandidateScore]:
    import time

    scores = []
    for kind, params in plan:
        started = time.perf_counter()
        oof = np.zeros((len(y), n_labels))
        for train_idx, test_idx in splits:
            cancel.raise_if_cancelled()
            head = fit_head(kind, params, X[train_idx], y[train_idx], n_labels, seed, n_jobs)
            oof[test_idx] = head.predict_proba(X[test_idx])
            done += 1
            if progress:
                progress(done / total, f"cross-validating {kind} ({done}/{total} fits)")
        acc, f1, ll = scores_of(oof, y, n_labels)
        scores.append(CandidateScore(kind, dict(params), acc, f1, ll, time.perf_counter() - started))
        log.info("CV %s: accuracy %.3f, macro F1 %.3f, log-loss %.3f", scores[-1].name, acc, f1, ll)
    return rank(scores)


def rank(scores: list[CandidateScore]) -> list[CandidateScore]:
    """Best first: among the candidates within ``F1_TOLERANCE`` of the best macro F1 (differences
    that small are fold noise), the one with the lowest log-loss (the best-calibrated); then the
    rest by macro F1."""
    if not scores:
        return []
    top = max(s.macro_f1 for s in scores)
    close = sorted((s for s in scores if s.macro_f1 >= top - F1_TOLERANCE), key=lambda s: (s.log_loss, -s.macro_f1))
    rest = sorted((s for s in scores if s.macro_f1 < top - F1_TOLERANCE), key=lambda s: (-s.macro_f1, s.log_loss))
    return close + rest


def export_onnx(head: FittedHead, X_check: np.ndarray, n_features: int) -> bytes:
    """ONNX bytes of a complete head (every label fitted), checked against predict_proba."""
    if not head.complete:
        raise ValueError("only a head fitted on every label can be exported")
    data = classical.to_onnx_bytes(head.pipeline, n_features=n_features, name=f"user_{head.kind}")
    expected = head.pipeline.predict_proba(as_inputs(X_check))
    got = classical.onnx_proba(data, as_inputs(X_check)).astype(np.float64)
    # Same float32 inputs in both runtimes; the probabilities then differ by float32 rounding only.
    diff = float(np.max(np.abs(got - expected))) if len(X_check) else 0.0
    if got.shape != expected.shape or diff > ONNX_ATOL:
        raise RuntimeError(f"the exported {head.kind} model differs from the fitted one "
                           f"(shape {got.shape} vs {expected.shape}, max difference {diff:.3g})")
    log.info("ONNX export of %s matches predict_proba to %.2g", head.kind, diff)
    return data
