"""Planning a write: which files change and how (what the write preview shows). Qt-free.

For each accepted or corrected track: the chosen genres in their one spelling, in "replace" or
"add" mode, cut to the number of genres asked for, placed by ``Settings.genre_layout`` (a genre
with a parent in the genre tree: alone, its top-level parent in GENRE and itself in the style
field, or both in GENRE parent first), with the style the librarian chose (``Track.chosen_style``)
in the style field (STYLE or GROUPING: ``Settings.style_field``). Files whose genres would not change are
counted, not written; files whose container has no tag format for genres
(``tagging.registry.unwritable_reason``: Sun .au, raw AAC) are set apart with the reason, for the
window and the CLI alike.

One genre gets one spelling in every file (``core/genre_spelling.py``): the librarian's alias,
else the genre tree's name (or their own genre's), else the spelling the library already uses
most for it (file tags and choices), so "Lo-fi", "lo-fi" and "Lo-Fi" chosen on three tracks are
written alike. In "add" mode a genre the file already holds keeps the file's spelling.

A plan remembers what it was made from (``WritePlan.basis``, and the library's ``spelling``): the
same plan made again from the store as it is just before the write tells whether another process
changed the library meanwhile (a stale plan is shown again, never written).

Extending the plan (documented for the tag-field work): a further tag field the write changes
is an entry of ``PlannedChange.fields`` (``{"style": (old, new)}``), shown by the preview as
its own pair of columns; anything the preview must say about one file ("ID3v2.3 → v2.4") is a
line of ``PlannedChange.notes``, shown in the Notes column. Neither needs a change elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

from genre_desktop.core.genre import canonical_genre
from genre_desktop.core.genre_spelling import GenreSpelling
from genre_desktop.core.status import ACCEPTED, CORRECTED
from genre_desktop.core.track import Track
from genre_desktop.settings import Settings


@dataclass
class PlannedChange:
    """One file's change: its genres now (``old``) and after the write (``new``).

    ``fields``: further tag fields this write changes, name -> (now, after); ``notes``: what else
    the preview says about this file."""

    path: str
    old: list[str]
    new: list[str]
    fields: dict[str, tuple[list[str], list[str]]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def key(self) -> tuple:
        """What the librarian saw of this change (to tell a stale plan). The notes are left out:
        they follow from the file's form, and a file that changed is caught by its signature."""
        return (self.path, tuple(self.old), tuple(self.new),
                tuple(sorted((k, tuple(a), tuple(b)) for k, (a, b) in self.fields.items())))


@dataclass
class WritePlan:
    """What a write will do: ``changes`` to make, ``unwritable`` files set apart with the reason
    (the librarian's choice stays in the library), ``unchanged``: reviewed files that already
    carry their genres. ``basis``: path -> the track's file signature (size, mtime) as planned."""

    changes: list[PlannedChange] = field(default_factory=list)
    unwritable: list[tuple[PlannedChange, str]] = field(default_factory=list)
    unchanged: int = 0
    basis: dict[str, tuple] = field(default_factory=dict)
    spelling: Any = field(default=None, compare=False)  # the library's GenreSpelling the plan used

    def values(self) -> dict[str, Any]:
        """What the tag service writes: path -> genres, or path -> {"genre": [...], "style": [...]}
        for a change of further fields."""
        return {c.path: ({"genre": list(c.new), **{name: list(new) for name, (_, new) in c.fields.items()}}
                         if c.fields else list(c.new)) for c in self.changes}

    def key(self) -> tuple:
        return (tuple(c.key() for c in self.changes), tuple(sorted(c.path for c, _ in self.unwritable)),
                self.unchanged)

    def field_names(self) -> list[str]:
        """The further fields some change of this plan sets (the preview's extra columns)."""
        return sorted({name for c in self.changes for name in c.fields})

    def __len__(self) -> int:
        return len(self.changes)


