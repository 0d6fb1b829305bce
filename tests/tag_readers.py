"""What other programs read from a file's tags, for the tagging tests: TagLib (pytaglib), beets'
mediafile, ffprobe and raw mutagen. Each returns plain Python values; a reader that is not
installed skips the test that asks for it."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import mutagen
import pytest


def taglib_props(path: str | Path) -> dict[str, list[str]]:
    """TagLib's property map (upper-case keys: GENRE, STYLE, GROUPING, WORK, ...)."""
    taglib = pytest.importorskip("taglib")
    with taglib.File(str(path)) as f:
        return {k: list(v) for k, v in f.tags.items()}


def _mediafile_with_style():
    mediafile = pytest.importorskip("mediafile")

    class StyleMediaFile(mediafile.MediaFile):
        """mediafile has no style field; a beets plugin would add it like this (STYLE everywhere)."""

    StyleMediaFile.add_field("styles", mediafile.ListMediaField(
        mediafile.MP3ListDescStorageStyle(desc="STYLE"),
        mediafile.MP4ListStorageStyle("----:com.apple.iTunes:STYLE"),
        mediafile.ListStorageStyle("STYLE"),
        mediafile.ASFStorageStyle("STYLE"),
    ))
    return StyleMediaFile


def mediafile_fields(path: str | Path) -> dict[str, object]:
    """beets' mediafile: genres (list), styles (list, as a plugin would declare it), grouping."""
    f = _mediafile_with_style()(str(path))
    return {"genres": list(f.genres or []), "styles": list(f.styles or []), "grouping": f.grouping or "",
            "title": f.title or ""}


def ffprobe_tags(path: str | Path) -> dict[str, str]:
    """ffprobe's tags of the file (format tags, and for Ogg the stream's), keys lower-cased."""
    if not shutil.which("ffprobe"):
        pytest.skip("ffprobe is not installed")
    out = subprocess.run(["ffprobe", "-v", "quiet", "-show_format", "-show_streams", "-of", "json", str(path)],
                         capture_output=True, timeout=60).stdout
    data = json.loads(out or b"{}")
    tags = {}
    for stream in data.get("streams", []):
        tags.update(stream.get("tags", {}))
    tags.update(data.get("format", {}).get("tags", {}))
    return {k.lower(): v for k, v in tags.items()}


def id3(path: str | Path):
    """The file's ID3 tag as mutagen loads it (None without one)."""
    return mutagen.File(str(path)).tags
