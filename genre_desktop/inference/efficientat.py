"""The EfficientAT AudioSet tagger (mn04_as), run with onnxruntime: the member kind ``efficientat``.

A network member (see ``members.py``): per analysed window it runs on 10 s excerpts, as it was
trained, and provides to whoever reads them

- ``"<name>:scores"``: the 527 AudioSet class probabilities of each excerpt (the sigmoid of the
  graph's ``logits``: independent, they do not sum to one): music genres (AudioSet indices 216-265
  and the other classes below "Music genre"), "Speech", "Music", "Silence" ...;
- ``"<name>:embedding"``: each excerpt's pooled features (the input of the classifier head).

It runs only when something reads one of them (an embedding head, the broad genres, the content
rule); nothing about it is computed otherwise. Its units are 10 s excerpts: a 30 s window gives
``excerpts_per_window`` of them (default :data:`EXCERPTS_PER_WINDOW`), evenly spread
(``features.efficientat_input.excerpt_starts``); a window shorter than 10 s gives one excerpt,
zero-padded at the end as the network's training clips were.

The manifest entry (``tools/convert_efficientat.py`` writes the file and its meta json)::

    {"name": "efficientat", "kind": "efficientat", "file": "efficientat_mn04.onnx", "sha256": ..., "size": ...,
     "inputs": {"mel": [null, 1, 128, null]}, "outputs": {"logits": [null, 527], "embedding": [null, D]},
     "labels": [527 AudioSet class names], "label_ids": [527 AudioSet ids, "/m/09x0r", ...],
     "feature_recipe": "efficientat-logmel-1",
     "excerpts_per_window": 1}                 # optional, see EXCERPTS_PER_WINDOW

The input is 32 kHz: each excerpt is resampled (soxr HQ) from the analysed window (22,050 Hz) alone
(``features.resample``: the same samples as the whole window resampled, at a third of the cost for
one excerpt per 30 s window). Nothing of the band between
11 and 15 kHz, which the window does not hold, is missed much: on six full-band clips decoded
straight to 32 kHz the largest class probability moved by 0.022 and the top three genres stayed.
"""

from __future__ import annotations

import numpy as np

from genre_desktop.inference.common import ModelError, open_session

__all__ = ["EXCERPTS_PER_WINDOW", "EfficientatMember"]

# The front end (features/efficientat_input.py) is imported when the kind is used: a models folder
# without this network never loads it.
SAMPLE_RATE = 32000
EXCERPT_SAMPLES = 320_000

# For a manifest entry that does not say: one 10 s excerpt (the middle third) of each 30 s window.
# The bundled entry says 3 (chosen by the head's grouped CV on the train audio; the heads, the
# broad-genre calibration and the content rule were all fitted on three).
EXCERPTS_PER_WINDOW = 1
N_CLASSES = 527
WINDOW_RATE = 22050  # the analysed windows' rate (inference.inputs.SAMPLE_RATE)


def window_excerpts(y: np.ndarray, units: int | None) -> list[np.ndarray]:
    """The 32 kHz excerpts of one 22,050 Hz window, each exactly 10 s (a shorter window: one,
    zero-padded at the end), placed as ``features.efficientat_input.excerpt_starts`` places them
    in the window resampled whole, and resampled alone (``features.resample.resample_span``)."""
    from genre_desktop.features.efficientat_input import excerpt_starts
    from genre_desktop.features.resample import resample_span, resampled_length

    n32 = resampled_length(len(y), WINDOW_RATE, SAMPLE_RATE)
    return [resample_span(y, WINDOW_RATE, SAMPLE_RATE, start, EXCERPT_SAMPLES)
            for start in excerpt_starts(n32, units or None)]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return (1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float64)))).astype(np.float32)


class EfficientatMember:
    """An ``efficientat`` member: AudioSet class scores and embeddings per 10 s excerpt."""

    kind = "efficientat"
    votes = False
    needs = frozenset({"outputs"})
    reads: frozenset[str] = frozenset()

    @staticmethod
    def provides_of(entry) -> frozenset[str]:
        return frozenset({f"{entry.name}:scores", f"{entry.name}:embedding"})

    def __init__(self, entry, threads: int = 0) -> None:
        self.name = entry.name
        self.labels = list(entry.labels)
        self.provides = self.provides_of(entry)
        if len(self.labels) != N_CLASSES:
            raise ModelError(f"model {entry.name!r}: {len(self.labels)} labels, expected AudioSet's {N_CLASSES}")
        from genre_desktop.features.efficientat_input import EXCERPT_SAMPLES as front_excerpt
        from genre_desktop.features.efficientat_input import RECIPE_VERSION
        from genre_desktop.features.efficientat_input import SAMPLE_RATE as front_rate

        assert (front_rate, front_excerpt) == (SAMPLE_RATE, EXCERPT_SAMPLES)
        if entry.feature_recipe and entry.feature_recipe != RECIPE_VERSION:
            raise ModelError(f"model {entry.name!r} was built for the input recipe {entry.feature_recipe!r}; "
                             f"this app computes {RECIPE_VERSION!r}")
        ids = entry.raw.get("label_ids") or []
        self.label_ids = [str(i) for i in ids] if len(ids) == N_CLASSES else []
        try:
            k = entry.raw.get("excerpts_per_window", EXCERPTS_PER_WINDOW)
            self.default_units = max(0, int(k))
        except (TypeError, ValueError) as exc:
            raise ModelError(f"model {entry.name!r}: bad 'excerpts_per_window': {exc}") from exc
        self._session = open_session(entry.path, threads, f"model {entry.name!r}")
        inputs = self._session.get_inputs()
        outputs = {o.name: o.shape for o in self._session.get_outputs()}
        if (len(inputs) != 1 or list(inputs[0].shape[1:3]) != [1, 128] or "logits" not in outputs
                or "embedding" not in outputs or outputs["logits"][-1] != N_CLASSES):
            raise ModelError(f"model {entry.name!r}: expected input mel [n, 1, 128, frames] and outputs "
                             f"logits [n, {N_CLASSES}] and embedding, got {inputs[0].name} {inputs[0].shape}, {outputs}")
        self._input = inputs[0].name

    def run(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Class probabilities (n, 527) and embeddings (n, D), float32, for log-mel excerpts
        (n, 1, 128, frames). One excerpt per run: the activations of a batch would add up in
        onnxruntime's arena and stay at its peak."""
        batch = np.ascontiguousarray(batch, dtype=np.float32)
        runs = [self._session.run(["logits", "embedding"], {self._input: batch[i:i + 1]}) for i in range(len(batch))]
        return _sigmoid(np.concatenate([r[0] for r in runs])), np.concatenate([r[1] for r in runs]).astype(np.float32)

    def outputs(self, inputs, units: int) -> list[dict[str, np.ndarray]]:
        """Per window, {"scores": (E, 527), "embedding": (E, D)} of ``units`` excerpts (0 = as many
        10 s excerpts as cover the window)."""
        from genre_desktop.features.efficientat_input import log_mel

        out = []
        for _, _, y in inputs.windows:
            inputs.cancel.raise_if_cancelled()
            batch = np.stack([log_mel(e) for e in window_excerpts(y, units)])[:, None, :, :]
            scores, embedding = self.run(batch)
            out.append({"scores": scores, "embedding": embedding})
        return out

    def predict(self, inputs) -> np.ndarray:
        """(W, 527) each window's class probabilities averaged over its excerpts."""
        return np.stack([o["scores"].mean(axis=0) for o in inputs.outputs(self.name)])
