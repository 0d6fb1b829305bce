"""ID3 details: ID3v1-only files, numeric genres, v2.3 conversion keeping other frames, refusals."""

from __future__ import annotations

import mutagen
import pytest
from mutagen.id3 import ID3, RVA2, TCON, TDRC, TIT2, TPE1, TSOP, TXXX

from genre_desktop.tagging import TagError, WriteOptions, read_genres, read_tags, write_genres
from media import make_audio


def id3v1_block(title: bytes, artist: bytes, album: bytes, year: bytes, genre: int) -> bytes:
    return (b"TAG" + title.ljust(30, b"\0") + artist.ljust(30, b"\0") + album.ljust(30, b"\0")
            + year + b"\0" * 30 + bytes([genre]))


def test_id3v1_only_mp3_is_read_and_written(tmp_path):
    path = make_audio(tmp_path / "v1.mp3", seconds=0.5)
    with open(path, "ab") as handle:
        handle.write(id3v1_block(b"Old Song", b"Old Band", b"Old Album", b"1987", 17))
    tags = read_tags(path)
    assert (tags.title, tags.artist, tags.album, tags.year, tags.genres) == ("Old Song", "Old Band", "Old Album", "1987", ["Rock"])
    write_genres(path, ["Blues"])
    assert read_genres(path) == ["Blues"]
    assert read_tags(path).title == "Old Song"
    # The existing ID3v1 tag is kept up to date (Blues is ID3v1 genre 0), not dropped.
    data = path.read_bytes()
    assert data[-128:-125] == b"TAG" and data[-1] == 0


@pytest.mark.parametrize("stored,expected", [
    (["(17)"], ["Rock"]),
    (["17"], ["Rock"]),
    (["(17)(8)"], ["Rock", "Jazz"]),
    (["(17)Heavy"], ["Rock", "Heavy"]),
    (["Rock", "(8)"], ["Rock", "Jazz"]),
])
def test_numeric_genres_are_resolved(tmp_path, stored, expected):
    path = make_audio(tmp_path / "n.mp3", seconds=0.5)
    tags = ID3()
    tags.add(TCON(encoding=0, text=stored))
    tags.save(str(path), v2_version=3, v23_sep=None)  # several values NUL-separated, not joined
    assert read_genres(path) == expected


@pytest.mark.parametrize("genre", ["17", "(17)", "(17)Heavy", "CR"])
def test_genres_that_id3_reads_as_references_are_refused(tmp_path, genre):
    path = make_audio(tmp_path / "r.mp3", seconds=0.5, tags={"genre": ["Jazz"]})
    before = path.read_bytes()
    with pytest.raises(TagError, match="numeric genre reference"):
        write_genres(path, ["Pop", genre])
    assert path.read_bytes() == before


def test_a_parenthesised_name_is_not_a_reference(tmp_path):
    path = make_audio(tmp_path / "p.mp3", seconds=0.5)
    write_genres(path, ["(Live)", "Rock (Live)"])
    assert read_genres(path) == ["(Live)", "Rock (Live)"]


def test_v23_refuses_a_genre_that_would_read_back_as_several(tmp_path):
    path = make_audio(tmp_path / "s.mp3", seconds=0.5, tags={"genre": ["Jazz"]})
    before = path.read_bytes()
    with pytest.raises(TagError, match=r"'Rock; Pop' would read back as 'Rock', 'Pop': an ID3v2.3 tag holds one"):
        write_genres(path, ["Rock; Pop"], WriteOptions(id3_version=3))
    assert path.read_bytes() == before
    # Fine in v2.4, where values are separate.
    write_genres(path, ["Rock; Pop"], WriteOptions(id3_version=4))
    assert read_genres(path) == ["Rock; Pop"]


def v23_file(tmp_path, value: str, name: str = "o.mp3"):
    path = make_audio(tmp_path / name, seconds=0.5)
    tags = ID3()
    tags.add(TCON(encoding=1, text=[value]))
    tags.save(str(path), v2_version=3)
    return path


@pytest.mark.parametrize("stored,expected", [
    ("Rock/Blues", ["Rock", "Blues"]),            # mutagen's, beets' and Picard's v2.3 join
    ("Hip-Hop; Rock", ["Hip-Hop", "Rock"]),       # MediaMonkey's
    ("Hip-Hop;Rock", ["Hip-Hop", "Rock"]),
    ("Rock, Pop", ["Rock", "Pop"]),               # beets' lastgenre
    ("Drum & Bass; R&B", ["Drum & Bass", "R&B"]),  # "&" never separates
    ("Pop/Funk", ["Pop/Funk"]),                   # known names stay whole (ID3v1 #62)
    ("Hip-Hop/Rap", ["Hip-Hop/Rap"]),             # Apple Music
    ("Folk, World, & Country; Blues", ["Folk, World, & Country", "Blues"]),  # Discogs
    ("Indie Dance / Nu Disco", ["Indie Dance / Nu Disco"]),  # " / " is inside Beatport's names
    ("AC/DC Tribute", ["AC", "DC Tribute"]),      # not a genre name: split
    ("(17)/Jazz", ["Rock", "Jazz"]),              # references resolved, then split
])
def test_v23_genres_are_read_as_several(tmp_path, stored, expected):
    path = v23_file(tmp_path, stored)
    assert read_genres(path) == expected
    if "(" not in stored:  # (mutagen resolves references in the frame's text when it loads v2.3)
        assert read_tags(path).raw_genres == [stored]  # the stored value, exactly, for undo


def test_the_users_own_separator_splits_too(tmp_path):
    path = v23_file(tmp_path, "Rock | Pop")
    assert read_genres(path) == ["Rock | Pop"]
    assert read_genres(path, WriteOptions(id3_separator=" | ")) == ["Rock", "Pop"]


def test_v24_values_are_never_split(tmp_path):
    path = make_audio(tmp_path / "v4.mp3", seconds=0.5, tags={"genre": ["Rock; Pop"]})
    assert read_genres(path, WriteOptions(id3_version=3)) == ["Rock; Pop"]


@pytest.mark.parametrize("ext", [".mp3", ".wav", ".aiff"])
def test_v23_conversion_keeps_v24_only_frames_and_the_date(tmp_path, ext):
    path = make_audio(tmp_path / f"f{ext}", seconds=0.5)
    audio = mutagen.File(str(path))
    audio.add_tags()
    audio.tags.add(TIT2(encoding=3, text=["Title"]))
    audio.tags.add(TPE1(encoding=3, text=["A", "B"]))  # multi-value artist
    audio.tags.add(TSOP(encoding=3, text=["Artist, The"]))
    audio.tags.add(RVA2(desc="track", channel=1, gain=-3.5, peak=0.9))
    audio.tags.add(TXXX(encoding=3, desc="MusicBrainz Album Id", text=["abc-123"]))
    audio.tags.add(TDRC(encoding=3, text=["2004-07-09"]))
    audio.tags.add(TCON(encoding=3, text=["Jazz"]))
    audio.save()
    write_genres(path, ["Rock", "Pop"], WriteOptions(id3_version=3))
    tags = mutagen.File(str(path)).tags
    assert tags.version == (2, 3, 0)
    assert tags["TSOP"].text == ["Artist, The"]
    assert tags["TPE1"].text == ["A", "B"]
    assert tags["RVA2:track"].gain == pytest.approx(-3.5, abs=0.01)
    assert tags["TXXX:MusicBrainz Album Id"].text == ["abc-123"]
    assert str(tags["TDRC"].text[0]) == "2004-07-09"  # stored as TYER+TDAT, read back as TDRC
    assert read_tags(path).year == "2004"
