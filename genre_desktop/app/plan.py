"""Planning a write: which files change and how (what the write preview shows). Qt-free.

For each accepted or corrected track: the chosen genres in their one spelling, in "replace" or
"add" mode, cut to the number of genres asked for. Files whose genres would not change are
counted, not written.

One genre gets one spelling in every file (``core/genre_spelling.py``): the librarian's alias,
else the genre tree's name (or their own genre's), else the spelling the library already uses
most for it (file tags and choices), so "Lo-fi", "lo-fi" and "Lo-Fi" chosen on three tracks are
written alike. In "add" mode a genre the file already holds keeps the file's spelling.
"""

from __future__ import annotations

from dataclasses import dataclass

from typing import Iterable, Mapping

from genre_desktop.core.genre import canonical_genre
from genre_desktop.core.genre_spelling import GenreSpelling
from genre_desktop.core.status import ACCEPTED, CORRECTED
from genre_desktop.core.track import Track
from genre_desktop.settings import Settings


@dataclass
class PlannedChange:
    path: str
    old: list[str]
    new: list[str]


def dedupe_genres(genres: list[str], aliases: Mapping[str, str] | None = None) -> list[str]:
    """``genres`` without repeats of one genre (the first spelling wins) and without blanks."""
    seen, out = set(), []
    for g in genres:
        if not str(g).strip():
            continue
        key = canonical_genre(g, aliases)
        if key not in seen:
            seen.add(key)
            out.append(g)
    return out


def library_spelling(tracks: Iterable[Track], settings: Settings) -> GenreSpelling:
    """The settings' spelling, following the spellings ``tracks`` use (file tags and choices)."""
    tracks = list(tracks)
    return settings.spelling([g for t in tracks for g in (*t.genres, *(t.chosen or ()))])


def new_genres(track: Track, settings: Settings, spelling: GenreSpelling | None = None) -> list[str]:
    """What the file's genre field becomes for this track under ``settings`` (``spelling``: the
    library's, from :func:`library_spelling`; default: the settings' alone)."""
    spell = spelling.spell if spelling is not None else settings.spell
    picked = list(track.chosen or [])
    if track.status == ACCEPTED and track.prediction is not None:
        # "How many genres": an accepted prediction may bring its runners-up along.
        picked += track.prediction.ranked()
    wanted = dedupe_genres([spell(g) for g in picked], settings.aliases)[: max(1, settings.max_genres)]
    if settings.write_mode == "add":
        return dedupe_genres(list(track.genres) + wanted, settings.aliases)
    return wanted


def plan_changes(tracks: list[Track], settings: Settings) -> tuple[list[PlannedChange], int]:
    """(changes to make, number of reviewed tracks already right); ``tracks``: the whole library
    (its spellings decide how a genre no alias or tree node spells is written)."""
    changes, unchanged = [], 0
    spelling = library_spelling(tracks, settings)
    for track in tracks:
        if track.status not in (ACCEPTED, CORRECTED) or not track.chosen or track.missing:
            continue
        new = new_genres(track, settings, spelling)
        if new == list(track.genres):
            unchanged += 1
            continue
        changes.append(PlannedChange(track.path, list(track.genres), new))
    return changes, unchanged
