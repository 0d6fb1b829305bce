"""Why a file cannot be read or written, in a user's words; values quoted safely (``quoted``).

mutagen and the struct/IO code under it fail on damaged files with messages meant for
programmers ("KeyError: 3", "'I' format requires 0 <= number <= 4294967295", "error"). The user
needs to know what is wrong with the *file*: ``damaged(exc, path)`` names the container (from the
file's first bytes, else its extension) and keeps mutagen's own text only where it is a sentence
about the file ("can't sync to MPEG frame"); the exception itself goes to the log.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

log = logging.getLogger(__name__)

# First bytes -> the container's name as users know it.
_MAGIC = ((b"ID3", "MP3"), (b"RIFF", "WAV"), (b"FORM", "AIFF"), (b"fLaC", "FLAC"), (b"OggS", "Ogg"),
          (b"\x30\x26\xb2\x75", "WMA"))
_EXTENSIONS = {".mp3": "MP3", ".wav": "WAV", ".aif": "AIFF", ".aiff": "AIFF", ".flac": "FLAC", ".ogg": "Ogg",
               ".oga": "Ogg", ".opus": "Opus", ".m4a": "M4A", ".mp4": "M4A", ".wma": "WMA",
               ".3gp": "3GP", ".3g2": "3GP2", ".oggflac": "Ogg FLAC"}
# Text that is about Python, not about the file.
_INTERNAL = re.compile(r"Error\b|Exception|format requires|index out of range|unpack|struct|object|"
                       r"NoneType|codec can't|argument|attribute|not subscriptable|overflow|"
                       r"must be|non-negative|read length|flags|0x|synchsafe|"
                       r"^\W*\w*\W*$|^[\d\s'\"]+$|<|\bint\b|\bbytes?\b|\bstr\b", re.IGNORECASE)


# mutagen's sentences, reworded for a user (pattern -> replacement). mutagen's words are for the
# programmer ("framing bit was unset", "Stream info block not found"): each known one says here what
# is wrong with the file instead; an unknown one is shown only if it reads as a plain sentence.
_CUT = "it is cut short: part of the file is missing"
_REWORDED = ((re.compile(r"ID3v2\.(\d+) not supported"), r"its ID3 tag has an unknown version (2.\1)"),
             (re.compile(r"No '(\w+) ?' chunk found"), r"it has no \1 chunk"),
             (re.compile(r"can't sync to MPEG frame|^invalid sync$"), "no MPEG audio frames found"),
             (re.compile(r"not a MP4 file"), "it has no movie header (moov atom), which describes its audio"),
             (re.compile(r"^(Not enough data|truncated data)$"), "a metadata atom is cut short"),
             (re.compile(r"unable to read full (data|header).*"), "an Ogg page is cut short"),
             # mutagen puts atom names in Python's bytes form (b'stco'), which no user should read
             (re.compile(r"wrong offset inside b?'?(\w{4})'?"), r"its chunk offset table (\1) is damaged"),
             (re.compile(r"too short b?['\"].*['\"] atom"), "an atom is shorter than its header"),
             (re.compile(r"truncated b?['\"]?(\w{4})['\"]? atom|truncated atom b?['\"]?(\w{4})"),
              r"its \1\2 atom is cut short"),
             (re.compile(r"Invalid mvhd|Unknown mdhd version|Unable to get timescale", re.I),
              "its movie header (mvhd/mdhd atom) is damaged"),
             (re.compile(r"track has no audio data"), "it holds no audio track"),
             (re.compile(r"atom length can only be|only a top-level atom can have zero length|Invalid atom|"
                         r"Unknown atom type|unexpected atom|is not a container"), "an atom has an impossible length or type"),
             (re.compile(r"Invalid stsd|Unsupported stsd version"), "its sample description (stsd atom) is damaged"),
             # Ogg and its codecs
             (re.compile(r"framing bit was unset"), "its Vorbis header is malformed"),
             (re.compile(r"not a valid Vorbis comment"), "its tag block (Vorbis comment) is malformed"),
             (re.compile(r"no appropriate stream found"),
              "no Vorbis, Opus, FLAC or Speex stream found in its Ogg pages"),
             (re.compile(r"page has not packets|first packet is continued|last packet does not complete|"
                         r"unable to find final Ogg header|lacing bytes"), "an Ogg page is cut short or damaged"),
             (re.compile(r"invalid serial number|bad sequence number"), "its Ogg pages are out of order or mixed"),
             (re.compile(r"packet too short to be valid|page has ID header|empty pages list"), "an Ogg page is malformed"),
             (re.compile(r"no valid stream found"), "no Vorbis, Opus, FLAC or Speex stream found in its Ogg pages"),
             (re.compile(r"(?i)^version .* unsupported$"), "its Opus header has an unknown version"),
             (re.compile(r"invalid FLAC marker"), "its FLAC-in-Ogg header is malformed"),
             # FLAC
             (re.compile(r"Stream info block not found"), "no STREAMINFO block, which describes its audio"),
             (re.compile(r"is not a valid FLAC file"), "it does not start with a FLAC header"),
             (re.compile(r"file said \d+ bytes, read \d+ bytes"),
              "a metadata block claims more than the file holds"),
             (re.compile(r"block is too long to write"), "a metadata block is too large to be written back"),
             (re.compile(r"> 1 (\w+) block found"), r"it has more than one \1 block"),
             (re.compile(r"stream info has invalid length|missing stream info"), "its STREAMINFO block is damaged"),
             # ASF/WMA
             (re.compile(r"Not an ASF file"), "it does not start with an ASF header"),
             (re.compile(r"invalid (object|header) size|invalid descriptor length|invalid field property"),
              "a header section gives an impossible length"),
             (re.compile(r"invalid codec entry|unexpected descriptor|unexpected DecoderConfigDescrTag"),
              "its description of the codec is damaged"),
             # RIFF/IFF
             (re.compile(r"Root chunk must be a (RIFF|FORM) chunk"), r"it does not start with a \1 chunk"),
             (re.compile(r"Expected RIFF/WAVE"), "it is not a RIFF/WAVE file"),
             # MP3 and ID3
             (re.compile(r"(Xing|VBRI) header truncated"), r"its VBR header (\1) is cut short"),
             (re.compile(r"(?i)sync not found|invalid frame size|not enough frame data|not a (Xing|VBRI|lame) header"),
              "its MPEG audio frames are damaged"),
             (re.compile(r"(?i)invalid frame (ID|key|type)|Invalid ID3TimeStamp|not null terminated|invalid numeric pair|"
                         r"invalid (bool|genre|value size)|unknown genre|invalid tag name"), "a tag field is malformed"),
             (re.compile(r"(?i)header size not synchsafe|invalid (extended )?header size|invalid padding|"
                         r"extensionFlag3|invalid size in header extension"), "its ID3 tag header is damaged"),
             (re.compile(r"(?i)^unsupported (version|header revision)"), "its tag has an unknown version"),
             # anywhere
             (re.compile(r"(?i)^(truncated( header| content)?|not enough data)$"), _CUT),
             (re.compile(r"area outside of file|cannot read \d+ bytes, too large"), _CUT),
             (re.compile(r"(?i)invalid sample rate|sample rate can't be zero|sample rate value of 0"),
              "its header gives no usable sample rate"))


_SHOWN = 48  # characters of a value a message quotes
_LISTED = 6  # values of a list a message quotes


def quoted(value: object, limit: int = _SHOWN) -> str:
    """A value as a message quotes it: escaped (control characters, undecodable bytes as \\x..),
    cut after ``limit`` characters with the full length said, lists cut after a few values.

    A damaged tag can hold megabytes of binary junk; the user needs to recognise the value, not
    receive it (nor have it break a terminal or a dialog).
    """
    if isinstance(value, (list, tuple)):
        shown = [quoted(v, limit) for v in value[:_LISTED]]
        more = f", and {len(value) - _LISTED:,} more" if len(value) > _LISTED else ""
        return "[" + ", ".join(shown) + more + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{quoted(k, limit)}: {quoted(v, limit)}" for k, v in list(value.items())[:_LISTED]) + "}"
    if value is None:
        return "(none)"
    text = str(value)
    escaped = "".join(c if c.isprintable() else c.encode("unicode_escape", "backslashreplace").decode("ascii")
                      for c in text)
    escaped = escaped.replace("'", "\\'")
    if len(escaped) <= limit:
        return f"'{escaped}'"
    return f"'{escaped[:limit]}…' ({len(text):,} characters)"


def container_name(path: str | Path) -> str:
    """The container's name for messages: "WAV", "FLAC", ... (from the content, then the extension)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(12)
    except OSError:
        head = b""
    if head[4:8] == b"ftyp":  # phone recordings name their MP4 brand 3gp*/3g2*
        return {b"3gp": "3GP", b"3g2": "3GP2"}.get(head[8:11], "M4A")
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
    return _EXTENSIONS.get(Path(path).suffix.lower(), "audio")


