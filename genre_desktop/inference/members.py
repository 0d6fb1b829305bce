"""Model members: an interface, and a table from a manifest entry's ``kind`` to the code that builds it.

A **member** is one model of a models folder. It declares the input kinds it reads (``needs``, see
``inference/inputs.py``: ``table``, ``musicnn``, ``mel``) and ``predict(inputs)`` returns one row per
analysed window: a genre distribution over ``labels`` for a voting member (``votes``), or scores
over its own ``labels`` (tags) for a non-voting one. It asks ``inputs`` only for what it needs; an
input nobody asks for is never computed. Members are built from manifest entries through
:data:`FACTORIES` (kind -> factory), as ``tagging/registry.py`` picks a tag backend; adding a kind
is one factory and one row. An unknown kind is a ModelError naming it.

Kinds and their manifest entries (every entry also has ``name``, ``file``, ``sha256``, ``size``,
``labels``, ``inputs``, ``outputs``; a voting member's labels must equal the manifest's, in order):

- ``classical``: ``inputs: {"features": [null, 57]}``; the 57 table features of each window
  (``features/gtzan.py``) -> ``probability_output`` (default ``probabilities``).
- ``musicnn``: a music-tagging network (``inference/musicnn.py``; input ``patches``, outputs ``tags``
  and ``embedding``). Not a genre voter: its tag scores become ``Prediction.tags``, and its per-patch
  outputs are the ``musicnn`` input of other members (and of the user-model vectors: the top-level
  manifest field ``"embedding_model"`` names the network whose embedding they hold).
- ``embedding_head``: a genre classifier on statistics of the musicnn outputs::

      "inputs": {"embedding_stats": [null, D]},
      "stats": ["musicnn_msd.embedding.mean", "musicnn_msd.embedding.max", "musicnn_mtt.tags.mean"],
      "patches_per_window": K            # optional; 0 = all 3 s patches of the window;
                                         # absent = the analysis' tag patches (2 by default)

  Each entry of ``stats`` is ``network.output.statistic`` (statistic: mean|max|std over the
  window's patches); the input row is ``features.embedding_stats.embedding_stats(outputs, stats)``,
  the same function the training script must call; D is checked against it.
- ``cnn``: a CNN on log-mel spectrograms::

      "inputs": {"mel": [null, 1, n_mels, frames]},
      "mel": {"sr": 22050, "n_fft": 2048, "hop": 512, "n_mels": 128, "frames": 128,
              "fmax": 11025, "log": "db"}          # or "log1p"

  Each window's samples become ``features.cnn_input.cnn_segments(y, sr, mel)``, (N, 1, n_mels,
  frames): non-overlapping segments; the graph's probabilities (a softmax output,
  ``probability_output`` or ``probabilities``) are averaged over a window's segments.

Voting members' weights come from the manifest's ``ensemble.members`` (see ``inference/ensemble.py``).
Sessions are created once per member (creating one costs far more than running it) with the thread
count the caller chose.
"""

from __future__ import annotations

import logging
from typing import Callable, Protocol

import numpy as np

from genre_desktop.inference.manifest import Manifest, ModelEntry, ModelError

__all__ = ["FACTORIES", "Classifier", "Member", "OnnxClassifier", "build_member", "load_classical",
           "load_members", "session_options"]

log = logging.getLogger(__name__)


class Member(Protocol):
    """One model of the manifest, built by the factory of its kind."""

    name: str
    kind: str
    labels: list[str]
    votes: bool  # a genre voter (over the manifest's labels) or not (tags)
    needs: frozenset[str]  # input kinds it reads: "table", "musicnn", "mel"
    networks: tuple[str, ...]  # the musicnn networks it reads (empty unless it needs "musicnn")

    def predict(self, inputs) -> np.ndarray:
        """(W, len(labels)) one row per window of ``inputs``."""
        ...


class Classifier(Protocol):
    name: str
    labels: list[str]
    n_features: int

    def predict_proba(self, X: np.ndarray) -> np.ndarray: ...


def session_options(threads: int = 0):
    """onnxruntime SessionOptions: ``threads`` intra-op threads (0 = onnxruntime's default), and
    threads that sleep when idle.

    onnxruntime's pool threads spin after each run by default; between two network runs the
    analysis computes features in Python for ~100 ms, so with 2 threads on 2 cores a window cost
    495 ms of CPU (283 ms wall) instead of 243 (183 wall) with spinning off (measured, GTZAN clips).
    """
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = max(0, int(threads))
    opts.inter_op_num_threads = 1
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    opts.add_session_config_entry("session.inter_op.allow_spinning", "0")
    opts.log_severity_level = 3  # warnings about unused initialisers etc. are not the user's concern
    return opts


