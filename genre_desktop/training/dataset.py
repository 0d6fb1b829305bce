"""The training set: which tracks the user's model learns from, under which genre name.

Sources, in order of trust:

1. tracks the librarian accepted, corrected or wrote (status ACCEPTED, CORRECTED or WRITTEN) with
   a non-empty ``Track.chosen``: the first chosen genre is the label (the model is single-label;
   a second chosen genre is a tag for the file, not a second training row);
2. if the user opts in per genre (``trust_existing``), tracks not labelled by (1) whose *existing*
   genre tag (``Track.genres``, first value) is one of those genres, unless the file could not be
   read or analysed (status ERROR): those are listed in ``Dataset.unreadable``, not counted.

Genre names are grouped by ``core.canonical_genre`` (the identity the review queue and the write
plan use: "Hip Hop", "Hip-Hop" and "hiphop" are one genre, "DnB" is Drum and Bass, and an alias
spelling is its bundled label), then ``merges`` (``{"house": "electronic"}``; a rename is a merge
into a new name) are applied. Each genre's class name is its bundled label, else its one spelling
(the genre tree's name, "Drum and Bass", else the most used spelling; see :class:`_Names`) in
lowercase. Any name is allowed, including genres the bundled models never saw ("techno", "k-pop").

Each track gets a *group* for cross-validation: its artist (or album artist); tracks without one
are grouped by album, and failing that by folder, so one artist's (or album's) tracks never sit on
both sides of a fold.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Mapping

from genre_desktop.core.genre import canonical_genre as genre_identity
from genre_desktop.core.genre_spelling import GenreSpelling
from genre_desktop.core.status import ACCEPTED, CORRECTED, ERROR, WRITTEN
from genre_desktop.core.track import Track

LABELLED_STATUSES = (ACCEPTED, CORRECTED, WRITTEN)
FEW_TRACKS = 10  # below this a genre gets a warning: too little for a reliable model
DOMINANT_ARTIST_SHARE = 0.5  # above this share of one genre's tracks by one artist: a warning
MIN_TRACKS = 3  # below this a genre cannot be cross-validated at all and is left out

SOURCE_CHOSEN = "chosen"
SOURCE_TRUSTED = "trusted tag"


def class_name(name: str, aliases: Mapping[str, str] | None = None) -> str:
    """The class name of a genre name on its own (see :class:`_Names`; no spellings counted)."""
    return _Names(aliases).name(genre_identity(name, aliases), name)


class _Names:
    """One class name per genre identity (``core.canonical_genre``): the label the aliases give it,
    or the bundled label of its tree node ("hiphop": a user model's classes line up with the
    bundled models' labels, which ``inference.user_model.mix`` joins by name), else its one
    spelling (``core.genre_spelling``: the alias, the genre tree's name, else the most used
    spelling seen, ties in code-point order) in lowercase, as model labels are. "Hip Hop" x3 and
    "hip-hop" x2 make one class, "hiphop"; "DnB" and "Drum & Bass" make "drum and bass"."""

    def __init__(self, aliases: Mapping[str, str] | None) -> None:
        self._aliases = aliases
        self._spelling = GenreSpelling(aliases)

    def key(self, name: str) -> str:
        """Record a use of ``name``; returns its identity."""
        return self._spelling.note(name)

    def identity(self, name: str) -> str:
        return self._spelling.identity(name)

    def name(self, key: str, fallback: str = "") -> str:
        label = self._spelling.label(key)
        if label is None:
            node = self._spelling.tree.get(key)
            label = node.gtzan if node is not None else None  # the bundled label, aliases or not
        # Model labels are lowercase, as the bundled ones: what a librarian sees and what is written
        # is the genre's one spelling (Settings.spell), whatever the case of its label.
        return label if label is not None else self._spelling.spell_identity(key, fallback).casefold()


def resolve_merges(merges: Mapping[str, str], aliases: Mapping[str, str] | None = None,
                   names: _Names | None = None) -> dict[str, str]:
    """Canonical ``source -> target`` with chains followed (a=b, b=c gives a=c); cycles raise ValueError.

    Keys and values are genre identities when ``names`` is given (it records the spellings),
    else class names."""
    if names is None:
        flat = {class_name(a, aliases): class_name(b, aliases) for a, b in merges.items()}
    else:
        flat = {names.key(a): names.key(b) for a, b in merges.items()}
    out = {}
    for source in flat:
        seen, target = {source}, flat[source]
        while target in flat and flat[target] != target:
            if target in seen:
                raise ValueError(f"genre merges form a cycle through {target!r}")
            seen.add(target)
            target = flat[target]
        if target != source:
            out[source] = target
    return out


def group_of(track: Track) -> str:
    """The cross-validation group: artist, else album artist, else album, else folder."""
    for prefix, value in (("artist", track.artist), ("artist", track.albumartist), ("album", track.album)):
        value = " ".join(str(value or "").split()).casefold()
        if value:
            return f"{prefix}:{value}"
    return f"folder:{os.path.dirname(track.path)}"


@dataclass
class Example:
    path: str
    genre: str
    group: str
    artist: str
    source: str


@dataclass
class DatasetWarning:
    genre: str
    kind: str  # "few", "dominant" or "excluded"
    message: str


@dataclass
class GenreSummary:
    genre: str
    tracks: int
    artists: int
    top_artist: str
    top_share: float
    sources: dict[str, int] = field(default_factory=dict)


@dataclass
class Dataset:
    examples: list[Example]
    excluded: dict[str, int] = field(default_factory=dict)  # genre -> tracks left out (too few)
    # How genre names became class names (identity rule, merges), for names outside the examples.
    _names: "_Names | None" = field(default=None, repr=False, compare=False)
    _merges: dict[str, str] = field(default_factory=dict, repr=False, compare=False)
    # path -> why: files that would be examples but could not be read or analysed (status ERROR)
    unreadable: dict[str, str] = field(default_factory=dict)

    def class_of(self, genre: str) -> str:
        """The class ``genre`` (any spelling) belongs to under this dataset's names and merges."""
        names = self._names or _Names(None)
        key = names.identity(genre)
        return names.name(self._merges.get(key, key), genre)

    @property
    def labels(self) -> list[str]:
        return sorted({e.genre for e in self.examples})

    def counts(self) -> dict[str, int]:
        return dict(sorted(Counter(e.genre for e in self.examples).items()))

    def summaries(self) -> list[GenreSummary]:
        out = []
        for genre in self.labels:
            rows = [e for e in self.examples if e.genre == genre]
            by_group = Counter(e.group for e in rows)
            top_group, top_n = by_group.most_common(1)[0]
            top_artist = next(e.artist or e.group.split(":", 1)[1] for e in rows if e.group == top_group)
            out.append(GenreSummary(genre, len(rows), len(by_group), top_artist, top_n / len(rows),
                                    dict(Counter(e.source for e in rows))))
        return out

    def warnings(self) -> list[DatasetWarning]:
        out = []
        for s in self.summaries():
            if s.tracks < FEW_TRACKS:
                out.append(DatasetWarning(s.genre, "few", f"{s.genre}: only {s.tracks} tracks (fewer than "
                                          f"{FEW_TRACKS}); the model will know it poorly"))
            if s.tracks >= 2 and s.top_share > DOMINANT_ARTIST_SHARE:
                out.append(DatasetWarning(s.genre, "dominant", f"{s.genre}: {s.top_share:.0%} of the tracks are "
                                          f"by {s.top_artist}; the model may learn the artist, not the genre"))
        for genre, n in sorted(self.excluded.items()):
            out.append(DatasetWarning(genre, "excluded", f"{genre}: left out, {n} track(s) (at least "
                                      f"{MIN_TRACKS} are needed)"))
        return out

    def __len__(self) -> int:
        return len(self.examples)


def existing_genre_counts(tracks: Iterable[Track], aliases: Mapping[str, str] | None = None) -> dict[str, int]:
    """Canonical existing-tag genres (first value) of the tracks the librarian has NOT labelled:
    what ``trust_existing`` could add, for the wizard's opt-in checkboxes."""
    names = _Names(aliases)
    counts: Counter[str] = Counter()
    for t in tracks:
        if _chosen_label(t) is None and t.genres and not t.missing and t.status != ERROR:
            counts[names.key(t.genres[0])] += 1
    named = {names.name(key): n for key, n in counts.items()}
    return dict(sorted(named.items(), key=lambda kv: (-kv[1], kv[0])))


def _chosen_label(track: Track) -> str | None:
    if track.status in LABELLED_STATUSES and track.chosen:
        first = next((g for g in track.chosen if str(g).strip()), None)
        return first
    return None


def build_dataset(tracks: Iterable[Track], trust_existing: Iterable[str] = (),
                  merges: Mapping[str, str] | None = None, aliases: Mapping[str, str] | None = None,
                  min_tracks: int = MIN_TRACKS) -> Dataset:
    """The training set from the store's tracks (see the module docstring).

    ``trust_existing``: genre names whose existing tags count as labels. ``merges``: source ->
    target genre names (merge or rename). Genres with fewer than ``min_tracks`` tracks after
    merging are left out and listed in ``Dataset.excluded``. Missing files are skipped.
    """
    names = _Names(aliases)
    merge_map = resolve_merges(merges or {}, aliases, names)
    trusted = {genre_identity(g, aliases) for g in trust_existing}
    examples = []
    unreadable = {}
    for t in tracks:
        if t.missing:
            continue
        chosen = _chosen_label(t)
        if chosen is not None:
            key, source = names.key(chosen), SOURCE_CHOSEN
        elif t.genres and genre_identity(t.genres[0], aliases) in trusted:
            if t.status == ERROR:  # its tag is no label to learn from: there is no audio to learn it on
                unreadable[t.path] = t.error or "the file could not be read"
                continue
            key, source = names.key(t.genres[0]), SOURCE_TRUSTED
        else:
            continue
        examples.append(Example(t.path, merge_map.get(key, key), group_of(t), t.artist or t.albumartist, source))
    for e in examples:  # identities -> class names, once every spelling has been seen
        e.genre = names.name(e.genre)
    counts = Counter(e.genre for e in examples)
    excluded = {g: n for g, n in counts.items() if n < min_tracks}
    kept = [e for e in examples if e.genre not in excluded]
    return Dataset(kept, excluded, names, merge_map, unreadable)
