#!/usr/bin/env python
"""Train the audio member: a genre head on the statistics of the bundled musicnn networks' outputs.

Input: the cache of ``tools/extract_audio_vectors.py`` (every 3 s patch of every clip through both
networks, computed by the app's own decoding and patching). Steps, fixed seeds throughout:

1. ablation of the statistics vector (which of the embeddings' mean / max / std and the tag
   scores' mean, of which network, earn their place) with a logistic regression, by 5-fold
   cross-validation on the TRAIN audio grouped by artist proxy (blocks of ten clip numbers within
   a genre), repeated over ``REPEATS`` fold seeds; balanced class weights (coverage is uneven);
2. the classifier family and its hyperparameters (logistic regression; RBF SVM with sigmoid
   calibration) on the best statistics sets, same CV; the pick maximises CV accuracy + macro F1;
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
REPEATS = 2
FOLDS = 5
CHOICE_PATH = Path("/work/cache/audio_head_choice.json")

MSD, MTT = "musicnn_msd", "musicnn_mtt"
STAT_SETS: dict[str, list[str]] = {
    "msd_emb_mean": [f"{MSD}.embedding.mean"],
    "msd_emb_mean_max": [f"{MSD}.embedding.mean", f"{MSD}.embedding.max"],
    "msd_emb_mean_tags": [f"{MSD}.embedding.mean", f"{MSD}.tags.mean"],
    "msd_emb_mean_std": [f"{MSD}.embedding.mean", f"{MSD}.embedding.std"],
    "mtt_emb_mean": [f"{MTT}.embedding.mean"],
    "both_emb_mean": [f"{MSD}.embedding.mean", f"{MTT}.embedding.mean"],
    "both_emb_mean_tags": [f"{MSD}.embedding.mean", f"{MTT}.embedding.mean", f"{MSD}.tags.mean", f"{MTT}.tags.mean"],
    "both_emb_mean_max": [f"{MSD}.embedding.mean", f"{MSD}.embedding.max", f"{MTT}.embedding.mean",
                          f"{MTT}.embedding.max"],
    "both_all": [f"{MSD}.embedding.mean", f"{MSD}.embedding.max", f"{MTT}.embedding.mean", f"{MTT}.embedding.max",
                 f"{MSD}.tags.mean", f"{MTT}.tags.mean"],
}
LOGREG_C = [0.01, 0.1, 1.0]  # kept short: two shared cores
SVM_GRID = [{"C": c, "gamma": "scale"} for c in (1.0, 10.0)]
PATCH_COUNTS = [1, 2, 4, None]  # None: every patch (10 in a 30 s window)


def build_head(family: str, seed: int = SEED, **params):
    """Unfitted pipeline: standardise, then a class-weighted logistic regression or calibrated SVM."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    if family == "logreg":
        clf = LogisticRegression(C=params["C"], class_weight="balanced", max_iter=5000)
    elif family == "svm":
        # 3 internal folds: disco has a single train clip; Platt scaling survives ONNX, isotonic does not
        clf = CalibratedClassifierCV(SVC(kernel="rbf", C=params["C"], gamma=params["gamma"],
                                         class_weight="balanced", random_state=seed),
                                     method="sigmoid", cv=StratifiedKFold(3, shuffle=True, random_state=seed),
                                     ensemble=False)
    else:
        raise ValueError(family)
    return Pipeline([("scale", StandardScaler()), ("clf", clf)])


def oof_proba(family: str, params: dict, X: np.ndarray, y: np.ndarray, groups: np.ndarray,
              seed: int) -> np.ndarray:
    """Out-of-fold probabilities (10 columns) over grouped folds with fold seed ``seed``."""
    out = np.zeros((len(y), len(C.GTZAN_LABELS)))
    for fit, held in grouped_folds(y, groups, FOLDS, seed):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tiny classes in a fold's internal calibration CV
            model = build_head(family, seed, **params).fit(X[fit], y[fit])
        out[held] = C.full_proba(model, X[held])
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


def cv_figure(family: str, params: dict, X: np.ndarray, y: np.ndarray, groups: np.ndarray) -> dict:
    """Mean over ``REPEATS`` fold seeds of the grouped-CV figures (and their spread)."""
    runs = [scores(oof_proba(family, params, X, y, groups, SEED + r), y) for r in range(REPEATS)]
    out = {k: float(np.mean([r[k] for r in runs])) for k in ("accuracy", "macro_f1", "log_loss")}
    out["accuracy_runs"] = [r["accuracy"] for r in runs]
    out["macro_f1_runs"] = [r["macro_f1"] for r in runs]
    return out


def _key(fig: dict) -> float:
    return fig["accuracy"] + fig["macro_f1"]


