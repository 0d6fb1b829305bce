"""What the audio is: music, spoken word or no audible audio (issue 20, item 6). The kind ``content``.

A reader member: it reads an AudioSet network's class scores (``"<network>:scores"``) and reports
``Prediction.content``. A music genre applies only to music; an audiobook, a podcast, an interview
or a radio jingle of speech is "spoken word", and the review queue does not bulk-accept a music genre
for it (``Prediction.is_music``). "No audible audio" is said by the analyzer itself when every
window is silent (``features.segments.is_silent``), whatever the models.

The rule is measured, not set by hand (``tools/fit_content_rule.py`` writes its file): per window,
the logits of a few of the network's class probabilities (speech, narration, music, singing ...,
each averaged over the window's excerpts); per track, their mean over its windows; the speech
evidence is a linear function of those (``weights``, ``bias``: a logistic regression fitted on
generated spoken word and music), and the track is spoken word when it exceeds the fitted
``threshold`` (chosen so that no music track of the fitting audio is called spoken word). The
manifest entry::

    {"name": "content", "kind": "content", "file": "content_rule.json", "sha256": ..., "size": ...,
     "inputs": {}, "labels": ["music", "spoken word"]}

and the file::

    {"format": "genre-desktop-content-rule-1", "network": "efficientat",
     "classes": ["Speech", "Music", ...],             # the network's class names it reads
     "weights": [...], "bias": b, "threshold": t,
     "excerpts_per_window": 3,                        # optional: the excerpts it was fitted on
     "measured": {...}}                               # how it was fitted, the confusion

``excerpts_per_window`` pins the network's excerpts the rule reads to those it was fitted on (the
mean of three excerpts' scores is not one excerpt's); absent, the network's default.
"""

from __future__ import annotations

import json

import numpy as np

from genre_desktop.core.prediction import MUSIC, SPOKEN_WORD
from genre_desktop.inference.common import ModelError

__all__ = ["RULE_FORMAT", "ContentRule", "class_logits"]

RULE_FORMAT = "genre-desktop-content-rule-1"
_EPS = 1e-6


def class_logits(scores: np.ndarray, indices: list[int]) -> np.ndarray:
    """(W, K) logits of the classes ``indices`` of each window's mean scores, from (W, E, C) or (W, C)."""
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim == 3:
        scores = scores.mean(axis=1)
    p = np.clip(scores[:, indices], _EPS, 1.0 - _EPS)
    return np.log(p) - np.log1p(-p)


class ContentRule:
    """The ``content`` member: music or spoken word, from a network's speech and music scores."""

    kind = "content"
    votes = False
    needs = frozenset({"outputs"})
    provides: frozenset[str] = frozenset()

    def __init__(self, entry, threads: int = 0) -> None:
        self.name = entry.name
        self.labels = [MUSIC, SPOKEN_WORD]
        try:
            raw = json.loads(entry.path.read_text(encoding="utf-8"))
            if raw.get("format") != RULE_FORMAT:
                raise ValueError(f"format {raw.get('format')!r}, expected {RULE_FORMAT!r}")
            self.network = str(raw["network"])
            self.classes = [str(c) for c in raw["classes"]]
            self.weights = np.asarray(raw["weights"], dtype=np.float64)
            self.bias = float(raw["bias"])
            self.threshold = float(raw["threshold"])
            if self.weights.shape != (len(self.classes),) or not self.classes:
                raise ValueError(f"{len(self.weights)} weights for {len(self.classes)} classes")
            units = raw.get("excerpts_per_window")
            self.units = None if units is None else max(0, int(units))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelError(f"model {entry.name!r}: {entry.path} is not a content rule: {exc}") from exc
        self.reads = frozenset({f"{self.network}:scores"})
        self._index: list[int] | None = None

    def _indices(self, inputs) -> list[int]:
        if self._index is None:
            labels = list(inputs.networks[self.network].labels)
            missing = [c for c in self.classes if c not in labels]
            if missing:
                raise ModelError(f"model {self.name!r}: network {self.network!r} has no class {missing}")
            self._index = [labels.index(c) for c in self.classes]
        return self._index

    def features(self, inputs) -> np.ndarray:
        """(W, K) the logits the rule reads, per window."""
        outputs = inputs.outputs(self.network, self.units)
        return class_logits(np.stack([o["scores"].mean(axis=0) for o in outputs]), self._indices(inputs))

    def evidence_of(self, features: np.ndarray) -> np.ndarray:
        """The speech evidence of feature rows (..., K)."""
        return np.asarray(features, dtype=np.float64) @ self.weights + self.bias

    def predict(self, inputs) -> np.ndarray:
        """(W, 2): per window, 1 in the column of what it is (music, spoken word)."""
        spoken = self.evidence_of(self.features(inputs)) > self.threshold
        return np.stack([~spoken, spoken], axis=1).astype(np.float64)

    def report(self, inputs) -> dict:
        track = self.features(inputs).mean(axis=0)
        return {"content": SPOKEN_WORD if float(self.evidence_of(track)) > self.threshold else MUSIC}
