"""Broad genres: the genre tree's genres an AudioSet network hears (issue 20, item 3). The kind ``broad_genres``.

Beside the ten-genre vote, every analysis keeps the genres of the genre tree (``core.genre``:
AudioSet's "Music genre" subtree, with readable names) that the network scores, as
``Prediction.broad``: ``[{"genre": "House", "path": ["Electronic"], "probability": 0.62}, ...]``,
highest first, ``path`` the genre's ancestors from the root (highest first).

How a track's scores come about:

1. raw: per AudioSet class of the tree, the network's probability averaged over every analysed
   excerpt of the track (``"<network>:scores"``);
2. calibrated: the raw sigmoid scores of real recordings are low (0.02-0.1 for a clear genre of an
   old recording) and not comparable between classes; the network engineer's calibration file maps
   each class's raw score to a probability a librarian can put one threshold on (monotone
   piecewise-linear maps, per class or one for all; see :class:`Calibration`);
3. the tree: a node scores at least its best child (a parent is as likely as its likeliest
   sub-genre), and nodes without a class of their own get their best child's score;
4. kept: the best :data:`KEEP` (a 100,000-track store holds every prediction).

The manifest entry::

    {"name": "broad_genres", "kind": "broad_genres", "file": "broad_calibration.json",
     "sha256": ..., "size": ..., "inputs": {}, "labels": []}

and the calibration file::

    {"format": "genre-desktop-broad-calibration-1", "network": "efficientat",
     "default": {"x": [raw, ...], "y": [probability, ...]},          # optional: classes not listed
     "classes": {"/m/064t9": {"x": [...], "y": [...]}, ...},         # AudioSet id -> its map
     ...}                                                            # how it was fitted, measured

``x`` ascending raw scores, ``y`` the probabilities there (non-decreasing, in [0, 1]); between
points linear, beyond the ends the end values. A class with neither its own map nor a default is
left out (never shown uncalibrated).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from genre_desktop.core.prediction import BroadGenre
from genre_desktop.inference.common import ModelError

__all__ = ["CALIBRATION_FORMAT", "KEEP", "BroadGenres", "Calibration"]

CALIBRATION_FORMAT = "genre-desktop-broad-calibration-1"
KEEP = 5


@dataclass(frozen=True)
class _Map:
    x: np.ndarray
    y: np.ndarray

    @classmethod
    def read(cls, raw) -> "_Map":
        x = np.asarray(raw["x"], dtype=np.float64)
        y = np.asarray(raw["y"], dtype=np.float64)
        if x.ndim != 1 or x.shape != y.shape or len(x) < 2:
            raise ValueError(f"a map needs x and y of one length >= 2, got {x.shape} and {y.shape}")
        if np.any(np.diff(x) <= 0) or np.any(np.diff(y) < 0) or y.min() < 0 or y.max() > 1:
            raise ValueError("a map needs ascending x and non-decreasing y within [0, 1]")
        return cls(x, y)

    def __call__(self, raw: float) -> float:
        return float(np.interp(raw, self.x, self.y))


class Calibration:
    """Raw network score -> calibrated probability, per AudioSet class id."""

    def __init__(self, raw: dict) -> None:
        if raw.get("format") != CALIBRATION_FORMAT:
            raise ValueError(f"format {raw.get('format')!r}, expected {CALIBRATION_FORMAT!r}")
        self.network = str(raw["network"])
        self.default = _Map.read(raw["default"]) if raw.get("default") else None
        self.classes = {str(k): _Map.read(v) for k, v in (raw.get("classes") or {}).items()}
        if self.default is None and not self.classes:
            raise ValueError("no map: neither 'default' nor 'classes'")

    def covers(self, class_id: str) -> bool:
        return class_id in self.classes or self.default is not None

    def __call__(self, class_id: str, raw: float) -> float:
        return (self.classes.get(class_id) or self.default)(raw)


class BroadGenres:
    """The ``broad_genres`` member: reports ``Prediction.broad`` (see the module docstring)."""

    kind = "broad_genres"
    votes = False
    needs = frozenset({"outputs"})
    provides: frozenset[str] = frozenset()

    def __init__(self, entry, threads: int = 0, tree=None) -> None:
        self.name = entry.name
        self.labels: list[str] = []
        try:
            self.calibration = Calibration(json.loads(entry.path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelError(f"model {entry.name!r}: {entry.path} is not a broad-genre calibration: {exc}") from exc
        self.network = self.calibration.network
        self.reads = frozenset({f"{self.network}:scores"})
        if tree is None:
            from genre_desktop.core.genre import default_tree

            tree = default_tree()
        self.tree = tree
        self._classes: list[tuple[object, int, str]] | None = None  # (node, class index, AudioSet id)

    def _scored_nodes(self, network) -> list[tuple[object, int, str]]:
        """The tree's nodes the network has a calibrated class for: (node, index, id)."""
        if self._classes is None:
            ids = list(getattr(network, "label_ids", []) or [])
            position = {cid: i for i, cid in enumerate(ids)}
            out = []
            for node in self.tree:
                index = position.get(node.audioset_id) if ids else node.class_index
                if index is None or node.audioset_id is None or not self.calibration.covers(node.audioset_id):
                    continue
                out.append((node, int(index), node.audioset_id))
            if not out:
                raise ModelError(f"model {self.name!r}: no genre of the tree has a calibrated class of "
                                 f"network {self.network!r}")
            self._classes = out
        return self._classes

    def scores(self, inputs) -> dict[str, float]:
        """Node key -> calibrated probability of every node with a score (own or from below)."""
        network = inputs.networks[self.network]
        raw = np.concatenate([o["scores"] for o in inputs.outputs(self.network)]).mean(axis=0)
        own = {node.key: self.calibration(cid, float(raw[i])) for node, i, cid in self._scored_nodes(network)}
        best: dict[str, float] = {}

        def score(node) -> float | None:
            below = [s for s in (score(c) for c in self.tree.children(node)) if s is not None]
            mine = own.get(node.key)
            values = below + ([mine] if mine is not None else [])
            if not values:
                return None
            best[node.key] = max(values)
            return best[node.key]

        for root in self.tree.roots():
            score(root)
        return best

    def predict(self, inputs) -> np.ndarray:
        """Not a per-window member: (W, 0)."""
        return np.zeros((inputs.n_windows, 0))

    def report(self, inputs) -> dict:
        best = self.scores(inputs)
        depth = {key: len(self.tree.ancestors(key)) for key in best}
        # highest first; a parent tied with its child after it (the child says more)
        order = sorted(best, key=lambda k: (-best[k], -depth[k], k))[:KEEP]
        return {"broad": [BroadGenre(self.tree.node(k).name, tuple(a.name for a in self.tree.ancestors(k)), best[k])
                          for k in order]}
