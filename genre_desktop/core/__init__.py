"""Plain types every layer shares: Track, a typed and versioned Prediction, statuses, one genre
identity resolved into one genre tree. The bottom of the package: imports nothing else from
genre_desktop."""

from genre_desktop.core.genre import (
    GenreNode,
    GenreTree,
    canonical_genre,
    default_tree,
    genre_matcher,
    resolve,
    same_genre,
)
from genre_desktop.core.prediction import SCHEMA, Prediction, SegmentScore
from genre_desktop.core.status import (
    ACCEPTED,
    CORRECTED,
    ERROR,
    PREDICTED,
    REVIEWED,
    STATUSES,
    UNANALYSED,
    WRITTEN,
    Status,
)
from genre_desktop.core.track import Track

__all__ = [
    "ACCEPTED", "CORRECTED", "ERROR", "PREDICTED", "REVIEWED", "SCHEMA", "STATUSES", "UNANALYSED",
    "WRITTEN", "GenreNode", "GenreTree", "Prediction", "SegmentScore", "Status", "Track",
    "canonical_genre", "default_tree", "genre_matcher", "resolve", "same_genre",
]
