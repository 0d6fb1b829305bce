"""The one contract every tag backend honours, run over the committed fixture of every container
(``tests/data/tagging``, made by ``tools/make_tag_fixtures.py``; no ffmpeg needed).

read every declared field -> write genres / styles -> read back; every other field and every raw
mutagen key untouched; the audio region byte-identical; writing the old values back restores the
tag; unicode values; an empty list removes a field; a file without tags gets one; a throwaway
field declared in a test round-trips through every container without any backend knowing it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import mutagen
import pytest

from genre_desktop.tagging import FileTags, WriteOptions, read_genres, read_tags, write_fields, write_genres
from genre_desktop.tagging.fields import FIELDS, TagField
from genre_desktop.tagging.registry import ENTRIES, entry_for
from genre_desktop.tagging.regions import digest
from genre_desktop.tagging.riff_info import read_info
from genre_desktop.tagging.storage import ASFAttribute, ID3Frame, MP4Freeform, VorbisField

FIXTURES = Path(__file__).parent / "data" / "tagging"
EXPECTED: dict[str, dict] = json.loads((FIXTURES / "fixtures.json").read_text(encoding="utf-8"))
NAMES = sorted(EXPECTED)
UNICODE = ["Música Popular Brasileira", "日本のロック", "Ελληνική μουσική", "🎸 Rock 'n' Roll", "Drum & Bass", "R&B"]


def tag_format(path: Path) -> str:
    return {"mp3": "id3", "wav": "id3", "aiff": "id3", "flac": "vorbis", "ogg": "vorbis", "opus": "vorbis",
            "m4a": "mp4", "wma": "asf"}[EXPECTED[path.name]["format"]]


@pytest.fixture(params=NAMES)
def song(request, tmp_path) -> Path:
    path = tmp_path / request.param
    shutil.copyfile(FIXTURES / request.param, path)
    return path


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


def without(raw: dict[str, list[str]], path: Path, *names: str) -> dict[str, list[str]]:
    """``raw`` without the mutagen keys the declaration gives the named fields in this file's format."""
    fmt = tag_format(path)
    keys = {place.key.lower() if fmt == "vorbis" else place.key
            for name in names for place in FIELDS[name].places_in(fmt)}
    return {k: v for k, v in raw.items() if k not in keys}


def region(path: Path) -> str:
    entry = entry_for(type(mutagen.File(str(path), options=[e.kind for e in ENTRIES])))
    return digest(entry.region, path)


def info_without_genre(path: Path):
    return [(cid, raw) for cid, raw in (read_info(str(path)) or []) if cid != b"IGNR"]


def test_every_container_has_a_fixture():
    assert {entry.format for entry in ENTRIES} <= {e["format"] for e in EXPECTED.values()}
    assert {e["id3_version"] for e in EXPECTED.values()} >= {2, 3, 4}


def test_read(song):
    want = EXPECTED[song.name]
    tags = read_tags(song)
    assert isinstance(tags, FileTags)
    assert (tags.title, tags.artist, tags.album, tags.albumartist, tags.year) == (
        want["title"], want["artist"], want["album"], want["albumartist"], want["year"])
    assert tags.genres == want["genres"] and read_genres(song) == want["genres"]
    assert tags.styles == want["styles"]
    assert tags.format == want["format"] and tags.id3_version == want["id3_version"]
    assert (tags.samplerate, tags.channels) == (want["samplerate"], want["channels"])
    assert tags.duration == pytest.approx(want["duration"], abs=0.05)
    # The declaration is the list: every declared field is read, and nothing else.
    assert set(tags.values) == set(FIELDS)


def test_write_genres_and_styles_then_restore(song):
    before_raw, before_region, before = raw_tags(song), region(song), read_tags(song)
    before_info = info_without_genre(song)

    write_fields(song, {"genre": ["Blues", "Électro"], "style": ["Delta Blues", "Acid Jazz"]})
    after = read_tags(song)
    assert after.genres == ["Blues", "Électro"] and after.styles == ["Delta Blues", "Acid Jazz"]
    for name in ("title", "artist", "album", "albumartist", "year", "grouping"):
        assert after.values[name] == before.values[name], name
    if before_raw or EXPECTED[song.name]["format"] != "wav":  # (an INFO-only WAV gets an ID3 chunk: riff_info tests)
        assert without(raw_tags(song), song, "genre", "style") == without(before_raw, song, "genre", "style")
    assert info_without_genre(song) == before_info
    assert region(song) == before_region

    write_fields(song, {"genre": before.genres, "style": before.styles})
    again = read_tags(song)
    assert again.values == before.values
    assert region(song) == before_region
    if EXPECTED[song.name]["format"] != "wav":  # a WAV keeps the ID3 chunk the write added (with INFO's genre)
        assert raw_tags(song) == before_raw


