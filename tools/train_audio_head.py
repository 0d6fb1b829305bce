#!/usr/bin/env python
"""Train the audio member: a genre head on the statistics of the musicnn MSD network's outputs.

Input: the cache of ``tools/extract_audio_vectors.py`` (every 3 s patch of every clip through both
networks, computed by the app's own decoding and patching). The head reads the MSD network only:
the app runs one network per window by default (issue 14: the two cost 139 ms of a ~340 ms
window), so statistics of the MTT network are measured for reference but cannot be chosen.
Steps, fixed seeds throughout:

1. ablation of the statistics vector (which of the MSD embedding's mean / max / std and the tag
   scores' mean earn their place) with a logistic regression over a C grid and two ways of
   building its training rows (``window``: one row per clip over the app's patches; ``pairs``:
   one row per pair of the clip's 3 s patches, the clip weighing 1 in total), by 5-fold
   cross-validation on the TRAIN audio grouped by artist proxy (blocks of ten clip numbers within
   a genre), repeated over ``REPEATS`` fold seeds; classes balanced (coverage is uneven). Held
   clips are always judged on the app's patches;
2. the classifier family on the best statistics sets (logistic regression; RBF SVM with sigmoid
   calibration; a one-hidden-layer MLP), same CV; the pick maximises CV accuracy + macro F1;
3. patches per window (1, 2, 4, all): the chosen head trained and judged with that many patches
   (evenly spread, as the app picks them), CV on train and judged on valid;
4. the chosen head fitted on train, judged on VALID (accuracy, macro F1, recall per genre,
   confusion): artists it never heard;
5. refit on train+valid, exported to ONNX (onnxruntime must match predict_proba to 1e-5).

Writes ``models/audio_head.onnx``, ``models/audio_head.json`` (figures, the chosen configuration)
and ``/work/cache/audio_head_choice.json`` (read by ``tools/train_ensemble.py``).

Usage: nice python tools/train_audio_head.py [--cache FILE] [--out models/] [--patches N]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

from audio_data import DEFAULT_CACHE, AudioSet, grouped_folds, load  # noqa: E402
from genre_desktop.fsutil import atomic_write_bytes, atomic_write_json  # noqa: E402
from genre_desktop.training import classical as C  # noqa: E402

log = logging.getLogger("train_audio_head")

SEED = 20151
REPEATS = 5  # 2 fold seeds spread ~0.02, more than the gaps between the top candidates
FOLDS = 5
CHOICE_PATH = Path("/work/cache/audio_head_choice.json")

MSD, MTT = "musicnn_msd", "musicnn_mtt"
STAT_SETS: dict[str, list[str]] = {  # the choice: the MSD network only (see the docstring)
    "msd_emb_mean": [f"{MSD}.embedding.mean"],
    "msd_emb_mean_max": [f"{MSD}.embedding.mean", f"{MSD}.embedding.max"],
    "msd_emb_mean_std": [f"{MSD}.embedding.mean", f"{MSD}.embedding.std"],
    "msd_emb_mean_tags": [f"{MSD}.embedding.mean", f"{MSD}.tags.mean"],
    "msd_emb_mean_max_tags": [f"{MSD}.embedding.mean", f"{MSD}.embedding.max", f"{MSD}.tags.mean"],
}
REFERENCE_SETS: dict[str, list[str]] = {  # measured to state the cost of one network; never chosen
    "both_emb_mean": [f"{MSD}.embedding.mean", f"{MTT}.embedding.mean"],
}
ALL_SETS = {**STAT_SETS, **REFERENCE_SETS}
LOGREG_C = [0.01, 0.03, 0.1, 0.3, 1.0]
MODES = ["window", "pairs"]  # training rows (audio_data.AudioSet.training_rows); pairs only at 2 patches
SVM_GRID = [{"C": c, "gamma": "scale"} for c in (1.0, 10.0)]
MLP_GRID = [{"hidden": h, "alpha": a} for h, a in ((64, 1.0), (128, 3.0), (64, 10.0))]
PATCH_COUNTS = [1, 2, 4, None]  # None: every patch (10 in a 30 s window)


def build_head(family: str, seed: int = SEED, **params):
    """Unfitted pipeline: standardise, then a logistic regression, a calibrated SVM or an MLP.

    Class balance comes from :func:`fit_head`'s sample weights (logreg, MLP) or the SVM's own
    ``class_weight``; ``mode`` in ``params`` is how the training rows are built, not a model
    parameter, and is ignored here."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    if family == "logreg":
        clf = LogisticRegression(C=params["C"], max_iter=5000)
    elif family == "svm":
        # 3 internal folds: disco has a single train clip; Platt scaling survives ONNX, isotonic does not
        clf = CalibratedClassifierCV(SVC(kernel="rbf", C=params["C"], gamma=params["gamma"],
                                         class_weight="balanced", random_state=seed),
                                     method="sigmoid", cv=StratifiedKFold(3, shuffle=True, random_state=seed),
                                     ensemble=False)
    elif family == "mlp":
        clf = MLPClassifier(hidden_layer_sizes=(params["hidden"],), alpha=params["alpha"], max_iter=500,
                            random_state=seed)
    else:
        raise ValueError(family)
    return Pipeline([("scale", StandardScaler()), ("clf", clf)])


