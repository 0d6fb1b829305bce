"""Issue 19 item 6: tags keep the file's own form. An ID3v2.3 file stays v2.3 with its own
separator, a v2.4 file v2.4, an ID3v2.2 file becomes v2.3 (nothing writes v2.2), unless the user
converts; ``describe_write`` says beforehand when a write changes the form. Checked with mutagen,
mediafile, TagLib and ffprobe."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from media import make_audio
from mutagen.id3 import ID3, TCON, TXXX
from tag_readers import ffprobe_tags, id3, mediafile_fields, taglib_props

from genre_desktop.tagging import TagError, WriteOptions, describe_write, read_tags, write_fields, write_genres
from genre_desktop.tagging import describe

FIXTURES = Path(__file__).parent / "data" / "tagging"
GENRES = ["Hip-Hop", "Rock", "Blues"]


def fixture(tmp_path, name: str) -> Path:
    path = tmp_path / name
    shutil.copyfile(FIXTURES / name, path)
    return path


def codes(notes) -> list[str]:
    return [n.code for n in notes]


def test_a_v23_file_stays_v23_joined_by_its_own_separator_and_every_reader_sees_every_genre(tmp_path):
    path = fixture(tmp_path, "mp3_v23.mp3")  # TCON "Rock/Jazz", as Picard and beets write v2.3
    assert describe_write(path, WriteOptions(), {"genre": GENRES}) == []  # nothing about its form changes
    write_genres(path, GENRES)
    tags = id3(path)
    assert tags.version[:2] == (2, 3)
    assert tags["TCON"].text == ["Hip-Hop/Rock/Blues"]  # the file's own "/", not the setting's "; "
    assert read_tags(path).genres == GENRES
    # Every reader sees all three (ffprobe shows only the first value of an ID3v2.4 frame).
    assert ffprobe_tags(path)["genre"] == "Hip-Hop/Rock/Blues"
    assert taglib_props(path)["GENRE"] == ["Hip-Hop/Rock/Blues"]
    assert mediafile_fields(path)["genres"] == ["Hip-Hop/Rock/Blues"]
    assert taglib_props(path)["TITLE"] == ["Song Title"] and taglib_props(path)["DATE"] == ["1999-04-01"]


def test_a_v23_file_without_a_separator_of_its_own_joins_with_the_setting(tmp_path):
    path = make_audio(tmp_path / "one.mp3", seconds=0.3)
    tags = ID3()
    tags.add(TCON(encoding=1, text=["Rock"]))
    tags.save(str(path), v2_version=3)
    write_genres(path, ["Rock", "Jazz"], WriteOptions(id3_separator=" | "))
    assert id3(path).version[:2] == (2, 3) and id3(path)["TCON"].text == ["Rock | Jazz"]
    assert read_tags(path, WriteOptions(id3_separator=" | ")).genres == ["Rock", "Jazz"]
    assert ffprobe_tags(path)["genre"] == "Rock | Jazz"


def test_a_v24_file_stays_v24_with_one_value_per_genre(tmp_path):
    path = fixture(tmp_path, "mp3_v24.mp3")
    write_fields(path, {"genre": GENRES, "style": ["Boom Bap", "Delta Blues"]})
    tags = id3(path)
    assert tags.version[:2] == (2, 4) and tags["TCON"].text == GENRES
    assert taglib_props(path)["GENRE"] == GENRES and taglib_props(path)["STYLE"] == ["Boom Bap", "Delta Blues"]
    assert mediafile_fields(path)["genres"] == GENRES and mediafile_fields(path)["styles"] == ["Boom Bap", "Delta Blues"]
    assert ffprobe_tags(path)["genre"] == "Hip-Hop"  # ffprobe's limit with v2.4: the first value only


def test_an_id3v22_file_is_written_as_id3v23_with_every_field(tmp_path):
    path = fixture(tmp_path, "mp3_v22.mp3")
    before = read_tags(path)
    assert before.id3_version == 2 and before.genres == ["Rock", "Jazz"]  # "Rock/Jazz" in one v2.2 TCO
    notes = describe_write(path, WriteOptions(), {"genre": GENRES})
    assert codes(notes) == [describe.ID3_V22] and "ID3v2.2" in str(notes[0]) and "ID3v2.3" in str(notes[0])
    write_genres(path, GENRES)
    after = read_tags(path)
    assert after.id3_version == 3 and id3(path)["TCON"].text == ["Hip-Hop/Rock/Blues"]
    for name in ("title", "artist", "album", "albumartist", "year"):
        assert after.values[name] == before.values[name]
    props = taglib_props(path)
    assert props["TITLE"] == ["Song Title"] and props["ALBUMARTIST"] == ["Various"]
    assert ffprobe_tags(path)["genre"] == "Hip-Hop/Rock/Blues"
    # Converting explicitly is said as a conversion.
    assert codes(describe_write(FIXTURES / "mp3_v22.mp3", WriteOptions(id3_version=4))) == [describe.ID3_CONVERT]


def test_an_id3v22_frame_without_a_v23_form_refuses_the_write(tmp_path):
    path = fixture(tmp_path, "mp3_v22.mp3")
    data = path.read_bytes()
    size = sum((b & 0x7F) << s for b, s in zip(data[6:10], (21, 14, 7, 0)))
    odd = b"XYZ" + (5).to_bytes(3, "big") + b"\x00abcd"  # a frame id mutagen cannot convert
    tag = data[10:10 + size]
    frames_end = tag.index(b"\x00" * 6)  # where the padding starts
    new_tag = tag[:frames_end] + odd + tag[frames_end:len(tag) - len(odd)]
    path.write_bytes(data[:10] + new_tag + data[10 + size:])
    assert read_tags(path).title == "Song Title"
    before = path.read_bytes()
    with pytest.raises(TagError, match=r"ID3v2.2 tag has frame\(s\) with no ID3v2.3 form \(XYZ\)"):
        write_genres(path, ["Jazz"])
    assert path.read_bytes() == before


def test_a_file_without_an_id3_tag_gets_v23(tmp_path):
    path = make_audio(tmp_path / "bare.mp3", seconds=0.3)
    assert codes(describe_write(path, WriteOptions(), {"genre": ["Rock", "Pop"]})) == [describe.ID3_NEW, describe.JOINED]
    write_genres(path, ["Rock", "Pop"])
    assert id3(path).version[:2] == (2, 3) and id3(path)["TCON"].text == ["Rock; Pop"]
    assert ffprobe_tags(path)["genre"] == "Rock; Pop"


@pytest.mark.parametrize("name", ["mp3_v23.mp3", "mp3_v24.mp3", "aiff.aiff"])
def test_the_user_may_convert_to_v24(tmp_path, name):
    path = fixture(tmp_path, name)
    before = read_tags(path)
    notes = describe_write(path, WriteOptions(id3_version=4))
    assert codes(notes) == ([describe.ID3_CONVERT] if before.id3_version == 3 else [])
    write_fields(path, {"style": ["Cool Jazz", "Hard Bop"]}, WriteOptions(id3_version=4))
    assert id3(path).version[:2] == (2, 4)
    # The genres, not written, read the same: v2.3's "Rock/Jazz" became v2.4's two values.
    assert read_tags(path).genres == before.genres == ["Rock", "Jazz"]
    assert id3(path)["TCON"].text == ["Rock", "Jazz"]
    assert taglib_props(path)["STYLE"] == ["Cool Jazz", "Hard Bop"]


@pytest.mark.parametrize("name", ["mp3_v24.mp3", "aiff.aiff"])
def test_the_user_may_convert_to_v23(tmp_path, name):
    path = fixture(tmp_path, name)
    notes = describe_write(path, WriteOptions(id3_version=3), {"genre": ["Soul", "Funk"]})
    assert codes(notes) == [describe.ID3_CONVERT, describe.JOINED]
    assert "'Soul; Funk'" in str(notes[1])
    write_fields(path, {"genre": ["Soul", "Funk"]}, WriteOptions(id3_version=3))
    tags = id3(path)
    assert tags.version[:2] == (2, 3) and tags["TCON"].text == ["Soul; Funk"]
    assert tags["TXXX:STYLE"].text == ["Bebop"]
    assert read_tags(path).genres == ["Soul", "Funk"]


def test_a_style_not_written_is_joined_when_the_file_becomes_v23(tmp_path):
    path = make_audio(tmp_path / "s.mp3", seconds=0.3)
    tags = ID3()
    tags.add(TXXX(encoding=3, desc="STYLE", text=["Cool Jazz", "Hard Bop"]))
    tags.save(str(path))
    write_genres(path, ["Jazz"], WriteOptions(id3_version=3))
    assert id3(path)["TXXX:STYLE"].text == ["Cool Jazz; Hard Bop"]
    assert read_tags(path).styles == ["Cool Jazz", "Hard Bop"]


def test_nothing_to_say_about_formats_without_versions(tmp_path):
    for name in ("flac.flac", "ogg.ogg", "opus.opus", "m4a.m4a", "wma.wma", "mp3_v24.mp3"):
        assert describe_write(FIXTURES / name, WriteOptions(), {"genre": GENRES, "style": ["x"]}) == [], name


def test_a_wav_write_is_described_and_every_reader_agrees(tmp_path):
    path = fixture(tmp_path, "wav.wav")  # ffmpeg's: LIST INFO only
    notes = describe_write(read_tags(path), WriteOptions(), {"genre": GENRES})
    assert codes(notes) == [describe.ID3_NEW, describe.JOINED, describe.WAV_INFO, describe.WAV_NEW_ID3]
    write_genres(path, GENRES)
    info = dict(info_fields(path))
    assert info[b"IGNR"] == b"Hip-Hop; Rock; Blues\x00"  # INFO's own separator ("Rock; Jazz")
    assert id3(path)["TCON"].text == ["Hip-Hop; Rock; Blues"]
    assert read_tags(path).genres == GENRES
    assert mediafile_fields(path)["genres"] == ["Hip-Hop; Rock; Blues"]
    assert mediafile_fields(path)["title"] == "Song Title"  # seeded from INFO: mediafile reads ID3 only
    props = taglib_props(path)
    assert props["GENRE"] == ["Hip-Hop; Rock; Blues"] and props["TITLE"] == ["Song Title"]
    assert ffprobe_tags(path)["genre"] == "Hip-Hop; Rock; Blues"
    assert codes(describe_write(path, WriteOptions(), {"genre": ["Jazz"]})) == [describe.WAV_INFO]


def info_fields(path):
    from genre_desktop.tagging.riff_info import read_info

    return read_info(str(path)) or []


def test_notes_read_as_sentences():
    note = describe.WriteNote(describe.ID3_CONVERT, "its ID3v2.3 tag becomes ID3v2.4")
    assert str(note) == note.text and f"{note}" == "its ID3v2.3 tag becomes ID3v2.4"
