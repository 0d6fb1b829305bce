"""Ensemble members for ``tools/train_ensemble.py``: refitting them and their out-of-fold probabilities.

The five classical members are refitted (with their bundled hyperparameters from ``metrics.json``)
on the feature TABLE's rows outside the held clips' artist blocks; the heads on the audio clips
outside them; fixed members (zero-shot scores) and extra members (``--extra NAME=FILE.npz``) bring
their own probabilities. Also read by ``tools/mislabel_data.py`` (``Table``, ``classical_members``,
``fit_classical``). The weighted vote over these members is ``tools/ensemble_vote.py``.
"""

from __future__ import annotations

import json
import logging
import sys
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

from audio_data import AudioSet, artist_block, grouped_folds  # noqa: E402
from train_audio_head import fit_head, head_rows  # noqa: E402
from genre_desktop.training import classical as C  # noqa: E402

log = logging.getLogger("train_ensemble")  # the script's logger: its log lines read as before the split

SEED = 20151
FOLDS = 5


def _hyper(name: str, raw: dict) -> dict:
    """The bundled member's hyperparameters (metrics.json) as pipeline parameters."""
    return {"clf__" + k: v for k, v in raw.items()}  # train_classical stored them without the prefix


class Table:
    """The feature table's rows, with artist blocks, for refitting the classical members."""

    def __init__(self, data_dir: Path):
        table = C.load_feature_table(data_dir / "features_30_sec.csv")
        self.split = {}
        for split in ("train", "valid"):
            for name in C.read_split(data_dir / "splits" / f"{split}_filtered.txt"):
                self.split[name] = split
        self.X = C.as_float32_inputs(table.X)
        self.y = np.asarray(table.y)
        self.names = [f.rsplit(".", 1)[0] for f in table.filenames]  # blues.00000.wav -> blues.00000
        self.blocks = np.array([artist_block(n) for n in self.names])
        self.rows_split = np.array([self.split.get(f, "?") for f in table.filenames])

    def rows(self, splits: set[str], exclude_blocks: set[str]) -> np.ndarray:
        return np.flatnonzero(np.isin(self.rows_split, list(splits)) & ~np.isin(self.blocks, list(exclude_blocks)))


def classical_members() -> dict[str, dict]:
    metrics = json.loads((ROOT / "models" / "metrics.json").read_text(encoding="utf-8"))
    return {name: _hyper(name, m["hyperparameters"]) for name, m in metrics["members"].items()}


def fit_classical(name: str, params: dict, table: Table, rows: np.ndarray):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return C.build_pipeline(name, SEED, **params).fit(table.X[rows], table.y[rows])


def member_probas(data: AudioSet, table: Table, fit_clips: np.ndarray, held_clips: np.ndarray,
                  fit_splits: set[str], hyper: dict, heads: dict[str, dict],
                  fixed: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """Each member fitted without the held clips' artist blocks, predicting the held clips.

    ``heads``: member name -> the head's choice (``stats``, ``family``, ``params``,
    ``patches_per_window``: musicnn patches or EfficientAT excerpts); ``fixed``: members fitted on
    nothing here (the zero-shot genre scores), name -> probabilities of every clip."""
    held_blocks = set(data.groups[held_clips])
    rows = table.rows(fit_splits, held_blocks)
    Xa = C.as_float32_inputs(data.features[held_clips])
    out = {name: C.full_proba(fit_classical(name, p, table, rows), Xa) for name, p in hyper.items()}
    for name, head in heads.items():
        patches = head["patches_per_window"] or None
        Xr, yr, wr, _ = head_rows(data, fit_clips, head["stats"], patches, head["params"])
        model = fit_head(head["family"], head["params"], Xr, yr, wr, SEED)
        out[name] = C.full_proba(model, data.stats(head["stats"], patches)[held_clips])
    for name, p in (fixed or {}).items():
        out[name] = p[held_clips]
    return out


def out_of_fold(data: AudioSet, table: Table, clips: np.ndarray, fit_splits: set[str], hyper: dict,
                heads: dict[str, dict], fixed: dict[str, np.ndarray] | None = None) -> tuple[dict[str, np.ndarray], list]:
    folds = grouped_folds(data.y[clips], data.groups[clips], FOLDS, SEED)
    oof: dict[str, np.ndarray] = {}
    for k, (fit, held) in enumerate(folds):
        probas = member_probas(data, table, clips[fit], clips[held], fit_splits, hyper, heads, fixed)
        for name, p in probas.items():
            oof.setdefault(name, np.zeros((len(clips), len(C.GTZAN_LABELS))))[held] = p
        log.info("fold %d/%d: %d held clips", k + 1, len(folds), len(held))
    return oof, folds


def load_extra(spec: str, data: AudioSet) -> tuple[str, dict[str, np.ndarray]]:
    """An extra member's probabilities (e.g. the CNN), rows in ``data``'s clip order.

    ``proba``: train clips out-of-fold over the train folds (``FOLDS_PATH``), valid clips from the
    model fitted on all of train. ``proba_cv_all`` (optional): every clip out-of-fold over the
    grouped folds of train+valid (``audio_data.grouped_folds(y, groups, 5, SEED)`` over the clips
    in train-then-valid order); without it the member stays out of the bundle's vote."""
    name, path = spec.split("=", 1)
    d = np.load(path)
    index = {c: i for i, c in enumerate(d["clip"].astype(str))}
    missing = [c for c in data.clip if c not in index]
    if missing:
        raise SystemExit(f"{path} lacks {len(missing)} clips, e.g. {missing[:3]}")
    return name, {k: np.stack([d[k][index[c]] for c in data.clip]).astype(np.float64)
                  for k in ("proba", "proba_cv_all") if k in d}
