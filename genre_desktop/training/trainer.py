"""Training the user's model end to end: vectors -> held-out split -> CV choice -> report -> version.

1. :func:`load_vectors`: each example's cached vectors (``Analyzer.vectors_for``: decoded once, then
   read from the cache). Files that cannot be decoded are listed and left out.
2. :func:`train`: a quarter of the artists (groups) is held out (``StratifiedGroupKFold``; a genre
   whose artists would all be held out stays in training). The head is chosen by grouped CV on
   the rest (``heads.cross_validate``), fitted on the rest, and compared on the held-out tracks
   with the current model (bundled ensemble, or the active user model mixed with it). The user
   model's ensemble weight is fitted on the same held-out tracks (``evaluate.fit_mix_weight``).
   Finally the chosen head is refitted on ALL tracks, exported to ONNX (checked against
   predict_proba) and saved as a new registry version via a staging folder, so cancelling at any
   point leaves no version behind. It becomes active only if asked.

Fixed seeds throughout: the same data give the same model.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

import numpy as np

from genre_desktop.cancel import NEVER, CancelToken
from genre_desktop.fsutil import atomic_write_bytes, atomic_write_json
from genre_desktop.inference.manifest import MANIFEST_NAME
from genre_desktop.inference.user_model import INPUT_NAME, MODEL_FILE, USER_FORMAT, mix
from genre_desktop.inference.vector_cache import TrackVectors
from genre_desktop.training import heads
from genre_desktop.training.can_predict import Verdict, check
from genre_desktop.training.dataset import MIN_TRACKS, Dataset, Example
from genre_desktop.training.evaluate import BundledPredictor, argmax_labels, fit_mix_weight, score
from genre_desktop.training.member_roles import member_roles
from genre_desktop.training.registry import Registry
from genre_desktop.training.report import Report

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]
MIX_RULE = ("p = w * p_user + (1 - w) * p_bundled over the union of labels; "
            "each distribution is 0 on labels it lacks")


@dataclass
class TrainOptions:
    seed: int = 0
    folds: int = 5  # CV folds for the choice of head
    heldout_folds: int = 4  # 1/heldout_folds of the artists are held out for the comparison
    n_jobs: int = 1
    candidates: dict[str, list[dict[str, Any]]] | None = None


@dataclass
class TrainingData:
    examples: list[Example]
    vectors: list[TrackVectors]
    failed: dict[str, str] = field(default_factory=dict)  # path -> reason

    @property
    def X(self) -> np.ndarray:
        return np.stack([v.vector for v in self.vectors]).astype(np.float64)


@dataclass
class TrainResult:
    version: str
    folder: Any
    manifest: dict[str, Any]
    report: Report
    activated: bool
    verdict: Verdict | None = None  # can it predict the taught genres (``can_predict``)
    refused_activation: str = ""  # why ``activate=True`` did not activate it
    failed: dict[str, str] = field(default_factory=dict)  # path -> why: files left out, unreadable


def load_vectors(dataset: Dataset, vectors_for: Callable[..., TrackVectors], progress: Progress | None = None,
                 cancel: CancelToken = NEVER) -> TrainingData:
    """Vectors of every example via ``vectors_for(path, cancel)`` (e.g. ``Analyzer.vectors_for``)."""
    from genre_desktop.audio import DecodeError

    examples, vectors, failed = [], [], {}
    total = max(1, len(dataset.examples))
    for i, ex in enumerate(dataset.examples):
        cancel.raise_if_cancelled()
        try:
            vectors.append(vectors_for(ex.path, cancel))
            examples.append(ex)
        except (DecodeError, ValueError, OSError) as exc:
            failed[ex.path] = str(getattr(exc, "reason", None) or exc)
            log.warning("left out of training: %s (%s)", ex.path, failed[ex.path])
        if progress:
            progress((i + 1) / total, f"reading track vectors ({i + 1}/{total})")
    return TrainingData(examples, vectors, failed)


def heldout_split(y: np.ndarray, groups: np.ndarray, folds: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(fit rows, held-out rows): one grouped fold held out; genres it would empty stay in fit."""
    fit_idx, held_idx = heads.grouped_folds(y, groups, folds, seed)[0]
    fit_counts = np.bincount(y[fit_idx], minlength=y.max() + 1)
    back = np.isin(y[held_idx], np.flatnonzero(fit_counts < 2))
    fit_idx = np.sort(np.concatenate([fit_idx, held_idx[back]]))
    held_idx = held_idx[~back]
    if len(held_idx) == 0:
        raise ValueError("too few artists to hold any tracks out for the comparison")
    return fit_idx, held_idx


