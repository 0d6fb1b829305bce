"""Per-file cache of the analysis vectors the training wizard learns from.

For each analysed file the Analyzer can keep, per analysed 30 s window:

- the 57 GTZAN features (``features``, float32 [W, 57]),
- the mean 200-d musicnn (MSD model) embedding over that window's analysed patches
  (``embeddings``, float32 [W, 200]) and how many patches went into it (``patches``, [W]),
- the statistics every bundled embedding head reads (``stats``, float32 [W, S]), each computed by
  ``features.embedding_stats.embedding_stats`` from the same units per window as its head (the MSD
  head's 2 patches, the EfficientAT heads' 3 excerpts), so the whole bundled ensemble runs on
  cached vectors (``inference.inputs.CachedInputs``: each head gets its own columns) and gives the
  analysis' own vote;
- the window's start and end in seconds.

What the columns of ``stats`` are is the vectors' *layout*: one :class:`Stat` per distinct statistic
(``"efficientat.scores.mean"`` over 3 units per window), in the manifest's order of first use, with
its width. A head reading ``efficientat.embedding.mean`` and ``efficientat.scores.mean`` and another
reading ``efficientat.scores.mean`` at the same units share the scores' columns.

The track-level input of a user model is :attr:`TrackVectors.vector`: the statistics averaged over
windows (every network's: the MSD network's and, since ensemble v4, the EfficientAT network's; the
trainer's grouped CV chooses which a head reads, ``training/heads.py``). Measured by the trainer's
own grouped CV on the GTZAN train audio (``tools/reproduce_wizard.py``, with the earlier MSD + MTT
head), the statistics alone beat the 57 table features concatenated with them (logistic
regression: accuracy 0.819 vs 0.803, macro F1 0.704 vs 0.636), so the table stays in the cache (the
table members read it; the library map uses both, :attr:`TrackVectors.map_vector`) but not in a
user model's input. A user model records the statistics it was trained on (its vector recipe,
:func:`recipe_stats`) and reads those columns only, so a later bundle that caches more statistics
does not invalidate it (:func:`recipe_problem`). Retraining reads these vectors and never decodes
audio again.

Storage: one compressed ``.npz`` per file under ``<cache>/vectors/<2 hex>/<sha1 of path>.npz``,
written atomically (temporary file, fsync, rename), about 30 KB for 5 windows. An entry is valid
only while the file's size and mtime (nanoseconds), the format and the *recipe* (feature recipe,
networks' hashes, the statistics, windows and patches per window; see :func:`cache_recipe`) are the
ones it was computed with; anything else is a miss and is recomputed. A corrupt entry is a miss
too (logged), never an error.

Why one file per track: an entry is written as soon as a track is analysed, so a crash or a
cancelled run keeps everything done so far. Reading 1,000 entries takes about a second, small
against fitting.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from genre_desktop.fsutil import atomic_write_bytes

log = logging.getLogger(__name__)

N_FEATURES = 57
EMBEDDING_DIM = 200
# Format 2 added the head statistics; format 3 holds every head's statistics with their layout.
# An entry of another format is a miss, recomputed.
CACHE_FORMAT = 3


@dataclass(frozen=True)
class Stat:
    """One cached statistic: ``name`` (``features.embedding_stats``: ``network.output.statistic``)
    over ``units`` units per window (None: the network's default in this analysis), ``width``
    columns (0 when only naming it)."""

    name: str
    units: int | None = None
    width: int = 0

    @property
    def key(self) -> tuple[str, int | None]:
        return self.name, self.units

    @property
    def label(self) -> str:
        """``name@units`` as recipes and messages write it (``@default`` for None)."""
        return f"{self.name}@{'default' if self.units is None else int(self.units)}"

    @property
    def network(self) -> str:
        return self.name.rsplit(".", 2)[0]


def stats_of(names: Iterable[str], units: int | None) -> list[Stat]:
    """The :class:`Stat` keys of a head reading ``names`` over ``units`` units per window."""
    return [Stat(str(n), None if units is None else max(0, int(units))) for n in names]


def vector_recipe(feature_recipe: str, embedding_recipe: str, embedding_sha256: str,
                  stats: Sequence[Stat] = (), identities: dict[str, str] | None = None) -> str:
    """What the values of a track vector mean: a user model is only valid for its statistics.

    ``stats``: the statistics the vectors carry, in order; ``identities``: network -> what makes its
    outputs what they are (:func:`network_identity`)."""
    recipe = f"{feature_recipe}+{embedding_recipe}+msd:{embedding_sha256[:16]}"
    if stats:  # user models read the statistics alone (see the module docstring)
        nets = ",".join(f"{n}:{i}" for n, i in sorted((identities or {}).items()))
        recipe += f"+user=stats[{'|'.join(s.label for s in stats)}]({nets})"
    return recipe


def network_identity(sha256: str, input_recipe: str) -> str:
    """A network's part of a vector recipe: its file's hash and its input's recipe."""
    return f"{sha256[:16]}/{input_recipe}"


# "+user=stats[a@2|b@3](net:id,...)" (format 3) or "+user=stats[a|b]@2(net:hash)" (before it, when
# every statistic had the head's one patch count and the networks were musicnn's)
_USER_PART = re.compile(r"\+user=stats\[([^\]]*)\](?:@(\w+))?\(([^)]*)\)$")


def _units(text: str | None) -> int | None:
    return None if text in (None, "", "default") else int(text)


def recipe_stats(recipe: str) -> tuple[list[Stat], dict[str, str]] | None:
    """(the statistics, network identities) a vector recipe names; None when it names none."""
    match = _USER_PART.search(str(recipe))
    if not match:
        return None
    items, shared, nets = match.groups()
    stats = []
    for item in (i for i in items.split("|") if i):
        name, _, units = item.partition("@")
        stats.append(Stat(name, _units(units if units else shared)))
    identities = dict(part.split(":", 1) for part in nets.split(",") if ":" in part)
    if shared is not None or not any("/" in i for i in identities.values()):
        # the older form: the musicnn networks' input recipe is the prefix's second part
        prefix = str(recipe)[:match.start()].split("+")
        input_recipe = prefix[1] if len(prefix) > 1 else ""
        identities = {n: i if "/" in i else f"{i}/{input_recipe}" for n, i in identities.items()}
    return stats, identities


def recipe_problem(model_recipe: str, analysis_recipe: str) -> str:
    """Why vectors of ``analysis_recipe`` cannot feed a model trained on ``model_recipe`` ("" when
    they can: every statistic it read is computed, by the same networks)."""
    if model_recipe == analysis_recipe:
        return ""
    theirs, ours = recipe_stats(model_recipe), recipe_stats(analysis_recipe)
    if theirs is None or ours is None:
        return "it was trained on other track vectors"
    have = {s.key for s in ours[0]}
    missing = [s.label for s in theirs[0] if s.key not in have]
    if missing:
        return f"it reads statistics this analysis does not compute ({', '.join(missing)})"
    changed = sorted(n for n in {s.network for s in theirs[0]} if theirs[1].get(n) != ours[1].get(n))
    if changed:
        return f"the network{'s' if len(changed) > 1 else ''} {', '.join(changed)} changed since it was trained"
    return ""


def cache_recipe(recipe: str, n_segments: int, tag_patches: int) -> str:
    """The vector recipe plus the choices that change which audio the vectors summarise."""
    return f"{recipe};segments={int(n_segments)};patches={int(tag_patches)}"


def layout_columns(layout: Sequence[Stat], wanted: Sequence[Stat]) -> np.ndarray:
    """The column indices of the ``wanted`` statistics (by name and units) in ``layout``, in that
    order; KeyError naming the missing ones."""
    spans, start = {}, 0
    for s in layout:
        spans[s.key] = (start, start + int(s.width))
        start += int(s.width)
    missing = [w.label for w in wanted if w.key not in spans]
    if missing:
        raise KeyError(f"the vectors hold {', '.join(s.label for s in layout) or 'no named statistics'}, "
                       f"not {', '.join(missing)}")
    return np.concatenate([np.arange(*spans[w.key]) for w in wanted]) if wanted else np.zeros(0, dtype=np.int64)


@dataclass
class TrackVectors:
    """The cached vectors of one file (see the module docstring)."""

    starts: np.ndarray  # (W,) seconds
    ends: np.ndarray  # (W,)
    features: np.ndarray  # (W, 57) float32
    embeddings: np.ndarray  # (W, 200) float32, mean over each window's patches
    patches: np.ndarray  # (W,) int, patches per window
    stats: np.ndarray  # (W, S) float32, the bundled heads' statistics of each window
    layout: tuple[Stat, ...] = ()  # what the columns of ``stats`` are (empty: unnamed)

    def __post_init__(self) -> None:
        self.starts = np.asarray(self.starts, dtype=np.float64).reshape(-1)
        self.ends = np.asarray(self.ends, dtype=np.float64).reshape(-1)
        self.features = np.asarray(self.features, dtype=np.float32).reshape(-1, N_FEATURES)
        self.embeddings = np.asarray(self.embeddings, dtype=np.float32).reshape(-1, EMBEDDING_DIM)
        self.patches = np.asarray(self.patches, dtype=np.int64).reshape(-1)
        self.stats = np.asarray(self.stats, dtype=np.float32)
        self.layout = tuple(s if isinstance(s, Stat) else Stat(str(s[0]), None if s[1] is None else int(s[1]), int(s[2]))
                            for s in self.layout)
        n = len(self.starts)
        if self.stats.ndim == 1:
            self.stats = self.stats[None, :]
        if n == 0 or not (len(self.ends) == len(self.features) == len(self.embeddings) == len(self.patches)
                          == len(self.stats) == n) or self.stats.ndim != 2 or self.stats.shape[1] == 0:
            raise ValueError(f"inconsistent track vectors: {n} windows, {len(self.features)} feature rows, "
                             f"{len(self.embeddings)} embeddings, {len(self.patches)} patch counts, "
                             f"stats {self.stats.shape}")
        if self.layout and sum(s.width for s in self.layout) != self.stats.shape[1]:
            raise ValueError(f"the layout's widths add up to {sum(s.width for s in self.layout)}, "
                             f"the statistics have {self.stats.shape[1]} columns")
        if np.any(self.patches < 1):
            raise ValueError("every window needs at least one embedded patch")

    @property
    def n_windows(self) -> int:
        return len(self.starts)

    @property
    def stat_names(self) -> tuple[str, ...]:
        """The names of the layout's statistics, in column order."""
        return tuple(s.name for s in self.layout)

    def columns(self, wanted: Sequence[Stat]) -> np.ndarray:
        """Column indices of ``wanted`` (KeyError if absent; see :func:`layout_columns`)."""
        return layout_columns(self.layout, wanted)

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
        """(S,) the statistics averaged over windows."""
        return self.stats.astype(np.float64).mean(axis=0).astype(np.float32)

    @property
    def vector(self) -> np.ndarray:
        """(S,) the track-level input of a user model: the statistics averaged over windows."""
        return self.stats_mean

    @property
    def window_vectors(self) -> np.ndarray:
        """(W, S) a user model's input per window: each window's statistics."""
        return self.stats

    @property
    def map_vector(self) -> np.ndarray:
        """(57 + S,) the library map's row: mean features, then mean head statistics."""
        return np.concatenate([self.feature_mean, self.stats_mean])

    def layout_json(self) -> list:
        return [[s.name, s.units, s.width] for s in self.layout]

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
                                    data["patches"], data["stats"], tuple(meta.get("layout", ())))
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
                "size": key.size, "mtime_ns": key.mtime_ns, "layout": vectors.layout_json()}
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