def choose(data: AudioSet, patches: int | None) -> dict:
    tr = data.mask("train")
    y, groups = data.y[tr], data.groups[tr]
    ablation: dict[str, dict] = {}
    done = _load_checkpoint(patches)
    for set_name, stats in STAT_SETS.items():
        if set_name in done:
            ablation[set_name] = done[set_name]
            continue
        X = data.stats(stats, patches)[tr]
        per_c = {str(c): cv_figure("logreg", {"C": c}, X, y, groups) for c in LOGREG_C}
        best_c = max(per_c, key=lambda c: _key(per_c[c]))
        ablation[set_name] = {"dims": int(X.shape[1]), "best_C": float(best_c), **per_c[best_c],
                              "by_C": {c: {k: f[k] for k in ("accuracy", "macro_f1", "log_loss")} for c, f in per_c.items()}}
        log.info("ablation %-20s d=%4d C=%s acc %.3f F1 %.3f ll %.3f", set_name, X.shape[1], best_c,
                 per_c[best_c]["accuracy"], per_c[best_c]["macro_f1"], per_c[best_c]["log_loss"])
        _save_checkpoint(patches, ablation)
    top = sorted(ablation, key=lambda s: -_key(ablation[s]))[:2]
    svm_failures: list[dict] = []
    candidates = [{"family": "logreg", "stats_set": s, "params": {"C": ablation[s]["best_C"]}, "cv": ablation[s]}
                  for s in ablation]
    for set_name in top:
        X = data.stats(STAT_SETS[set_name], patches)[tr]
        for params in SVM_GRID:
            try:
                fig = cv_figure("svm", params, X, y, groups)
            except ValueError as exc:
                # Platt scaling needs internal folds with every class in them; disco has ONE train
                # clip, so a calibrated SVM cannot be fitted on this train split at all.
                svm_failures.append({"stats_set": set_name, "params": params, "error": str(exc)})
                log.info("svm %-20s %s cannot be fitted: %s", set_name, params, exc)
                continue
            candidates.append({"family": "svm", "stats_set": set_name, "params": params, "cv": fig})
            log.info("svm %-20s %s acc %.3f F1 %.3f ll %.3f", set_name, params, fig["accuracy"],
                     fig["macro_f1"], fig["log_loss"])
    best = max(candidates, key=lambda c: _key(c["cv"]))
    return {"ablation": ablation, "svm": [c for c in candidates if c["family"] == "svm"],
            "svm_failures": svm_failures, "chosen": best}


CHECKPOINT = Path("/work/cache/audio_head_ablation.json")


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
            "sets": STAT_SETS}


def fit_and_judge(data: AudioSet, family: str, stats: list[str], params: dict, patches: int | None):
    """The head fitted on train and judged on valid: (model, valid proba, figures)."""
    tr, va = data.mask("train"), data.mask("valid")
    X = data.stats(stats, patches)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = build_head(family, SEED, **params).fit(X[tr], data.y[tr])
    proba = C.full_proba(model, X[va])
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
        choice = {"ablation": old["ablation"], "svm": old["svm"], "chosen": chosen}
    else:
        choice = choose(data, patches)
    best = choice["chosen"]
    family, stats, params = best["family"], STAT_SETS[best["stats_set"]], best["params"]
    log.info("chose %s on %s %s: cv %s", family, best["stats_set"], params,
             {k: round(best["cv"][k], 3) for k in ("accuracy", "macro_f1")})

    # Patches per window: the chosen configuration trained and judged with that many patches.
    tr = data.mask("train")
    by_patches = {}
    for n in PATCH_COUNTS:
        X = data.stats(stats, n)[tr]
        cv = cv_figure(family, params, X, data.y[tr], data.groups[tr])
        _, _, valid = fit_and_judge(data, family, stats, params, n)
        by_patches[str(n or "all")] = {"cv": {k: cv[k] for k in ("accuracy", "macro_f1", "log_loss")},
                                       "valid": {k: valid[k] for k in ("accuracy", "macro_f1", "log_loss")}}
        log.info("patches %s: cv acc %.3f F1 %.3f; valid acc %.3f F1 %.3f", n or "all", cv["accuracy"],
                 cv["macro_f1"], valid["accuracy"], valid["macro_f1"])

    _, valid_proba, valid = fit_and_judge(data, family, stats, params, patches)
    log.info("valid (fitted on train): acc %.3f F1 %.3f recall %s", valid["accuracy"], valid["macro_f1"],
             {g: (None if r is None else round(r, 2)) for g, r in valid["recall"].items()})

    # Refit on train+valid and export.
    X = data.stats(stats, patches)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        final = build_head(family, SEED, **params).fit(X, data.y)
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