def dedupe_genres(genres: list[str], aliases: Mapping[str, str] | None = None,
                  identity: Callable[[str], str] | None = None) -> list[str]:
    """``genres`` without repeats of one genre (the first spelling wins) and without blanks;
    ``identity``: the genre identity to use (a ``GenreSpelling.identity``, which remembers each
    name's: a plan over 100,000 tracks asks for few names many times), else ``canonical_genre``."""
    seen, out = set(), []
    for g in genres:
        if not str(g).strip():
            continue
        key = identity(g) if identity is not None else canonical_genre(g, aliases)
        if key not in seen:
            seen.add(key)
            out.append(g)
    return out


def library_spelling(tracks: Iterable[Track], settings: Settings) -> GenreSpelling:
    """The settings' spelling, following the spellings ``tracks`` use (file tags and choices)."""
    tracks = list(tracks)
    return settings.spelling([g for t in tracks for g in (*t.genres, *(t.chosen or ()))])


def _placed(name: str, spelling: GenreSpelling, layout: str) -> tuple[list[str], list[str]]:
    """Where one chosen genre (spelled) goes under ``layout`` (``Settings.genre_layout``):
    (genre values, style values). A genre without a parent in the tree goes to the genre field."""
    node = spelling.tree.get(spelling.identity(name))
    ancestors = spelling.tree.ancestors(node) if node is not None else ()
    if not ancestors or layout == "genre":
        return [name], []
    parents = [spelling.spell_identity(a.key) for a in ancestors]
    if layout == "style":  # the top of the tree is the genre; the chosen one is its style
        return [parents[0]], [name]
    return parents + [name], []  # "parent": the whole path, parent first


def new_fields(track: Track, settings: Settings, spelling: GenreSpelling | None = None,
               placed: dict | None = None) -> tuple[list[str], list[str] | None]:
    """What the file's genre and style fields become for this track under ``settings``
    (``spelling``: the library's, from :func:`library_spelling`; default: the settings' alone):
    (genres, styles), styles None when the write leaves the style field as it is.

    The chosen genres (an accepted prediction brings its runners-up up to ``max_genres``) are
    placed by ``genre_layout``; a style the librarian chose (``Track.chosen_style``) joins the
    styles. "add" mode keeps the file's other genres and styles. ``placed``: a cache of where each
    genre goes, shared by the tracks of one plan (a library holds few genres, many tracks)."""
    spelling = spelling if spelling is not None else settings.spelling()
    same = spelling.identity
    picked = list(track.chosen or [])
    if track.status == ACCEPTED and track.prediction is not None:
        # "How many genres": an accepted prediction may bring its runners-up along.
        picked += track.prediction.ranked()
    wanted = dedupe_genres([spelling.spell(g) for g in picked], settings.aliases, same)[: max(1, settings.max_genres)]
    layout = settings.genre_layout
    styles = [spelling.spell(s) for s in track.chosen_style or ()]
    if layout == "genre":  # the genres are placed as chosen: nothing to look up
        genres = wanted
    else:
        placed = placed if placed is not None else {}
        genres = []
        for name in wanted:
            where = placed.get(name)
            if where is None:
                where = placed[name] = _placed(name, spelling, layout)
            genres += where[0]
            styles += where[1]
        if len(genres) > 1:
            genres = dedupe_genres(genres, settings.aliases, same)
    if len(styles) > 1:
        styles = dedupe_genres(styles, settings.aliases, same)
    if settings.write_mode == "add":
        genres = dedupe_genres(list(track.genres) + genres, settings.aliases, same)
        styles = dedupe_genres(list(track.styles) + styles, settings.aliases, same) if styles else styles
    return genres, (styles or None)


def new_genres(track: Track, settings: Settings, spelling: GenreSpelling | None = None) -> list[str]:
    """What the file's genre field becomes for this track under ``settings`` (:func:`new_fields`)."""
    return new_fields(track, settings, spelling)[0]


