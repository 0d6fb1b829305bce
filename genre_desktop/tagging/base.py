"""Shared vocabulary of the tag backends: the records, the errors, the options, and the Backend.

A backend knows one container's mechanics: which tag formats it carries (a WAV file: an ID3
chunk and a RIFF INFO list), how to reach them in a loaded mutagen file, when a place holds one
value only (ID3v2.3), how to save. Which fields exist and where each format keeps them is the
declaration's (``fields``); the generic reading and writing here walk it, so no backend names a
field. Opening files, choosing the backend (``registry``) and saving safely (``files``) are not a
backend's job either.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from genre_desktop.tagging.fields import FIELDS, TagField, year_of
from genre_desktop.tagging.separators import joinable, separator_of, split_all
from genre_desktop.tagging.storage import Place

__all__ = ["Backend", "Fields", "FileTags", "TagError", "UnsupportedFormat", "WriteOptions", "year_of"]

#: ``WriteOptions.id3_version`` that keeps each file's own ID3 version.
KEEP = "keep"
#: Where ``WriteOptions.style_field`` may put styles.
STYLE_FIELDS = ("style", "grouping")


class TagError(Exception):
    """Tags cannot be read or written. ``str(exc) == f"{path}: {reason}"``."""

    def __init__(self, path: str | os.PathLike[str], reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class UnsupportedFormat(TagError):
    """The file may well be audio, but no tag backend handles its container (e.g. Sun .au)."""


@dataclass(frozen=True)
class WriteOptions:
    """How fields are written (and, given to the readers, how one-value places are split).

    ``id3_version``: "keep" writes each file's ID3 tag in the version it has (an ID3v2.2 tag,
    which no library writes, becomes ID3v2.3; a file without one gets ``NEW_ID3_VERSION``);
    4 or 3 convert every file to that version. ID3v2.4 stores several values per frame;
    ID3v2.3 holds one, so several genres are joined by the separator the value already uses
    (the file's own form), else by ``id3_separator``, which also joins values in RIFF INFO and
    in single-valued fields. ``style_field``: "style" (STYLE, the convention TagLib reads) or
    "grouping" (GROUPING: ID3 TIT1 and GRP1, \\xa9grp, ...) receives the styles.
    """

    id3_version: int | str = KEEP
    id3_separator: str = "; "
    style_field: str = "style"

    def __post_init__(self) -> None:
        if self.id3_version not in (KEEP, 3, 4):
            raise ValueError(f"id3_version must be 'keep', 3 or 4, not {self.id3_version!r}")
        if not self.id3_separator or "\x00" in self.id3_separator:
            raise ValueError("id3_separator must be a non-empty string without NUL")
        if self.style_field not in STYLE_FIELDS:
            raise ValueError(f"style_field must be one of {', '.join(STYLE_FIELDS)}, not {self.style_field!r}")

    def target(self, name: str) -> str:
        """The declared field a logical field name is written to ("style" may go to "grouping")."""
        return self.style_field if name == "style" else name


_BY_ATTR: list = [None, {}]  # (the table's fields when built, attr -> field): rebuilt when the table changes


def _attr_field(name: str) -> TagField | None:
    fields = tuple(FIELDS.values())
    if _BY_ATTR[0] != fields:
        _BY_ATTR[:] = [fields, {f.attr: f for f in fields}]
    return _BY_ATTR[1].get(name)


@dataclass
class Fields:
    """What a backend reads from a file's tags: every declared field, as the library shows it.

    ``values``: field name -> values (a one-text field has at most one), split and stripped;
    also readable as attributes by each field's ``attr`` (``.genres``, ``.styles``, ``.title``,
    where a one-text field reads as a string). ``raw``: for each field, each place (by key:
    "TCON", "IGNR", "GENRE", ...) -> its values exactly as stored, None when absent: what
    ``restore_fields`` puts back (a JSON-ready snapshot of the file's tags for undo). ``tag_formats``:
    the tags the file has ("id3", "info" for a WAV with both; empty for an untagged file). ``id3_version``: 2, 3 or 4 for a file with an ID3v2 tag, else None.
    """

    values: dict[str, list[str]] = field(default_factory=dict)
    raw: dict[str, dict[str, list[str] | None]] = field(default_factory=dict)
    id3_version: int | None = None
    tag_formats: tuple[str, ...] = ()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        tag_field = _attr_field(name)
        if tag_field is None:
            raise AttributeError(f"{type(self).__name__} has no field {name!r}")
        values = self.__dict__.get("values", {}).get(tag_field.name, [])
        return list(values) if tag_field.multi else (values[0] if values else "")

    @property
    def raw_genres(self) -> list[str]:
        """The genre's first place exactly as stored (ID3 TCON, Vorbis GENRE, ...; [] when absent)."""
        places = self.raw.get("genre", {})
        first = next(iter(places.values()), None) if places else None
        return list(first or [])

    @property
    def raw_other(self) -> dict[str, str | None]:
        """The genre's other places exactly as stored (a WAV's INFO "IGNR": its text, or None)."""
        places = list(self.raw.get("genre", {}).items())[1:]
        return {key: (values[0] if values else None) for key, values in places}


@dataclass
class FileTags(Fields):
    """What the library records about a file: the declared fields plus the stream header.

    ``problem``: what is wrong with the file although it reads ("truncated MP3: ..."; then
    ``duration`` is what the file still holds), "" if nothing.
    """

    duration: float | None = None
    samplerate: int | None = None
    channels: int | None = None
    format: str = ""
    problem: str = ""


class Backend:
    """One container: the tag formats it carries and how to reach, judge and save them."""

    #: Short name used in logs and error messages ("id3", "vorbis", "mp4", "asf", "wave").
    name = "base"
    #: The tag formats of the container, in reading order (the first that has a field wins).
    formats: tuple[str, ...] = ()

    # ------------------------------------------------------------ container mechanics
    def containers(self, audio: Any) -> dict[str, Any]:
        """Tag format -> the object its places read (None: the file has no such tag)."""
        return {self.formats[0]: audio.tags}

    def container_for_write(self, audio: Any, tag_format: str) -> Any:
        """The object to write a format's places into, created when missing (None: not written)."""
        if audio.tags is None:
            audio.add_tags()
        return audio.tags

    def one_value(self, audio: Any, tag_format: str, container: Any, writing: WriteOptions | None) -> bool:
        """Whether the format's places hold one value each, as the file is (``writing`` None) or
        as it will be saved with ``writing``."""
        return False

    def one_value_reason(self, audio: Any, tag_format: str, options: WriteOptions) -> str:
        """Why the format holds one value per place, for a refusal message."""
        return "that tag holds one value per field"

    def id3_version(self, audio: Any) -> int | None:
        """The file's ID3v2 version (2, 3, 4), None without an ID3v2 tag."""
        return None

    def save(self, audio: Any, options: WriteOptions) -> None:
        """Write ``audio``'s tags back to the file it was loaded from."""
        audio.save()

    def drop_if_empty(self, audio: Any) -> bool:
        """Remove ``audio``'s whole tag from the file if it holds nothing; True if it did.

        Undo of a write to an untagged file: the tag the write added goes, rather than staying
        behind empty (a larger file, and a tag that hides another one from some players).
        """
        return False

    def channels(self, audio: Any) -> int | None:
        """The stream's channel count as the file declares it (the header's, unless a format knows better)."""
        return getattr(getattr(audio, "info", None), "channels", None)

    def check_file(self, audio: Any, names: Iterable[str] = ("genre",)) -> str | None:
        """Why saving this loaded file (writing the fields ``names``) would lose tag data besides
        them (None when it would not)."""
        return None

    def reading_view(self, tag_format: str, container: Any) -> Any:
        """What the places read from while reading a whole file (by default the container itself;
        a backend may index it once for the dozen lookups of a read)."""
        return container

    # ------------------------------------------------------------ reading, from the declaration
    def places(self, tag_field: TagField) -> list[tuple[str, Place]]:
        return [(fmt, place) for fmt in self.formats for place in tag_field.places_in(fmt)]

    def _reading_plan(self) -> list[tuple[TagField, list[tuple[str, Place]]]]:
        """Every declared field with its places in this container (rebuilt when the table changes)."""
        key = tuple(map(id, FIELDS.values()))
        cached = self.__dict__.get("_plan")
        if cached is None or cached[0] != key:
            cached = (key, [(f, self.places(f)) for f in FIELDS.values()])
            self.__dict__["_plan"] = cached
        return cached[1]

    def read(self, audio: Any, options: WriteOptions | None = None) -> Fields:
        """Every declared field of a loaded mutagen file (a file without tags: all empty)."""
        containers = self.containers(audio)
        views = {fmt: self.reading_view(fmt, c) if c is not None else None for fmt, c in containers.items()}
        ones = {fmt: c is not None and self.one_value(audio, fmt, c, None) for fmt, c in containers.items()}
        extra = (options.id3_separator,) if options is not None else ()
        values: dict[str, list[str]] = {}
        raw: dict[str, dict[str, list[str] | None]] = {}
        for tag_field, places in self._reading_plan():
            found: list[str] | None = None
            stored_by_place: dict[str, list[str] | None] = {}
            for fmt, place in places:
                view = views.get(fmt)
                stored = place.get(view) if view is not None else None
                stored_by_place[place.key] = stored
                if found is None and stored:
                    found = _clean(tag_field, place.shown(view, stored) or [], ones[fmt], extra) or None
            values[tag_field.name] = found or []
            raw[tag_field.name] = stored_by_place
        present = tuple(fmt for fmt in self.formats if containers.get(fmt) is not None)
        return Fields(values=values, raw=raw, id3_version=self.id3_version(audio), tag_formats=present)

    # ------------------------------------------------------------ writing, from the declaration
    def check_values(self, audio: Any, values: Mapping[str, list[str]], options: WriteOptions) -> str | None:
        """Why these values cannot be stored faithfully in this file (None when they can)."""
        containers = self.containers(audio)
        for name, wanted in values.items():
            tag_field = FIELDS[name]
            places = [(fmt, place) for fmt, place in self.places(tag_field) if not place.read_only]
            for fmt, place in places:
                problem = place.check(wanted)
                if problem:
                    return problem
            if not places or not tag_field.multi:
                continue
            fmt, place = places[0]  # where the library reads the field back from
            container = containers.get(fmt)
            if not self.one_value(audio, fmt, container, options):
                continue
            joined = self._joined(audio, tag_field, fmt, place, container, wanted, options) or options.id3_separator
            problem = joinable(wanted, joined, (options.id3_separator,))
            if problem:
                return (f"{tag_field.name} {problem}: {self.one_value_reason(audio, fmt, options)}, where "
                        f"\"/\", \";\" and \",\" separate values; write ID3v2.4 (the ID3 version setting) "
                        f"or a name without them")
        return None

    def set_fields(self, audio: Any, values: Mapping[str, list[str]], options: WriteOptions) -> None:
        """Replace each named field in memory with its values (an empty list removes it)."""
        containers = self.containers(audio)
        for name, wanted in values.items():
            tag_field = FIELDS[name]
            for fmt, place in self.places(tag_field):
                if place.read_only:
                    continue
                existing = containers.get(fmt)
                joined = self._joined(audio, tag_field, fmt, place, existing, wanted, options)
                container = self.container_for_write(audio, fmt)
                if container is not None:
                    place.set(container, [joined.join(wanted)] if joined is not None else list(wanted))
        self._reform(audio, containers, values, options)

    def _reform(self, audio: Any, containers: dict[str, Any], written: Mapping[str, list[str]],
                options: WriteOptions) -> None:
        """Store again, in the saved form, the several-valued fields not being written whose form
        the save changes (an ID3v2.3 "Rock/Blues" becomes v2.4's two values, or the other way), so
        they read the same afterwards."""
        extra = (options.id3_separator,)
        for tag_field in FIELDS.values():
            if tag_field.name in written or not tag_field.multi:
                continue
            for fmt, place in self.places(tag_field):
                container = containers.get(fmt)
                if place.read_only or container is None or not place.get(container):
                    continue
                was_one = self.one_value(audio, fmt, container, None)
                if was_one == self.one_value(audio, fmt, container, options):
                    continue
                shown = _clean(tag_field, place.shown(container, place.get(container) or []) or [], was_one, extra)
                joined = self._joined(audio, tag_field, fmt, place, container, shown, options)
                place.set(container, [joined.join(shown)] if joined is not None else shown)

    def restore_fields(self, audio: Any, raw: Mapping[str, Mapping[str, list[str] | None]]) -> None:
        """Put places back exactly as ``Fields.raw`` read them (None: remove the place)."""
        for name, by_place in raw.items():
            places = {place.key: (fmt, place) for fmt, place in self.places(FIELDS[name])}
            for key, stored in by_place.items():
                if key not in places or places[key][1].read_only:
                    continue
                fmt, place = places[key]
                present = self.containers(audio).get(fmt)
                if present is None:
                    if not stored:
                        continue  # absent before, absent now
                elif place.get(present) == (list(stored) if stored else None):
                    continue  # as it was: the place keeps its own bytes (text encoding, order)
                container = self.container_for_write(audio, fmt)
                if container is not None:
                    place.restore(container, list(stored or []))

    def _joined(self, audio: Any, tag_field: TagField, fmt: str, place: Place, container: Any,
                wanted: list[str], options: WriteOptions) -> str | None:
        """The separator that joins ``wanted`` into the place's one value (None: stored one each)."""
        if len(wanted) < 2:
            return None
        if tag_field.multi and not self.one_value(audio, fmt, container, options):
            return None
        own = separator_of(place.get(container)) if container is not None else None
        return own or options.id3_separator


def _clean(tag_field: TagField, values: list[str], one_value: bool, extra: tuple[str, ...]) -> list[str]:
    """Stored values as the library shows them: stripped, blanks dropped, one-value places split."""
    if tag_field.multi:
        if one_value:
            values = split_all(values, extra)
        out = [text for text in (value.strip() for value in values) if text]
    else:  # one text: the first that is not blank
        out = next(([text] for text in (value.strip() for value in values) if text), [])
    parse = tag_field.parse
    return [parse(text) for text in out] if parse is not None else out
