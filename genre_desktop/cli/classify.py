"""``classify FILE|DIR... [--json] [--top K] [--segments N] [--bundled]``: predict genres.

Directories are walked recursively for supported extensions. With ``--json`` one JSON array, an
object per file (``Prediction.to_dict``); a file that cannot be analysed gets ``error`` and the
others go on. Exit code 0 if every file was analysed, 1 if any failed, 2 if the models cannot be
loaded. ``--bundled`` runs the bundled models even where a trained model is active;
``model_version`` in the output says which ran.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from genre_desktop.cli.common import collect_files, workspace


def register(subparsers) -> None:
    p = subparsers.add_parser("classify", help="predict the genre of audio files",
                              description="Predict the genre of audio files with the bundled models.")
    p.add_argument("paths", nargs="+", metavar="FILE|DIR", help="audio files or folders (searched recursively)")
    p.add_argument("--json", action="store_true", help="print one JSON array, an object per file")
    p.add_argument("--top", type=int, default=3, metavar="K", help="genres to list per file (default 3)")
    p.add_argument("--segments", type=int, default=None, metavar="N",
                   help="30 s segments analysed per track (default: the settings', 5 unless changed)")
    p.add_argument("--threads", type=int, default=None,
                   help="onnxruntime threads (0 = all cores; default: the settings')")
    p.add_argument("--models", type=Path, default=None, help="models folder (default: the bundled models)")
    p.add_argument("--bundled", "--bundled-only", dest="bundled", action="store_true",
                   help="use the bundled models even if a trained model is active (model_version says which ran)")
    p.set_defaults(func=run)


def classify_spec(args: argparse.Namespace):
    """What ``classify`` analyses with: the workspace's AnalysisSpec (the window's: the active
    user model, the settings' segments and threads), with the command line's overrides."""
    changes = {"vector_cache_dir": None}  # classify prints its results; it stores nothing
    if args.segments is not None:
        changes["n_segments"] = args.segments
    if args.threads is not None:
        changes["threads"] = args.threads
    if args.models is not None:  # exactly the models of that folder: a user model mixes with the bundled ones only
        changes["models_dir"] = str(args.models)
        changes["user_model_dir"] = None
    if args.bundled:
        changes["user_model_dir"] = None
    ws = workspace(args)
    problem = None if args.bundled or args.models is not None else ws.user_model_problem()
    if problem:
        print(f"warning: {problem}", file=sys.stderr)
    return ws.analysis_spec().with_(**changes)


def run(args: argparse.Namespace) -> int:
    from genre_desktop.core.prediction import Prediction
    from genre_desktop.inference.manifest import ModelError  # numpy: only when a command runs

    try:
        analyzer = classify_spec(args).build()
    except ModelError as exc:
        print(f"error: cannot load the models: {exc}", file=sys.stderr)
        return 2
    results = []
    for path in collect_files(args.paths):
        if not os.path.exists(path):
            prediction = Prediction.failed(path, "no such file or directory")
        else:
            prediction = analyzer.analyze(path).prediction  # classify keeps no vector cache
        if args.top > 0:
            prediction.genres = prediction.genres[: args.top]
        results.append(prediction)
        if not args.json:
            _print_prediction(prediction)
    if args.json:
        print(json.dumps([json_record(p) for p in results], indent=2))
    return 1 if any(p.error for p in results) else 0


def json_record(p) -> dict:
    """``Prediction.to_dict`` with ``broad`` and ``content`` always present ([] and null when the
    analysis did not tell them), so a script reads every object the same way."""
    record = p.to_dict()
    record.setdefault("broad", [])
    record.setdefault("content", None)
    return record


def _print_prediction(p) -> None:
    if p.error:
        print(f"{p.path}\n  ERROR: {p.error}")
        return
    print(p.path)
    if not p.is_music:
        print(f"  {p.content}: a music genre does not apply")
    print("  " + ", ".join(f"{g} {prob:.2f}" for g, prob in p.genres))
    if p.broad:
        print("  broad: " + ", ".join(f"{b.genre}{' (' + ' > '.join(b.path) + ')' if b.path else ''} {b.probability:.2f}"
                                      for b in p.broad))
    for seg in p.segments:
        top = max(seg.genres.items(), key=lambda kv: kv[1])
        print(f"  {seg.start:7.1f}-{seg.end:7.1f} s  {top[0]} {top[1]:.2f}")
    if p.tags:
        print("  tags: " + ", ".join(f"{t} {s:.2f}" for t, s in list(p.tags.items())[:5]))
    sys.stdout.flush()
