#!/usr/bin/env python
"""Ensemble v3: a weighted vote over every member, fitted on out-of-fold predictions of audio.

Members: the five classical models (the 57 table features, here as the app computes them from the
Opus audio), the audio head (``tools/train_audio_head.py``) and any extra member given with
``--extra NAME=FILE.npz`` (e.g. the CNN: arrays ``clip`` and ``proba`` [n, 10] holding out-of-fold
probabilities for the train clips, made with the folds in ``/work/cache/ensemble_folds.json``, and
probabilities of the model fitted on train for the valid clips; and, to enter the bundle's vote,
``proba_cv_all``: every clip out-of-fold over the train+valid grouped folds; see ``load_extra``).
A member only earns its place through the fitted weights: a weight near zero leaves it out.

Protocol (fixed seeds; the test split is never used):

1. folds: ``StratifiedGroupKFold(5)`` over the TRAIN audio clips, groups = artist-proxy blocks;
2. out-of-fold member probabilities on the train audio: each classical member refitted (with its
   bundled hyperparameters) on the feature TABLE's train rows outside the held fold's artist
   blocks; the head refitted on the train audio outside the fold;
3. the vote's pooling and weight objective chosen by cross-validating the weight fit over those
   out-of-fold rows; the weights then fitted on all of them (no weight set by hand);
4. VALID: members fitted on all of train (table train rows; train audio), the vote with those
   weights: a figure on artists that neither the members nor the weights saw. Beside it each
   member, and a bootstrap over the valid artist blocks of (ensemble - best member);
5. bundle: the same out-of-fold procedure over train+valid gives the weights written for the app
   (the bundled members are fitted on train+valid).

Writes ``models/ensemble_v3.json`` (every figure and the bundle's weights). The members (refitting,
out-of-fold probabilities) are ``tools/ensemble_members.py``, the vote (weight fitting, its
cross-validation, the bootstrap) ``tools/ensemble_vote.py``; this script runs the protocol.

Usage: nice python tools/train_ensemble.py [--cache FILE] [--extra cnn=FILE.npz]
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

from audio_data import DEFAULT_CACHE, AudioSet, load  # noqa: E402
from ensemble_members import FOLDS, SEED, Table, classical_members, load_extra, member_probas, out_of_fold  # noqa: E402
from ensemble_vote import bootstrap_diff, choose_vote, cross_validated_vote  # noqa: E402
from train_audio_head import CHOICE_PATH, scores  # noqa: E402
from genre_desktop.fsutil import atomic_write_json  # noqa: E402
from genre_desktop.inference.ensemble import weighted_mean  # noqa: E402
from genre_desktop.training import classical as C  # noqa: E402

log = logging.getLogger("train_ensemble")

DATA = ROOT.parent.parent / "shared" / "data" / "gtzan"
FOLDS_PATH = Path("/work/cache/ensemble_folds.json")
HEAD = "audio_head"
ENSEMBLE = "ensemble_v3"  # v3: the head reads the MSD network only (issue 14); see models/README.md


def bundled_on_valid(data: AudioSet, va: np.ndarray, hyper: dict, v1: dict) -> dict:
    """The bundled classical ONNX files (fitted on train+valid table rows) on the valid audio, and
    their v1 vote, beside their table-valid figures: how far the app's features from Opus audio
    move them. In-sample for these clips' table rows, so not a held-out figure."""
    metrics = json.loads((ROOT / "models" / "metrics.json").read_text(encoding="utf-8"))
    Xa = C.as_float32_inputs(data.features[va])
    probas = {m: C.onnx_proba((ROOT / "models" / f"{m}.onnx").read_bytes(), Xa).astype(np.float64) for m in hyper}
    out = {m: {"audio_valid": {k: v for k, v in scores(p, data.y[va]).items() if k != "confusion"},
               "table_valid_fitted_on_train": metrics["members"][m]["valid"],
               "table_valid_bundled": metrics["members"][m].get("bundled_on_valid_in_sample")}
           for m, p in probas.items()}
    ens = v1
    w = {m: v for m, v in ens["weights"].items() if m in probas and v > 0}
    out["ensemble_v1"] = {"audio_valid": {k: v for k, v in scores(weighted_mean({m: probas[m] for m in w}, w,
                                                                                ens["pooling"]), data.y[va]).items()
                                          if k != "confusion"},
                          "table_valid_cv": metrics["ensemble"]["valid"],
                          "table_valid_bundled": metrics["ensemble"].get("bundled_on_valid_in_sample")}
    out["note"] = ("bundled files were fitted on the table's train+valid rows, so these 92 valid clips' table rows "
                   "trained them: in-sample, the gap to table_valid_bundled is the cost of the app computing the "
                   "features from Opus audio (and of 16 kHz/15 s copies)")
    for m, f in out.items():
        if m != "note":
            log.info("bundled %-12s valid audio acc %.3f F1 %.3f", m, f["audio_valid"]["accuracy"],
                     f["audio_valid"]["macro_f1"])
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--extra", action="append", default=[], metavar="NAME=FILE.npz")
    parser.add_argument("--head", action="append", default=[], metavar="NAME=CHOICE.json",
                        help=f"a head member and its choice file (default: {HEAD}={CHOICE_PATH})")
    parser.add_argument("--zero-shot", action="store_true",
                        help="add the EfficientAT zero-shot genre scores (tools/train_efficientat_head.py)")
    parser.add_argument("--zero-shot-excerpts", type=int, default=1)
    parser.add_argument("--without", action="append", default=[], metavar="MEMBER",
                        help="leave a classical member out of the vote (e.g. knn)")
    parser.add_argument("--previous", type=Path, default=None, metavar="ENSEMBLE.json",
                        help="an earlier vote (its weights fitted on train OOF) to judge against on valid, "
                             "with the bootstrap over artist blocks (e.g. models/ensemble_v3.json)")
    parser.add_argument("--out", type=Path, default=ROOT / "models" / "ensemble_v3.json")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    started = time.monotonic()
    ens = args.out.stem  # ensemble_v3, ensemble_v4, ...: the vote's name in the figures
    data = load(args.cache)
    table = Table(args.data)
    heads = {}
    for spec in args.head or [f"{HEAD}={CHOICE_PATH}"]:
        name, path = spec.split("=", 1)
        heads[name] = json.loads(Path(path).read_text(encoding="utf-8"))
    head = heads.get(HEAD) or next(iter(heads.values()))
    hyper = {k: v for k, v in classical_members().items() if k not in args.without}
    fixed = {}
    if args.zero_shot:
        from train_efficientat_head import ZERO_SHOT, zero_shot_map, zero_shot_proba

        fixed[ZERO_SHOT] = zero_shot_proba(
            data.stats(["efficientat.scores.mean"], None, args.zero_shot_excerpts), zero_shot_map())
    extras = dict(load_extra(s, data) for s in args.extra)
    tr, va = np.flatnonzero(data.mask("train")), np.flatnonzero(data.mask("valid"))

    # 1-3: out-of-fold on train, the vote fitted there.
    oof, folds = out_of_fold(data, table, tr, {"train"}, hyper, heads, fixed)
    for name, p in extras.items():
        oof[name] = p["proba"][tr]
    atomic_write_json(FOLDS_PATH, {"seed": SEED, "train_folds_held_clips": [data.clip[tr][h].tolist() for _, h in folds]},
                      indent=1)
    oof_figures = {m: {k: v for k, v in scores(p, data.y[tr]).items() if k in ("accuracy", "macro_f1", "log_loss")}
                   for m, p in oof.items()}
    for m, f in oof_figures.items():
        log.info("out-of-fold on train %-9s acc %.3f F1 %.3f", m, f["accuracy"], f["macro_f1"])
    vote = choose_vote(oof, data.y[tr], data.groups[tr])
    log.info("vote on train OOF: %s %s", vote["pooling"], {k: round(v, 3) for k, v in vote["weights"].items()})

    # 4: valid, members fitted on all of train.
    valid_p = member_probas(data, table, tr, va, {"train"}, hyper, heads, fixed)
    for name, p in extras.items():
        valid_p[name] = p["proba"][va]
    yv = data.y[va]
    valid = {m: scores(p, yv) for m, p in valid_p.items()}
    ens_valid_p = weighted_mean(valid_p, vote["weights"], vote["pooling"])
    valid[ens] = scores(ens_valid_p, yv)
    best = max(valid_p, key=lambda m: (valid[m]["accuracy"], valid[m]["macro_f1"]))
    boot = bootstrap_diff(ens_valid_p, valid_p[best], yv, data.groups[va], SEED)
    # The classical vote of the previous bundle (metrics.json, not the manifest: that holds v2's weights).
    v1 = json.loads((ROOT / "models" / "metrics.json").read_text(encoding="utf-8"))["ensemble"]
    old_w = {m: w for m, w in v1["weights"].items() if m in hyper and w > 0}
    valid["ensemble_v1_classical"] = scores(weighted_mean({m: valid_p[m] for m in old_w}, old_w, v1["pooling"]), yv)
    bundled = bundled_on_valid(data, va, hyper, v1)
    previous = None
    if args.previous:
        # The earlier vote on the same members fitted on train: its weights were fitted on train
        # out-of-fold predictions too, so both votes are judged on valid artists neither saw.
        old = json.loads(args.previous.read_text(encoding="utf-8"))["vote_fitted_on_train_oof"]
        old_w = {m: w for m, w in old["weights"].items() if w > 0}
        missing = sorted(set(old_w) - set(valid_p))
        if missing:
            raise SystemExit(f"{args.previous}: members {missing} are not in this run")
        prev_p = weighted_mean({m: valid_p[m] for m in old_w}, old_w, old["pooling"])
        valid[args.previous.stem] = scores(prev_p, yv)
        previous = {"name": args.previous.stem, "weights": old["weights"], "pooling": old["pooling"],
                    "margin": {k: valid[ens][k] - valid[args.previous.stem][k] for k in ("accuracy", "macro_f1")},
                    "bootstrap_margin": bootstrap_diff(ens_valid_p, prev_p, yv, data.groups[va], SEED)}
        log.info("%s - %s on valid: %s", ens, args.previous.stem, previous["bootstrap_margin"])
    for m, f in valid.items():
        log.info("valid %-22s acc %.3f F1 %.3f", m, f["accuracy"], f["macro_f1"])
    log.info("ensemble - best member (%s) on valid: acc %+.3f F1 %+.3f; bootstrap %s", best,
             valid[ens]["accuracy"] - valid[best]["accuracy"],
             valid[ens]["macro_f1"] - valid[best]["macro_f1"], boot)

    # 5: the bundle's weights from out-of-fold predictions over train+valid.
    both = np.concatenate([tr, va])
    oof_all, _ = out_of_fold(data, table, both, {"train", "valid"}, hyper, heads, fixed)
    for name, p in extras.items():
        if "proba_cv_all" in p:
            oof_all[name] = p["proba_cv_all"][both]
        else:
            log.warning("%s has no proba_cv_all: left out of the bundle's vote", name)
    bundle_vote = choose_vote(oof_all, data.y[both], data.groups[both])
    nested_all = cross_validated_vote(oof_all, data.y[both], data.groups[both], bundle_vote["pooling"],
                                      bundle_vote["objective"])
    bundle_cv = scores(nested_all, data.y[both])
    # The valid clips' rows of that grouped CV: each judged by members and weights fitted without
    # its artist block, with the other valid artists in training (as in the bundle).
    is_valid = np.arange(len(both)) >= len(tr)
    cv_valid = {m: scores(p[is_valid], data.y[va]) for m, p in oof_all.items()}
    cv_valid[ens] = scores(nested_all[is_valid], data.y[va])
    cv_best = max(oof_all, key=lambda m: (cv_valid[m]["accuracy"], cv_valid[m]["macro_f1"]))
    cv_boot = bootstrap_diff(nested_all[is_valid], oof_all[cv_best][is_valid], data.y[va], data.groups[va], SEED)
    for m, f in cv_valid.items():
        log.info("grouped CV over train+valid, valid clips: %-12s acc %.3f F1 %.3f", m, f["accuracy"], f["macro_f1"])
    log.info("  ensemble - best member (%s): acc %+.3f F1 %+.3f; bootstrap %s", cv_best,
             cv_valid[ens]["accuracy"] - cv_valid[cv_best]["accuracy"],
             cv_valid[ens]["macro_f1"] - cv_valid[cv_best]["macro_f1"], cv_boot)
    log.info("bundle vote (train+valid OOF): %s %s; nested CV acc %.3f F1 %.3f", bundle_vote["pooling"],
             {k: round(v, 3) for k, v in bundle_vote["weights"].items()}, bundle_cv["accuracy"], bundle_cv["macro_f1"])

    report = {
        "members": list(oof),
        "head": head,
        "heads": heads,
        "zero_shot": sorted(fixed),
        "folds": f"StratifiedGroupKFold({FOLDS}, shuffle, seed {SEED}) over the clips, groups = blocks of 10 clip "
                 "numbers within a genre; classical members refitted on the feature table's rows outside the "
                 "held fold's blocks",
        "train_oof": oof_figures,
        "vote_fitted_on_train_oof": vote,
        "valid": valid,
        "bundled_classical_on_valid_audio": bundled,
        "valid_best_member": best,
        "valid_margin_over_best": {k: valid[ens][k] - valid[best][k] for k in ("accuracy", "macro_f1")},
        "valid_bootstrap_margin": boot,
        "valid_against_previous": previous,
        "valid_note": "members fitted on train (classical: the table's train rows; head: the train audio), vote "
                      "weights fitted on the train out-of-fold predictions; judged on the 92 valid clips' audio",
        "bundle": {**bundle_vote, "nested_cv_train_valid": {k: bundle_cv[k] for k in ("accuracy", "macro_f1", "log_loss",
                                                                                         "recall")},
                   "note": "weights fitted on out-of-fold predictions over all 281 clips; nested_cv_train_valid "
                           "cross-validates that weight fit (members out-of-fold, weights fitted on the other folds)"},
        "cv_train_valid_on_valid_clips": {
            "figures": cv_valid, "best_member": cv_best,
            "margin_over_best": {k: cv_valid[ens][k] - cv_valid[cv_best][k] for k in ("accuracy", "macro_f1")},
            "bootstrap_margin": cv_boot,
            "note": "grouped 5-fold CV over all 281 clips (members refitted per fold; vote weights fitted on the "
                    "other folds' out-of-fold rows); the rows of the 92 valid clips. Every valid clip is judged "
                    "by models that never saw its artist block, but other valid artists were in training, as "
                    "in the bundle; the head's configuration was chosen on train only"},
        "seed": SEED,
        "wall_time_seconds": round(time.monotonic() - started, 1),
    }
    atomic_write_json(args.out, report, indent=2)
    np.savez_compressed(f"/work/cache/{args.out.stem}_predictions.npz", clip=data.clip, train_idx=tr, valid_idx=va,
                        **{f"oof_{m}": p for m, p in oof.items()}, **{f"valid_{m}": p for m, p in valid_p.items()},
                        **{f"oofall_{m}": p for m, p in oof_all.items()}, oofall_ensemble=nested_all)
    log.info("wrote %s (%.0f s)", args.out, report["wall_time_seconds"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
