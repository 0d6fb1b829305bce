"""Per-file cache of the analysis vectors the training wizard learns from.

For each analysed file the Analyzer can keep, per analysed 30 s window:

- the 57 GTZAN features (``features``, float32 [W, 57]),
- the mean 200-d musicnn (MSD model) embedding over that window's analysed patches
  (``embeddings``, float32 [W, 200]) and how many patches went into it (``patches``, [W]),
- the statistics the bundled embedding head reads (``stats``, float32 [W, S]): computed by
  ``features.embedding_stats.embedding_stats`` from the same patches per window as the head, so
  the bundled ensemble runs whole on cached vectors (``inference.inputs.CachedInputs``),
- the window's start and end in seconds.

The track-level input of a user model is :attr:`TrackVectors.vector`: the head statistics averaged
over windows (S values, whatever the manifest's head reads: since issue 14 the MSD network's
statistics only, as the app runs one network per window by default), the representation the
bundled audio member learns from. Measured by the trainer's own grouped CV on the GTZAN train
audio (``tools/reproduce_wizard.py``, with the earlier MSD + MTT head), the statistics alone beat
the 57 table features concatenated with them (logistic regression: accuracy 0.819 vs 0.803, macro
F1 0.704 vs 0.636; the old table + MSD vectors 0.793 / 0.636), so the table stays in the cache (the table members read it;
the library map uses both, :attr:`TrackVectors.map_vector`) but not in a user model's input.
Retraining reads these vectors and never decodes audio again.

Storage: one compressed ``.npz`` per file under ``<cache>/vectors/<2 hex>/<sha1 of path>.npz``,
written atomically (temporary file, fsync, rename). An entry is valid only while the file's size
and mtime (nanoseconds) and the *recipe* (feature recipe, embedding model hash, windows and patches
per window; see :func:`cache_recipe`) are the ones it was computed with; anything else is a miss
and is recomputed. A corrupt entry is a miss too (logged), never an error.

Why one file per track: an entry is written as soon as a track is analysed, so a crash or a
cancelled run keeps everything done so far, and one change rewrites ~3 KB. Reading 1,000 entries
takes about a second, small against fitting.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from genre_desktop.fsutil import atomic_write_bytes

log = logging.getLogger(__name__)

N_FEATURES = 57
EMBEDDING_DIM = 200
# Format 2 added the head statistics: a format-1 entry (no ``stats``) is a miss, recomputed.
CACHE_FORMAT = 2


def vector_recipe(feature_recipe: str, embedding_recipe: str, embedding_sha256: str,
                  stats: list[str] | tuple[str, ...] = (), stat_hashes: dict[str, str] | None = None,
                  stat_patches: int | None = None) -> str:
    """What the values of a track vector mean: a user model is only valid for this recipe.

    ``stats``: the head statistics the vectors carry (names as in ``features.embedding_stats``),
    ``stat_hashes``: network -> sha256 of the networks they read, ``stat_patches``: patches per
    window they summarise (None = the analysis default)."""
    recipe = f"{feature_recipe}+{embedding_recipe}+msd:{embedding_sha256[:16]}"
    if stats:  # user models read the statistics alone (see the module docstring)
        nets = ",".join(f"{n}:{h[:16]}" for n, h in sorted((stat_hashes or {}).items()))
        recipe += f"+user=stats[{'|'.join(stats)}]@{'default' if stat_patches is None else int(stat_patches)}({nets})"
    return recipe


def cache_recipe(recipe: str, n_segments: int, tag_patches: int) -> str:
    """The vector recipe plus the choices that change which audio the vectors summarise."""
    return f"{recipe};segments={int(n_segments)};patches={int(tag_patches)}"


@dataclass
class TrackVectors:
    """The cached vectors of one file (see the module docstring)."""

    starts: np.ndarray  # (W,) seconds
    ends: np.ndarray  # (W,)
    features: np.ndarray  # (W, 57) float32
    embeddings: np.ndarray  # (W, 200) float32, mean over each window's patches
    patches: np.ndarray  # (W,) int, patches per window
    stats: np.ndarray  # (W, S) float32, the bundled head's statistics of each window
    stat_names: tuple[str, ...] = ()  # what ``stats`` hold (``features.embedding_stats`` names)
    stat_patches: int | None = None  # over how many patches per window (None = analysis default)

    def __post_init__(self) -> None:
        self.starts = np.asarray(self.starts, dtype=np.float64).reshape(-1)
        self.ends = np.asarray(self.ends, dtype=np.float64).reshape(-1)
        self.features = np.asarray(self.features, dtype=np.float32).reshape(-1, N_FEATURES)
        self.embeddings = np.asarray(self.embeddings, dtype=np.float32).reshape(-1, EMBEDDING_DIM)
        self.patches = np.asarray(self.patches, dtype=np.int64).reshape(-1)
        self.stats = np.asarray(self.stats, dtype=np.float32)
        self.stat_names = tuple(str(n) for n in self.stat_names)
        self.stat_patches = None if self.stat_patches is None else int(self.stat_patches)
        n = len(self.starts)
        if self.stats.ndim == 1:
            self.stats = self.stats[None, :]
        if n == 0 or not (len(self.ends) == len(self.features) == len(self.embeddings) == len(self.patches)
                          == len(self.stats) == n) or self.stats.ndim != 2 or self.stats.shape[1] == 0:
            raise ValueError(f"inconsistent track vectors: {n} windows, {len(self.features)} feature rows, "
                             f"{len(self.embeddings)} embeddings, {len(self.patches)} patch counts, "
                             f"stats {self.stats.shape}")
        if np.any(self.patches < 1):
            raise ValueError("every window needs at least one embedded patch")

    @property
    def n_windows(self) -> int:
        return len(self.starts)

    @property
    def feature_mean(self) -> np.ndarray:
        """(57,) mean of the window rows."""
        return self.features.astype(np.float64).mean(axis=0).astype(np.float32)

    @property
    def embedding_mean(self) -> np.ndarray:
        """(200,) mean over all analysed patches (windows weighted by their patch counts)."""
        w = self.patches.astype(np.float64)
        total = (self.embeddings.astype(np.float64) * w[:, None]).sum(axis=0)
        return (total / w.sum()).astype(np.float32)

    @property
    def stats_mean(self) -> np.ndarray:
        """(S,) the head statistics averaged over windows."""
        return self.stats.astype(np.float64).mean(axis=0).astype(np.float32)

    @property
    def vector(self) -> np.ndarray:
        """(S,) the track-level input of a user model: the head statistics averaged over windows."""
        return self.stats_mean

    @property
    def window_vectors(self) -> np.ndarray:
        """(W, S) a user model's input per window: each window's head statistics."""
        return self.stats

    @property
    def map_vector(self) -> np.ndarray:
        """(57 + S,) the library map's row: mean features, then mean head statistics."""
        return np.concatenate([self.feature_mean, self.stats_mean])

    def to_bytes(self, meta: dict) -> bytes:
        buffer = io.BytesIO()
        np.savez_compressed(buffer, starts=self.starts, ends=self.ends, features=self.features,
                            embeddings=self.embeddings, patches=self.patches, stats=self.stats,
                            meta=np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8))
        return buffer.getvalue()


