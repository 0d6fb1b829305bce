"""Model members: an interface, and a table from a manifest entry's ``kind`` to the code that builds it.

A **member** is one model of a models folder. It declares

- ``needs``: the input kinds it reads (``inference/inputs.py``: ``table``, ``outputs``,
  ``embedding_stats``, ``mel``, ``vectors``): which inputs object can feed it (cached vectors
  feed only ``table`` and ``embedding_stats``);
- ``reads``: the network capabilities it reads, ``"<network>:<output>"`` (an embedding head over
  ``musicnn_msd.embedding.mean`` reads ``"musicnn_msd:embedding"``): which networks must run;
- ``provides``: for a network, the capabilities it offers (``"musicnn_msd:embedding"``,
  ``"musicnn_msd:tags"``); it then also has ``outputs(inputs, units)`` (per window, output name ->
  (units, D)) and ``default_units`` (None: the analysis' patch setting);
- ``votes``: a genre voter over the manifest's labels, or not;
- optionally ``report(inputs) -> dict``: fields it adds to the Prediction (a tag network's
  ``tags``, with ``gives_tags`` set on its class).

A factory of a network kind also answers ``provides_of(entry)`` from the manifest entry alone, so
the analyzer knows which networks to load before loading any (:func:`networks_for`).

``predict(inputs)`` returns one row per analysed window: a genre distribution over ``labels`` for a
voting member, or scores over its own ``labels`` otherwise. It asks ``inputs`` only for what it
needs; an input nobody asks for is never computed. Members are built from manifest entries through
:data:`FACTORIES` (kind -> factory), as ``tagging/registry.py`` picks a tag backend; adding a kind
is one factory and one row. An unknown kind is a ModelError naming it. The analyzer resolves which
networks to load from ``reads`` and ``provides`` alone, never from a kind's name.

Kinds and their manifest entries (every entry also has ``name``, ``file``, ``sha256``, ``size``,
``labels``, ``inputs``, ``outputs``; a voting member's labels must equal the manifest's, in order):

- ``classical``: ``inputs: {"features": [null, 57]}``; the 57 table features of each window
  (``features/gtzan.py``) -> ``probability_output`` (default ``probabilities``).
- ``musicnn``: a music-tagging network (``inference/musicnn.py``; input ``patches``, outputs ``tags``
  and ``embedding``). Not a genre voter: it provides ``<name>:tags`` and ``<name>:embedding`` per
  3 s patch, and its tag scores become ``Prediction.tags`` when chosen as a tag network (the
  top-level manifest field ``"embedding_model"`` names the network whose embedding the user-model
  vectors hold).
- ``efficientat``: the AudioSet tagger (``inference/efficientat.py``; input ``mel``, outputs
  ``logits`` and ``embedding``). Not a genre voter: it provides ``<name>:scores`` (527 class
  probabilities) and ``<name>:embedding`` per 10 s excerpt; ``excerpts_per_window`` (default 1; the bundle's: 3).
- ``content``: music or spoken word from a network's speech and music scores
  (``inference/content.py``; its file is the measured rule); reports ``Prediction.content``.
- ``broad_genres``: the genre tree's genres a network scores, calibrated (``inference/broad.py``;
  its file is the calibration); reports ``Prediction.broad``.
- ``embedding_head``: a genre classifier on statistics of networks' outputs::

      "inputs": {"embedding_stats": [null, D]},
      "stats": ["musicnn_msd.embedding.mean", "musicnn_msd.embedding.max", "musicnn_mtt.tags.mean"],
      "patches_per_window": K            # optional; units per window (3 s patches of musicnn,
                                         # 10 s excerpts of EfficientAT); 0 = all of the window's;
                                         # absent = each network's default

  Each entry of ``stats`` is ``network.output.statistic`` (statistic: mean|max|std over the
  window's units) and reads ``network:output``; the input row is
  ``features.embedding_stats.embedding_stats(outputs, stats)``, the same function the training
  script must call; D is checked against it.
- ``cnn``: a CNN on log-mel spectrograms::

      "inputs": {"mel": [null, 1, n_mels, frames]},
      "mel": {"sr": 22050, "n_fft": 2048, "hop": 512, "n_mels": 128, "frames": 128,
              "fmax": 11025, "log": "db"}          # or "log1p"

  Each window's samples become ``features.cnn_input.cnn_segments(y, sr, mel)``, (N, 1, n_mels,
  frames): non-overlapping segments; the graph's probabilities (a softmax output,
  ``probability_output`` or ``probabilities``) are averaged over a window's segments.
- ``user_model``: the librarian's trained model (``inference/user_model.py``; its own manifest
  layout, see ``inference/manifest.py``): reads the ``vectors`` input, mixed in by its weight.

Voting members' weights come from the manifest's ``ensemble.members`` (see ``inference/ensemble.py``).
Sessions are created once per member (creating one costs far more than running it) with the thread
count the caller chose.
"""