def plain(message: str) -> bool:
    """Whether an exception's text reads as a sentence about the file (not Python internals)."""
    message = message.strip()
    return len(message) >= 8 and " " in message and not _INTERNAL.search(message)


def damaged(exc: BaseException, path: str | Path, shown: str | Path | None = None) -> str:
    """The reason a damaged file raised ``exc`` (logged with its type for developers)."""
    path = Path(path)
    text = str(exc).replace(repr(str(path)), "the file").replace(str(path), "the file").strip()
    log.info("%s: %s: %s", shown or path, type(exc).__name__, text)
    name = container_name(path)
    detail = _first_sentence(text).strip("\"'")
    for pattern, words in _REWORDED:
        match = pattern.search(detail)
        if match:
            return f"damaged {name} file: {match.expand(words)}"
    # mutagen's other sentences are for programmers ("Not implemented", "dictionary is empty"): not shown
    if detail and plain(detail) and type(exc).__module__.split(".")[0] != "mutagen":
        if not detail.isprintable() or len(detail) > 160:
            detail = quoted(detail, 160)[1:-1]
        return f"damaged {name} file: {detail}"
    return f"damaged {name} file: its structure cannot be read"


def _first_sentence(text: str) -> str:
    # mutagen nests errors ("error: ... : can't sync"): the innermost clause says the most.
    text = text.splitlines()[0] if text else ""
    return text.rstrip(".").strip()