def test_unicode_values(song):
    before_region = region(song)
    write_fields(song, {"genre": UNICODE, "style": UNICODE[::-1]})
    tags = read_tags(song)
    assert tags.genres == UNICODE and tags.styles == UNICODE[::-1]
    assert region(song) == before_region


def test_an_empty_list_removes_the_field(song):
    before_raw = raw_tags(song)
    write_fields(song, {"genre": [], "style": []})
    tags = read_tags(song)
    assert tags.genres == [] and tags.styles == []
    if before_raw or EXPECTED[song.name]["format"] != "wav":
        assert without(raw_tags(song), song, "genre", "style") == without(before_raw, song, "genre", "style")
    assert read_info(str(song)) is None or b"IGNR" not in dict(read_info(str(song)))
    write_genres(song, ["Rock"])  # and a field can be added to a file that has none
    assert read_genres(song) == ["Rock"]


def test_a_file_without_any_tags_gets_them(song):
    mutagen.File(str(song)).delete()
    before_region = region(song)
    assert read_tags(song).styles == []
    write_fields(song, {"genre": ["Reggae", "Dub"], "style": ["Roots"]})
    tags = read_tags(song)
    assert tags.genres == ["Reggae", "Dub"] and tags.styles == ["Roots"]
    assert region(song) == before_region


def test_writing_is_idempotent(song):
    write_fields(song, {"genre": ["Blues", "Soul"], "style": ["Chicago Blues"]})
    raw_once, size_once = raw_tags(song), song.stat().st_size
    write_fields(song, {"genre": ["Blues", "Soul"], "style": ["Chicago Blues"]})
    assert raw_tags(song) == raw_once
    assert song.stat().st_size == size_once


def test_only_the_named_fields_change(song):
    before = read_tags(song)
    write_fields(song, {"style": ["Hard Bop"]})
    after = read_tags(song)
    assert after.styles == ["Hard Bop"] and after.genres == before.genres


def test_a_new_field_is_one_declaration(song, monkeypatch):
    """A mood field declared here, in the test: no backend knows it, and it round-trips everywhere."""
    mood = TagField("mood", (ID3Frame("TMOO"), VorbisField("MOOD"), MP4Freeform("MOOD"), ASFAttribute("WM/Mood")),
                    multi=True, writable=True, attr="moods")
    monkeypatch.setitem(FIELDS, "mood", mood)
    before = read_tags(song)
    assert before.moods == []
    write_fields(song, {"mood": ["Calm", "Dreamy"]})
    tags = read_tags(song)
    assert tags.moods == ["Calm", "Dreamy"]
    assert {k: v for k, v in tags.values.items() if k != "mood"} == {k: v for k, v in before.values.items()
                                                                   if k != "mood"}
    audio = mutagen.File(str(song))
    stored = {"id3": lambda t: t["TMOO"].text, "vorbis": lambda t: t["mood"],
              "mp4": lambda t: [bytes(v).decode() for v in t["----:com.apple.iTunes:MOOD"]],
              "asf": lambda t: [str(v) for v in t["WM/Mood"]]}[tag_format(song)](audio.tags)
    if tag_format(song) == "id3" and tags.id3_version != 4:
        assert stored == ["Calm; Dreamy"]  # ID3v2.3 holds one value per frame
    else:
        assert stored == ["Calm", "Dreamy"]
    write_fields(song, {"mood": []})
    assert read_tags(song).values == before.values


def test_an_unknown_field_is_refused_with_the_known_ones(song):
    with pytest.raises(ValueError, match="genre, style, grouping"):
        write_fields(song, {"colour": ["Blue"]})


@pytest.mark.parametrize("name", ["mp3_v24.mp3", "aiff.aiff"])
def test_id3v24_stores_one_value_per_genre(tmp_path, name):
    song = tmp_path / name
    shutil.copyfile(FIXTURES / name, song)
    write_genres(song, ["Blues", "Électro"])
    tags = mutagen.File(str(song)).tags
    assert tags.version == (2, 4, 0)
    assert tags["TCON"].text == ["Blues", "Électro"]
