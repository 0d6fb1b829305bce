"""Planning a write: which files change and how (what the write preview shows). Qt-free.

For each accepted or corrected track: the chosen genres spelled through the alias map, in
"replace" or "add" mode, cut to the number of genres asked for. Files whose genres would not
change are counted, not written.
"""

from __future__ import annotations

from dataclasses import dataclass

from genre_desktop.core.genre import canonical_genre
from genre_desktop.core.status import ACCEPTED, CORRECTED
from genre_desktop.core.track import Track
from genre_desktop.settings import Settings


@dataclass
class PlannedChange:
    path: str
    old: list[str]
    new: list[str]


def dedupe_genres(genres: list[str]) -> list[str]:
    """``genres`` without repeats of one genre (the first spelling wins) and without blanks."""
    seen, out = set(), []
    for g in genres:
        if not str(g).strip():
            continue
        key = canonical_genre(g)
        if key not in seen:
            seen.add(key)
            out.append(g)
    return out


def new_genres(track: Track, settings: Settings) -> list[str]:
    """What the file's genre field becomes for this track under ``settings``."""
    picked = list(track.chosen or [])
    if track.status == ACCEPTED and track.prediction is not None:
        # "How many genres": an accepted prediction may bring its runners-up along.
        picked += track.prediction.ranked()
    wanted = dedupe_genres([settings.spell(g) for g in picked])[: max(1, settings.max_genres)]
    if settings.write_mode == "add":
        return dedupe_genres(list(track.genres) + wanted)
    return wanted


def plan_changes(tracks: list[Track], settings: Settings) -> tuple[list[PlannedChange], int]:
    """(changes to make, number of reviewed tracks already right)."""
    changes, unchanged = [], 0
    for track in tracks:
        if track.status not in (ACCEPTED, CORRECTED) or not track.chosen or track.missing:
            continue
        new = new_genres(track, settings)
        if new == list(track.genres):
            unchanged += 1
            continue
        changes.append(PlannedChange(track.path, list(track.genres), new))
    return changes, unchanged
