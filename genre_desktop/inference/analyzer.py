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
from genre_desktop.paths import bundled_models_dir

__all__ = ["Analyzer", "ModelError", "SAMPLE_RATE"]

log = logging.getLogger(__name__)

SAMPLE_RATE = 22050  # the GTZAN table's rate; the features are only comparable at this rate
MUSICNN_RATE = 16000
MAX_SILENCE_SHIFTS = 3  # per window; a mostly silent track must not cost a decode per second
MIN_WINDOW_SECONDS = 1.0  # shorter windows (the tail of a shift) say nothing about genre
# musicnn costs ~25 ms per 3 s patch and network, far more than everything else per second of
# audio; tags averaged over 4 patches spread across each 30 s window (20 per 5-window track) are
# close to the all-patch average at 2.5 times less cost.
TAG_PATCHES_PER_WINDOW = 4

# read(start_seconds, length_seconds) -> mono float32 samples at SAMPLE_RATE
WindowReader = Callable[[float, float], np.ndarray]


class Analyzer:
    """Loads and verifies the models once; analyses files or sample arrays."""

    def __init__(self, models_dir: Path | None = None, n_segments: int = 5, threads: int = 0,
                 musicnn: bool = True, tag_patches: int = TAG_PATCHES_PER_WINDOW) -> None:
        """Raises ModelError if the manifest or a model is missing, tampered or incompatible.

        ``musicnn``: run the manifest's musicnn taggers for ``Prediction.tags``. ``tag_patches``:
        3 s patches tagged per window (evenly spread; 0 = every patch).
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
            return self._analyze(name, info.duration,
                                 lambda start, length: decode(path, SAMPLE_RATE, start, length), cancel)
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

    def _analyze(self, name: str, duration: float, read: WindowReader, cancel: CancelToken) -> Prediction:
        windows: list[tuple[float, float, np.ndarray]] = []
        for start, end in plan_segments(duration, self.n_segments):
            cancel.raise_if_cancelled()
            window = self._audible_window(read, start, end - start, duration)
            if window is not None:
                windows.append(window)
        if not windows:
            return Prediction.failed(name, "no audible audio (every segment is silent or too short)")
        features = []
        for _, _, y in windows:
            cancel.raise_if_cancelled()
            features.append(extract_features(y, SAMPLE_RATE))
        X = np.stack(features).astype(np.float32)
        result = combine({m.name: m.predict_proba(X) for m in self._members}, self.weights,
                         self.manifest.pooling)
        order = np.argsort(-result.overall, kind="stable")
        return Prediction(
            path=name,
            genres=[(self.labels[i], float(result.overall[i])) for i in order],
            models={m: self._as_dict(p) for m, p in result.members.items()},
            segments=[SegmentScore(s, e, self._as_dict(p)) for (s, e, _), p in zip(windows, result.segments)],
            tags=self._tags([y for _, _, y in windows], cancel),
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

    def _tags(self, windows: list[np.ndarray], cancel: CancelToken) -> dict[str, float]:
        """musicnn tag scores averaged over every patch of every window (and over taggers, per tag)."""
        if not self._taggers:
            return {}
        patches = []
        for y in windows:
            cancel.raise_if_cancelled()
            patches.append(self.tag_input(y))
        batch = np.concatenate(patches)
        sums: dict[str, float] = {}
        counts: dict[str, int] = {}
        for tagger in self._taggers:
            scores, _ = tagger.run(batch)
            for tag, score in zip(tagger.labels, scores.mean(axis=0)):
                sums[tag] = sums.get(tag, 0.0) + float(score)
                counts[tag] = counts.get(tag, 0) + 1
        tags = {t: sums[t] / counts[t] for t in sums}
        return dict(sorted(tags.items(), key=lambda kv: -kv[1]))

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

    def _as_dict(self, p: np.ndarray) -> dict[str, float]:
        return {label: float(v) for label, v in zip(self.labels, p)}
