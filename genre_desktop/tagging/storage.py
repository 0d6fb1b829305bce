"""Where a tag format keeps a field: one ``Place`` per ID3 frame, Vorbis name, MP4 atom, ASF
attribute or RIFF INFO id (beets' mediafile calls them storage styles).

A place reads and writes plain lists of text on the object its tag format hands it (a mutagen
``ID3``, ``VCommentDict``, ``MP4Tags``, ``ASFTags``, or our ``InfoList`` of a WAV's LIST INFO
chunk). ``get`` returns the values exactly as stored (None: the place is absent), which is what
undo puts back; ``shown`` the values as a player shows them (ID3 resolves "(17)" to "Rock").
Whether a place holds one value or several, and how a version of the format stores them, is the
backend's business, not the place's.
"""

from __future__ import annotations

from typing import Any

from mutagen.id3 import TXXX, Frames
from mutagen.mp4 import AtomDataType, MP4FreeForm


class Place:
    """One place of a field in one tag format."""

    #: The tag format it belongs to ("id3", "vorbis", "mp4", "asf", "info").
    format = ""

    def __init__(self, key: str, read_only: bool = False) -> None:
        self.key = key  # unique within its format; names the place in raw snapshots (undo)
        self.read_only = read_only

    def get(self, tags: Any) -> list[str] | None:
        """The values exactly as stored, None when the place is absent."""
        raise NotImplementedError

    def shown(self, tags: Any, stored: list[str]) -> list[str] | None:
        """The values as players show them, given the ``stored`` ones ``get`` read (by default: those)."""
        return stored

    def set(self, tags: Any, values: list[str]) -> None:
        """Store ``values`` one value each (an empty list removes the place)."""
        raise NotImplementedError

    def restore(self, tags: Any, values: list[str]) -> None:
        """Put back values exactly as ``get`` read them (undo)."""
        self.set(tags, values)

    def check(self, values: list[str]) -> str | None:
        """Why these values cannot be stored here faithfully (None: they can)."""
        return None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.key!r})"


def _encoding(frame: Any, values: list[str]) -> int:
    """The text encoding for new values of a frame: the frame's own when it can hold them (a
    rewrite keeps the file's form, and undo gets the same bytes back), else UTF-8 (mutagen saves
    it as UTF-16 in ID3v2.3)."""
    own = int(getattr(frame, "encoding", 3)) if frame is not None else 3
    if own == 0:
        try:
            for value in values:
                value.encode("latin-1")
        except UnicodeEncodeError:
            return 3
    return own


class ID3Frame(Place):
    """A text frame (TIT2, TCON, TIT1, GRP1, ...); TDRC's timestamps read as their text."""

    format = "id3"

    def get(self, tags: Any) -> list[str] | None:
        frame = tags.get(self.key)
        return [str(v) for v in frame.text] if frame is not None else None

    def set(self, tags: Any, values: list[str]) -> None:
        encoding = _encoding(tags.get(self.key), values)
        tags.delall(self.key)
        if values:
            tags.add(Frames[self.key](encoding=encoding, text=list(values)))


class ID3Genre(ID3Frame):
    """TCON: mutagen resolves ID3v1 references ("(17)", "17" -> "Rock") when it shows genres."""

    def __init__(self) -> None:
        super().__init__("TCON")

    def shown(self, tags: Any, stored: list[str]) -> list[str] | None:
        frame = tags.get("TCON")
        return list(frame.genres) if frame is not None else None

    def check(self, values: list[str]) -> str | None:
        frame = Frames["TCON"](encoding=3, text=[])
        for value in values:
            # What a reader gets back: mutagen resolves references once on load, then again on read.
            frame.text = [value]
            frame.genres = frame.genres
            if frame.genres != [value]:
                return (f"genre {value!r} would read back as {frame.genres!r} "
                        f"(ID3 treats it as a numeric genre reference)")
        return None


