"""Analyse one audio file: segments -> the members' inputs -> members -> one ensemble -> Prediction.

For a track of a few minutes, ``plan_segments`` chooses up to ``n_segments`` 30 s windows spread
over the track (skipping the first and last seconds); only those windows are decoded. A silent
window is shifted forward and retried a bounded number of times, then dropped.

The models folder's members are built by kind (``inference/members.py``); each asks the window
inputs (``inference/inputs.py``) for what it needs, computed on first use and once. Which networks
load is decided from what the members declare, not from their kinds: the networks providing a
capability some member or the track vectors read, plus the chosen tag networks. The voting
members go through the one :class:`~genre_desktop.inference.ensemble.Ensemble`: a weighted soft vote
per window, windows combined by averaging log-probabilities, and the active user model (if any)
mixed in by its weight. Tag networks give ``Prediction.tags``; they are not genre voters.

Bad audio never raises: the Prediction carries ``error`` (the decoder's reason) instead.

``analyze`` returns an :class:`Analysis`: the Prediction and, when the Analyzer was built for them
(a vector cache folder or a user model), the file's vectors (per-window GTZAN features, the mean
embedding of the manifest's ``embedding_model`` network and every bundled embedding head's input
statistics, :func:`vector_stats`; see ``inference/vector_cache.py``). The
Analyzer never writes the cache: its caller does (``Analysis.store``), in whichever process owns it.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable, Iterable, NamedTuple

import numpy as np

from genre_desktop.audio import DecodeError, decode, probe
from genre_desktop.cancel import NEVER, CancelToken, Cancelled
from genre_desktop.core.prediction import NO_AUDIO, Prediction, SegmentScore
from genre_desktop.features.embedding_stats import stat_networks
from genre_desktop.features.gtzan import RECIPE_VERSION
from genre_desktop.features.segments import is_silent, plan_segments
from genre_desktop.inference.common import ModelError
from genre_desktop.inference.ensemble import Ensemble, normalise_weights
from genre_desktop.inference.inputs import AudioInputs, VectorSpec
from genre_desktop.inference.manifest import load_manifest
from genre_desktop.inference.members import FACTORIES, capabilities, gives_tags, load_members, networks_for, stat_reads
from genre_desktop.inference.vector_cache import (FileKey, Stat, TrackVectors, VectorCache, cache_recipe, network_identity,
                                                  recipe_problem, stats_of, vector_recipe)
from genre_desktop.paths import bundled_models_dir

__all__ = ["Analysis", "Analyzer", "ModelError", "SAMPLE_RATE"]

log = logging.getLogger(__name__)

SAMPLE_RATE = 22050  # the GTZAN table's rate; the features are only comparable at this rate
MAX_SILENCE_SHIFTS = 3  # per window; a mostly silent track must not cost a decode per second
MIN_WINDOW_SECONDS = 1.0  # shorter windows (the tail of a shift) say nothing about genre
# musicnn costs ~25 ms per 3 s patch and network, far more than everything else per second of
# audio. Measured on the eight GTZAN clips (one 30 s window each) against the all-patch average,
# single thread: 4 patches per window keep 4.75 of the top-5 tags but the whole analysis runs at
# ~67x real time; 2 patches keep 4.0 of 5 (mean |score difference| 0.13) at ~94x; the genre vote
# does not use the tags. A 5-window track still gets 10 patches spread over its whole length.
TAG_PATCHES_PER_WINDOW = 2

# read(start_seconds, length_seconds) -> mono float32 samples at SAMPLE_RATE
WindowReader = Callable[[float, float], np.ndarray]


def track_vector_recipe(manifest) -> str:
    """What the track vectors of ``manifest``'s models mean ("" without an embedding network)."""
    embedding = manifest.find(manifest.embedding_model) if manifest.embedding_model else None
    stats = vector_stats(manifest)
    if embedding is None or not capabilities(embedding) or not stats:
        return ""

    def identity(net: str) -> str:  # a network the manifest does not list: the loader refuses it anyway
        entry = manifest.find(net)
        return network_identity(entry.sha256, entry.feature_recipe) if entry else "unlisted"

    identities = {net: identity(net) for net in stat_networks([s.name for s in stats])}
    return vector_recipe(RECIPE_VERSION, embedding.feature_recipe, embedding.sha256, stats, identities)


