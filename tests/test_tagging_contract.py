"""The one contract every tag backend honours, run over a small real file of every container.

read -> write multi-value genres -> read back; other tags untouched (our fields and every raw
mutagen key); the decoded audio identical sample for sample; writing the old value back restores
the tag; unicode values; an empty list removes the field; ID3 v2.3 joins, v2.4 stores several.
"""

from __future__ import annotations

from pathlib import Path

import mutagen
import numpy as np
import pytest

from genre_desktop.audio import decode, probe
from genre_desktop.tagging import FileTags, WriteOptions, read_genres, read_tags, write_genres
from media import FORMATS, make_audio

ORIGINAL = {"title": "Song Title", "artist": "The Artist", "album": "An Album", "albumartist": "Various",
            "date": "1999-04-01", "genre": ["Rock", "Jazz"]}
ID3_FORMATS = [e for e in FORMATS if e in (".mp3", ".wav", ".aiff")]
# The raw key each container stores genres under (everything else must survive a write).
GENRE_KEY = {".mp3": "TCON", ".wav": "TCON", ".aiff": "TCON", ".flac": "genre", ".ogg": "genre",
             ".opus": "genre", ".m4a": "\xa9gen", ".wma": "WM/Genre"}
FORMAT_NAME = {".mp3": "mp3", ".wav": "wav", ".aiff": "aiff", ".flac": "flac", ".ogg": "ogg",
               ".opus": "opus", ".m4a": "m4a", ".wma": "wma"}
UNICODE_GENRES = ["Música Popular Brasileira", "日本のロック", "Ελληνική μουσική", "🎸 Rock 'n' Roll", "Drum & Bass"]


@pytest.fixture(params=FORMATS)
def ext(request):
    return request.param


@pytest.fixture
def song(tmp_path, ext) -> Path:
    return make_audio(tmp_path / f"song{ext}", seconds=1.0, sr=22050, channels=2, signal="noise", tags=ORIGINAL)


def raw_tags(path: Path) -> dict[str, list[str]]:
    """Every tag key and value as mutagen sees them, lower-cased keys for Vorbis (case-insensitive)."""
    audio = mutagen.File(str(path))
    out: dict[str, list[str]] = {}
    for key, value in (audio.tags.items() if audio.tags is not None else []):
        key = key.lower() if isinstance(audio.tags, mutagen._vorbis.VCommentDict) else key
        values = value if isinstance(value, list) else [value]
        out.setdefault(key, []).extend(_plain(v) for v in values)
    return out


def _plain(value) -> str:
    if hasattr(value, "text") and hasattr(value, "HashKey"):  # an ID3 frame
        return repr([str(t) for t in value.text]) if hasattr(value.text, "__iter__") else str(value.text)
    return str(value)


def without_genre(raw: dict[str, list[str]], ext: str) -> dict[str, list[str]]:
    return {k: v for k, v in raw.items() if k != GENRE_KEY[ext]}


def samples(path: Path) -> np.ndarray:
    """The decoded audio at the file's own rate (no resampling that could hide a change)."""
    return decode(path, sr=probe(path).samplerate)


def test_generated_formats_cover_every_container():
    # Guard: this machine generates all of them, so the contract really runs over every backend.
    assert set(FORMATS) >= {".wav", ".flac", ".ogg", ".opus", ".mp3", ".aiff"}


def test_read(song, ext):
    tags = read_tags(song)
    assert isinstance(tags, FileTags)
    assert (tags.title, tags.artist, tags.album, tags.albumartist) == ("Song Title", "The Artist", "An Album", "Various")
    assert tags.year == "1999"
    assert tags.genres == ["Rock", "Jazz"]
    assert read_genres(song) == ["Rock", "Jazz"]
    assert tags.format == FORMAT_NAME[ext]
    assert tags.duration == pytest.approx(1.0, abs=0.1)
    assert tags.samplerate == (48000 if ext == ".opus" else 22050)
    assert tags.channels == 2


