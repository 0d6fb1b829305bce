"""The study's classical models: pipelines, hyperparameter grids, cross-validation, ONNX export.

Five members, each a pipeline (``StandardScaler`` + classifier; the tree models go unscaled, see
:func:`build_pipeline`), trained on the 57 GTZAN table features:

- ``knn``: k-nearest neighbours
- ``logreg``: multinomial logistic regression
- ``svm``: ``CalibratedClassifierCV(SVC(), method="sigmoid")``. ``SVC(probability=True)`` is
  deprecated in scikit-learn 1.9 and isotonic calibration does not survive ONNX conversion, so the
  probabilities come from Platt scaling fitted by the calibrator's own internal CV.
- ``xgboost``: XGBoost (xgboost-cpu), converted with onnxmltools' converter registered in skl2onnx
- ``gboost``: scikit-learn's ``GradientBoostingClassifier``

Classes are the integers 0..9 indexing :data:`GTZAN_LABELS` (alphabetical), so every exported
model's probability tensor has its columns in that order.

ONNX export: the pipelines a user's model can be (scaler + logistic regression, scaler + calibrated
SVM, XGBoost) are written by :mod:`training.onnx_heads` with no converter package, so retraining
works in every install (a plain ``pip install``, the bundle). The other members (k-NN, gradient
boosting) go through skl2onnx and onnxmltools, development dependencies imported only then: only
the tools that train the bundled models export those.
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import GridSearchCV, StratifiedGroupKFold, StratifiedKFold
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

log = logging.getLogger(__name__)

GTZAN_LABELS: tuple[str, ...] = (
    "blues", "classical", "country", "disco", "hiphop",
    "jazz", "metal", "pop", "reggae", "rock",
)
MEMBERS: tuple[str, ...] = ("knn", "logreg", "svm", "xgboost", "gboost")
_TREE_MEMBERS = ("xgboost", "gboost")
INPUT_NAME = "features"
N_FEATURES = 57
# Columns of features_30_sec.csv that are not model inputs.
_NON_FEATURE_COLUMNS = ("filename", "length", "label")


def feature_columns() -> tuple[str, ...]:
    """The 57 model inputs, from the feature extractor (the one code path for training and inference)."""
    from genre_desktop.features.gtzan import FEATURE_COLUMNS

    return tuple(FEATURE_COLUMNS)


@dataclass
class FeatureTable:
    """Rows of a GTZAN feature table: names (``blues.00012.wav``), X (n, 57) float64, y (n,) int."""

    filenames: list[str]
    X: np.ndarray
    y: np.ndarray
    columns: tuple[str, ...] = ()

    def subset(self, names: set[str]) -> "FeatureTable":
        """The rows whose filename is in ``names``, in table order."""
        idx = [i for i, f in enumerate(self.filenames) if f in names]
        return FeatureTable([self.filenames[i] for i in idx], self.X[idx], self.y[idx], self.columns)

    def __len__(self) -> int:
        return len(self.filenames)


def load_feature_table(csv_path: str | Path, columns: tuple[str, ...] | None = None) -> FeatureTable:
    """Read ``features_30_sec.csv``; check its feature columns equal the extractor's, in order.

    ``columns`` defaults to the extractor's FEATURE_COLUMNS. Raises ValueError if a column is
    missing or out of order, or a label is not one of the ten GTZAN genres.
    """
    with open(csv_path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        header = [c for c in (reader.fieldnames or []) if c not in _NON_FEATURE_COLUMNS]
        if columns is None:
            try:
                columns = feature_columns()
            except ImportError:
                # Before the extractor module exists the table's own header is the only definition.
                log.warning("genre_desktop.features.gtzan not importable; using the table's columns")
                columns = tuple(header)
        if tuple(header) != tuple(columns):
            missing = [c for c in columns if c not in header]
            raise ValueError(
                f"{csv_path}: feature columns differ from the extractor's "
                f"(missing: {missing[:5]}; order or extra columns otherwise)"
            )
        names, rows, labels = [], [], []
        for row in reader:
            label = row["label"].strip().lower()
            if label not in GTZAN_LABELS:
                raise ValueError(f"{csv_path}: unknown label {label!r} for {row['filename']}")
            names.append(row["filename"].strip())
            rows.append([float(row[c]) for c in columns])
            labels.append(GTZAN_LABELS.index(label))
    return FeatureTable(names, np.asarray(rows, dtype=np.float64).reshape(-1, len(columns)),
                        np.asarray(labels, dtype=np.int64), tuple(columns))


def read_split(path: str | Path) -> set[str]:
    """A split file (``blues/blues.00012.wav`` per line) as a set of table filenames (``blues.00012.wav``)."""
    names = set()
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line:
            names.add(line.rsplit("/", 1)[-1])
    return names


def as_float32_inputs(X: np.ndarray) -> np.ndarray:
    """Round inputs to float32 and back: the ONNX models take float32, so fit and compare on the same values."""
    return np.asarray(X, dtype=np.float32).astype(np.float64)


# ---------------------------------------------------------------------------------------------
# Pipelines and grids

def build_pipeline(member: str, seed: int = 0, **params: Any) -> Pipeline:
    """The unfitted pipeline for ``member`` (scaler + classifier, no scaler for trees); ``params`` use ``clf__`` names."""
    if member == "knn":
        clf = KNeighborsClassifier()
    elif member == "logreg":
        clf = LogisticRegression(max_iter=5000)
    elif member == "svm":
        # ensemble=False: one SVC refit on all the data plus one sigmoid calibrator per class,
        # fitted on the internal CV's out-of-fold decisions; smaller and faster than 5 SVCs.
        clf = CalibratedClassifierCV(SVC(kernel="rbf", random_state=seed), method="sigmoid",
                                     cv=StratifiedKFold(5, shuffle=True, random_state=seed),
                                     ensemble=False)
    elif member == "xgboost":
        from xgboost import XGBClassifier

        clf = XGBClassifier(objective="multi:softprob", tree_method="hist", n_jobs=1,
                            random_state=seed, eval_metric="mlogloss")
    elif member == "gboost":
        clf = GradientBoostingClassifier(random_state=seed)
    else:
        raise ValueError(f"unknown member {member!r}; expected one of {MEMBERS}")
    # Trees are invariant to scaling, and a scaler in front of them does harm after export: ONNX
    # scales in float32, sklearn in float64, and the rounding difference flips XGBoost's splits
    # (its hist cut points coincide with data values). So the tree members see the raw float32
    # features, which both runtimes compare identically.
    if member in _TREE_MEMBERS:
        pipe = Pipeline([("clf", clf)])
    else:
        pipe = Pipeline([("scale", StandardScaler()), ("clf", clf)])
    if params:
        pipe.set_params(**params)
    return pipe


def param_grid(member: str) -> dict[str, list[Any]]:
    """The hyperparameter grid searched for ``member`` (kept small: 2 cores, ~450 training rows)."""
    grids: dict[str, dict[str, list[Any]]] = {
        "knn": {"clf__n_neighbors": [3, 5, 7, 9, 13, 17, 25], "clf__weights": ["uniform", "distance"],
                "clf__p": [1, 2]},
        "logreg": {"clf__C": [0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0]},
        "svm": {"clf__estimator__C": [1.0, 3.0, 10.0, 30.0],
                "clf__estimator__gamma": ["scale", 0.003, 0.01, 0.03]},
        "xgboost": {"clf__n_estimators": [200, 400], "clf__max_depth": [2, 4],
                    "clf__learning_rate": [0.05, 0.1], "clf__subsample": [0.8],
                    "clf__colsample_bytree": [0.5]},
        # max_features="sqrt": each split looks at 7 of 57 features, which makes fitting several
        # times faster on 2 cores and decorrelates the trees like the other boosters' subsampling.
        "gboost": {"clf__n_estimators": [100, 200], "clf__max_depth": [2, 3],
                   "clf__learning_rate": [0.05, 0.1], "clf__subsample": [0.8],
                   "clf__max_features": ["sqrt"]},
    }
    return grids[member]


def clip_runs(filenames: list[str]) -> np.ndarray:
    """Group ids: runs of consecutively numbered clips of one genre (``blues.00029``, ``blues.00030``...).

    GTZAN's clips of one artist mostly carry consecutive numbers (Sturm 2013), and the filtered
    split cuts the numbering wherever it moved clips to another split or dropped them, so a run
    approximates an artist (or a few). GTZAN's artist annotations are not available here; this is
    the closest grouping the data allows, so that cross-validation does not put one artist's clips
    on both sides of a fold.
    """
    groups = np.empty(len(filenames), dtype=np.int64)
    previous: tuple[str, int] | None = None
    gid = -1
    for i, name in enumerate(filenames):
        genre, number = name.split(".")[0], int(name.split(".")[1])
        if previous is None or previous != (genre, number - 1):
            gid += 1
        groups[i] = gid
        previous = (genre, number)
    return groups


def _folds(folds: int, seed: int, groups: np.ndarray | None):
    if groups is None:
        return StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    return StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)


def grid_search(member: str, X: np.ndarray, y: np.ndarray, seed: int = 0, folds: int = 5,
                n_jobs: int = 1, groups: np.ndarray | None = None) -> GridSearchCV:
    """Choose ``member``'s hyperparameters by ``folds``-fold CV (accuracy), refit on all of X.

    Stratified by genre; with ``groups`` (see :func:`clip_runs`) grouped as well, so one artist's
    clips stay on one side of each fold. One row per clip, so a clip never straddles folds.
    """
    search = GridSearchCV(build_pipeline(member, seed), param_grid(member), cv=_folds(folds, seed, groups),
                          scoring="accuracy", n_jobs=n_jobs, refit=True)
    search.fit(X, y, groups=groups)
    return search


def evaluate_probabilities(proba: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Accuracy and macro F1 of the argmax of ``proba`` against integer labels ``y``."""
    pred = np.argmax(proba, axis=1)
    return {
        "accuracy": float(accuracy_score(y, pred)),
        "macro_f1": float(f1_score(y, pred, average="macro", labels=list(range(len(GTZAN_LABELS))),
                                   zero_division=0)),
    }


