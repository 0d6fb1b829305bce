"""Reading the tags of audio the app does not tag (WavPack, Musepack, APE, TTA, TAK, OptimFROG, DSF,
DSDIFF, Speex, Matroska, CAF, ...), so the library shows their titles, artists and genres.

mutagen reads most of them in-process (APEv2 tags, ID3 in DSF/DSDIFF, Vorbis comments in Speex);
for containers it does not know (Matroska, CAF, Wave64) ffprobe's format tags are used. Reading
only: writing these formats is refused ("tags cannot be written for this format yet").
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
from pathlib import Path
from typing import Any

from genre_desktop.tagging.fields import year_of

log = logging.getLogger(__name__)

_TIMEOUT = 20.0
# Field -> the keys tag formats use for it (matched case-insensitively).
_KEYS = {"title": ("title", "tit2"), "artist": ("artist", "tpe1"), "album": ("album", "talb"),
         "albumartist": ("album artist", "albumartist", "album_artist", "tpe2"),
         "year": ("year", "date", "tdrc"), "genre": ("genre", "tcon")}


def read_foreign_tags(path: Path) -> dict[str, list[str]]:
    """Field name -> values (``FileTags.values``) of a file in a container without a tag backend."""
    found = _mutagen_values(path)
    if found is None:
        found = _ffprobe_values(path)
    values: dict[str, list[str]] = {}
    for name in ("title", "artist", "album", "albumartist", "year"):
        text = next((str(v).strip() for v in found.get(name) or [] if str(v).strip()), "")
        if text:
            values[name] = [year_of(text) if name == "year" else text]
    genres = [g.strip() for value in found.get("genre") or [] for g in str(value).split("\x00")]  # APEv2: NULs
    values["genre"] = [g for g in genres if g]
    return values


def _mutagen_values(path: Path) -> dict[str, list[str]] | None:
    import mutagen

    try:
        audio = mutagen.File(str(path))
    except Exception as exc:  # mutagen fails on files it half-knows; ffprobe may still read them
        log.debug("mutagen cannot read the tags of %s: %s", path, exc)
        return None
    if audio is None:
        return None
    tags = getattr(audio, "tags", None)
    if tags is None:
        return {}
    found: dict[str, list[str]] = {}
    keys = {str(k).lower(): k for k in tags.keys()}
    for name, candidates in _KEYS.items():
        for candidate in candidates:
            key = keys.get(candidate)
            if key is not None:
                found[name] = _texts(tags[key])
                break
    return found


def _texts(value: Any) -> list[str]:
    if hasattr(value, "genres"):  # an ID3 TCON frame: numeric references resolved
        return [str(v) for v in value.genres]
    if hasattr(value, "text"):
        return [str(v) for v in value.text]
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return [str(value)]


def _ffprobe_values(path: Path) -> dict[str, list[str]]:
    exe = shutil.which("ffprobe")
    if exe is None:
        return {}
    cmd = [exe, "-v", "error", "-show_entries", "format_tags:stream_tags", "-of", "json", str(path)]
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=_TIMEOUT)
        doc = json.loads(proc.stdout or b"{}")
    except (subprocess.SubprocessError, OSError, ValueError) as exc:
        log.debug("ffprobe cannot read the tags of %s: %s", path, exc)
        return {}
    tags: dict[str, str] = {}
    for stream in doc.get("streams") or []:  # Matroska keeps some tags on the stream
        tags.update({str(k).lower(): str(v) for k, v in (stream.get("tags") or {}).items()})
    tags.update({str(k).lower(): str(v) for k, v in ((doc.get("format") or {}).get("tags") or {}).items()})
    found: dict[str, list[str]] = {}
    for name, candidates in _KEYS.items():
        for candidate in candidates:
            if candidate in tags:
                found[name] = [tags[candidate]]
                break
    return found
