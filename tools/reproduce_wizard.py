"""Reproduce the training wizard's figure on held-out artists, end to end through the CLI.

1. A library in a temporary folder: a copy of every TRAIN clip of ``shared/data/gtzan/audio``
   (the shared files are never written), each tagged with mutagen: ``genre`` = its GTZAN genre,
   ``artist`` = an artist proxy, ``<genre>-<clip number // 10>`` (blocks of consecutive clips; the
   split is artist-filtered, so valid artists never appear in train whatever the proxy says).
2. ``genre-desktop-cli scan`` and ``train --trust-existing <genres> --activate`` in a private
   ``GENRE_DESKTOP_HOME``: the librarian who trusts the tags; the trainer fits the user/bundled mix
   weight ``w`` on its own held-out tracks (read back from the user model's manifest).
3. Held-out artists: every VALID clip (no valid artist is in train) through the Analyzer with the
   activated model (the real path from file to genre), the bundled ensemble on the same tracks'
   cached vectors (the whole bundle runs there), and, as a diagnostic only (nothing is chosen by
   it), the valid accuracy over a grid of ``w``.
4. Which representation the user heads should learn from: the trainer's own grouped CV
   (``training.heads.cross_validate``) on the train clips' cached vectors, for the feature table +
   head statistics, the head statistics alone, table + MSD embedding (the old vectors) and the table
   alone.

Caveat and its remedy: the bundled audio head is refit on train+valid audio, so every GTZAN clip
here trained the bundle, and both the trainer's held-out tracks and the valid clips flatter it.
``--train-only-head`` runs the same reproduction against a copy of the app whose bundled head is
refit on the TRAIN audio only (same family, statistics and parameters: ``tools/train_audio_head``;
the table members and the ensemble weights are kept, they learnt from the feature table's rows and
out-of-fold predictions of train+valid, a smaller leak), so valid is held out for the bundle too.

The test split is never read (its audio is absent anyway). Run once; it decodes and analyses 281
clips (a few minutes on one core)::

    PYTHONPATH=$PWD python tools/reproduce_wizard.py [--out report.json]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

AUDIO = Path(__file__).resolve().parents[2] / "shared" / "data" / "gtzan" / "audio"


def clips(audio: Path, split: str) -> list[tuple[str, str, Path]]:
    """(clip id, genre, file) of ``split`` (train or valid only)."""
    assert split in ("train", "valid")
    out = []
    with open(audio / "clips.csv", newline="") as f:
        for row in csv.DictReader(f):
            if row["split"] == split:
                matches = sorted((audio / row["genre"]).glob(row["clip"] + ".*"))
                if matches:
                    out.append((row["clip"], row["genre"], matches[0]))
    return out


def artist_proxy(clip: str, genre: str) -> str:
    return f"{genre}-{int(clip.split('.')[-1]) // 10}"


def build_library(train: list, folder: Path) -> None:
    import mutagen

    for clip, genre, src in train:
        dst = folder / genre / src.name
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
        f = mutagen.File(dst)
        f["genre"] = [genre]
        f["artist"] = [artist_proxy(clip, genre)]
        f["title"] = [clip]
        f.save()


def cli(*args: str, env: dict, cwd: Path | None = None) -> str:
    cmd = [sys.executable, "-m", "genre_desktop.cli", *args]
    print("$", " ".join(cmd[2:]), flush=True)
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=cwd)
    print(done.stdout, done.stderr, sep="", flush=True)
    if done.returncode:
        raise SystemExit(f"{cmd} failed ({done.returncode})")
    return done.stdout


def scores(true: list[str], proba: np.ndarray, labels: list[str]) -> dict:
    from sklearn.metrics import f1_score

    pred = [labels[i] for i in np.asarray(proba).argmax(axis=1)]
    genres = sorted(set(true))
    return {"accuracy": float(np.mean([p == t for p, t in zip(pred, true)])),
            "macro_f1": float(f1_score(true, pred, labels=genres, average="macro", zero_division=0)),
            "recall": {g: float(np.mean([p == g for p, t in zip(pred, true) if t == g])) for g in genres}}


def representations(vectors: list, genres: list[str], groups: list[str], threads: int) -> dict:
    """The trainer's grouped CV (best candidate) on each candidate representation of the tracks."""
    from genre_desktop.training.heads import cross_validate

    labels = sorted(set(genres))
    y = np.array([labels.index(g) for g in genres])
    _, g = np.unique(groups, return_inverse=True)
    table = np.stack([v.feature_mean for v in vectors])
    stats = np.stack([v.stats_mean for v in vectors])
    msd = np.stack([v.embedding_mean for v in vectors])
    out = {}
    for name, X in (("table+head_stats", np.hstack([table, stats])), ("head_stats", stats),
                    ("table+msd (old vectors)", np.hstack([table, msd])), ("table", table)):
        ranked = cross_validate(X.astype(np.float64), y, g, len(labels), folds=5, seed=0, n_jobs=threads)
        best = ranked[0]
        out[name] = {"dims": int(X.shape[1]), "chosen": best.name, "cv_accuracy": best.accuracy,
                     "cv_macro_f1": best.macro_f1, "cv_log_loss": best.log_loss,
                     "all": {s.name: [round(s.accuracy, 4), round(s.macro_f1, 4)] for s in ranked}}
        print(f"CV {name:<26} {X.shape[1]:4d} dims: {best.name}: accuracy {best.accuracy:.3f}, "
              f"macro F1 {best.macro_f1:.3f}", flush=True)
    return out