def cross_val_proba(make: Callable[[], Pipeline], X: np.ndarray, y: np.ndarray, folds: int = 10,
                    seed: int = 0) -> np.ndarray:
    """Out-of-fold probabilities of a fresh pipeline per fold (random stratified split, fixed seed)."""
    out = np.zeros((len(y), len(GTZAN_LABELS)))
    for train_idx, test_idx in StratifiedKFold(folds, shuffle=True, random_state=seed).split(X, y):
        model = make()
        model.fit(X[train_idx], y[train_idx])
        out[test_idx] = full_proba(model, X[test_idx])
    return out


def full_proba(model: Pipeline, X: np.ndarray) -> np.ndarray:
    """predict_proba with one column per GTZAN label even if a class was absent when fitting."""
    proba = model.predict_proba(X)
    classes = list(model.classes_)
    if classes == list(range(len(GTZAN_LABELS))):
        return proba
    out = np.zeros((len(X), len(GTZAN_LABELS)))
    out[:, classes] = proba
    return out


# ---------------------------------------------------------------------------------------------
# ONNX export

def to_onnx_bytes(model: Pipeline, n_features: int = N_FEATURES, name: str = "") -> bytes:
    """Convert a fitted pipeline to ONNX: input ``features`` float32 [None, n], outputs
    ``label`` int64 [None] and ``probabilities`` float32 [None, classes] (no ZipMap).

    The pipelines of user models need nothing beyond the app's own dependencies
    (:mod:`training.onnx_heads`); any other needs the development converters.
    """
    from genre_desktop.training import onnx_heads

    if onnx_heads.supports(model):
        return onnx_heads.export(model, n_features, name)
    from genre_desktop.training.converters import convert

    return convert(model, n_features, name, INPUT_NAME)