def _open(entry: ModelEntry, threads: int, rank: int):
    """(session, input name, declared input shape, output name) of a one-input genre model."""
    import onnxruntime as ort

    if len(entry.inputs) != 1:
        raise ModelError(f"model {entry.name!r}: expected one input, manifest lists {list(entry.inputs)}")
    input_name, declared = next(iter(entry.inputs.items()))
    if len(declared) != rank or not all(isinstance(d, int) for d in declared[1:]):
        raise ModelError(f"model {entry.name!r}: input shape {declared} is not [n, ...] of rank {rank}")
    try:
        session = ort.InferenceSession(str(entry.path), session_options(threads), providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own exception types for bad files
        raise ModelError(f"model {entry.name!r}: onnxruntime cannot load {entry.path}: {exc}") from exc
    inputs = session.get_inputs()
    actual = [d if isinstance(d, int) else None for d in inputs[0].shape]
    if inputs[0].name != input_name or len(actual) != rank or actual[1:] != list(declared[1:]):
        raise ModelError(f"model {entry.name!r}: graph input {inputs[0].name} {actual} does not match "
                         f"the manifest's {input_name} {declared}")
    outputs = [o.name for o in session.get_outputs()]
    output = entry.probability_output or ("probabilities" if "probabilities" in outputs else outputs[-1])
    if output not in outputs:
        raise ModelError(f"model {entry.name!r}: no output {output!r} in {outputs}")
    return session, input_name, list(declared), output


def _distribution(name: str, proba, rows: int, n_labels: int) -> np.ndarray:
    proba = np.asarray(proba, dtype=np.float64)
    if proba.shape != (rows, n_labels):
        raise ModelError(f"model {name!r} returned shape {proba.shape}, expected ({rows}, {n_labels})")
    # float32 arithmetic leaves rows a few ulps off one; tree ensembles can emit -0.0.
    proba = np.clip(proba, 0.0, None)
    return proba / proba.sum(axis=1, keepdims=True)


class OnnxClassifier:
    """A ``classical`` member: the 57 table features in, a genre distribution out."""

    kind = "classical"
    votes = True
    needs = frozenset({"table"})
    networks: tuple[str, ...] = ()

    def __init__(self, entry: ModelEntry, threads: int = 0) -> None:
        self.name = entry.name
        self.labels = list(entry.labels)
        self._session, self.input_name, declared, self.output_name = _open(entry, threads, 2)
        self.n_features = int(declared[1])

    def predict(self, inputs) -> np.ndarray:
        return self.predict_proba(inputs.table())

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """(n, n_features) -> (n, n_labels) float64, rows summing to one. Wrong shape -> ModelError."""
        X = np.asarray(X, dtype=np.float32)
        if X.ndim == 1:
            X = X[None, :]
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise ModelError(f"model {self.name!r} expects input [n, {self.n_features}], got {list(X.shape)}")
        if not np.all(np.isfinite(X)):
            raise ValueError(f"model {self.name!r}: non-finite feature values")
        (proba,) = self._session.run([self.output_name], {self.input_name: X})
        return _distribution(self.name, proba, X.shape[0], len(self.labels))


class EmbeddingHead(OnnxClassifier):
    """An ``embedding_head`` member: statistics of musicnn outputs over a window's patches in."""

    kind = "embedding_head"
    needs = frozenset({"embedding_stats"})

    def __init__(self, entry: ModelEntry, threads: int = 0) -> None:
        from genre_desktop.features.embedding_stats import stat_networks

        super().__init__(entry, threads)
        try:
            self.stats = [str(s) for s in entry.raw["stats"]]
            self.networks = tuple(stat_networks(self.stats))
            k = entry.raw.get("patches_per_window")
            self.patches = None if k is None else max(0, int(k))
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"model {entry.name!r}: bad 'stats' or 'patches_per_window': {exc}") from exc

    def predict(self, inputs) -> np.ndarray:
        # the inputs compute the statistics (audio) or serve the cached ones (training vectors)
        return self.predict_proba(inputs.embedding_stats(self.stats, self.patches))


