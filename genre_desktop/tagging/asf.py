"""ASF (WMA) attributes: genres in ``WM/Genre``, one attribute per genre.

``WM/GenreID`` (an old numeric companion, unsupported since Windows Media Player 10) is left as it
is: it is not written by current software and touching it would change a field we do not own.
"""

from __future__ import annotations

from typing import Any

from genre_desktop.tagging.base import Backend, Fields, WriteOptions, clean_genres, first_text, year_of

GENRE = "WM/Genre"


class ASFBackend(Backend):
    name = "asf"

    def read(self, audio: Any, options: WriteOptions | None) -> Fields:
        tags = audio.tags
        if tags is None:
            return Fields()
        return Fields(
            title=first_text(_values(tags, "Title")),
            artist=first_text(_values(tags, "Author")),
            album=first_text(_values(tags, "WM/AlbumTitle")),
            albumartist=first_text(_values(tags, "WM/AlbumArtist")),
            year=year_of(first_text(_values(tags, "WM/Year"))),
            genres=clean_genres(_values(tags, GENRE)),
        )

    def raw_genres(self, audio: Any) -> list[str]:
        return _values(audio.tags, GENRE) if audio.tags is not None else []

    def set_genres(self, audio: Any, genres: list[str], options: WriteOptions, exact: bool = False) -> None:
        if audio.tags is None:
            audio.add_tags()
        if genres:
            audio.tags[GENRE] = list(genres)
        elif GENRE in audio.tags:
            del audio.tags[GENRE]


def _values(tags: Any, key: str) -> list[str]:
    # ASF attributes are typed objects (unicode, dword, ...); their str() is the value.
    return [str(v) for v in tags.get(key, [])] if key in tags else []