from __future__ import annotations

import logging
from typing import Callable, Iterable, Protocol

import numpy as np

from genre_desktop.inference.common import ModelError, open_session
from genre_desktop.inference.manifest import Manifest, ModelEntry
from genre_desktop.inference.broad import BroadGenres
from genre_desktop.inference.content import ContentRule
from genre_desktop.inference.efficientat import EfficientatMember
from genre_desktop.inference.musicnn import MusicnnMember
from genre_desktop.inference.user_model import UserModel

__all__ = ["FACTORIES", "Classifier", "Member", "OnnxClassifier", "build_member", "load_classical",
           "capabilities", "gives_tags", "load_members", "networks_for", "stat_reads"]

log = logging.getLogger(__name__)


class Member(Protocol):
    """One model of the manifest, built by the factory of its kind."""

    name: str
    kind: str
    labels: list[str]
    votes: bool  # a genre voter (over the manifest's labels) or not
    needs: frozenset[str]  # input kinds it reads
    reads: frozenset[str]  # network capabilities it reads, "<network>:<output>"
    provides: frozenset[str]  # network capabilities it offers (networks only)

    def predict(self, inputs) -> np.ndarray:
        """(W, len(labels)) one row per window of ``inputs``."""
        ...


class Classifier(Protocol):
    name: str
    labels: list[str]
    n_features: int

    def predict_proba(self, X: np.ndarray) -> np.ndarray: ...


def stat_reads(stats: Iterable[str]) -> frozenset[str]:
    """The capabilities ``stats`` (``features.embedding_stats`` names) read: ``"net:output"`` each."""
    from genre_desktop.features.embedding_stats import parse_stat

    return frozenset(f"{net}:{output}" for net, output, _ in (parse_stat(s) for s in stats))


def _open(entry: ModelEntry, threads: int, rank: int):
    """(session, input name, declared input shape, output name) of a one-input genre model."""
    if len(entry.inputs) != 1:
        raise ModelError(f"model {entry.name!r}: expected one input, manifest lists {list(entry.inputs)}")
    input_name, declared = next(iter(entry.inputs.items()))
    if len(declared) != rank or not all(isinstance(d, int) for d in declared[1:]):
        raise ModelError(f"model {entry.name!r}: input shape {declared} is not [n, ...] of rank {rank}")
    session = open_session(entry.path, threads, f"model {entry.name!r}")
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
    reads: frozenset[str] = frozenset()
    provides: frozenset[str] = frozenset()

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
    """An ``embedding_head`` member: statistics of networks' outputs over a window's units in."""

    kind = "embedding_head"
    needs = frozenset({"embedding_stats"})

    def __init__(self, entry: ModelEntry, threads: int = 0) -> None:
        super().__init__(entry, threads)
        try:
            self.stats = [str(s) for s in entry.raw["stats"]]
            self.reads = stat_reads(self.stats)
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
    reads: frozenset[str] = frozenset()
    provides: frozenset[str] = frozenset()

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


Factory = Callable[[ModelEntry, int], Member]

#: kind -> factory(entry, threads). One row per kind; nothing else branches on the kind.
FACTORIES: dict[str, Factory] = {
    "classical": OnnxClassifier,
    "musicnn": MusicnnMember,
    "embedding_head": EmbeddingHead,
    "cnn": CnnMember,
    "efficientat": EfficientatMember,
    "content": ContentRule,
    "broad_genres": BroadGenres,
    "user_model": UserModel,
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


def capabilities(entry: ModelEntry) -> frozenset[str]:
    """What ``entry`` provides to other members (its kind's ``provides_of``; empty if not a network)."""
    provides_of = getattr(FACTORIES.get(entry.kind), "provides_of", None)
    return frozenset(provides_of(entry)) if provides_of else frozenset()


def gives_tags(entry: ModelEntry) -> bool:
    """Whether ``entry``'s kind reports tags (``Prediction.tags``) when chosen as a tag network."""
    return bool(getattr(FACTORIES.get(entry.kind), "gives_tags", False))


def networks_for(manifest: Manifest, reads: Iterable[str]) -> list[ModelEntry]:
    """The entries of ``manifest`` providing the capabilities ``reads``, in manifest order;
    ModelError naming any capability no entry provides."""
    offered = {cap: e for e in manifest.models for cap in capabilities(e)}
    missing = sorted(set(reads) - set(offered))
    if missing:
        networks = [e.name for e in manifest.models if capabilities(e)]
        raise ModelError(f"{manifest.folder}: members read {', '.join(missing)}, which no network of the "
                         f"manifest provides (networks: {', '.join(networks) or 'none'})")
    wanted = {offered[cap].name for cap in reads}
    return [e for e in manifest.models if e.name in wanted]