def train_only_app(root: Path, app: Path, train: list, library: Path, cache: Path) -> dict:
    """A copy of the app (package + models) at ``app`` whose audio head is refit on ``train`` only,
    from the train clips' cached statistics (computed now where missing)."""
    import hashlib

    sys.path.insert(0, str(root / "tools"))
    from train_audio_head import fit_head, to_onnx

    from genre_desktop.inference.analyzer import Analyzer
    from genre_desktop.settings import Settings
    from genre_desktop.training.session import vectors_for

    shutil.rmtree(app, ignore_errors=True)
    shutil.copytree(root / "genre_desktop", app / "genre_desktop", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(root / "models", app / "models")
    manifest = json.loads((app / "models" / "manifest.json").read_text())
    head = next(m for m in manifest["models"] if m["kind"] == "embedding_head")
    choice = json.loads((root / "models" / "audio_head.json").read_text())
    from genre_desktop.inference.vector_cache import stats_of

    analyzer = Analyzer(n_segments=Settings().segments, threads=1, musicnn=False, vector_cache=cache)
    own = stats_of(choice["stats"], choice["patches_per_window"] or None)
    assert {s.key for s in own} <= {s.key for s in analyzer.vector_stats}
    get = vectors_for(analyzer)
    rows, y = [], []
    for _, genre, src in train:
        v = get(library / genre / src.name)
        rows.append(v.stats[:, v.columns(own)])  # the head's columns, one row per window, as the head runs
        y += [manifest["labels"].index(genre)] * v.n_windows
    X = np.concatenate(rows)
    # The cache holds each window's statistics, not its patches: a head chosen with pair rows
    # (train_audio_head's "pairs" mode) is refit here on window rows, same family and parameters.
    model = fit_head(choice["family"], choice["params"], X, np.array(y))
    onnx_bytes = to_onnx(model, X.shape[1])
    (app / "models" / head["file"]).write_bytes(onnx_bytes)
    head["sha256"] = hashlib.sha256(onnx_bytes).hexdigest()
    head["size"] = len(onnx_bytes)
    refit = {"head": head["name"], "family": choice["family"], "params": choice["params"], "rows": int(len(X))}
    # The EfficientAT head (ensemble v4) learnt from train+valid too: refit it on the train clips,
    # from the extraction cache of tools/extract_audio_vectors.py (the same app path, all of the
    # clip's excerpts). The zero-shot map learnt nothing.
    effat = next((m for m in manifest["models"] if m["name"] == "efficientat_head"), None)
    if effat is not None:
        from audio_data import DEFAULT_CACHE, load

        data = load(DEFAULT_CACHE)
        report = json.loads((root / "models" / "efficientat_head.json").read_text())
        names = {clip for clip, _, _ in train}
        rows = np.flatnonzero([c in names for c in data.clip])
        Xe = data.stats(report["stats"], None, report["excerpts_per_window"])[rows]
        ye = np.array([manifest["labels"].index(g) for g in data.genre[rows]])
        model = fit_head(report["family"], report["params"], Xe, ye)
        onnx_bytes = to_onnx(model, Xe.shape[1])
        (app / "models" / effat["file"]).write_bytes(onnx_bytes)
        effat["sha256"], effat["size"] = hashlib.sha256(onnx_bytes).hexdigest(), len(onnx_bytes)
        refit["efficientat_head_rows"] = int(len(rows))
    manifest["version"] = manifest["version"] + "-train-only-head"
    (app / "models" / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return refit


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--audio", type=Path, default=AUDIO)
    ap.add_argument("--out", type=Path, default=None, help="write the numbers as JSON here")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--keep", type=Path, default=None, help="work in this folder (kept) instead of a temp one")
    ap.add_argument("--home", default="home", help="the app home's folder name inside the work folder")
    ap.add_argument("--train-only-head", action="store_true",
                    help="judge against a bundle whose audio head learnt from the train audio only")
    ap.add_argument("--reuse-cache", type=Path, default=None,
                    help="copy this vector cache folder (a previous run's home/cache) into the new home")
    args = ap.parse_args(argv)
    train, valid = clips(args.audio, "train"), clips(args.audio, "valid")
    # The split itself is artist-filtered (Kereliuk et al.); the proxy only groups the trainer's folds
    # and may share a block name across the splits without sharing an artist.
    shared_blocks = sorted({artist_proxy(c, g) for c, g, _ in train} & {artist_proxy(c, g) for c, g, _ in valid})
    work = args.keep or Path(tempfile.mkdtemp(prefix="reproduce_wizard-"))
    work.mkdir(parents=True, exist_ok=True)
    home, library = work / args.home, work / "library"
    env = dict(os.environ, GENRE_DESKTOP_HOME=str(home))
    os.environ["GENRE_DESKTOP_HOME"] = str(home)
    print(f"work folder {work}: {len(train)} train clips in the library, {len(valid)} valid clips held out", flush=True)
    if not library.exists():
        build_library(train, library)
    if args.reuse_cache and not (home / "cache").exists():
        shutil.copytree(args.reuse_cache, home / "cache")
    genres = sorted({g for _, g, _ in train})
    root = Path(__file__).resolve().parents[1]
    variant = None
    if args.train_only_head:
        from genre_desktop.paths import app_dirs

        app = work / "app"
        variant = train_only_app(root, app, train, library, app_dirs().feature_cache)
        env["PYTHONPATH"] = str(app)
        # this process must import the copy too (its models folder is the bundle judged)
        for name in [m for m in sys.modules if m == "genre_desktop" or m.startswith("genre_desktop.")]:
            del sys.modules[name]
        sys.path.insert(0, str(app))
        print(f"train-only head: {variant}", flush=True)
    cli("scan", str(library), env=env)
    train_out = cli("train", "--trust-existing", *genres, "--activate", "--threads", str(args.threads), env=env)

    from genre_desktop.inference.analyzer import Analyzer
    from genre_desktop.inference.user_model import load_active, mix
    from genre_desktop.paths import app_dirs
    from genre_desktop.settings import Settings
    from genre_desktop.training.evaluate import BundledPredictor, UserPredictor

    dirs = app_dirs()
    user = load_active(dirs.user_models, args.threads)
    print(f"active user model {user.version}: w = {user.weight} (fitted by the trainer on its held-out tracks)")
    analyzer = Analyzer(n_segments=Settings().segments, threads=args.threads, vector_cache=dirs.feature_cache,
                        user_model=user)
    bundled = BundledPredictor(threads=args.threads)
    together = UserPredictor(user, bundled)
    true, p_active, vectors = [], [], []
    for clip, genre, path in valid:
        analysis = analyzer.analyze(path)
        if analysis.prediction.error:
            print(f"skipped {clip}: {analysis.prediction.error}")
            continue
        true.append(genre)
        p_active.append([dict(analysis.prediction.genres)[g] for g in analyzer.labels])
        vectors.append(analysis.vectors)
    p_active = np.array(p_active)
    p_cached = together.predict(vectors)  # the same mix on cached vectors: must agree with the real path
    agree = float(np.max(np.abs(p_cached - p_active)))
    p_bundled = bundled.predict(vectors)
    p_user = user.predict_proba(np.stack([v.vector for v in vectors]))
    result = {
        "bundle_variant": variant or "as shipped (head refit on train+valid: valid is not held out for it)",
        "train_clips": len(train), "valid_clips": len(true), "proxy_blocks_on_both_sides": shared_blocks, "w_fitted": user.weight, "user_model": user.version,
        "user_head": user.manifest.get("head"),
        "valid": {
            "activated (user + bundled, real path)": scores(true, p_active, analyzer.labels),
            "bundled ensemble alone": scores(true, p_bundled, bundled.labels),
            "user head alone": scores(true, p_user, user.labels),
        },
        "cached_vs_real_path_max_abs_diff": agree,
        "w_grid_valid_diagnostic": {},
    }
    for w in np.round(np.arange(0.0, 1.0001, 0.1), 2):
        labels, p = mix(bundled.labels, p_bundled, user.labels, p_user, float(w))
        result["w_grid_valid_diagnostic"][f"{w:.1f}"] = round(scores(true, p, labels)["accuracy"], 4)
    # the representation question, on the train clips' cached vectors (what the trainer read)
    train_vectors = [analyzer.vector_cache.get(library / g / p.name) for _, g, p in train]
    keep = [i for i, v in enumerate(train_vectors) if v is not None]
    result["representations_cv_on_train"] = representations(
        [train_vectors[i] for i in keep], [train[i][1] for i in keep],
        [artist_proxy(train[i][0], train[i][1]) for i in keep], args.threads)
    result["train_cli_output"] = train_out
    for name, s in result["valid"].items():
        print(f"valid {name:<40} accuracy {s['accuracy']:.3f}  macro F1 {s['macro_f1']:.3f}")
    print(f"w fitted by the trainer: {user.weight}; valid accuracy by w (diagnostic): {result['w_grid_valid_diagnostic']}")
    print(f"cached-vector path vs real path: max |p difference| = {agree:.2e}")
    if args.out:
        args.out.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
