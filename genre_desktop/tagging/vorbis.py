"""Vorbis comments for FLAC, Ogg Vorbis, Ogg FLAC and Opus: one GENRE field per genre.

Field names are case-insensitive (mutagen's VCommentDict); reading takes every GENRE field in
file order, writing replaces them all and leaves every other field as it was. Year is the start
of DATE (falling back to YEAR, which some taggers write).
"""

from __future__ import annotations

from typing import Any

from genre_desktop.tagging.base import Backend, Fields, WriteOptions, clean_genres, first_text, year_of


class VorbisBackend(Backend):
    name = "vorbis"

    def read(self, audio: Any, options: WriteOptions | None) -> Fields:
        tags = audio.tags
        if tags is None:
            return Fields()
        return Fields(
            title=first_text(tags.get("title")),
            artist=first_text(tags.get("artist")),
            album=first_text(tags.get("album")),
            albumartist=first_text(tags.get("albumartist")),
            year=year_of(first_text(tags.get("date")) or first_text(tags.get("year"))),
            genres=clean_genres(tags.get("genre")),
        )

    def raw_genres(self, audio: Any) -> list[str]:
        return [str(v) for v in audio.tags.get("genre", [])] if audio.tags is not None else []

    def set_genres(self, audio: Any, genres: list[str], options: WriteOptions, exact: bool = False) -> None:
        if audio.tags is None:  # a FLAC file without a VORBIS_COMMENT block
            audio.add_tags()
        if genres:
            audio.tags["genre"] = list(genres)
        elif "genre" in audio.tags:
            del audio.tags["genre"]