def vector_stats(manifest) -> list[Stat]:
    """The statistics the vectors carry: every embedding head's input (each entry whose kind reads
    ``embedding_stats``: its ``stats`` over its ``patches_per_window``), each distinct statistic once,
    in the manifest's order, so that the whole bundled vote runs on cached vectors and user models
    may learn from every network the heads read; without a head, the embedding network's mean
    embedding over the analysis' patches. Empty if neither."""
    stats: list[Stat] = []
    for entry in manifest.models:
        if "embedding_stats" not in getattr(FACTORIES.get(entry.kind), "needs", ()):
            continue
        k = entry.raw.get("patches_per_window")
        stats += [s for s in stats_of(entry.raw.get("stats", []), None if k is None else int(k)) if s not in stats]
    if stats:
        return stats
    embedding = manifest.find(manifest.embedding_model) if manifest.embedding_model else None
    if embedding is not None and capabilities(embedding):
        return [Stat(f"{manifest.embedding_model}.embedding.mean")]
    return []


def vector_cache_recipe(manifest, n_segments: int, tag_patches: int) -> str:
    """The vector cache recipe of an analysis (vectors depend on the windows and patches too)."""
    return cache_recipe(track_vector_recipe(manifest), max(1, int(n_segments)), max(0, int(tag_patches)))


class Analysis(NamedTuple):
    """What one analysis gives: the prediction, and the file's vectors when they were computed.

    ``key``: the file's size and mtime as stat-ed *before* decoding, so a file changed meanwhile is
    recomputed next time rather than cached under its new mtime. Picklable (it crosses processes).
    """

    prediction: Prediction
    vectors: TrackVectors | None = None
    key: FileKey | None = None

    def store(self, cache: VectorCache | None) -> bool:
        """Write the vectors into ``cache`` (if any, and if there are vectors); True if written."""
        if cache is None or self.vectors is None or self.key is None:
            return False
        cache.put(self.key.path, self.vectors, self.key)
        return True


