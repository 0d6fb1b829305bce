"""Analyse one audio file: segments -> features -> members -> ensemble -> Prediction.

For a track of a few minutes, ``plan_segments`` chooses up to ``n_segments`` 30 s windows spread
over the track (skipping the first and last seconds); only those windows are decoded. A silent
window is shifted forward and retried a bounded number of times, then dropped. Each window's 57
GTZAN features go through every classical member; the ensemble takes a weighted soft vote per
segment and combines segments by averaging log-probabilities.

If the models folder holds musicnn taggers (kind "musicnn" in the manifest), each window is also
resampled to 16 kHz and tagged; their tag scores, averaged over all patches, become
``Prediction.tags``. They take no part in the genre vote: GTZAN audio is not available here, so no
measurement supports a weight for their genre-like tags (see models/README.md).

Bad audio never raises: the Prediction carries ``error`` (the decoder's reason) instead.

Training hooks (optional, off by default): with a ``vector_cache`` every analysed file's vectors
(per-window GTZAN features and musicnn MSD embeddings, see ``inference/vector_cache.py``) are
stored, and :meth:`Analyzer.vectors_for` returns them (computing them once if missing), so
retraining never decodes again. With a ``user_model`` (``inference/user_model.py``) its
distribution joins the bundled ensemble's by the documented mixture over the union of labels.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable

import numpy as np

from genre_desktop.audio import DecodeError, decode, probe
from genre_desktop.cancel import NEVER, CancelToken, Cancelled
from genre_desktop.features.gtzan import RECIPE_VERSION, extract_features
from genre_desktop.features.segments import is_silent, plan_segments
from genre_desktop.inference.ensemble import combine, normalise_weights
from genre_desktop.inference.manifest import ModelError, load_manifest
from genre_desktop.inference.members import load_classical
from genre_desktop.inference.result import Prediction, SegmentScore
from genre_desktop.inference.vector_cache import FileKey, TrackVectors, VectorCache, cache_recipe, vector_recipe
from genre_desktop.paths import bundled_models_dir

__all__ = ["Analyzer", "ModelError", "SAMPLE_RATE"]

log = logging.getLogger(__name__)

SAMPLE_RATE = 22050  # the GTZAN table's rate; the features are only comparable at this rate
MUSICNN_RATE = 16000
MAX_SILENCE_SHIFTS = 3  # per window; a mostly silent track must not cost a decode per second
MIN_WINDOW_SECONDS = 1.0  # shorter windows (the tail of a shift) say nothing about genre
# musicnn costs ~25 ms per 3 s patch and network, far more than everything else per second of
# audio. Measured on the eight GTZAN clips (one 30 s window each) against the all-patch average,
# single thread: 4 patches per window keep 4.75 of the top-5 tags but the whole analysis runs at
# ~67x real time; 2 patches keep 4.0 of 5 (mean |score difference| 0.13) at ~94x; the genre vote
# does not use the tags. A 5-window track still gets 10 patches spread over its whole length.
TAG_PATCHES_PER_WINDOW = 2
EMBEDDING_MODEL = "musicnn_msd"  # the network whose 200-d embedding the user models learn from

# read(start_seconds, length_seconds) -> mono float32 samples at SAMPLE_RATE
WindowReader = Callable[[float, float], np.ndarray]


class Analyzer:
    """Loads and verifies the models once; analyses files or sample arrays."""

    def __init__(self, models_dir: Path | None = None, n_segments: int = 5, threads: int = 0,
                 musicnn: bool = True, tag_patches: int = TAG_PATCHES_PER_WINDOW,
                 vector_cache: VectorCache | str | Path | None = None, user_model=None) -> None:
        """Raises ModelError if the manifest or a model is missing, tampered or incompatible.

        ``musicnn``: run the manifest's musicnn taggers for ``Prediction.tags``. ``tag_patches``:
        3 s patches tagged per window (evenly spread; 0 = every patch).
        ``vector_cache``: a cache folder (e.g. ``AppDirs.feature_cache``) or a VectorCache built
        with :meth:`cache_recipe`; analysed files' vectors are stored there. ``user_model``: a
        loaded ``inference.user_model.UserModel`` to mix into the ensemble.
        """
        self.models_dir = Path(models_dir) if models_dir is not None else bundled_models_dir()
        self.manifest = load_manifest(self.models_dir)
        if self.manifest.feature_recipe != RECIPE_VERSION:
            raise ModelError(f"models in {self.models_dir} were built for feature recipe "
                             f"{self.manifest.feature_recipe!r}; this app computes {RECIPE_VERSION!r}")
        self.n_segments = max(1, int(n_segments))
        self._members = load_classical(self.manifest, threads)
        self.members = [m.name for m in self._members]
        self.labels = list(self.manifest.labels)
        self.model_version = self.manifest.version
        self.weights = normalise_weights(self.manifest.weights, self.members)
        self._taggers = self._load_taggers(threads) if musicnn else []
        self.tag_patches = max(0, int(tag_patches))
        self._init_training_hooks(threads, vector_cache, user_model)

    def _init_training_hooks(self, threads: int, vector_cache, user_model) -> None:
        """The vector cache, the embedding network and the user model (all optional)."""
        self.bundled_labels = list(self.labels)
        self.user_model = user_model
        self._embedder = None
        self.vector_recipe = ""
        msd = [e for e in self.manifest.by_kind("musicnn") if e.name == EMBEDDING_MODEL]
        if msd:
            from genre_desktop.features.musicnn_input import RECIPE_VERSION as MUSICNN_RECIPE

            self.vector_recipe = vector_recipe(RECIPE_VERSION, MUSICNN_RECIPE, msd[0].sha256)
        if vector_cache is None and user_model is None:
            self.vector_cache = None
            return
        if not msd:
            raise ModelError(f"{self.models_dir}: no {EMBEDDING_MODEL} model for the track vectors")
        self._embedder = next((t for t in self._taggers if t.path == msd[0].path), None)
        if self._embedder is None:
            from genre_desktop.inference.musicnn import MusicnnTagger

            self._embedder = MusicnnTagger(msd[0].path, msd[0].labels, threads=threads)
        if isinstance(vector_cache, (str, Path)):
            vector_cache = VectorCache(vector_cache, self.cache_recipe())
        self.vector_cache = vector_cache
        if user_model is not None:
            if user_model.vector_recipe != self.vector_recipe:
                raise ModelError(f"user model {user_model.version!r} was trained on vectors "
                                 f"{user_model.vector_recipe!r}; this app computes {self.vector_recipe!r}")
            from genre_desktop.inference.user_model import union_labels

            self.labels = union_labels(self.bundled_labels, user_model.labels)
            self.model_version = f"{self.manifest.version}+{user_model.version}"

    def cache_recipe(self) -> str:
        """The vector cache recipe of this configuration (vectors depend on windows and patches)."""
        return cache_recipe(self.vector_recipe, self.n_segments, self.tag_patches)

    def _load_taggers(self, threads: int) -> list:
        entries = self.manifest.by_kind("musicnn")
        if not entries:
            return []
        from genre_desktop.inference.musicnn import MusicnnTagger

        taggers = []
        for entry in entries:
            try:
                taggers.append(MusicnnTagger(entry.path, entry.labels, threads=threads,
                                             genre_map=entry.raw.get("genre_map")))
            except (ValueError, OSError) as exc:
                raise ModelError(f"model {entry.name!r}: {exc}") from exc
        return taggers

    # -- public API ----------------------------------------------------------------------------

    def analyze(self, path, cancel: CancelToken = NEVER) -> Prediction:
        """Analyse the file at ``path``; decode problems end up in ``Prediction.error``."""
        name = str(path)
        try:
            info = probe(path)
            key = self._file_key(path)
            return self._analyze(name, info.duration,
                                 lambda start, length: decode(path, SAMPLE_RATE, start, length), cancel, key)
        except DecodeError as exc:
            return Prediction.failed(name, exc.reason)
        except (Cancelled, ModelError):
            raise
        except Exception as exc:  # one odd file must not stop a batch of thousands
            log.exception("analysing %s failed", name)
            return Prediction.failed(name, f"analysis failed: {exc}")

    def analyze_samples(self, y: np.ndarray, sr: int, name: str = "<samples>",
                        cancel: CancelToken = NEVER) -> Prediction:
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

    # -- the pipeline --------------------------------------------------------------------------

    def vectors_for(self, path, cancel: CancelToken = NEVER) -> TrackVectors:
        """The cached vectors of ``path``, computed (decoding once) and cached when missing or stale.

        Raises DecodeError if the file cannot be decoded, ValueError if it has no audible audio,
        ModelError if this Analyzer was built without a vector cache or user model.
        """
        if self._embedder is None:
            raise ModelError("this Analyzer has no vector cache: pass vector_cache= to compute vectors")
        key = FileKey.of(path)
        cached = self.vector_cache.get(path, key) if self.vector_cache is not None else None
        if cached is not None:
            return cached
        duration = probe(path).duration
        windows = self._windows(lambda start, length: decode(path, SAMPLE_RATE, start, length), duration, cancel)
        if not windows:
            raise ValueError(f"{path}: no audible audio (every segment is silent or too short)")
        X = self._features(windows, cancel)
        embeddings, counts = self._embed(self._patches(windows, cancel), cancel)
        vectors = TrackVectors([s for s, _, _ in windows], [e for _, e, _ in windows], X, embeddings, counts)
        if self.vector_cache is not None:
            self.vector_cache.put(path, vectors, key)
        return vectors

    def _file_key(self, path) -> FileKey | None:
        """The cache key of ``path`` (stat before decoding), or None without a cache."""
        if self.vector_cache is None:
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

    def _features(self, windows: list[tuple[float, float, np.ndarray]], cancel: CancelToken) -> np.ndarray:
        features = []
        for _, _, y in windows:
            cancel.raise_if_cancelled()
            features.append(extract_features(y, SAMPLE_RATE))
        return np.stack(features).astype(np.float32)

    def _analyze(self, name: str, duration: float, read: WindowReader, cancel: CancelToken,
                 key: FileKey | None = None) -> Prediction:
        windows = self._windows(read, duration, cancel)
        if not windows:
            return Prediction.failed(name, "no audible audio (every segment is silent or too short)")
        X = self._features(windows, cancel)
        result = combine({m.name: m.predict_proba(X) for m in self._members}, self.weights,
                         self.manifest.pooling)
        want_vectors = self.user_model is not None or key is not None
        tags, embedded = self._tags([y for _, _, y in windows], cancel, embed=want_vectors)
        overall, segments = result.overall, result.segments
        models = {m: self._as_dict(p) for m, p in result.members.items()}
        if embedded is not None:
            vectors = TrackVectors([s for s, _, _ in windows], [e for _, e, _ in windows], X, *embedded)
            if key is not None and self.vector_cache is not None:
                self.vector_cache.put(key.path, vectors, key)
            if self.user_model is not None:
                user = self.user_model
                p_track = user.predict_proba(vectors.vector)[0]
                _, overall = user.mix(self.bundled_labels, overall, p_track)
                _, segments = user.mix(self.bundled_labels, segments, user.predict_proba(vectors.window_vectors))
                models[f"user:{user.version}"] = self._as_dict(p_track, user.labels)
        order = np.argsort(-overall, kind="stable")
        return Prediction(
            path=name,
            genres=[(self.labels[i], float(overall[i])) for i in order],
            models=models,
            segments=[SegmentScore(s, e, self._as_dict(p, self.labels)) for (s, e, _), p in zip(windows, segments)],
            tags=tags,
            model_version=self.model_version,
        )

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

    def _patches(self, windows, cancel: CancelToken) -> list[np.ndarray]:
        out = []
        for window in windows:
            cancel.raise_if_cancelled()
            out.append(self.tag_input(window[2] if isinstance(window, tuple) else window))
        return out

    def _embed(self, patches: list[np.ndarray], cancel: CancelToken,
               embedding: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Per-window mean MSD embedding (W, 200) and patch counts (W,) (``embedding``: already run)."""
        cancel.raise_if_cancelled()
        if embedding is None:
            _, embedding = self._embedder.run(np.concatenate(patches))
        counts = np.array([len(p) for p in patches])
        parts = np.split(embedding, np.cumsum(counts)[:-1])
        return np.stack([part.mean(axis=0) for part in parts]), counts

    def _tags(self, windows: list[np.ndarray], cancel: CancelToken,
              embed: bool = False) -> tuple[dict[str, float], tuple[np.ndarray, np.ndarray] | None]:
        """musicnn tag scores averaged over every patch of every window (and over taggers, per tag);
        with ``embed`` also :meth:`_embed`'s per-window embeddings (the same patches, one run)."""
        if not self._taggers and not embed:
            return {}, None
        patches = self._patches(windows, cancel)
        batch = np.concatenate(patches)
        sums: dict[str, float] = {}
        counts: dict[str, int] = {}
        msd_embedding = None
        for tagger in self._taggers:
            scores, embedding = tagger.run(batch)
            if tagger is self._embedder:
                msd_embedding = embedding
            for tag, score in zip(tagger.labels, scores.mean(axis=0)):
                sums[tag] = sums.get(tag, 0.0) + float(score)
                counts[tag] = counts.get(tag, 0) + 1
        tags = {t: sums[t] / counts[t] for t in sums}
        embedded = self._embed(patches, cancel, msd_embedding) if embed else None
        return dict(sorted(tags.items(), key=lambda kv: -kv[1])), embedded

    def tag_input(self, y: np.ndarray) -> np.ndarray:
        """musicnn patches [n, 187, 96] of one 22050 Hz window: resampled to 16 kHz (soxr HQ, as
        librosa.load does), up to ``tag_patches`` patches evenly spread over the window."""
        import soxr

        from genre_desktop.features.musicnn_input import musicnn_patches

        y16 = soxr.resample(y, SAMPLE_RATE, MUSICNN_RATE, quality="HQ").astype(np.float32)
        patches = musicnn_patches(y16)
        if self.tag_patches and len(patches) > self.tag_patches:
            patches = patches[np.linspace(0, len(patches) - 1, self.tag_patches).round().astype(int)]
        return patches

    def _as_dict(self, p: np.ndarray, labels: list[str] | None = None) -> dict[str, float]:
        return {label: float(v) for label, v in zip(self.bundled_labels if labels is None else labels, p)}