class CnnMember:
    """A ``cnn`` member: a window's mel segments in, their mean genre distribution out."""

    kind = "cnn"
    votes = True
    needs = frozenset({"mel"})
    networks: tuple[str, ...] = ()

    def __init__(self, entry: ModelEntry, threads: int = 0) -> None:
        self.name = entry.name
        self.labels = list(entry.labels)
        self._session, self.input_name, declared, self.output_name = _open(entry, threads, 4)
        try:
            mel = dict(entry.raw["mel"])
            shape = [1, int(mel["n_mels"]), int(mel["frames"])]
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"model {entry.name!r}: bad 'mel' parameters: {exc!r}") from exc
        if declared[1:] != shape:
            raise ModelError(f"model {entry.name!r}: input {declared} does not match its mel parameters "
                             f"[n, {shape[0]}, {shape[1]}, {shape[2]}]")
        self.mel = mel

    def predict(self, inputs) -> np.ndarray:
        per_window = inputs.mel(self.mel)
        batch = np.ascontiguousarray(np.concatenate(per_window), dtype=np.float32)
        (proba,) = self._session.run([self.output_name], {self.input_name: batch})
        proba = _distribution(self.name, proba, len(batch), len(self.labels))
        bounds = np.cumsum([len(s) for s in per_window])[:-1]
        means = np.stack([part.mean(axis=0) for part in np.split(proba, bounds)])
        return means / means.sum(axis=1, keepdims=True)


class MusicnnMember:
    """A ``musicnn`` member: a tagging network. Per window, its tag scores' mean over the patches."""

    kind = "musicnn"
    votes = False
    needs = frozenset({"musicnn"})

    def __init__(self, entry: ModelEntry, threads: int = 0) -> None:
        from genre_desktop.inference.musicnn import MusicnnTagger

        self.name = entry.name
        self.labels = list(entry.labels)
        self.networks = (entry.name,)
        try:
            self.network = MusicnnTagger(entry.path, entry.labels, threads=threads,
                                         genre_map=entry.raw.get("genre_map"))
        except (ValueError, OSError) as exc:
            raise ModelError(f"model {entry.name!r}: {exc}") from exc
        except Exception as exc:  # onnxruntime's own exception types
            raise ModelError(f"model {entry.name!r}: onnxruntime cannot load {entry.path}: {exc}") from exc

    def predict(self, inputs) -> np.ndarray:
        return np.stack([out["tags"].mean(axis=0) for out in inputs.musicnn(self.name)])

    def tag_scores(self, inputs) -> np.ndarray:
        """(len(labels),) mean score over every chosen patch of every window."""
        return np.concatenate([out["tags"] for out in inputs.musicnn(self.name)]).mean(axis=0)


Factory = Callable[[ModelEntry, int], Member]

#: kind -> factory(entry, threads). One row per kind; nothing else branches on the kind.
FACTORIES: dict[str, Factory] = {
    "classical": OnnxClassifier,
    "musicnn": MusicnnMember,
    "embedding_head": EmbeddingHead,
    "cnn": CnnMember,
}


def build_member(entry: ModelEntry, threads: int = 0) -> Member:
    """The member of ``entry`` built by its kind's factory; ModelError for an unknown kind."""
    factory = FACTORIES.get(entry.kind)
    if factory is None:
        raise ModelError(f"model {entry.name!r}: unknown kind {entry.kind!r} "
                         f"(this app knows {', '.join(sorted(FACTORIES))})")
    return factory(entry, threads)


def load_members(manifest: Manifest, threads: int = 0,
                 select: Callable[[ModelEntry], bool] | None = None) -> list[Member]:
    """A member per entry of ``manifest`` (hash-verified by load_manifest) that ``select`` keeps.

    Voting members must give the manifest's labels in its order (ModelError otherwise)."""
    members = [build_member(e, threads) for e in manifest.models if select is None or select(e)]
    for m in members:
        if m.votes and m.labels != manifest.labels:
            raise ModelError(f"model {m.name!r}: labels {m.labels} differ from the manifest's {manifest.labels}")
    return members


def load_classical(manifest: Manifest, threads: int = 0) -> list[OnnxClassifier]:
    """A session per classical model of ``manifest`` (already hash-verified by load_manifest)."""
    members = load_members(manifest, threads, lambda e: e.kind == "classical")
    if not members:
        raise ModelError(f"{manifest.folder}: the manifest lists no classical model")
    return members