@dataclass
class Readiness:
    """Whether :func:`train` would accept a training set, and why not, in its own terms."""

    ok: bool
    problems: list[str] = field(default_factory=list)  # why train() would refuse (empty when ok)
    genres: dict[str, str] = field(default_factory=dict)  # genre -> what it lacks ("" when nothing)
    artists: dict[str, int] = field(default_factory=dict)  # genre -> distinct artists (groups)


def check_trainable(examples: list[Example], options: TrainOptions | None = None,
                    excluded: dict[str, int] | None = None) -> Readiness:
    """Run the checks :func:`train` runs before fitting anything, on genres and groups alone.

    The same code decides: genres below ``MIN_TRACKS`` are left out, two genres must remain, the
    held-out split (whole artists, ``heldout_split``) must hold some tracks out, and every fit
    (each grouped CV fold, then the fit before the comparison) must see two genres with two tracks
    (``heads.fit_labels``). Cheap (no vectors): the wizard calls it on every change. ``excluded``:
    genres already left out by the dataset (genre -> tracks), reported per genre as well.
    """
    options = options or TrainOptions()
    counts: dict[str, int] = {}
    members: dict[str, set[str]] = {}
    for ex in examples:
        counts[ex.genre] = counts.get(ex.genre, 0) + 1
        members.setdefault(ex.genre, set()).add(ex.group)
    for genre, n in (excluded or {}).items():
        counts.setdefault(genre, n)
    artists = {g: len(members.get(g, ())) for g in counts}
    genres = {}
    for g in sorted(counts):
        n, a = counts[g], artists[g]
        if n < MIN_TRACKS:
            k = MIN_TRACKS - n
            genres[g] = f"left out: needs {k} more track{'s' if k != 1 else ''} (at least {MIN_TRACKS}), or a merge"
        elif a < 2:
            genres[g] = "one artist only: cannot be tested on held-out artists; add another artist's tracks"
        else:
            genres[g] = ""
    labels = sorted(g for g in counts if counts[g] >= MIN_TRACKS)
    if len(labels) < 2:
        have = ", ".join(f"{g} ({counts[g]})" for g in labels) or "none"
        return Readiness(False, [f"a model needs at least two genres with {MIN_TRACKS} tracks each; have {have}"],
                         genres, artists)
    kept = [ex for ex in examples if ex.genre in labels]
    y = np.array([labels.index(ex.genre) for ex in kept])
    _, groups = np.unique([ex.group for ex in kept], return_inverse=True)
    if len(np.unique(groups)) < 2:
        return Readiness(False, ["every track is by the same artist: the comparison holds whole artists out, "
                                 "so tracks by at least two artists are needed"], genres, artists)
    try:
        fit_idx, held_idx = heldout_split(y, groups, options.heldout_folds, options.seed)
    except ValueError as exc:
        two = [g for g in labels if artists[g] >= 2]
        return Readiness(False, [f"{exc}: the comparison holds whole artists out and keeps at least two tracks of "
                                 f"each genre to learn from; genres with tracks by two or more artists: "
                                 f"{', '.join(two) or 'none'}. Add tracks by other artists, or merge genres"],
                         genres, artists)
    try:
        for fold_fit, _ in heads.grouped_folds(y[fit_idx], groups[fit_idx], options.folds, options.seed):
            heads.fit_labels(y[fit_idx][fold_fit], len(labels))
        heads.fit_labels(y[fit_idx], len(labels))
    except ValueError as exc:
        return Readiness(False, [f"{exc} in every fit of the cross-validation by artist; add tracks by other "
                                 f"artists, or merge genres"], genres, artists)
    return Readiness(True, [], genres, artists)


