"""Vorbis comments: FLAC, Ogg Vorbis, Ogg FLAC and Opus.

Field names are case-insensitive (mutagen's VCommentDict); every name holds several values, one
field per value, in file order. Writing a field replaces all of its values and leaves every
other field as it was. Which names hold which field is the declaration's (``fields``).
"""

from __future__ import annotations

from typing import Any

from genre_desktop.tagging.base import Backend


class VorbisBackend(Backend):
    name = "vorbis"
    formats = ("vorbis",)

    def reading_view(self, tag_format: str, container: Any) -> Any:
        # mutagen's VCommentDict finds a name by scanning every comment; a read asks for a dozen
        # names, so index them once (lower-case name -> values in file order).
        index: dict[str, list[str]] = {}
        for key, value in container:
            index.setdefault(key.lower(), []).append(value)
        return index