def reviewed(track: Track) -> bool:
    """The track carries a decision a write puts into its file (and the file is there)."""
    return track.status in (ACCEPTED, CORRECTED) and bool(track.chosen) and not track.missing


def plan_changes(tracks: list[Track], settings: Settings,
                 spelling: GenreSpelling | None = None) -> tuple[list[PlannedChange], int]:
    """(changes to make, number of reviewed tracks already right); ``tracks``: the whole library
    (its spellings decide how a genre no alias or tree node spells is written), unless the
    library's ``spelling`` is given."""
    changes, unchanged, placed = [], 0, {}
    spelling = spelling if spelling is not None else library_spelling(tracks, settings)
    for track in tracks:
        if not reviewed(track):
            continue
        new, styles = new_fields(track, settings, spelling, placed)
        fields = {"style": (list(track.styles), styles)} if styles is not None and styles != list(track.styles) else {}
        if new == list(track.genres) and not fields:
            unchanged += 1
            continue
        changes.append(PlannedChange(track.path, list(track.genres), new, fields))
    return changes, unchanged


def plan_write(tracks: Iterable[Track], settings: Settings, spelling: GenreSpelling | None = None) -> WritePlan:
    """The write preview's plan over the library's ``tracks`` (all of them: their spellings count,
    unless the library's ``spelling`` is given), with the files no write can change set apart."""
    from genre_desktop.tagging.registry import unwritable_reason

    tracks = list(tracks)
    spelling = spelling if spelling is not None else library_spelling(tracks, settings)
    changes, unchanged = plan_changes(tracks, settings, spelling)
    decided = [t for t in tracks if reviewed(t)]
    formats = {t.path: t.format for t in decided}
    plan = WritePlan(unchanged=unchanged, basis={t.path: (t.size, t.mtime) for t in decided}, spelling=spelling)
    for change in changes:
        why = unwritable_reason(change.path, formats.get(change.path, ""))
        if why:
            plan.unwritable.append((change, why))
        else:
            plan.changes.append(change)
    return plan


#: Entries of a session's notes cache before it starts again (a few hundred bytes each).
NOTES_CACHE_LIMIT = 200_000


def add_form_notes(plan: WritePlan, options: Any, formats: Mapping[str, tuple],
                   cache: dict[tuple, list[str]] | None = None) -> WritePlan:
    """Say in ``plan``'s notes what each write changes in its file's form ("its ID3v2.3 tag becomes
    ID3v2.4", "genre written to the ID3 chunk and to the RIFF INFO list"): the tag module's own
    rules (``tagging.describe_write``) under the write ``options``. A file that keeps its form is
    told by its first bytes (``tagging.keeps_its_form``: FLAC, M4A, an MP3 staying ID3v2.3 or
    v2.4); the others' tags are read (about half a millisecond for a WAV); ``cache`` keeps the
    notes per file signature, options and values, so a preview planned again reads nothing.
    ``formats``: path -> the track's format and signature ``(format, size, mtime)``. A file that
    cannot be read gets no note (the write says why)."""
    from genre_desktop.tagging import TagError, describe_write, keeps_its_form

    for change in plan.changes:
        fmt, *signature = formats.get(change.path, ("",))
        values = {"genre": list(change.new), **{name: list(after) for name, (_, after) in change.fields.items()}}
        key = (change.path, *signature, options, tuple((k, tuple(v)) for k, v in sorted(values.items())))
        notes = cache.get(key) if cache is not None else None
        if notes is None:
            try:
                kept = keeps_its_form(change.path, fmt, options, values)
                notes = [] if kept else [str(n) for n in describe_write(change.path, options, values)]
            except (TagError, OSError):
                notes = []
            if cache is not None:
                if len(cache) >= NOTES_CACHE_LIMIT:  # old signatures and options pile up over a long session
                    cache.clear()
                cache[key] = notes
        change.notes = list(notes)
    return plan