def train(data: TrainingData, registry: Registry, vector_recipe: str, bundled: BundledPredictor,
          current=None, options: TrainOptions | None = None, progress: Progress | None = None,
          cancel: CancelToken = NEVER, activate: bool = False, warnings_text: list[str] | None = None,
          excluded: dict[str, int] | None = None) -> TrainResult:
    """Fit, compare, export and save a new version (see the module docstring).

    ``current``: the model to compare against (an object with ``name``, ``labels`` and
    ``predict(vectors)``); default the bundled ensemble. Raises ValueError if the data cannot
    make a model (fewer than two genres, too few artists), Cancelled if cancelled.
    """
    options = options or TrainOptions()
    report_progress = progress or (lambda fraction, message: None)
    started = time.perf_counter()
    counts = {}
    for ex in data.examples:
        counts[ex.genre] = counts.get(ex.genre, 0) + 1
    excluded = dict(excluded or {})
    excluded.update({g: n for g, n in counts.items() if n < MIN_TRACKS})
    readiness = check_trainable(data.examples, options)
    if not readiness.ok:
        raise ValueError(readiness.problems[0])
    keep = [i for i, ex in enumerate(data.examples) if counts[ex.genre] >= MIN_TRACKS]
    examples = [data.examples[i] for i in keep]
    vectors = [data.vectors[i] for i in keep]
    labels = sorted({ex.genre for ex in examples})
    X = np.stack([v.vector for v in vectors]).astype(np.float64)
    y = np.array([labels.index(ex.genre) for ex in examples])
    _, groups = np.unique([ex.group for ex in examples], return_inverse=True)
    fit_idx, held_idx = heldout_split(y, groups, options.heldout_folds, options.seed)
    cancel.raise_if_cancelled()

    def cv_progress(fraction: float, message: str) -> None:
        report_progress(0.7 * fraction, message)

    # When the vectors hold more than one network's statistics, the CV also chooses which to read.
    blocks = heads.stat_blocks(vectors[0].layout, X.shape[1])
    candidates = heads.cross_validate(X[fit_idx], y[fit_idx], groups[fit_idx], len(labels), options.folds,
                                      options.seed, options.candidates, cv_progress, cancel, options.n_jobs,
                                      blocks=blocks)
    best = candidates[0]
    true = [labels[i] for i in y[held_idx]]
    # Every candidate fitted on the training part and scored on the held-out tracks too: the table
    # that chose the head then shows the figure the summary gives for it, beside its CV figure.
    heldout_scores, p_new = [], None
    for n, c in enumerate(candidates):
        cancel.raise_if_cancelled()
        report_progress(0.7 + 0.05 * n / len(candidates), f"scoring {c.name} on the held-out tracks")
        head = heads.fit_head(c.kind, c.params, X[fit_idx], y[fit_idx], len(labels), options.seed, options.n_jobs)
        p = head.predict_proba(X[held_idx])
        heldout_scores.append(score(c.name, true, argmax_labels(p, labels), labels, labels))
        p_new = p if c is best else p_new
    report_progress(0.75, f"comparing {best.name} with the current model on held-out tracks")
    held_vectors = [vectors[i] for i in held_idx]
    p_bundled = bundled.predict(held_vectors)
    current = current or bundled
    p_current = current.predict(held_vectors)
    weight = fit_mix_weight(bundled.labels, p_bundled, labels, p_new, true)
    mixed_labels, p_mixed = mix(bundled.labels, p_bundled, labels, p_new, weight)
    cancel.raise_if_cancelled()
    models = [
        score("your new model", true, argmax_labels(p_new, labels), labels, labels),
        score(f"your new model + bundled ensemble (w={weight:.2f})", true, argmax_labels(p_mixed, mixed_labels),
              labels, mixed_labels),
        score(f"current: {current.name}", true, argmax_labels(p_current, current.labels), labels, current.labels),
    ]
    report_progress(0.8, f"fitting {best.name} on all {len(y)} tracks")
    final = heads.fit_head(best.kind, best.params, X, y, len(labels), options.seed, options.n_jobs)
    cancel.raise_if_cancelled()
    verdict = _verdict(labels, y, groups, held_idx, true, argmax_labels(p_mixed, mixed_labels), weight, final, X,
                       vectors, bundled)
    report_progress(0.9, "exporting to ONNX")
    onnx_bytes = heads.export_onnx(final, X[: min(len(X), 200)], X.shape[1])
    cancel.raise_if_cancelled()

    version = registry.new_version_name()
    created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    notes = [
        "Held-out figures come from the head fitted without the held-out tracks; the saved model is the "
        f"same head refitted on all {len(y)} tracks.",
        f"The ensemble weight w={weight:.2f} was fitted on these held-out tracks (one parameter), so the "
        "ensemble row is slightly optimistic.",
        "A held-out track whose genre a model does not know counts as an error for that model; "
        "'accuracy on the genres it knows' leaves those tracks out.",
        f"Ensemble rule: {MIX_RULE}.",
    ]
    if current is not bundled:
        notes.append("Your current model may have been trained on some of these held-out tracks, which "
                     "flatters its figures; the bundled models never saw them.")
    notes += [f"It cannot be offered as it is: {problem}." for problem in verdict.problems()]
    notes += [f"What would help: {advice}." for advice in verdict.advice()]
    if data.failed:
        notes.append(f"{len(data.failed)} file(s) could not be read and were left out: "
                     + "; ".join(f"{path} ({reason})" for path, reason in sorted(data.failed.items())) + ".")
    report = Report(
        created=created, version=version, labels=labels,
        counts={g: int(np.sum(y == i)) for i, g in enumerate(labels)},
        warnings=list(warnings_text or []),
        candidates=[{"name": c.name, "kind": c.kind, "accuracy": c.accuracy, "macro_f1": c.macro_f1,
                     "log_loss": c.log_loss, "seconds": c.seconds, "heldout_accuracy": h.accuracy,
                     "heldout_macro_f1": h.macro_f1} for c, h in zip(candidates, heldout_scores)],
        fitted_on=len(fit_idx),
        chosen=best.name, heldout=len(held_idx), groups_heldout=len(np.unique(groups[held_idx])),
        weight=weight, models=models, notes=notes, verdict=verdict.to_dict(),
        members=[asdict(r) for r in member_roles(bundled.manifest)] if hasattr(bundled, "manifest") else [])
    manifest = {
        "format": USER_FORMAT, "version": version, "created": created, "kind": "user-head",
        "file": MODEL_FILE, "sha256": hashlib.sha256(onnx_bytes).hexdigest(), "size": len(onnx_bytes),
        "labels": labels, "inputs": {INPUT_NAME: [None, int(X.shape[1])]},
        "outputs": {"probabilities": [None, len(labels)]}, "probability_output": "probabilities",
        "vector_recipe": vector_recipe,
        "input_description": "mean over the analysed windows of the bundled embedding heads' inputs: "
                             + ", ".join([s.label for s in data.vectors[0].layout] or ["(unnamed statistics)"])
                             + " (statistic@units per window, features.embedding_stats)",
        "head": {"kind": best.kind, "params": {k.split("__")[-1]: v for k, v in best.params.items()},
                 "seed": options.seed},
        "ensemble": {"weight": weight, "rule": MIX_RULE, "bundled_version": bundled.manifest.version,
                     "fitted_on": f"{len(held_idx)} held-out tracks, grouped by artist"},
        "metrics": {"cv": report.candidates[0], "heldout": {m.name: {"accuracy": m.accuracy, "macro_f1": m.macro_f1,
                                                                     "accuracy_known": m.accuracy_known}
                                                            for m in models}},
        "training_set": {"tracks": len(y), "counts": report.counts, "groups": int(len(np.unique(groups))),
                         "sources": _sources(examples), "excluded": excluded, "failed": len(data.failed),
                         "warnings": report.warnings},
        "can_predict": verdict.to_dict(),
        "seconds": round(time.perf_counter() - started, 2),
    }
    with registry.staging() as stage:
        report_progress(0.95, f"writing {version}")
        atomic_write_bytes(stage / MODEL_FILE, onnx_bytes)
        report.write(stage)
        atomic_write_json(stage / MANIFEST_NAME, manifest, indent=2)
        cancel.raise_if_cancelled()
        folder = registry.commit(stage, version)
    refused = ""
    if activate and verdict.changes_nothing:  # asked to, but it would change no prediction: say so instead
        refused = verdict.problems()[0]
        activate = False
    if activate:
        registry.activate(version)
    report_progress(1.0, f"saved {version}")
    log.info("trained %s (%s) in %.1f s", version, best.name, time.perf_counter() - started)
    return TrainResult(version, folder, manifest, report, activate, verdict, refused, dict(data.failed))


