"""Vorbis comments: FLAC, Ogg Vorbis, Ogg FLAC and Opus.

Field names are case-insensitive (mutagen's VCommentDict); every name holds several values, one
field per value, in file order. Writing a field replaces all of its values and leaves every
other field as it was. Which names hold which field is the declaration's (``fields``).
"""

from __future__ import annotations

from genre_desktop.tagging.base import Backend


class VorbisBackend(Backend):
    name = "vorbis"
    formats = ("vorbis",)