def balanced_weights(y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Row weights giving every class present the same total (as ``class_weight="balanced"``),
    each clip's rows sharing its weight ``w``."""
    totals = np.bincount(y, weights=w, minlength=len(C.GTZAN_LABELS))
    return w * (w.sum() / (len(np.unique(y)) * totals[y]))


def fit_head(family: str, params: dict, X: np.ndarray, y: np.ndarray, w: np.ndarray | None = None,
             seed: int = SEED):
    """:func:`build_head` fitted on rows ``X, y`` (clip weights ``w``, default 1 each), balanced."""
    w = np.ones(len(y)) if w is None else np.asarray(w, dtype=np.float64)
    model = build_head(family, seed, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tiny classes in a fold's internal calibration CV, lbfgs
        if family == "svm":
            return model.fit(X, y)
        return model.fit(X, y, clf__sample_weight=balanced_weights(y, w))


def head_rows(data: AudioSet, clips: np.ndarray, stats: list[str], patches: int | None, params: dict):
    """The training rows of ``clips`` for a head with ``params`` (``mode``: window or pairs)."""
    return data.training_rows(clips, stats, patches, params.get("mode", "window"))


def oof_proba(family: str, params: dict, rows: tuple, X_app: np.ndarray, y: np.ndarray, groups: np.ndarray,
              seed: int) -> np.ndarray:
    """Out-of-fold probabilities (10 columns) over grouped folds with fold seed ``seed``: fitted on
    the fold's training ``rows`` (X, y, w, clip over positions 0..n-1), judged on ``X_app``."""
    Xr, yr, wr, owner = rows
    out = np.zeros((len(y), len(C.GTZAN_LABELS)))
    for fit, held in grouped_folds(y, groups, FOLDS, seed):
        sel = np.isin(owner, fit)
        model = fit_head(family, params, Xr[sel], yr[sel], wr[sel], seed)
        out[held] = C.full_proba(model, X_app[held])
    return out


def scores(proba: np.ndarray, y: np.ndarray) -> dict:
    """accuracy, macro F1, log-loss, recall per genre and confusion of ``proba`` against ``y``."""
    from sklearn.metrics import confusion_matrix, recall_score

    from sklearn.metrics import f1_score

    pred = proba.argmax(axis=1)
    present = sorted(set(y.tolist()))
    # Macro F1 over the genres that occur: valid has no pop clip, and a genre with no clip would
    # add an F1 of 0 to the mean whatever the model does.
    s = {"accuracy": float(np.mean(pred == y)),
         "macro_f1": float(f1_score(y, pred, labels=present, average="macro", zero_division=0))}
    s["log_loss"] = float(-np.mean(np.log(np.clip(proba[np.arange(len(y)), y], 1e-12, None))))
    idx = list(range(len(C.GTZAN_LABELS)))
    rec = recall_score(y, pred, labels=idx, average=None, zero_division=0)
    present = set(y.tolist())
    s["recall"] = {g: (float(r) if i in present else None) for i, (g, r) in enumerate(zip(C.GTZAN_LABELS, rec))}
    s["confusion"] = confusion_matrix(y, pred, labels=idx).tolist()
    s["n"] = int(len(y))
    return s


def cv_figure(family: str, params: dict, rows: tuple, X_app: np.ndarray, y: np.ndarray,
              groups: np.ndarray) -> dict:
    """Mean over ``REPEATS`` fold seeds of the grouped-CV figures (and their spread)."""
    runs = [scores(oof_proba(family, params, rows, X_app, y, groups, SEED + r), y) for r in range(REPEATS)]
    out = {k: float(np.mean([r[k] for r in runs])) for k in ("accuracy", "macro_f1", "log_loss")}
    out["accuracy_runs"] = [r["accuracy"] for r in runs]
    out["macro_f1_runs"] = [r["macro_f1"] for r in runs]
    return out


def _key(fig: dict) -> float:
    return fig["accuracy"] + fig["macro_f1"]


def _train_rows(data: AudioSet, stats: list[str], patches: int | None, mode: str):
    """Rows of the train clips with clip positions 0..n-1 (the folds index the train clips)."""
    tr = np.flatnonzero(data.mask("train"))
    Xr, yr, wr, owner = data.training_rows(tr, stats, patches, mode)
    return Xr, yr, wr, np.searchsorted(tr, owner)


def choose(data: AudioSet, patches: int | None) -> dict:
    tr = data.mask("train")
    y, groups = data.y[tr], data.groups[tr]
    modes = MODES if patches == 2 else ["window"]
    ablation: dict[str, dict] = {}
    done = _load_checkpoint(patches)
    for set_name, stats in ALL_SETS.items():
        if set_name in done:
            ablation[set_name] = done[set_name]
            continue
        X_app = data.stats(stats, patches)[tr]
        grid = {}
        for mode in modes if set_name in STAT_SETS else ["window"]:
            rows = _train_rows(data, stats, patches, mode)
            for c in LOGREG_C:
                grid[f"{mode}/C={c}"] = ({"mode": mode, "C": c}, cv_figure("logreg", {"C": c}, rows, X_app, y, groups))
        best = max(grid, key=lambda k: _key(grid[k][1]))
        params, fig = grid[best]
        ablation[set_name] = {"dims": int(X_app.shape[1]), "best_C": float(params["C"]), "best_mode": params["mode"],
                              "eligible": set_name in STAT_SETS, **fig,
                              "by_C": {k: {m: f[m] for m in ("accuracy", "macro_f1", "log_loss")}
                                       for k, (_, f) in grid.items()}}
        log.info("ablation %-22s d=%4d %s acc %.3f F1 %.3f ll %.3f", set_name, X_app.shape[1], best,
                 fig["accuracy"], fig["macro_f1"], fig["log_loss"])
        _save_checkpoint(patches, ablation)
    eligible = [s for s in ablation if s in STAT_SETS]
    top = sorted(eligible, key=lambda s: -_key(ablation[s]))[:2]
    svm_failures: list[dict] = []
    candidates = [{"family": "logreg", "stats_set": s,
                   "params": {"C": ablation[s]["best_C"], "mode": ablation[s]["best_mode"]}, "cv": ablation[s]}
                  for s in eligible]
    for set_name in top:
        X_app = data.stats(STAT_SETS[set_name], patches)[tr]
        rows = _train_rows(data, STAT_SETS[set_name], patches, "window")
        for params in SVM_GRID:
            try:
                fig = cv_figure("svm", params, rows, X_app, y, groups)
            except ValueError as exc:
                # Platt scaling needs internal folds with every class in them; disco has ONE train
                # clip, so a calibrated SVM cannot be fitted on this train split at all.
                svm_failures.append({"stats_set": set_name, "params": params, "error": str(exc)})
                log.info("svm %-20s %s cannot be fitted: %s", set_name, params, exc)
                continue
            candidates.append({"family": "svm", "stats_set": set_name, "params": params, "cv": fig})
            log.info("svm %-20s %s acc %.3f F1 %.3f ll %.3f", set_name, params, fig["accuracy"],
                     fig["macro_f1"], fig["log_loss"])
        for params in MLP_GRID:
            fig = cv_figure("mlp", params, rows, X_app, y, groups)
            candidates.append({"family": "mlp", "stats_set": set_name, "params": params, "cv": fig})
            log.info("mlp %-20s %s acc %.3f F1 %.3f ll %.3f", set_name, params, fig["accuracy"],
                     fig["macro_f1"], fig["log_loss"])
    best = max(candidates, key=lambda c: _key(c["cv"]))
    return {"ablation": ablation, "svm": [c for c in candidates if c["family"] == "svm"],
            "mlp": [c for c in candidates if c["family"] == "mlp"],
            "svm_failures": svm_failures, "chosen": best}


CHECKPOINT = Path("/work/cache/audio_head_ablation_msd.json")


def _load_checkpoint(patches: int | None) -> dict:
    """Ablation figures of an interrupted run with the same settings (the slow part: minutes)."""
    if not CHECKPOINT.exists():
        return {}
    saved = json.loads(CHECKPOINT.read_text(encoding="utf-8"))
    same = saved.get("settings") == _settings(patches)
    return saved.get("ablation", {}) if same else {}


def _save_checkpoint(patches: int | None, ablation: dict) -> None:
    atomic_write_json(CHECKPOINT, {"settings": _settings(patches), "ablation": ablation}, indent=1)


def _settings(patches: int | None) -> dict:
    return {"patches": patches, "C": LOGREG_C, "repeats": REPEATS, "folds": FOLDS, "seed": SEED,
            "sets": ALL_SETS, "modes": MODES, "version": 3}


def fit_and_judge(data: AudioSet, family: str, stats: list[str], params: dict, patches: int | None):
    """The head fitted on train and judged on valid: (model, valid proba, figures)."""
    tr, va = np.flatnonzero(data.mask("train")), np.flatnonzero(data.mask("valid"))
    Xr, yr, wr, _ = head_rows(data, tr, stats, patches, params)
    model = fit_head(family, params, Xr, yr, wr)
    proba = C.full_proba(model, data.stats(stats, patches)[va])
    return model, proba, scores(proba, data.y[va])


INPUT_NAME = "embedding_stats"  # the input name of an embedding_head member (inference/members.py)


def to_onnx(model, n_features: int) -> bytes:
    """ONNX with input ``embedding_stats`` float32 [None, n] and output ``probabilities`` [None, 10]."""
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType

    clf = model.steps[-1][1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        onx = convert_sklearn(model, name="audio_head", initial_types=[(INPUT_NAME, FloatTensorType([None, n_features]))],
                              options={id(clf): {"zipmap": False}}, target_opset={"": 17, "ai.onnx.ml": 3})
    return onx.SerializeToString()


def onnx_proba(onnx_bytes: bytes, X: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(onnx_bytes, opts, providers=["CPUExecutionProvider"])
    (proba,) = sess.run(["probabilities"], {INPUT_NAME: np.asarray(X, dtype=np.float32)})
    return np.asarray(proba, dtype=np.float64)


def check_onnx(model, onnx_bytes: bytes, X: np.ndarray, atol: float = 1e-5) -> float:
    """Largest |onnxruntime - predict_proba| on float32-rounded X; AssertionError above ``atol``."""
    X32 = np.asarray(X, dtype=np.float32).astype(np.float64)
    diff = float(np.max(np.abs(onnx_proba(onnx_bytes, X32) - C.full_proba(model, X32))))
    if diff > atol:
        raise AssertionError(f"ONNX probabilities differ from predict_proba by {diff:.3g} (> {atol})")
    return diff


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--out", type=Path, default=ROOT / "models")
    parser.add_argument("--patches", type=int, default=2,
                        help="patches per window the head is chosen and exported for (0 = all; default 2, the app's)")
    parser.add_argument("--reuse", action="store_true",
                        help="keep the ablation and choice of the last run (models/audio_head.json)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    started = time.monotonic()
    data = load(args.cache)
    patches = args.patches or None
    log.info("%d clips: %d train, %d valid; %d artist blocks", len(data.y), data.mask("train").sum(),
             data.mask("valid").sum(), len(set(data.groups)))
    if args.reuse:  # the search's figures do not depend on the judging below; skip the slow part
        old = json.loads((args.out / "audio_head.json").read_text(encoding="utf-8"))
        chosen = {"family": old["family"], "stats_set": old["stats_set"], "params": old["params"],
                  "cv": old["cv"]["chosen"]}
        choice = {"ablation": old["ablation"], "svm": old["svm"], "mlp": old.get("mlp", []),
                  "svm_failures": old.get("svm_failures", []), "chosen": chosen}
    else:
        choice = choose(data, patches)
    best = choice["chosen"]
    family, stats, params = best["family"], STAT_SETS[best["stats_set"]], best["params"]
    log.info("chose %s on %s %s: cv %s", family, best["stats_set"], params,
             {k: round(best["cv"][k], 3) for k in ("accuracy", "macro_f1")})

    # Patches per window: the chosen configuration trained and judged with that many patches.
    # Pair rows exist only for 2-patch windows; other counts train on their own windows.
    tr = data.mask("train")
    by_patches = {}
    for n in PATCH_COUNTS:
        p_n = params if n == 2 else {**params, "mode": "window"}
        X = data.stats(stats, n)[tr]
        cv = cv_figure(family, p_n, _train_rows(data, stats, n, p_n.get("mode", "window")), X, data.y[tr],
                       data.groups[tr])
        _, _, valid = fit_and_judge(data, family, stats, p_n, n)
        by_patches[str(n or "all")] = {"cv": {k: cv[k] for k in ("accuracy", "macro_f1", "log_loss")},
                                       "valid": {k: valid[k] for k in ("accuracy", "macro_f1", "log_loss")}}
        log.info("patches %s: cv acc %.3f F1 %.3f; valid acc %.3f F1 %.3f", n or "all", cv["accuracy"],
                 cv["macro_f1"], valid["accuracy"], valid["macro_f1"])

    _, valid_proba, valid = fit_and_judge(data, family, stats, params, patches)
    log.info("valid (fitted on train): acc %.3f F1 %.3f recall %s", valid["accuracy"], valid["macro_f1"],
             {g: (None if r is None else round(r, 2)) for g, r in valid["recall"].items()})

    # Refit on train+valid and export.
    X = data.stats(stats, patches)
    Xr, yr, wr, _ = head_rows(data, np.arange(len(data.y)), stats, patches, params)
    final = fit_head(family, params, Xr, yr, wr)
    onnx_bytes = to_onnx(final, X.shape[1])
    diff = check_onnx(final, onnx_bytes, X)
    args.out.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(args.out / "audio_head.onnx", onnx_bytes)
    log.info("exported %s (%d bytes, max |onnx - sklearn| %.2g)", args.out / "audio_head.onnx", len(onnx_bytes), diff)

    report = {
        "family": family, "stats_set": best["stats_set"], "stats": stats, "params": params,
        "patches_per_window": patches or 0, "input_dims": int(X.shape[1]),
        "cv": {"scheme": f"StratifiedGroupKFold({FOLDS}, shuffle) on the train audio, groups = blocks of 10 "
                         f"clip numbers within a genre, mean of {REPEATS} fold seeds from {SEED}",
               "chosen": {k: best["cv"][k] for k in ("accuracy", "macro_f1", "log_loss")}},
        "ablation": choice["ablation"], "svm": choice["svm"], "svm_failures": choice.get("svm_failures", []),
        "mlp": choice.get("mlp", []), "reference_sets": sorted(REFERENCE_SETS),
        "by_patches": by_patches,
        "valid": valid, "valid_note": "fitted on the train audio (189 clips), judged on the valid audio (92 clips)",
        "fitted_on": {"splits": ["train", "valid"], "clips": int(len(data.y))},
        "onnx_max_abs_diff": diff, "onnx_bytes": len(onnx_bytes), "seed": SEED,
        "wall_time_seconds": round(time.monotonic() - started, 1),
    }
    atomic_write_json(args.out / "audio_head.json", report, indent=2)
    atomic_write_json(CHOICE_PATH, {"family": family, "stats": stats, "params": params,
                                    "patches_per_window": patches or 0}, indent=2)
    log.info("wrote %s and %s (%.0f s)", args.out / "audio_head.json", CHOICE_PATH, report["wall_time_seconds"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