class Analyzer:
    """Loads and verifies the models once; analyses files or sample arrays."""

    def __init__(self, models_dir: Path | None = None, n_segments: int = 5, threads: int = 0,
                 musicnn: bool = True, tag_patches: int = TAG_PATCHES_PER_WINDOW,
                 vector_cache: VectorCache | str | Path | None = None, user_model=None,
                 tag_networks: Iterable[str] | None = None) -> None:
        """Raises ModelError if the manifest or a model is missing, tampered or incompatible.

        ``musicnn``: report tags (``Prediction.tags``) from the tag networks; ``tag_networks`` names
        them (None: every network of the manifest that gives tags; names it does not list are
        skipped with a warning). The networks loaded and run are those whose capabilities a
        member, a reporter or the vectors read, plus the chosen tag networks (each musicnn network
        costs ~35 ms of CPU per 3 s patch). ``tag_patches``: 3 s patches per window of the musicnn
        networks (evenly spread; 0 = every patch).
        ``vector_cache``: a cache folder (e.g. ``AppDirs.feature_cache``) or a VectorCache built
        with :meth:`cache_recipe`: analyses then return the files' vectors (for the caller to store
        there). ``user_model``: a loaded user model member (``inference.user_model.UserModel``) to
        mix into the ensemble.
        """
        self.models_dir = Path(models_dir) if models_dir is not None else bundled_models_dir()
        self.manifest = load_manifest(self.models_dir)
        if self.manifest.feature_recipe != RECIPE_VERSION:
            raise ModelError(f"models in {self.models_dir} were built for feature recipe "
                             f"{self.manifest.feature_recipe!r}; this app computes {RECIPE_VERSION!r}")
        self.n_segments = max(1, int(n_segments))
        self.tag_patches = max(0, int(tag_patches))
        self.embedding_model = self.manifest.embedding_model
        self.want_vectors = vector_cache is not None or user_model is not None
        self.vector_recipe = track_vector_recipe(self.manifest)
        if self.want_vectors and not self.vector_recipe:
            raise ModelError(f"{self.models_dir}: the manifest names no embedding network (embedding_model: "
                             f"{self.embedding_model!r}) and embedding head for the track vectors")
        self.vector_stats = vector_stats(self.manifest)
        # Every member but the networks (cheap to build); their reads decide which networks load.
        others = load_members(self.manifest, threads, lambda e: not capabilities(e))
        self._members = [m for m in others if m.votes]
        if not self._members:
            raise ModelError(f"{self.models_dir}: the manifest lists no genre-voting model")
        taggers = self._chosen_taggers(musicnn, tag_networks)
        reads = set().union(*(m.reads for m in others))
        if self.want_vectors:
            reads |= {f"{self.embedding_model}:embedding"} | stat_reads([s.name for s in self.vector_stats])
        wanted = {e.name for e in networks_for(self.manifest, reads)} | taggers
        networks = load_members(self.manifest, threads, lambda e: e.name in wanted)
        self.networks = {m.name: m for m in networks}
        self.tag_members = [m for m in networks if m.name in taggers]
        # members that add fields to the Prediction (content, broad genres), tag networks apart
        self.reporters = [m for m in others if not m.votes and hasattr(m, "report")]
        self.members = [m.name for m in self._members]
        self.bundled_labels = list(self.manifest.labels)
        self.weights = normalise_weights(self.manifest.weights, self.members)
        self.ensemble = Ensemble.from_manifest(self.manifest, self._members, user_model)
        self.labels = self.ensemble.output_labels
        self.user_model = user_model
        self.model_version = self.manifest.version
        if isinstance(vector_cache, (str, Path)):
            vector_cache = VectorCache(vector_cache, self.cache_recipe())
        self.vector_cache = vector_cache  # where this configuration's vectors belong (read by training)
        if user_model is not None:
            problem = recipe_problem(user_model.vector_recipe, self.vector_recipe)
            if problem:
                raise ModelError(f"user model {user_model.version!r} cannot read this analysis' track vectors: "
                                 f"{problem} (trained on {user_model.vector_recipe!r}; this app computes "
                                 f"{self.vector_recipe!r})")
            self.model_version = f"{self.manifest.version}+{user_model.version}"

    def _chosen_taggers(self, musicnn: bool, tag_networks: Iterable[str] | None) -> set[str]:
        """The networks whose tags the analysis reports (listed in the manifest, giving tags)."""
        listed = {e.name for e in self.manifest.models if gives_tags(e)}
        if not musicnn:
            return set()
        if tag_networks is None:
            return listed
        chosen = {str(n) for n in tag_networks}
        if chosen - listed:
            log.warning("tag networks %s are not in %s; skipped", sorted(chosen - listed), self.models_dir)
        return chosen & listed

    def inputs(self, windows: list, cancel: CancelToken = NEVER) -> AudioInputs:
        """The lazy inputs of ``windows`` for this analyzer's members, networks and vectors."""
        spec = None
        if self.want_vectors:
            spec = VectorSpec(self.embedding_model, tuple(self.vector_stats))
        return AudioInputs(windows, self.networks, self.tag_patches, cancel, spec)

    def cache_recipe(self) -> str:
        """The vector cache recipe of this configuration (vectors depend on windows and patches)."""
        return cache_recipe(self.vector_recipe, self.n_segments, self.tag_patches)

    # -- public API ----------------------------------------------------------------------------

    def analyze(self, path, cancel: CancelToken = NEVER) -> Analysis:
        """Analyse the file at ``path``; decode problems end up in ``Prediction.error``."""
        name = str(path)
        try:
            info = probe(path)
            key = self._file_key(path)
            return self._analyze(name, info.duration,
                                 lambda start, length: decode(path, SAMPLE_RATE, start, length), cancel, key)
        except DecodeError as exc:
            return Analysis(Prediction.failed(name, exc.reason))
        except (Cancelled, ModelError):
            raise
        except Exception as exc:  # one odd file must not stop a batch of thousands
            log.exception("analysing %s failed", name)
            return Analysis(Prediction.failed(name, f"analysis failed: {exc}"))

    def analyze_samples(self, y: np.ndarray, sr: int, name: str = "<samples>",
                        cancel: CancelToken = NEVER) -> Analysis:
        """Analyse mono samples already in memory (resampled to 22050 Hz if needed)."""
        y = np.asarray(y, dtype=np.float32)
        if y.ndim != 1:
            raise ValueError(f"expected mono 1-D samples, got shape {y.shape}")
        if sr != SAMPLE_RATE:
            import soxr

            y = soxr.resample(y, sr, SAMPLE_RATE, quality="HQ").astype(np.float32)

        def read(start: float, length: float) -> np.ndarray:
            a = int(round(start * SAMPLE_RATE))
            return y[a:a + int(round(length * SAMPLE_RATE))]

        return self._analyze(name, len(y) / SAMPLE_RATE, read, cancel)

    def compute_vectors(self, path, cancel: CancelToken = NEVER) -> TrackVectors:
        """The vectors of ``path`` (decoded now; no cache involved: the training side reads and
        writes the cache, see ``training.session.vectors_for``).

        Raises DecodeError if the file cannot be decoded, ValueError if it has no audible audio,
        ModelError if the manifest names no embedding network.
        """
        if not self.want_vectors:
            raise ModelError("this Analyzer computes no vectors: pass vector_cache= or user_model=")
        duration = probe(path).duration
        windows = self._windows(lambda start, length: decode(path, SAMPLE_RATE, start, length), duration, cancel)
        if not windows:
            raise ValueError(f"{path}: no audible audio (every segment is silent or too short)")
        return self.inputs(windows, cancel).vectors()

    # -- the pipeline --------------------------------------------------------------------------

    def _file_key(self, path) -> FileKey | None:
        """The cache key of ``path`` (stat before decoding), or None when no vectors are wanted."""
        if not self.want_vectors:
            return None
        try:
            return FileKey.of(path)
        except OSError:  # vanished between probe and stat: analyse without caching
            return None

    def _windows(self, read: WindowReader, duration: float, cancel: CancelToken) -> list[tuple[float, float, np.ndarray]]:
        windows: list[tuple[float, float, np.ndarray]] = []
        for start, end in plan_segments(duration, self.n_segments):
            cancel.raise_if_cancelled()
            window = self._audible_window(read, start, end - start, duration)
            if window is not None:
                windows.append(window)
        return windows

    def _analyze(self, name: str, duration: float, read: WindowReader, cancel: CancelToken,
                 key: FileKey | None = None) -> Analysis:
        windows = self._windows(read, duration, cancel)
        if not windows:
            return Analysis(Prediction.failed(name, "no audible audio (every segment is silent or too short)",
                                              content=NO_AUDIO))
        inputs = self.inputs(windows, cancel)
        vectors = inputs.vectors() if self.want_vectors else None
        result, overall, segments, p_user = self.ensemble.predict(inputs)
        models = {m: self._as_dict(p) for m, p in result.members.items()}
        if p_user is not None:
            models[f"user:{self.user_model.version}"] = self._as_dict(p_user, self.user_model.labels)
        order = np.argsort(-overall, kind="stable")
        prediction = Prediction(
            path=name,
            genres=[(self.labels[i], float(overall[i])) for i in order],
            models=models,
            segments=[SegmentScore(s, e, self._as_dict(p, self.labels)) for (s, e, _), p in zip(windows, segments)],
            tags=self._tags(inputs),
            model_version=self.model_version,
            **self._reports(inputs),
        )
        return Analysis(prediction, vectors, key if vectors is not None else None)

    def _audible_window(self, read: WindowReader, start: float, length: float,
                        duration: float) -> tuple[float, float, np.ndarray] | None:
        """The window at ``start``, or if silent the first audible one shifted forward (bounded)."""
        shift = max(length / 2.0, MIN_WINDOW_SECONDS)
        for _ in range(MAX_SILENCE_SHIFTS + 1):
            if start >= duration:
                break
            y = read(start, length)
            if len(y) < MIN_WINDOW_SECONDS * SAMPLE_RATE:
                break
            if not is_silent(y):
                return start, start + len(y) / SAMPLE_RATE, y
            start += shift
        return None

    def _reports(self, inputs: AudioInputs) -> dict:
        """The Prediction fields the reporters tell (``content``, ``broad``)."""
        fields: dict = {}
        for member in self.reporters:
            fields.update(member.report(inputs))
        return fields

    def _tags(self, inputs: AudioInputs) -> dict[str, float]:
        """The chosen tag networks' scores, averaged over every patch of every window (and over
        networks, per tag), highest first."""
        sums: dict[str, float] = {}
        counts: dict[str, int] = {}
        for member in self.tag_members:
            for tag, score in member.report(inputs)["tags"].items():
                sums[tag] = sums.get(tag, 0.0) + float(score)
                counts[tag] = counts.get(tag, 0) + 1
        tags = {t: sums[t] / counts[t] for t in sums}
        return dict(sorted(tags.items(), key=lambda kv: -kv[1]))

    def _as_dict(self, p: np.ndarray, labels: list[str] | None = None) -> dict[str, float]:
        return {label: float(v) for label, v in zip(self.bundled_labels if labels is None else labels, p)}
