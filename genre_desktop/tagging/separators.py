"""Several genres in one text value: how other taggers join them, and how we split them again.

A tag place that holds one value (an ID3v2.3 or v2.2 frame, a RIFF INFO field, a single-valued
field such as GROUPING) carries several genres joined by a separator. What real taggers write:

- "/" without spaces: mutagen's ``v23_sep``, so beets (mediafile) and MusicBrainz Picard (its
  default "join ID3v2.3 tags with") write "Rock/Blues";
- "; " and ";": MediaMonkey, Picard's other choice, and most hand-typed lists;
- ", ": beets' lastgenre plugin (its default ``separator``), in every format.

" / " with a space on both sides is NOT a separator: Beatport ("Indie Dance / Nu Disco",
"Electronica / Downtempo") and Discogs ("Funk / Soul") use it inside one genre's name, and DJ
libraries tagged from them are common; splitting there would invent genres. Names that contain a
separator are kept whole when they are known genres: ``KNOWN`` ("Pop/Funk" of ID3v1, Apple's
"Hip-Hop/Rap", AllMusic's "Pop/Rock", Discogs' "Folk, World, & Country") or a name the genre tree
resolves (``core.genre.resolve``: "Hip/Hop" is Hip-Hop). "&" never separates:
"Drum & Bass" and "R&B" are one genre each. "AC/DC" is not a genre name, so it splits.

Writing joins with the separator the value already uses (the file's own form), else the
setting's; ``joinable`` tells whether the joined text reads back as the same genres.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterable, Sequence

from genre_desktop.core.genre import resolve

# ";" or "," with any spaces around; "/" unless it has a space on both sides (" / " is part of a name).
_SEPARATOR = re.compile(r"\s*;\s*|\s*,\s*|(?<!\s)/\s*|\s*/(?!\s)")

#: Genre names that contain a separator and are one genre (compared case- and space-insensitively).
KNOWN: frozenset[str] = frozenset({
    "pop/funk",                                                 # ID3v1 genre 62
    "hip-hop/rap", "r&b/soul", "singer/songwriter", "children's music/soundtrack",  # Apple Music
    "pop/rock", "comedy/spoken", "r&b/urban",                   # AllMusic
    "folk, world, & country", "funk / soul", "brass & military",  # Discogs
})


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def split_values(text: str, extra: Sequence[str] = ()) -> tuple[list[str], str | None]:
    """``text`` as several genres, and the first separator it used (None when it is one genre).

    ``extra``: more separators (a user's own setting such as " | "), matched literally.
    Known names (``KNOWN``) that contain a separator stay whole.
    """
    values, used = _split(text, tuple(extra))
    return list(values), used


@lru_cache(maxsize=4096)  # a library repeats its genre texts thousands of times
def _split(text: str, extra: tuple[str, ...]) -> tuple[tuple[str, ...], str | None]:
    pattern = _SEPARATOR
    extra = [s for s in extra if s and not s.isspace() and not _SEPARATOR.fullmatch(s)]
    if extra:
        pattern = re.compile("|".join([re.escape(s) for s in extra] + [_SEPARATOR.pattern]))
    parts, seps, pos = [], [], 0
    for match in pattern.finditer(text):
        if match.start() == match.end():
            continue
        parts.append(text[pos:match.start()])
        seps.append(match.group(0))
        pos = match.end()
    parts.append(text[pos:])
    if len(parts) == 1:
        return ((text.strip(),) if text.strip() else ()), None
    values, used, i = [], None, 0
    while i < len(parts):
        j = _longest_known(parts, seps, i)
        value = "".join(p + (seps[k] if k < j else "") for k, p in enumerate(parts[i:j + 1], start=i)).strip()
        if value:
            values.append(value)
        if j < len(seps) and used is None and value:
            used = seps[j]
        i = j + 1
    return tuple(values), used


# Letters and digits past which joined pieces cannot be a known name: no KNOWN name nor genre tree
# key is a quarter as long (its key keeps every letter and digit; NFKC joins at most 3 Hangul jamo
# into one). Without the bound a value of n pieces costs n*n/2 lookups of ever longer texts: a
# 13 KB ID3v2.3 genre of 400 pieces took 8 s to read, and a hostile one minutes.
_LONGEST_NAME = 256


def _letters(text: str) -> int:
    return sum(c.isalnum() for c in text)


def _longest_known(parts: list[str], seps: list[str], start: int) -> int:
    """The last index j such that parts[start..j] joined by their separators is a known name."""
    best, text = start, parts[start]
    letters = _letters(text)
    for j in range(start + 1, len(parts)):
        if not parts[j - 1].strip() or not parts[j].strip():
            break  # an empty piece ("Rock//Jazz", "/Jazz") is a stray separator, never part of a name
        letters += _letters(parts[j])
        if letters > _LONGEST_NAME:
            break  # longer than any known name, and joining more only makes it longer
        text += seps[j - 1] + parts[j]
        if _norm(text) in KNOWN or resolve(text) is not None:
            best = j
    return best


def split_all(values: Iterable[str], extra: Sequence[str] = ()) -> list[str]:
    """Every value of a one-value place split (mutagen may hand back several NUL-separated ones)."""
    out: list[str] = []
    for value in values:
        out.extend(split_values(value, extra)[0])
    return out


def separator_of(values: Iterable[str] | None) -> str | None:
    """The separator the stored values use to join genres (their own form), None if none."""
    for value in values or ():
        sep = split_values(value)[1]
        if sep is not None:
            return sep
    return None


def joinable(values: Sequence[str], separator: str, extra: Sequence[str] = ()) -> str | None:
    """Why ``values`` joined by ``separator`` would not read back as the same values (None: it would)."""
    joined = separator.join(values)
    back = split_values(joined, extra)[0]
    if back == [v.strip() for v in values]:
        return None
    for value in values:
        parts = split_values(value, extra)[0]
        if len(parts) > 1:
            shown = ", ".join(repr(p) for p in parts)
            return f"{value!r} would read back as {shown}"
    return f"{joined!r} would read back as {back!r}"
