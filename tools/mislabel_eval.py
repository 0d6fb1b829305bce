#!/usr/bin/env python
"""Fit and measure the library map's mislabel score on GTZAN libraries with planted wrong tags.

The score (``genre_desktop/training/mislabels.py``) is the estimated chance that a track's label
is wrong, from the bundled models' distribution and the track's nearest labelled neighbours. This
tool fits its calibration and measures its flags, keeping the valid clips for judging only.

1. Vectors: every train and valid clip of ``shared/data/gtzan/audio`` through the app's own path
   (``Analyzer`` with a vector cache, the settings' default windows), cached in ``--cache``.
2. Model evidence as a librarian's files would get it, from models that never heard the track:
   the bundle's voting members refitted with their bundled hyperparameters (the classical members
   on the feature TABLE's train rows, the embedding head on the train clips' cached statistics) and
   voted with the manifest's weights and pooling.

   - a train clip's distribution comes from members fitted without its artist block (grouped folds
     over the train clips: out of fold);
   - a valid clip's from members fitted on all of train (valid artists are never in train).

   The shipped bundle learnt from all 281 clips, so its own answers here would flatter the score
   (``--shipped`` shows how much); members of a kind that cannot be refitted from the cache are left
   out of the vote (said in the output).
3. Planting: a share (``--rate``, 10 %) of the tracks get a wrong genre: ``random`` slips take
   another track's genre (common genres most often), ``near`` slips the genre of one of the track's
   nearest differently-tagged tracks (a similar-sounding genre: the slip neighbours see worst).
   Calibration plantings alternate the two; each is judged apart.
4. Calibration, on libraries of the TRAIN clips only (``--fit-seeds`` plantings): the neighbour
   settings (``k``, space) with the lowest log-loss over plantings held out, then the logistic
   models, printed as the ``CALIBRATION`` block of ``mislabels.py``. The valid clips play no part.
5. Judging (``--judge-seeds`` plantings, other seeds): a library of all 281 clips; precision and
   recall of the flags (score >= the threshold) counted on the 92 VALID clips, pooled over the
   plantings, at several thresholds; the same for the neighbours alone (a genre the models do not
   know), the models alone, and the map's previous rule (the neighbours' majority). Also other
   shares of wrong tags (the score re-estimates each library's share) and a library of the valid
   clips alone.

The test split is never read (its audio is absent anyway).

The data (clips, vectors, refitted members, planting) are in ``tools/mislabel_data.py``.

Usage: GENRE_DESKTOP_GTZAN=/path/to/shared/data/gtzan nice python tools/mislabel_eval.py [--cache DIR]
[--out FILE.json] [--shipped] (GENRE_DESKTOP_GTZAN only when it is not beside the checkout)
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
import warnings
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

from genre_desktop.training import mislabels as M  # noqa: E402
from mislabel_data import (AUDIO, MODES, SEED, Refit, clip_vectors, clips, honest_probas,  # noqa: E402
                           plant, similar_genres)

log = logging.getLogger("mislabel_eval")

THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7)
OTHER_RATES = (0.02, 0.05, 0.2)  # judged too: the score re-estimates each library's share
K_CHOICES = (5, 10, 20)
SPACES = ("stats", "all")


def evidence_rows(tags: list[str], vectors: np.ndarray, proba: np.ndarray | None, labels: list[str], k: int,
                  space: str) -> list:
    return M.gather(tags, vectors, proba, labels if proba is not None else (), k, space)


def fit_logistic(X: np.ndarray, y: np.ndarray) -> tuple[float, ...]:
    from sklearn.linear_model import LogisticRegression

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LogisticRegression(C=1.0, max_iter=2000).fit(X, y)
    return (float(model.intercept_[0]), *map(float, model.coef_[0]))


def log_loss(p: np.ndarray, y: np.ndarray) -> float:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def design(evs: list, with_model: bool) -> np.ndarray:
    rows = []
    for ev in evs:
        f = ev.features()
        rows.append(f if with_model else f[-2:])
    return np.array(rows)


def calibrate(genres: list[str], vectors: np.ndarray, proba: np.ndarray, labels: list[str], rate: float,
              seeds: list[int]) -> dict:
    """Neighbour settings by log-loss on held-out plantings, then both logistic models on all of them."""
    plantings = []
    similar = similar_genres(genres, vectors)
    for n, s in enumerate(seeds):  # both kinds of slip, alternately
        plantings.append(plant(genres, rate, np.random.default_rng(s), MODES[n % 2], similar))
    choice = {}
    for k in K_CHOICES:
        for space in SPACES:
            rows = [(evidence_rows(t, vectors, proba, labels, k, space), w) for t, w in plantings]
            half = len(rows) // 2
            result = {}
            for with_model in (True, False):
                Xa = np.concatenate([design(e, with_model) for e, _ in rows[:half]])
                ya = np.concatenate([w for _, w in rows[:half]])
                Xb = np.concatenate([design(e, with_model) for e, _ in rows[half:]])
                yb = np.concatenate([w for _, w in rows[half:]])
                coef = fit_logistic(Xa, ya)
                p = 1 / (1 + np.exp(-(coef[0] + Xb @ np.array(coef[1:]))))
                result["with_model" if with_model else "neighbours_only"] = log_loss(p, yb)
            choice[(k, space)] = result
            log.info("k=%d space=%s: held-out log-loss with model %.4f, neighbours only %.4f", k, space,
                     result["with_model"], result["neighbours_only"])
    best = min(choice, key=lambda key: choice[key]["with_model"] + choice[key]["neighbours_only"])
    k, space = best
    rows = [(evidence_rows(t, vectors, proba, labels, k, space), w) for t, w in plantings]
    y = np.concatenate([w for _, w in rows])
    calibration = {
        "with_model": fit_logistic(np.concatenate([design(e, True) for e, _ in rows]), y),
        "neighbours_only": fit_logistic(np.concatenate([design(e, False) for e, _ in rows]), y),
    }
    return {"k": k, "space": space, "calibration": calibration,
            "choices": {f"k={a} space={b}": v for (a, b), v in choice.items()}}


# -- judging --------------------------------------------------------------------------------------

def old_rule(tags: list[str], vectors: np.ndarray) -> np.ndarray:
    """The map's previous flag: the neighbours' majority genre differs (training/library_map before)."""
    from sklearn.neighbors import NearestNeighbors
    from sklearn.preprocessing import StandardScaler

    Z = StandardScaler().fit_transform(vectors)
    smallest = min(Counter(tags).values())
    k = min(10, len(tags) - 1, max(3, smallest - 1))
    _, idx = NearestNeighbors(n_neighbors=k + 1).fit(Z).kneighbors(Z)
    scores = np.zeros(len(tags))
    for row in range(len(tags)):
        near = [tags[j] for j in idx[row] if j != row][:k]
        genre, count = Counter(near).most_common(1)[0]
        if genre != tags[row] and count * 2 > len(near):
            scores[row] = count / len(near)
    return scores


def counts_at(scores: np.ndarray, wrong: np.ndarray, judged: np.ndarray, threshold: float) -> np.ndarray:
    flagged = (scores >= threshold) & judged
    return np.array([np.sum(flagged & wrong), np.sum(flagged & ~wrong), np.sum(~flagged & wrong & judged)])


def summary(c: np.ndarray, per_seed: list[np.ndarray]) -> dict:
    tp, fp, fn = (int(x) for x in c)
    precision = tp / (tp + fp) if tp + fp else float("nan")
    recall = tp / (tp + fn) if tp + fn else float("nan")
    recalls = [s[0] / (s[0] + s[2]) for s in per_seed if s[0] + s[2]]
    precisions = [s[0] / (s[0] + s[1]) for s in per_seed if s[0] + s[1]]
    return {"flagged": tp + fp, "true_flags": tp, "false_flags": fp, "missed": fn,
            "precision": round(precision, 4), "recall": round(recall, 4),
            "per_planting_precision_p10_p90": [round(float(np.percentile(precisions, q)), 3) for q in (10, 90)]
            if precisions else None,
            "per_planting_recall_p10_p90": [round(float(np.percentile(recalls, q)), 3) for q in (10, 90)]
            if recalls else None}


def judge(genres: list[str], vectors: np.ndarray, proba: np.ndarray, labels: list[str], judged: np.ndarray,
          rate: float, seeds: list[int], calibration: dict, k: int, space: str, mode: str) -> dict:
    methods = ("score", "neighbours only", "models only", "previous rule (neighbours' majority)")
    totals = {(m, t): np.zeros(3, dtype=int) for m in methods for t in THRESHOLDS}
    per_seed = {(m, t): [] for m in methods for t in THRESHOLDS}
    bins = np.zeros((10, 2))  # reliability on the judged tracks: sum of scores, number wrong, per decile
    bin_n = np.zeros(10)
    similar = similar_genres(genres, vectors)
    for s in seeds:
        tags, wrong = plant(genres, rate, np.random.default_rng(s), mode, similar)
        evs = evidence_rows(tags, vectors, proba, labels, k, space)
        scores = {
            "score": M.adapt_to_library(np.array([M.log_odds(ev, calibration) for ev in evs]))[0],
            "neighbours only": M.adapt_to_library(np.array([M.log_odds(_no_model(ev), calibration)
                                                            for ev in evs]))[0],
            "models only": np.array([1.0 - ev.model_label for ev in evs]),
            "previous rule (neighbours' majority)": old_rule(tags, vectors),
        }
        for m, sc in scores.items():
            for t in THRESHOLDS:
                c = counts_at(sc, wrong, judged, t)
                totals[(m, t)] += c
                per_seed[(m, t)].append(c)
        sc = scores["score"][judged]
        b = np.minimum((sc * 10).astype(int), 9)
        for i in range(10):
            bins[i] += [sc[b == i].sum(), wrong[judged][b == i].sum()]
            bin_n[i] += np.sum(b == i)
    out = {m: {f"{t:.1f}": summary(totals[(m, t)], per_seed[(m, t)]) for t in THRESHOLDS} for m in methods}
    out["reliability"] = [{"scores": f"{i / 10:.1f}-{(i + 1) / 10:.1f}", "tracks": int(bin_n[i]),
                           "mean_score": round(bins[i, 0] / bin_n[i], 3) if bin_n[i] else None,
                           "share_wrong": round(bins[i, 1] / bin_n[i], 3) if bin_n[i] else None}
                          for i in range(10)]
    return out


def _no_model(ev):
    from dataclasses import replace

    return replace(ev, model_known=False)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--audio", type=Path, default=AUDIO)
    ap.add_argument("--cache", type=Path, default=Path("/tmp/mislabel_eval_cache"),
                    help="vector cache folder (reused between runs)")
    ap.add_argument("--rate", type=float, default=0.10, help="share of planted wrong tags")
    ap.add_argument("--fit-seeds", type=int, default=40)
    ap.add_argument("--judge-seeds", type=int, default=200)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--shipped", action="store_true",
                    help="also judge with the shipped bundle's answers (it learnt from these clips: flattering)")
    ap.add_argument("--out", type=Path, default=None, help="write every figure as JSON here")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    started = time.monotonic()
    train, valid = clips(args.audio, "train"), clips(args.audio, "valid")
    train_v = clip_vectors(train, args.cache, args.threads)
    valid_v = clip_vectors(valid, args.cache, args.threads)
    refit = Refit(train, train_v)
    if refit.left_out:
        log.warning("members left out of the refitted vote (cannot be refitted from the cache): %s", refit.left_out)
    saved = args.cache / f"refit-{refit.manifest.version}-{len(train)}-{len(valid)}.npz"
    if saved.is_file():  # the refits take minutes; the same bundle and clips give the same answers
        with np.load(saved) as d:
            p_train, p_valid = d["train"], d["valid"]
    else:
        p_train, p_valid = honest_probas(refit, train_v, valid_v)
        np.savez(saved, train=p_train, valid=p_valid)
    labels = refit.labels
    tg, vg = [g for _, g, _ in train], [g for _, g, _ in valid]
    Xt = np.stack([v.map_vector for v in train_v]).astype(np.float64)
    Xv = np.stack([v.map_vector for v in valid_v]).astype(np.float64)
    accuracy = {"train out of fold": float(np.mean(np.array(labels)[p_train.argmax(1)] == np.array(tg))),
                "valid": float(np.mean(np.array(labels)[p_valid.argmax(1)] == np.array(vg)))}
    log.info("refitted vote accuracy: %s", accuracy)

    fitted = calibrate(tg, Xt, p_train, labels, args.rate, [SEED + i for i in range(args.fit_seeds)])
    k, space, calibration = fitted["k"], fitted["space"], fitted["calibration"]
    log.info("calibration (k=%d, space=%s): %s", k, space, calibration)

    judge_seeds = [SEED + 10_000 + i for i in range(args.judge_seeds)]
    everything = tg + vg
    X_all = np.vstack([Xt, Xv])
    p_all = np.vstack([p_train, p_valid])
    judged_valid = np.r_[np.zeros(len(tg), bool), np.ones(len(vg), bool)]
    judged = {}
    for mode in MODES:
        for rate in sorted({args.rate, *OTHER_RATES}):
            name = f"{mode} slips, {rate:.0%} wrong; library of all 281 clips, counted on the 92 valid"
            seeds = judge_seeds if rate == args.rate else judge_seeds[: len(judge_seeds) // 2]
            judged[name] = judge(everything, X_all, p_all, labels, judged_valid, rate, seeds, calibration, k, space,
                                 mode)
        judged[f"{mode} slips, {args.rate:.0%} wrong; library of the 92 valid clips"] = judge(
            vg, Xv, p_valid, labels, np.ones(len(vg), bool), args.rate, judge_seeds, calibration, k, space, mode)
    result = {
        "clips": {"train": len(train), "valid": len(valid)}, "rate": args.rate,
        "members_voting": refit.weights, "members_left_out": refit.left_out,
        "refitted_vote_accuracy": accuracy, "neighbours": {"k": k, "space": space},
        "calibration": calibration, "calibration_choices": fitted["choices"],
        "judged": judged,
    }
    if args.shipped:
        from genre_desktop.training.evaluate import BundledPredictor

        shipped = BundledPredictor(threads=args.threads)
        p_shipped = shipped.predict(train_v + valid_v)
        for mode in MODES:
            result["judged"][f"{mode} slips; shipped bundle (learnt from these clips: flattering)"] = judge(
                everything, X_all, p_shipped, list(shipped.labels), judged_valid, args.rate, judge_seeds[:50],
                calibration, k, space, mode)
    result["seconds"] = round(time.monotonic() - started, 1)
    print(f"\nneighbours: k={k}, space={space}; refitted vote accuracy {accuracy}")
    print("CALIBRATION: dict[str, tuple[float, ...]] = {")
    for name, coef in calibration.items():
        print(f'    "{name}": ({", ".join(f"{c:.4f}" for c in coef)}),')
    print("}")
    for library, methods in result["judged"].items():
        print(f"\n{library}")
        for method, by_t in methods.items():
            if method == "reliability":
                continue
            for t, s in by_t.items():
                if t not in ("0.5", "0.7"):
                    continue
                print(f"  {method:<38} >= {t}: precision {s['precision']:.3f}  recall {s['recall']:.3f}  "
                      f"({s['true_flags']} right, {s['false_flags']} wrong flags, {s['missed']} missed)")
        print("  reliability: " + ", ".join(f"{b['scores']}: {b['mean_score']} vs {b['share_wrong']} ({b['tracks']})"
                                            for b in methods["reliability"] if b["tracks"]))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