def onnx_proba(onnx_bytes: bytes, X: np.ndarray) -> np.ndarray:
    """Run an exported model with onnxruntime; returns the probability tensor (float32)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(onnx_bytes, opts, providers=["CPUExecutionProvider"])
    outputs = sess.run(None, {INPUT_NAME: np.asarray(X, dtype=np.float32)})
    return np.asarray(outputs[1])


def check_onnx(model: Pipeline, onnx_bytes: bytes, X: np.ndarray, atol: float = 1e-5) -> float:
    """Check onnxruntime reproduces ``model.predict_proba`` on X (compared on float32-rounded X).

    Returns the largest absolute difference; raises AssertionError if above ``atol`` or if the
    ONNX rows do not sum to one.
    """
    X32 = as_float32_inputs(X)
    expected = full_proba(model, X32)
    got = onnx_proba(onnx_bytes, X32).astype(np.float64)
    if got.shape != expected.shape:
        raise AssertionError(f"ONNX output shape {got.shape} != sklearn {expected.shape}")
    diff = float(np.max(np.abs(got - expected))) if len(X) else 0.0
    if diff > atol:
        raise AssertionError(f"ONNX probabilities differ from predict_proba by {diff:.3g} (> {atol})")
    sums = got.sum(axis=1)
    if len(X) and float(np.max(np.abs(sums - 1.0))) > 1e-4:
        raise AssertionError(f"ONNX probabilities do not sum to 1 (worst row sums to {sums.min():.6f})")
    return diff


# ---------------------------------------------------------------------------------------------
# Ensemble weights

OBJECTIVES = ("log_loss", "accuracy")


def fit_vote_weights(probas: dict[str, np.ndarray], y: np.ndarray, pooling: str = "arithmetic",
                     objective: str = "log_loss", step: float = 0.1) -> dict[str, float]:
    """Ensemble weights on the simplex, fitted to ``y``.

    - ``log_loss``: minimise the log-loss of the pooled vote (smooth and stable, but it favours the
      best-calibrated member, which need not be the one that helps the vote most). Softmax
      parametrisation, Nelder-Mead from equal weights: deterministic.
    - ``accuracy``: the point of a coarse grid on the simplex (``step`` 0.1: 1001 points for five
      members) with the highest accuracy, ties broken by log-loss, then by grid order.
    """
    from genre_desktop.inference.ensemble import weighted_mean

    names = list(probas)
    rows = np.arange(len(y))

    def log_loss(weights: dict[str, float]) -> float:
        q = weighted_mean(probas, weights, pooling)
        return float(-np.mean(np.log(np.clip(q[rows, y], 1e-12, None))))

    if objective == "accuracy":
        best_key, best = None, None
        for point in _simplex_grid(len(names), int(round(1 / step))):
            weights = dict(zip(names, point))
            q = weighted_mean(probas, weights, pooling)
            key = (float(np.mean(q.argmax(axis=1) == y)), -log_loss(weights))
            if best_key is None or key > best_key:
                best_key, best = key, weights
        assert best is not None
        return {n: float(v) for n, v in best.items()}
    if objective != "log_loss":
        raise ValueError(f"unknown objective {objective!r}; expected one of {OBJECTIVES}")
    from scipy.optimize import minimize

    def weights_of(theta: np.ndarray) -> dict[str, float]:
        w = np.exp(theta - theta.max())
        return dict(zip(names, w / w.sum()))

    result = minimize(lambda th: log_loss(weights_of(th)), np.zeros(len(names)), method="Nelder-Mead",
                      options={"xatol": 1e-4, "fatol": 1e-7, "maxiter": 4000})
    return {n: float(v) for n, v in weights_of(result.x).items()}


def _simplex_grid(k: int, steps: int):
    """Every k-vector of multiples of 1/steps that sums to one, in lexicographic order."""
    import itertools

    for combo in itertools.product(range(steps + 1), repeat=k):
        if sum(combo) == steps:
            yield np.asarray(combo, dtype=np.float64) / steps


def cross_validated_vote(probas: dict[str, np.ndarray], y: np.ndarray, folds: int = 5, seed: int = 0,
                         groups: np.ndarray | None = None, pooling: str = "arithmetic",
                         objective: str = "log_loss") -> np.ndarray:
    """Out-of-fold ensemble probabilities: weights fitted on the other folds' rows only.

    The honest estimate of a vote whose weights are fitted on the same split it is judged on. With
    ``groups`` (e.g. :func:`clip_runs`) no group straddles folds.
    """
    from genre_desktop.inference.ensemble import weighted_mean

    out = np.zeros_like(next(iter(probas.values())), dtype=np.float64)
    for fit_idx, held_idx in _folds(folds, seed, groups).split(out, y, groups):
        weights = fit_vote_weights({m: p[fit_idx] for m, p in probas.items()}, y[fit_idx], pooling, objective)
        out[held_idx] = weighted_mean({m: p[held_idx] for m, p in probas.items()}, weights, pooling)
    return out