class ID3UserText(Place):
    """A TXXX frame by its description, matched case-insensitively on reading (taggers differ:
    "STYLE", "Style"), written as ``desc`` (replacing every case variant)."""

    format = "id3"

    def __init__(self, desc: str) -> None:
        super().__init__(f"TXXX:{desc}")
        self.desc = desc

    def _frames(self, tags: Any) -> list[Any]:
        wanted = self.desc.casefold()
        return [f for f in tags.getall("TXXX") if f.desc.casefold() == wanted]

    def get(self, tags: Any) -> list[str] | None:
        exact = tags.get(self.key)  # the usual spelling: no scan of every frame
        frames = [exact] if exact is not None else self._frames(tags)
        return [str(v) for f in frames for v in f.text] if frames else None

    def set(self, tags: Any, values: list[str]) -> None:
        frames = self._frames(tags)
        encoding = _encoding(frames[0] if frames else None, values)
        for frame in frames:
            tags.delall(frame.HashKey)
        if values:
            tags.add(TXXX(encoding=encoding, desc=self.desc, text=list(values)))


class VorbisField(Place):
    """A Vorbis comment name (FLAC, Ogg Vorbis, Ogg FLAC, Opus); names are case-insensitive.

    Reading gets either mutagen's VCommentDict (whose lookups scan every comment) or the backend's
    one-pass index of it by lower-case name (``VorbisBackend.reading_view``)."""

    format = "vorbis"

    def __init__(self, key: str, read_only: bool = False) -> None:
        super().__init__(key, read_only)
        self.lower = key.lower()

    def get(self, tags: Any) -> list[str] | None:
        values = tags.get(self.lower)
        return [str(v) for v in values] if values else None

    def set(self, tags: Any, values: list[str]) -> None:
        if values:
            tags[self.key] = list(values)
        elif self.key in tags:
            del tags[self.key]


class MP4Atom(Place):
    """A text atom of the MP4 ``ilst`` (\\xa9nam, \\xa9gen, \\xa9grp, ...)."""

    format = "mp4"

    def get(self, tags: Any) -> list[str] | None:
        values = tags.get(self.key)
        return [str(v) for v in values] if values else None

    def set(self, tags: Any, values: list[str]) -> None:
        if values:
            tags[self.key] = list(values)
        elif self.key in tags:
            del tags[self.key]


class MP4Freeform(MP4Atom):
    """An iTunes freeform atom, ``----:com.apple.iTunes:NAME``: UTF-8 data atoms, one per value."""

    def __init__(self, name: str, mean: str = "com.apple.iTunes") -> None:
        super().__init__(f"----:{mean}:{name}")

    def get(self, tags: Any) -> list[str] | None:
        values = tags.get(self.key)
        if not values:
            return None
        return [bytes(v).decode("utf-16-be" if getattr(v, "dataformat", 1) == AtomDataType.UTF16 else "utf-8",
                                "replace") for v in values]

    def set(self, tags: Any, values: list[str]) -> None:
        super().set(tags, [MP4FreeForm(v.encode("utf-8"), AtomDataType.UTF8) for v in values])


class ASFAttribute(Place):
    """An ASF (WMA) attribute; its typed values read as their text."""

    format = "asf"

    def get(self, tags: Any) -> list[str] | None:
        values = tags.get(self.key) if self.key in tags else None
        return [str(v) for v in values] if values else None

    def set(self, tags: Any, values: list[str]) -> None:
        if values:
            tags[self.key] = list(values)
        elif self.key in tags:
            del tags[self.key]


class InfoField(Place):
    """A RIFF INFO field of a WAV file's LIST INFO chunk (IGNR, INAM, ...): one text value."""

    format = "info"

    def __init__(self, cid: str, read_only: bool = False) -> None:
        super().__init__(cid, read_only)

    def get(self, tags: Any) -> list[str] | None:
        value = tags.get(self.key)
        return [value] if value is not None else None

    def shown(self, tags: Any, stored: list[str]) -> list[str] | None:
        value = tags.text(self.key)
        return [value] if value is not None else None

    def set(self, tags: Any, values: list[str]) -> None:
        if len(values) > 1:
            raise ValueError("a RIFF INFO field holds one value")
        tags.set(self.key, values[0].encode("utf-8") if values else None)

    def restore(self, tags: Any, values: list[str]) -> None:
        # ``get`` gives the bytes as Latin-1 text, so any encoding comes back byte for byte.
        tags.set(self.key, "".join(values).encode("latin-1") if values else None)