def test_write_multi_value_then_restore(song, ext):
    raw_before, audio_before, tags_before = raw_tags(song), samples(song), read_tags(song)

    write_genres(song, ["Blues", "Électro"])
    assert read_genres(song) == ["Blues", "Électro"]
    after = read_tags(song)
    assert (after.title, after.artist, after.album, after.albumartist, after.year) == (
        tags_before.title, tags_before.artist, tags_before.album, tags_before.albumartist, tags_before.year)
    assert without_genre(raw_tags(song), ext) == without_genre(raw_before, ext)
    np.testing.assert_array_equal(samples(song), audio_before)

    write_genres(song, ["Rock", "Jazz"])
    assert read_tags(song) == tags_before
    assert raw_tags(song) == raw_before
    np.testing.assert_array_equal(samples(song), audio_before)


def test_unicode_values(song, ext):
    audio_before = samples(song)
    write_genres(song, UNICODE_GENRES)
    assert read_genres(song) == UNICODE_GENRES
    np.testing.assert_array_equal(samples(song), audio_before)


def test_empty_list_removes_the_field(song, ext):
    raw_before, audio_before = raw_tags(song), samples(song)
    write_genres(song, [])
    assert read_genres(song) == []
    raw_after = raw_tags(song)
    assert GENRE_KEY[ext] not in raw_after
    assert raw_after == without_genre(raw_before, ext)
    np.testing.assert_array_equal(samples(song), audio_before)
    write_genres(song, ["Rock"])  # and a field can be added to a file that has none
    assert read_genres(song) == ["Rock"]


def test_a_file_without_any_tags_gets_a_genre(tmp_path, ext):
    path = make_audio(tmp_path / f"bare{ext}", seconds=0.5, signal="noise")
    audio_before = samples(path)
    assert read_genres(path) == []
    write_genres(path, ["Reggae"])
    assert read_genres(path) == ["Reggae"]
    np.testing.assert_array_equal(samples(path), audio_before)


def test_writing_is_idempotent(song, ext):
    write_genres(song, ["Blues", "Soul"])
    raw_once, size_once = raw_tags(song), song.stat().st_size
    write_genres(song, ["Blues", "Soul"])
    assert raw_tags(song) == raw_once
    assert song.stat().st_size == size_once


@pytest.mark.parametrize("ext", ID3_FORMATS)
def test_id3_v24_stores_one_value_per_genre(song, ext):
    write_genres(song, ["Blues", "Électro"], WriteOptions(id3_version=4))
    tags = mutagen.File(str(song)).tags
    assert tags.version == (2, 4, 0)
    assert tags["TCON"].text == ["Blues", "Électro"]


@pytest.mark.parametrize("ext", ID3_FORMATS)
@pytest.mark.parametrize("separator", ["; ", "/", " | "])
def test_id3_v23_joins_with_the_separator(song, ext, separator):
    options = WriteOptions(id3_version=3, id3_separator=separator)
    before, audio_before = read_tags(song), samples(song)
    write_genres(song, ["Blues", "Électro"], options)
    tags = mutagen.File(str(song)).tags
    assert tags.version == (2, 3, 0)
    assert tags["TCON"].text == [f"Blues{separator}Électro"]
    # Without options the stored value is shown as it is; with them it is split again.
    assert read_genres(song) == [f"Blues{separator}Électro"]
    assert read_genres(song, options) == ["Blues", "Électro"]
    after = read_tags(song, options)
    assert (after.title, after.artist, after.album, after.albumartist, after.year) == (
        before.title, before.artist, before.album, before.albumartist, before.year)
    np.testing.assert_array_equal(samples(song), audio_before)
    # Back to the old value, still as v2.3.
    write_genres(song, ["Rock", "Jazz"], options)
    assert read_genres(song, options) == ["Rock", "Jazz"]
    # And back to v2.4: several values again.
    write_genres(song, ["Rock", "Jazz"], WriteOptions(id3_version=4))
    assert mutagen.File(str(song)).tags.version == (2, 4, 0)
    assert read_tags(song) == before
