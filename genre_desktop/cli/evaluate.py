"""``evaluate``: accuracy, macro F1 and confusion of every model and the ensemble.

- ``evaluate --audio DIR [--json] [--bundled]``: every audio file under DIR, its true genre the name
  of the folder it sits in, through the same analysis as ``classify`` (the settings' windows, the
  active trained model with its own genres, or with ``--bundled`` the bundled models alone, to
  compare): accuracy, macro F1, recall per genre and confusion for every member, the user model
  and the ensemble. A folder names a genre by the genre identity the app uses everywhere
  (``Lo-fi/`` is the trained genre "lo-fi", ``Hip-Hop/`` the bundled "hiphop").
- ``evaluate --data DIR [--all] [--json]``: DIR has ``features_30_sec.csv`` and ``splits/``;
  evaluates each member and the ensemble on the table rows of DIR's test split (every row with
  ``--all``). A feature table has no audio, so only the members that read table features take
  part, with the manifest's ``feature_table_only`` weights; the output says which.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Iterable


from genre_desktop.cli.common import collect_files


def register(subparsers) -> None:
    e = subparsers.add_parser("evaluate", help="evaluate the models on a GTZAN-style feature table",
                              description="Evaluate every member and the ensemble on DIR's test split "
                                          "(DIR holds features_30_sec.csv and splits/).")
    source = e.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", type=Path, metavar="DIR", help="a GTZAN-style feature table folder")
    source.add_argument("--audio", type=Path, metavar="DIR",
                        help="audio files in folders named by their true genre (blues/, hip-hop/ ...)")
    e.add_argument("--all", action="store_true", help="evaluate on every row of the table, not the test split")
    e.add_argument("--json", action="store_true", help="print the figures as JSON")
    e.add_argument("--models", type=Path, default=None, help="models folder (default: the bundled models)")
    e.add_argument("--bundled", "--bundled-only", dest="bundled", action="store_true",
                   help="--audio: the bundled models alone, even if a trained model is active (to compare)")
    e.add_argument("--segments", type=int, default=None, metavar="N",
                   help="--audio: 30 s windows per track (default: the settings', as classify)")
    e.add_argument("--threads", type=int, default=None, help="onnxruntime threads (default: the settings')")
    e.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from genre_desktop.inference.manifest import ModelError  # numpy: only when the command runs

    if getattr(args, "audio", None) is not None:
        return cmd_evaluate_audio(args)
    from genre_desktop.inference.ensemble import Ensemble
    from genre_desktop.inference.inputs import CachedInputs
    from genre_desktop.inference.manifest import load_manifest
    from genre_desktop.training.evaluate import cache_members
    from genre_desktop.paths import bundled_models_dir
    from genre_desktop.training.classical import GTZAN_LABELS, load_feature_table, read_split

    table_path = args.data / "features_30_sec.csv"
    try:
        table = load_feature_table(table_path)
    except (OSError, ValueError, KeyError) as exc:
        print(f"error: cannot read {table_path}: {exc}", file=sys.stderr)
        return 2
    if args.all:
        print("note: --all evaluates every row, including any the models were trained on "
              "(the bundled models were fitted on the GTZAN train and valid rows)", file=sys.stderr)
    else:
        split = args.data / "splits" / "test_filtered.txt"
        try:
            wanted = read_split(split)
        except OSError as exc:
            print(f"error: cannot read the test split {split}: {exc}; use --all to evaluate every row",
                  file=sys.stderr)
            return 2
        table = table.subset(wanted)
        if len(table) == 0:
            print(f"error: {table_path} holds none of the {len(wanted)} clips of the test split {split}; "
                  f"nothing to evaluate (use --all to evaluate on every row of the table)", file=sys.stderr)
            return 2
        if len(table) < len(wanted):
            print(f"note: {len(table)} of the {len(wanted)} test-split clips are in the table; "
                  f"evaluating on those", file=sys.stderr)
    try:
        manifest = load_manifest(args.models or bundled_models_dir())
        members = cache_members(manifest, threads=0)
    except ModelError as exc:
        print(f"error: cannot load the models: {exc}", file=sys.stderr)
        return 2
    labels = manifest.labels
    missing = sorted(set(GTZAN_LABELS) - set(labels))
    if missing:
        print(f"error: the models do not know the table's genres {missing}", file=sys.stderr)
        return 2
    y = np.array([labels.index(GTZAN_LABELS[i]) for i in table.y], dtype=np.int64)
    # A table has features, no audio: only the classical members can run on it.
    ensemble = Ensemble(members, manifest.feature_table_weights, labels, _table_pooling(manifest))
    probas = ensemble.member_probas(CachedInputs(table.X))
    used = [m for m in probas if manifest.feature_table_weights.get(m, 0.0) > 0]
    results = {name: _scores(p, y, labels) for name, p in probas.items()}
    results["ensemble"] = _scores(ensemble.vote(probas), y, labels)  # one row per clip: no window combination
    if args.json:
        print(json.dumps({"labels": labels, "n": len(table), "rows": "all" if args.all else "test",
                          "members_used": used, "model_version": manifest.version, "models": results},
                         indent=2))
        return 0
    print(f"{len(table)} rows ({'all rows' if args.all else 'test split'}) of {table_path}; "
          f"models {manifest.version}")
    print(f"ensemble over the feature-table members: "
          + ", ".join(f"{m} {manifest.feature_table_weights[m]:.3f}" for m in used))
    for name, r in results.items():
        print(f"\n{name}: accuracy {r['accuracy']:.3f}, macro F1 {r['macro_f1']:.3f}")
        print(_confusion_text(r["confusion"], labels))
    return 0


def _table_pooling(manifest) -> str:
    """The pooling of the table-only vote (it may differ from the audio ensemble's)."""
    return str(manifest.raw.get("ensemble", {}).get("feature_table_only_pooling", manifest.pooling))


def _scores(proba: np.ndarray, y: np.ndarray, labels: list[str]) -> dict:
    import numpy as np
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

    pred = np.argmax(proba, axis=1)
    idx = list(range(len(labels)))
    return {
        "accuracy": float(accuracy_score(y, pred)),
        "macro_f1": float(f1_score(y, pred, labels=idx, average="macro", zero_division=0)),
        "confusion": confusion_matrix(y, pred, labels=idx).tolist(),
    }


def _confusion_text(confusion: list[list[int]], labels: list[str]) -> str:
    """Rows: true genre; columns: predicted genre (abbreviated)."""
    head = " " * 11 + " ".join(f"{lab[:5]:>5}" for lab in labels)
    lines = [head] + [f"{lab:>10} " + " ".join(f"{v:5d}" for v in row) for lab, row in zip(labels, confusion)]
    return "\n".join(lines)


# -- evaluate --audio ----------------------------------------------------------------------------
# Audio benchmark (issue 12): every file under DIR through the same Analyzer path as ``classify``.

def genre_of_folder(folder: str, labels: Iterable[str] = ()) -> str:
    """The label a folder's name states, by the one genre identity: the one of ``labels`` that is the
    same genre ("Hip-Hop", "hip hop" -> "hiphop"; "Heavy Metal" -> "metal"), else the name as a
    model label (training's class name: "hiphop", "drum and bass")."""
    from genre_desktop.core.genre import canonical_genre
    from genre_desktop.training.dataset import class_name

    identity = canonical_genre(folder)
    for label in labels:
        if canonical_genre(label) == identity:
            return label
    return class_name(folder)


def labelled_audio(root: str | os.PathLike, labels: list[str]) -> tuple[list[tuple[str, str]], list[str]]:
    """(path, true genre) for every supported audio file under ``root`` whose folder names one of
    ``labels`` (by genre identity: "Lo-fi" is a trained "lo-fi", "Hip-Hop" the bundled "hiphop"),
    sorted, the genre spelt as the label; and the files skipped because their folder names no genre
    of ``labels``."""
    found, skipped = [], []
    for path in collect_files([str(root)]):
        genre = genre_of_folder(os.path.basename(os.path.dirname(path)), labels)
        (found.append((path, genre)) if genre in labels else skipped.append(path))
    return found, skipped


def audio_scores(truth: list[str], predicted: list[str], labels: list[str]) -> dict:
    """accuracy, macro F1 and recall over the genres that occur in ``truth``; the confusion matrix
    over all ``labels`` (rows: true genre, columns: predicted genre)."""
    import numpy as np
    from sklearn.metrics import confusion_matrix, f1_score, recall_score

    present = [g for g in labels if g in set(truth)]
    recall = recall_score(truth, predicted, labels=present, average=None, zero_division=0)
    return {
        "accuracy": float(np.mean([t == p for t, p in zip(truth, predicted)])) if truth else 0.0,
        "macro_f1": float(f1_score(truth, predicted, labels=present, average="macro", zero_division=0)),
        "confusion": confusion_matrix(truth, predicted, labels=labels).tolist(),
        "recall": {g: float(r) for g, r in zip(present, recall)},
    }


def evaluate_audio(analyzer, files: list[tuple[str, str]], progress=None) -> dict:
    """Analyse each (path, genre) with ``analyzer`` and score every member and the ensemble.

    The ensemble's answer is the top genre of the prediction; a member's is the top of its own
    distribution (``Prediction.models``). Files that fail to analyse are listed, not scored."""
    truth: list[str] = []
    answers: dict[str, list[str]] = {}
    failed = []
    for i, (path, genre) in enumerate(files):
        result = analyzer.analyze(path)
        prediction = getattr(result, "prediction", result)  # Analysis or a bare Prediction
        if progress is not None:
            progress(i + 1, len(files), path)
        if prediction.error:
            failed.append({"path": path, "error": prediction.error})
            continue
        truth.append(genre)
        answers.setdefault("ensemble", []).append(prediction.genres[0][0])
        for member, dist in prediction.models.items():
            answers.setdefault(member, []).append(max(dist.items(), key=lambda kv: kv[1])[0])
    labels = list(analyzer.labels)
    models = {m: audio_scores(truth, answers[m], labels) for m in sorted(answers, key=lambda m: (m == "ensemble", m))}
    return {"labels": labels, "n": len(truth), "model_version": analyzer.model_version, "models": models,
            "failed": failed}


def _which(analyzer) -> str:
    """Which models an evaluation ran, in words."""
    user = getattr(analyzer, "user_model", None)
    if user is None:
        return "the bundled models alone"
    return (f"your trained model {user.version} with the bundled models, as classify runs them; "
            "--bundled for the bundled models alone")


def cmd_evaluate_audio(args: argparse.Namespace) -> int:
    """``evaluate --audio DIR [--json] [--bundled]``: exit 0, 1 if some file failed, 2 if nothing could be
    scored."""
    from genre_desktop.cli.classify import classify_spec
    from genre_desktop.inference.manifest import ModelError

    if not os.path.isdir(args.audio):
        print(f"error: {args.audio} is not a folder", file=sys.stderr)
        return 2
    try:
        # What classify runs (the active trained model too, unless --bundled); scores only: the
        # networks the vote reads, no taggers.
        analyzer = classify_spec(args).with_(tag_networks=()).build()
    except ModelError as exc:
        print(f"error: cannot load the models: {exc}", file=sys.stderr)
        return 2
    files, skipped = labelled_audio(args.audio, list(analyzer.labels))
    if skipped:
        folders = sorted({os.path.basename(os.path.dirname(p)) for p in skipped})
        shown = ", ".join(f"{f}/" for f in folders[:8]) + (f" and {len(folders) - 8} more" if len(folders) > 8 else "")
        print(f"note: {len(skipped)} file{'s' if len(skipped) != 1 else ''} skipped: {shown} name{'s' if len(folders) == 1 else ''} "
              f"no genre these models know ({_which(analyzer)})", file=sys.stderr)
    if not files:
        print(f"error: no audio files in genre folders under {args.audio} "
              f"(folders are named by genre: {', '.join(analyzer.labels)})", file=sys.stderr)
        return 2

    def progress(i: int, n: int, path: str) -> None:
        if not args.json:
            print(f"\r{i}/{n}", end="", file=sys.stderr, flush=True)

    report = evaluate_audio(analyzer, files, progress)
    if not args.json:
        print(file=sys.stderr)
    if report["n"] == 0:
        print("error: no file could be analysed", file=sys.stderr)
        return 2
    report["models_used"] = _which(analyzer)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"{report['n']} files under {args.audio}; models {report['model_version']} ({_which(analyzer)})")
        for name, r in report["models"].items():
            print(f"\n{name}: accuracy {r['accuracy']:.3f}, macro F1 {r['macro_f1']:.3f}")
            print("  recall: " + ", ".join(f"{g} {v:.2f}" for g, v in r["recall"].items()))
            print(_confusion_text(r["confusion"], report["labels"]))
        for f in report["failed"]:
            print(f"FAILED {f['path']}: {f['error']}")
    return 1 if report["failed"] else 0