def _verdict(labels: list[str], y: np.ndarray, groups: np.ndarray, held_idx: np.ndarray, true: list[str],
             answers: list[str], weight: float, final, X: np.ndarray, vectors: list[TrackVectors],
             bundled: BundledPredictor) -> Verdict:
    """``can_predict.check`` of the new version: the held-out answers of the mix, and for the genres
    with no held-out track the saved model's mix on their own training tracks."""
    untested = [i for i, g in enumerate(labels) if g not in set(true)]
    training_answers = {}
    if untested:
        rows = np.flatnonzero(np.isin(y, untested))
        mixed_labels, p = mix(bundled.labels, bundled.predict([vectors[i] for i in rows]), labels,
                              final.predict_proba(X[rows]), weight)
        for r, a in zip(rows, argmax_labels(p, mixed_labels)):
            training_answers.setdefault(labels[y[r]], []).append(a)
    counts = {g: int(np.sum(y == i)) for i, g in enumerate(labels)}
    artists = {g: int(len(np.unique(groups[y == i]))) for i, g in enumerate(labels)}
    return check(labels, true, answers, weight, counts, artists, list(bundled.labels), training_answers)


def _sources(examples: list[Example]) -> dict[str, int]:
    out: dict[str, int] = {}
    for ex in examples:
        out[ex.source] = out.get(ex.source, 0) + 1
    return out
