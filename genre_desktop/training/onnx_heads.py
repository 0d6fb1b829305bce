"""ONNX export of the models a user's head can be, with no converter package (see ``onnx_proto``).

A user model is a :mod:`training.heads` candidate: a pipeline of ``StandardScaler`` and
``LogisticRegression``, of ``StandardScaler`` and ``CalibratedClassifierCV(SVC, method="sigmoid")``,
or an ``XGBClassifier`` alone. Each is written as the arithmetic scikit-learn and XGBoost do:

- the scaler and the linear and SVM arithmetic run in double precision (input cast from float32),
  like scikit-learn's own float64 computation of the float32-rounded inputs, so the probabilities
  agree to float32 rounding (~1e-7), not merely to a converter's float32 tolerance;
- logistic regression: ``softmax(x W + b)`` (binary: ``[1 - s, s]`` with ``s = sigmoid(x w + b)``);
- the SVM: the one-vs-one decisions of libsvm from the RBF (or linear) kernel against the support
  vectors, scikit-learn's one-vs-rest transform of them (votes plus scaled summed confidences),
  each class's Platt sigmoid, then the normalisation ``CalibratedClassifierCV`` applies;
- XGBoost: its trees as an ``ai.onnx.ml`` ``TreeEnsembleRegressor`` summing every class's leaf
  values (float32 thresholds, ``x < threshold`` goes left, missing values follow the tree's
  default), plus the booster's base margin, then softmax (binary: sigmoid).

Outputs as the converters wrote them (``inference.user_model`` reads them by name): ``label``
int64 [N] (the argmax) and ``probabilities`` float32 [N, classes].
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from genre_desktop.training.onnx_proto import DOUBLE, FLOAT, INT64, Graph

INPUT_NAME = "features"


class UnsupportedModel(ValueError):
    """The pipeline holds an estimator this module cannot write (the converters may)."""


def supports(pipeline: Any) -> bool:
    try:
        _split(pipeline)
    except UnsupportedModel:
        return False
    return True


def export(pipeline: Any, n_features: int, name: str = "") -> bytes:
    """ONNX bytes of a fitted pipeline (see the module docstring); UnsupportedModel otherwise."""
    scalers, clf = _split(pipeline)
    g = Graph(name or type(clf).__name__)
    x = g.input(INPUT_NAME, FLOAT, [None, n_features])
    if _is_xgboost(clf):
        proba = _xgboost(g, x, clf, n_features)
    else:
        h = g.node("Cast", [x], to=DOUBLE)
        for scaler in scalers:
            h = _scale(g, h, scaler)
        if type(clf).__name__ == "LogisticRegression":
            proba = _logistic(g, h, clf)
        else:
            proba = _calibrated_svm(g, h, clf)
        proba = g.node("Cast", [proba], to=FLOAT)
    g.node("ArgMax", [proba], "label", axis=1, keepdims=0)
    g.node("Identity", [proba], "probabilities")
    g.output("label", INT64, [None])
    g.output("probabilities", FLOAT, [None, len(clf.classes_)])
    return g.model_bytes()


def _split(pipeline: Any) -> tuple[list[Any], Any]:
    steps = [step for _, step in getattr(pipeline, "steps", [("model", pipeline)]) if step not in (None, "passthrough")]
    if not steps:
        raise UnsupportedModel("an empty pipeline")
    *scalers, clf = steps
    for scaler in scalers:
        if type(scaler).__name__ != "StandardScaler":
            raise UnsupportedModel(f"a {type(scaler).__name__} step")
    if not np.array_equal(np.asarray(clf.classes_), np.arange(len(clf.classes_))):
        raise UnsupportedModel("classes other than 0..k-1")
    kind = type(clf).__name__
    if kind == "LogisticRegression" or _is_xgboost(clf):
        if _is_xgboost(clf) and scalers:
            raise UnsupportedModel("a scaler in front of XGBoost")
        return scalers, clf
    if kind == "CalibratedClassifierCV" and clf.method == "sigmoid":
        for calibrated in clf.calibrated_classifiers_:
            svc = calibrated.estimator
            if type(svc).__name__ != "SVC" or svc.kernel not in ("rbf", "linear"):
                raise UnsupportedModel(f"a calibrated {type(svc).__name__}")
            if not np.array_equal(svc.classes_, clf.classes_):  # a fold that lacked a class
                raise UnsupportedModel("a calibrated copy fitted on fewer classes")
        return scalers, clf
    raise UnsupportedModel(f"a {kind}")


def _is_xgboost(clf: Any) -> bool:
    return type(clf).__name__ == "XGBClassifier"


def _scale(g: Graph, h: str, scaler: Any) -> str:
    if scaler.mean_ is not None and scaler.with_mean:
        h = g.node("Sub", [h, g.const(scaler.mean_, np.float64)])
    if scaler.scale_ is not None and scaler.with_std:
        h = g.node("Div", [h, g.const(scaler.scale_, np.float64)])
    return h


def _logistic(g: Graph, h: str, clf: Any) -> str:
    z = g.node("Add", [g.node("MatMul", [h, g.const(clf.coef_.T, np.float64)]), g.const(clf.intercept_, np.float64)])
    if len(clf.classes_) > 2:
        return g.node("Softmax", [z], axis=1)
    p1 = g.node("Sigmoid", [z])  # [N, 1]
    return g.node("Concat", [g.node("Sub", [g.const([[1.0]], np.float64), p1]), p1], axis=1)


def _calibrated_svm(g: Graph, h: str, clf: Any) -> str:
    members = [_one_calibrated_svm(g, h, c, len(clf.classes_)) for c in clf.calibrated_classifiers_]
    proba = members[0]
    for other in members[1:]:
        proba = g.node("Add", [proba, other])
    if len(members) > 1:  # ensemble=True: the mean of the calibrated copies
        proba = g.node("Div", [proba, g.const(float(len(members)), np.float64)])
    return proba


def _kernel(g: Graph, h: str, svc: Any) -> str:
    """K(x, sv) for every support vector: [N, n_sv]."""
    sv = np.asarray(svc.support_vectors_, dtype=np.float64)
    dot = g.node("MatMul", [h, g.const(sv.T)])
    if svc.kernel == "linear":
        return dot
    # ||x - sv||^2 = ||x||^2 - 2 x.sv + ||sv||^2, then exp(-gamma d2) as libsvm.
    x2 = g.node("ReduceSum", [g.node("Mul", [h, h]), g.const([1], np.int64)], keepdims=1)
    d2 = g.node("Add", [g.node("Sub", [x2, g.node("Mul", [dot, g.const(2.0, np.float64)])]),
                        g.const((sv * sv).sum(axis=1))])
    return g.node("Exp", [g.node("Mul", [d2, g.const(-float(svc._gamma), np.float64)])])


def _one_calibrated_svm(g: Graph, h: str, calibrated: Any, n_classes: int) -> str:
    svc = calibrated.estimator
    k = len(svc.classes_)
    starts = np.concatenate([[0], np.cumsum(svc.n_support_)])
    dual = np.asarray(svc._dual_coef_, dtype=np.float64)  # libsvm's layout, before sklearn's binary sign flip
    pairs = [(i, j) for i in range(k) for j in range(i + 1, k)]
    # One column per one-vs-one classifier (libsvm's svm_predict_values): class i's support
    # vectors weighted by dual row j-1, class j's by dual row i, minus rho.
    coef = np.zeros((len(dual[0]), len(pairs)))
    for col, (i, j) in enumerate(pairs):
        coef[starts[i]:starts[i + 1], col] = dual[j - 1, starts[i]:starts[i + 1]]
        coef[starts[j]:starts[j + 1], col] = dual[i, starts[j]:starts[j + 1]]
    dec = g.node("Add", [g.node("MatMul", [_kernel(g, h, svc), g.const(coef)]),
                         g.const(np.asarray(svc._intercept_, dtype=np.float64))])
    if k == 2:
        scores = g.node("Neg", [dec])  # sklearn's binary decision_function flips libsvm's sign
    else:
        # sklearn's _ovr_decision_function(dec < 0, -dec, k): a vote for j where dec < 0, else
        # for i; the summed confidences (+dec for i, -dec for j), squashed into (-1/3, 1/3), are
        # added to the votes.
        to_i = np.zeros((len(pairs), k))
        to_j = np.zeros((len(pairs), k))
        for col, (i, j) in enumerate(pairs):
            to_i[col, i] = to_j[col, j] = 1.0
        negative = g.node("Cast", [g.node("Less", [dec, g.const(0.0, np.float64)])], to=DOUBLE)
        votes = g.node("Add", [g.node("MatMul", [negative, g.const(to_j - to_i)]), g.const(to_i.sum(axis=0))])
        confidence = g.node("MatMul", [dec, g.const(to_i - to_j)])
        squashed = g.node("Div", [confidence, g.node("Mul", [g.node("Add", [g.node("Abs", [confidence]),
                                                                               g.const(1.0, np.float64)]),
                                                             g.const(3.0, np.float64)])])
        scores = g.node("Add", [votes, squashed])
    a = np.array([c.a_ for c in calibrated.calibrators], dtype=np.float64)
    b = np.array([c.b_ for c in calibrated.calibrators], dtype=np.float64)
    p = g.node("Sigmoid", [g.node("Add", [g.node("Mul", [scores, g.const(-a)]), g.const(-b)])])
    if n_classes == 2:
        return g.node("Concat", [g.node("Sub", [g.const([[1.0]], np.float64), p]), p], axis=1)
    total = g.node("ReduceSum", [p, g.const([1], np.int64)], keepdims=1)
    zero = g.node("Equal", [total, g.const(0.0, np.float64)])
    uniform = g.const(np.full((1, n_classes), 1.0 / n_classes))
    return g.node("Where", [zero, uniform, g.node("Div", [p, total])])


def _xgboost(g: Graph, x: str, clf: Any, n_features: int) -> str:
    booster = clf.get_booster()
    model = json.loads(booster.save_raw(raw_format="json"))["learner"]["gradient_booster"]
    if model.get("name") != "gbtree":
        raise UnsupportedModel(f"an XGBoost {model.get('name')} booster")
    trees, tree_class = model["model"]["trees"], model["model"]["tree_info"]
    n_classes = len(clf.classes_)
    n_out = 1 if n_classes == 2 else n_classes
    nodes: dict[str, list[Any]] = {k: [] for k in ("treeids", "nodeids", "featureids", "values", "modes",
                                                   "truenodeids", "falsenodeids", "missing")}
    targets: dict[str, list[Any]] = {k: [] for k in ("treeids", "nodeids", "ids", "weights")}
    for t, tree in enumerate(trees):
        if any(tree.get("split_type", [])) or int(tree["tree_param"].get("size_leaf_vector", "1")) > 1:
            raise UnsupportedModel("XGBoost categorical splits or vector leaves")
        for n, (left, right) in enumerate(zip(tree["left_children"], tree["right_children"])):
            leaf = left == -1
            nodes["treeids"].append(t)
            nodes["nodeids"].append(n)
            nodes["featureids"].append(0 if leaf else int(tree["split_indices"][n]))
            nodes["values"].append(0.0 if leaf else float(np.float32(tree["split_conditions"][n])))
            nodes["modes"].append("LEAF" if leaf else "BRANCH_LT")
            nodes["truenodeids"].append(0 if leaf else int(left))
            nodes["falsenodeids"].append(0 if leaf else int(right))
            nodes["missing"].append(0 if leaf else int(tree["default_left"][n]))
            if leaf:  # a leaf's value sits in split_conditions
                targets["treeids"].append(t)
                targets["nodeids"].append(n)
                targets["ids"].append(int(tree_class[t]) if n_out > 1 else 0)
                targets["weights"].append(float(np.float32(tree["split_conditions"][n])))
    margin = g.node(
        "TreeEnsembleRegressor", [x], domain="ai.onnx.ml", n_targets=n_out, aggregate_function="SUM",
        post_transform="NONE",
        nodes_treeids=nodes["treeids"], nodes_nodeids=nodes["nodeids"], nodes_featureids=nodes["featureids"],
        nodes_values=nodes["values"], nodes_modes=nodes["modes"], nodes_truenodeids=nodes["truenodeids"],
        nodes_falsenodeids=nodes["falsenodeids"], nodes_missing_value_tracks_true=nodes["missing"],
        target_treeids=targets["treeids"], target_nodeids=targets["nodeids"], target_ids=targets["ids"],
        target_weights=targets["weights"])
    margin = g.node("Add", [margin, g.const(_base_margin(booster, nodes, targets, n_out, n_features), np.float32)])
    if n_classes > 2:
        return g.node("Softmax", [margin], axis=1)
    p1 = g.node("Sigmoid", [margin])
    return g.node("Concat", [g.node("Sub", [g.const([[1.0]], np.float32), p1]), p1], axis=1)


def _base_margin(booster: Any, nodes: dict[str, list[Any]], targets: dict[str, list[Any]], n_out: int,
                 n_features: int) -> np.ndarray:
    """The margin XGBoost adds to the trees' sum (its base score, in margin space; one per class).

    Read off the booster itself rather than from its saved ``base_score`` (whose meaning and shape
    changed across XGBoost versions): its margin for a row of zeros minus the trees' sum there.
    """
    from xgboost import DMatrix

    row = np.zeros((1, n_features), dtype=np.float32)
    total = np.asarray(booster.predict(DMatrix(row), output_margin=True), dtype=np.float64).reshape(-1)
    tree_ids = np.asarray(nodes["treeids"])
    reached = {}  # tree -> the leaf the row reaches (node ids are 0..n-1 in order within a tree)
    for t in np.unique(tree_ids):
        first = int(np.flatnonzero(tree_ids == t)[0])
        at = 0
        while nodes["modes"][first + at] != "LEAF":
            i = first + at
            branch = row[0, nodes["featureids"][i]] < np.float32(nodes["values"][i])
            at = nodes["truenodeids"][i] if branch else nodes["falsenodeids"][i]
        reached[int(t)] = at
    summed = np.zeros(n_out)
    for t, n, target, weight in zip(targets["treeids"], targets["nodeids"], targets["ids"], targets["weights"]):
        if reached[t] == n:
            summed[target] += weight
    return (total - summed).astype(np.float32).reshape(1, n_out)
