"""The cached GTZAN audio vectors (``tools/extract_audio_vectors.py``) as training data.

Shared by ``tools/train_audio_head.py`` and ``tools/train_ensemble.py``: loading the cache, the
artist-proxy groups and the fixed folds, the per-window statistics vector (through
``genre_desktop.features.embedding_stats`` when the package has it, the same arithmetic the app
runs), and the patch subset the app takes of a window.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

import numpy as np

from genre_desktop.training.classical import GTZAN_LABELS

DEFAULT_CACHE = Path("/work/cache/gtzan_audio_vectors.npz")
NETWORKS = ("musicnn_msd", "musicnn_mtt")
EFFICIENTAT = "efficientat"  # the manifest name of the AudioSet tagger: outputs "scores", "embedding"
BLOCK = 10  # clips per artist-proxy block: consecutive numbers of one genre mostly share an artist

try:  # the app's one implementation (members branch); the fallback below has the same contract
    from genre_desktop.features.embedding_stats import embedding_stats
except ImportError:  # pragma: no cover - until the members branch is merged
    def embedding_stats(outputs: dict[str, dict[str, np.ndarray]], stats: list[str]) -> np.ndarray:
        """Concatenate, in ``stats`` order, statistics over patches of the networks' outputs.

        ``outputs[network]["embedding"|"tags"]`` is (P, D), one row per 3 s patch; a stat reads
        ``"<network>.<output>.<mean|max|std>"``. Returns float32 (sum of the D's,).
        """
        parts = []
        for stat in stats:
            network, output, fn = stat.split(".")
            x = np.asarray(outputs[network][output], dtype=np.float32)
            if x.ndim != 2 or x.shape[0] == 0:
                raise ValueError(f"{stat}: expected (patches, D) with at least one patch, got {x.shape}")
            parts.append({"mean": x.mean, "max": x.max, "std": x.std}[fn](axis=0))
        return np.concatenate(parts).astype(np.float32)


def artist_block(clip: str) -> str:
    """The artist-proxy group of ``blues.00042``: ``blues/4`` (blocks of ``BLOCK`` numbers)."""
    genre, number = clip.split(".")[:2]
    return f"{genre}/{int(number) // BLOCK}"


def app_patch_indices(n: int, limit: int | None) -> np.ndarray:
    """The patches the analysis keeps (``inference.common.spread_indices``) of a window's ``n`` (evenly spread, ends included)."""
    if not limit or n <= limit:
        return np.arange(n)
    return np.linspace(0, n - 1, limit).round().astype(int)


def app_excerpt_indices(n: int, limit: int | None) -> np.ndarray:
    """Which of a window's ``n`` cached 10 s excerpts (``excerpt_starts`` with no limit) are the
    ones the app computes with ``max_excerpts=limit`` (2 or more: spread like ``excerpt_starts``,
    first and last included; one excerpt is the cache's ``@middle`` record instead)."""
    if not limit or n <= limit:
        return np.arange(n)
    if limit == 1:
        raise ValueError("one excerpt per window is the middle 10 s: read it from the @middle record")
    return np.linspace(0, n - 1, limit).round().astype(int)


def _sigmoid(logits: np.ndarray) -> np.ndarray:
    return (1.0 / (1.0 + np.exp(-logits.astype(np.float64)))).astype(np.float32)


MIDDLE = EFFICIENTAT + "@middle"  # the cache's record of the app's one-excerpt input of each window


@dataclass
class AudioSet:
    """One row per clip (each GTZAN clip is a single 30 s window; checked on load)."""

    clip: np.ndarray
    genre: np.ndarray
    split: np.ndarray
    origin: np.ndarray
    y: np.ndarray  # index into GTZAN_LABELS
    groups: np.ndarray  # artist-proxy block ids (strings)
    features: np.ndarray  # (n, 57) the app's table features of the window
    patches: list[dict[str, dict[str, np.ndarray]]]  # per clip: network -> output -> (P, D)

    def stats(self, stats: list[str], n_patches: int | None = None, excerpts: int | None = None) -> np.ndarray:
        """(n, D) stats vectors, each over the units the app would take: ``n_patches`` musicnn
        patches and ``excerpts`` EfficientAT excerpts (None: ``n_patches`` for both; 0 or None =
        all of them)."""
        k = n_patches if excerpts is None else excerpts
        rows = []
        for out in self.patches:
            picked = {}
            for net, o in out.items():
                if net == MIDDLE:
                    continue
                if net == EFFICIENTAT:
                    # one excerpt: the app's middle 10 s; else all of them (the app's 0) or a spread
                    picked[net] = out[MIDDLE] if k == 1 else {key: v[app_excerpt_indices(len(v), k)]
                                                             for key, v in o.items()}
                else:
                    idx = app_patch_indices(len(o["embedding"]), n_patches)
                    picked[net] = {key: v[idx] for key, v in o.items()}
            rows.append(embedding_stats(picked, stats))
        return np.stack(rows)

    def training_rows(self, clips: np.ndarray, stats: list[str], n_patches: int | None,
                      mode: str = "window") -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(X, y, weight, clip) rows to fit a head on ``clips``; each clip's rows weigh 1 in total
        and ``clip`` holds each row's index into this set (to select a fold's rows).

        ``mode``: ``"window"``, one row per clip over the patches the app takes (as ``stats``);
        ``"pairs"``, one row per pair of the clip's patches (45 for 10 patches): the app's two
        patches are one such pair, so the head learns from every 2-patch view of the clip it
        could meet (augmentation for the genres with a handful of clips). Only for 2 patches.
        """
        if mode == "window":
            X = self.stats(stats, n_patches)[clips]
            return X, self.y[clips], np.ones(len(clips)), np.asarray(clips)
        if mode != "pairs" or n_patches != 2:
            raise ValueError(f"training mode {mode!r} with {n_patches} patches")
        X, y, w, owner = [], [], [], []
        for i in clips:
            out = self.patches[i]
            n = len(next(iter(out.values()))["embedding"])
            pairs = [np.array(p) for p in combinations(range(n), 2)] or [np.arange(n)]
            for idx in pairs:  # pairs of musicnn patches: a head over those networks only
                X.append(embedding_stats({net: {k: v[idx] for k, v in o.items()} for net, o in out.items()
                                          if net not in (EFFICIENTAT, MIDDLE)}, stats))
                y.append(self.y[i])
                w.append(1.0 / len(pairs))
                owner.append(i)
        return np.stack(X), np.array(y), np.array(w), np.array(owner)

    def mask(self, split: str) -> np.ndarray:
        return self.split == split


def load(cache: Path = DEFAULT_CACHE) -> AudioSet:
    d = np.load(cache)
    if len(d["window_clip"]) != len(d["clip"]):
        raise SystemExit("expected one window per clip in the GTZAN audio cache")
    patch_window = d["patch_window"]
    has_effat = "efficientat_logits" in d.files
    patches = []
    for wi in range(len(d["window_clip"])):
        sel = patch_window == wi
        out = {net: {"embedding": d[f"{net}_embedding"][sel], "tags": d[f"{net}_tags"][sel]} for net in NETWORKS}
        if has_effat:  # scores as the app's member gives them: the sigmoid of the logits
            ex = d["excerpt_window"] == wi
            out[EFFICIENTAT] = {"scores": _sigmoid(d["efficientat_logits"][ex]),
                                "embedding": d["efficientat_embedding"][ex]}
            # The app's one excerpt per window (the middle 10 s): its own unit, since for a window
            # of 15 s it is none of the excerpts above.
            out[MIDDLE] = {"scores": _sigmoid(d["efficientat_middle_logits"][wi:wi + 1]),
                           "embedding": d["efficientat_middle_embedding"][wi:wi + 1]}
        patches.append(out)
    clip = d["clip"].astype(str)
    genre = d["genre"].astype(str)
    return AudioSet(clip=clip, genre=genre, split=d["split"].astype(str), origin=d["origin"].astype(str),
                    y=np.array([GTZAN_LABELS.index(g) for g in genre]),
                    groups=np.array([artist_block(c) for c in clip]),
                    features=d["features"].astype(np.float64), patches=patches)


def grouped_folds(y: np.ndarray, groups: np.ndarray, folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """StratifiedGroupKFold splits (fit, held) with a fixed seed; no artist block straddles folds."""
    from sklearn.model_selection import StratifiedGroupKFold

    import warnings

    with warnings.catch_warnings():  # classes with fewer clips than folds: expected here, not an error
        warnings.simplefilter("ignore", UserWarning)
        return list(StratifiedGroupKFold(folds, shuffle=True, random_state=seed).split(y, y, groups))