@dataclass(frozen=True)
class FileKey:
    """What makes a cache entry valid for a file: its path, size and mtime."""

    path: str
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, path: str | os.PathLike[str]) -> "FileKey":
        """Stat ``path`` now (raises OSError if it is gone)."""
        st = os.stat(path)
        return cls(os.fspath(path), int(st.st_size), int(st.st_mtime_ns))


class VectorCache:
    """The cache folder; thread-safe for distinct files (each entry is one atomic write)."""

    def __init__(self, root: str | os.PathLike[str], recipe: str) -> None:
        """``root``: e.g. ``AppDirs.feature_cache``; ``recipe``: from :func:`cache_recipe`."""
        self.root = Path(root) / "vectors"
        self.recipe = recipe

    def file_for(self, path: str | os.PathLike[str]) -> Path:
        digest = hashlib.sha1(os.fsencode(os.path.abspath(path))).hexdigest()
        return self.root / digest[:2] / f"{digest}.npz"

    def get(self, path: str | os.PathLike[str], key: FileKey | None = None) -> TrackVectors | None:
        """The cached vectors of ``path`` if still valid, else None (stale, missing or corrupt)."""
        try:
            key = key or FileKey.of(path)
        except OSError:
            return None
        entry = self.file_for(path)
        try:
            with np.load(entry, allow_pickle=False) as data:
                meta = json.loads(bytes(data["meta"]).decode("utf-8"))
                if (meta.get("format") != CACHE_FORMAT or meta.get("recipe") != self.recipe
                        or meta.get("path") != os.path.abspath(key.path) or meta.get("size") != key.size
                        or meta.get("mtime_ns") != key.mtime_ns):
                    return None
                return TrackVectors(data["starts"], data["ends"], data["features"], data["embeddings"],
                                    data["patches"], data["stats"], tuple(meta.get("stat_names", ())),
                                    meta.get("stat_patches"))
        except FileNotFoundError:
            return None
        except Exception as exc:  # a torn or foreign file is a cache miss, not a failure
            log.warning("ignoring unreadable vector cache entry %s: %s", entry, exc)
            return None

    def put(self, path: str | os.PathLike[str], vectors: TrackVectors, key: FileKey | None = None) -> None:
        """Store ``vectors`` for ``path`` as of ``key`` (stat it before decoding, so a file changed
        while it was analysed is recomputed next time instead of cached under its new mtime)."""
        key = key or FileKey.of(path)
        meta = {"format": CACHE_FORMAT, "recipe": self.recipe, "path": os.path.abspath(key.path),
                "size": key.size, "mtime_ns": key.mtime_ns, "stat_names": list(vectors.stat_names),
                "stat_patches": vectors.stat_patches}
        atomic_write_bytes(self.file_for(path), vectors.to_bytes(meta))

    def get_or_compute(self, path: str | os.PathLike[str], compute) -> TrackVectors:
        """The cached vectors of ``path``, or ``compute()``'s (stored under the key stat-ed first)."""
        key = FileKey.of(path)
        cached = self.get(path, key)
        if cached is not None:
            return cached
        vectors = compute()
        self.put(path, vectors, key)
        return vectors

    def discard(self, path: str | os.PathLike[str]) -> None:
        try:
            self.file_for(path).unlink()
        except FileNotFoundError:
            pass
