"""Re-scoring analysed tracks from their cached vectors when the active model changes.

Activating a trained model (or rolling back) changes the genre vote and nothing else: the decoded
audio, the table features, the embedding statistics, the tags, the broad genres and what kind of
audio a file holds stay what they were. The vector cache keeps, per analysed window, everything the
bundled voting members and a user model read (``inference.vector_cache``), so the new vote is
computed from it: about a millisecond per track, against a fraction of a second to decode and
analyse each 30 s window again.

:func:`rescore` runs the analyzer of the new configuration (``AnalysisSpec.build()``: the bundled
models and the now active user model, exactly what an analysis would run) on each analysed track's
cached vectors and hands the new Prediction to ``deliver`` (the library session saves it as it
saves an analysis). What the vote decides is replaced (``genres``, ``segments``, the voting members'
and the user model's entries of ``models``, ``model_version``); everything else the stored
prediction holds is kept as it was. Tracks whose vectors are not cached (or stale: the file
changed, or was analysed with other windows) are returned for an analysis; when a voting member
reads more than the cache holds, nothing can be re-scored and every track goes to analysis (said).
Qt-free; a cancel token and a progress callback, like every long task.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

import numpy as np

from genre_desktop.cancel import NEVER, CancelToken
from genre_desktop.core.prediction import Prediction, SegmentScore
from genre_desktop.inference.inputs import CachedInputs, head_stats
from genre_desktop.inference.vector_cache import TrackVectors

log = logging.getLogger(__name__)

USER_PREFIX = "user:"  # the user model's entry in Prediction.models (inference.analyzer)


@dataclass
class RescoreSummary:
    """What a re-score did: ``done`` tracks re-scored, ``uncached`` paths left for an analysis."""

    total: int = 0
    done: int = 0
    uncached: list[str] = field(default_factory=list)
    elapsed: float = 0.0
    cannot: str = ""  # why the cache could serve no track at all ("" when it could)
    cancelled: bool = False


class _TrackInputs(CachedInputs):
    """One track's cached vectors as the inputs of the ensemble, the user model's included."""

    def __init__(self, vectors: TrackVectors) -> None:
        super().__init__(vectors.features, vectors.stats, vectors.layout)
        self._vectors = vectors

    def vectors(self) -> TrackVectors:
        return self._vectors


def cache_gap(analyzer) -> str:
    """Why the cached vectors cannot stand in for an analysis with ``analyzer`` ("" when they can):
    a member with a say in the vote that reads more than the cache holds (mel spectrograms, a
    network's outputs, statistics the cache does not keep). A member of weight 0 (the CNN) does not
    change the vote: its stored scores are kept."""
    held = {s.key for s in getattr(analyzer, "vector_stats", ())}

    def cached(member) -> bool:
        wanted = head_stats(member)
        return member.needs <= CachedInputs.all_kinds and (wanted is None or all(s.key in held for s in wanted))

    weights = getattr(analyzer.ensemble, "weights", None)
    readers = [m.name for m in analyzer.ensemble.members
               if (weights is None or weights.get(m.name, 0.0) > 0) and not cached(m)]
    if readers:
        return (f"the vote includes {', '.join(readers)}, which reads the audio itself (the vector cache holds "
                "the table features and the embedding statistics only)")
    return ""


def rescored(analyzer, vectors: TrackVectors, old: Prediction) -> Prediction:
    """``old`` with the vote of ``analyzer`` on the track's cached ``vectors``."""
    result, overall, segments, p_user = analyzer.ensemble.predict(_TrackInputs(vectors))
    labels, bundled = list(analyzer.labels), list(analyzer.bundled_labels)
    voted = {m: _dist(bundled, p) for m, p in result.members.items()}
    if p_user is not None:
        voted[f"{USER_PREFIX}{analyzer.user_model.version}"] = _dist(analyzer.user_model.labels, p_user)
    # what the cache cannot re-run (a member of weight 0 reading the audio, such as the CNN) does not
    # depend on the model change: its stored scores stay
    kept = {m: d for m, d in old.models.items() if m not in voted and not m.startswith(USER_PREFIX)}
    order = np.argsort(-overall, kind="stable")
    # Every field as stored (a lazily read stored prediction is a subclass: copy into a plain one),
    # then what the vote decides replaced.
    plain = Prediction(**{f.name: getattr(old, f.name) for f in dataclasses.fields(Prediction)})
    return dataclasses.replace(
        plain,
        genres=[(labels[i], float(overall[i])) for i in order],
        models={**voted, **kept},
        segments=[SegmentScore(float(s), float(e), _dist(labels, p))
                  for s, e, p in zip(vectors.starts, vectors.ends, segments)],
        model_version=analyzer.model_version,
        error=None,
    )


def _dist(labels: list[str], p: np.ndarray) -> dict[str, float]:
    return {label: float(v) for label, v in zip(labels, p)}


def analysed(tracks: Iterable[Any]) -> list[Any]:
    """The tracks a model change re-scores: present, with a prediction that did not fail."""
    return [t for t in tracks if not t.missing and t.prediction is not None and not t.prediction.error]


def rescore(analyzer, tracks: Iterable[Any], deliver: Callable[[Prediction], Any],
            progress: Callable[[RescoreSummary], Any] | None = None, cancel: CancelToken = NEVER,
            every: int = 200) -> RescoreSummary:
    """Re-score ``tracks`` (Track-like: ``path``, ``prediction``) with ``analyzer`` from its vector
    cache; each new Prediction goes to ``deliver``. ``progress(summary)`` every ``every`` tracks
    and at the end. Tracks without usable cached vectors end in ``summary.uncached``."""
    tracks = list(tracks)
    summary = RescoreSummary(total=len(tracks))
    start = time.monotonic()
    summary.cannot = cache_gap(analyzer)
    cache = analyzer.vector_cache
    if summary.cannot or cache is None:
        summary.cannot = summary.cannot or "this analysis keeps no vector cache"
        summary.uncached = [t.path for t in tracks]
        summary.elapsed = time.monotonic() - start
        return summary
    for n, track in enumerate(tracks, 1):
        if cancel.cancelled:
            summary.cancelled = True
            break
        vectors = cache.get(track.path)
        if vectors is None:
            summary.uncached.append(track.path)
        else:
            deliver(rescored(analyzer, vectors, track.prediction))
            summary.done += 1
        if progress is not None and (n % every == 0 or n == len(tracks)):
            summary.elapsed = time.monotonic() - start
            progress(summary)
    summary.elapsed = time.monotonic() - start
    log.info("re-scored %d of %d tracks from cached vectors in %.2f s (%d to analyse)", summary.done,
             summary.total, summary.elapsed, len(summary.uncached))
    return summary
