"""Issue 13 item 3: WAV files tagged in their RIFF INFO list are read, written where they keep the
genre (INFO's IGNR, the ID3 chunk, or both), and undo restores the file's tags exactly."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess

import mutagen
import pytest
from media import make_audio
from mutagen.id3 import TCON
from helpers import sha

from genre_desktop.library.journal import Journal
from genre_desktop.library.scanner import scan_paths
from genre_desktop.library.store import Store
from genre_desktop.library.tag_service import TagService
from genre_desktop.tagging import WriteOptions, read_tags, write_genres
from genre_desktop.tagging.riff_info import read_info


def info_wav(path, fields: dict[bytes, bytes], id3_genre: list[str] | None = None):
    """A WAV whose INFO list holds ``fields`` (raw values, NUL added), optionally an ID3 chunk too."""
    make_audio(path, seconds=0.5)
    data = path.read_bytes()
    body = b"INFO" + b"".join(struct.pack("<4sI", k, len(v) + 1) + v + b"\x00" + b"\x00" * ((len(v) + 1) % 2)
                              for k, v in fields.items())
    riff = data[12:] + b"LIST" + struct.pack("<I", len(body)) + body
    path.write_bytes(b"RIFF" + struct.pack("<I", 4 + len(riff)) + b"WAVE" + riff)
    if id3_genre is not None:
        audio = mutagen.File(path)
        audio.add_tags()
        audio.tags.add(TCON(encoding=3, text=id3_genre))
        audio.save()
    return path


def ignr(path):
    return dict(read_info(str(path)) or []).get(b"IGNR")


def ffprobe_genre(path):
    if not shutil.which("ffprobe"):
        return None
    out = subprocess.run(["ffprobe", "-v", "quiet", "-show_entries", "format_tags=genre", "-of", "json", str(path)],
                         capture_output=True, timeout=30).stdout
    return json.loads(out or b"{}").get("format", {}).get("tags", {}).get("genre")


def service_for(tmp_path, path):
    store = Store.open(tmp_path / "library.json")
    scan_paths([str(path)], store)
    return TagService(store, Journal(tmp_path / "journal.jsonl"), WriteOptions()), store


def test_info_fields_are_read(tmp_path):
    path = info_wav(tmp_path / "a.wav", {b"INAM": b"Song", b"IART": b"Band", b"IPRD": b"Record",
                                         b"ICRD": b"1999-02-03", b"IGNR": b"Rock"})
    tags = read_tags(path)
    assert (tags.title, tags.artist, tags.album, tags.year, tags.genres) == ("Song", "Band", "Record", "1999", ["Rock"])
    store = Store.open(tmp_path / "lib.json")
    scan_paths([str(path)], store)
    assert store.get(str(path)).artist == "Band" and store.get(str(path)).genres == ["Rock"]


def test_an_info_only_wav_gets_an_id3_chunk_and_info_and_undo_restores_it_byte_for_byte(tmp_path):
    path = info_wav(tmp_path / "a.wav", {b"INAM": b"Song", b"IART": b"Band", b"ICRD": b"1999-02-03", b"IGNR": b"Rock"})
    before, size = sha(path), path.stat().st_size
    service, store = service_for(tmp_path, path)
    assert all(r.ok for r in service.write({str(path): ["Jazz", "Blues"]}))
    assert ignr(path) == b"Jazz; Blues\x00"
    # The ID3 chunk mutagen, beets and Picard read, seeded with INFO's fields: TagLib-based players
    # read only the ID3 chunk once a file has one, and must still see the title.
    tags = mutagen.File(path).tags
    assert tags.version[:2] == (2, 3)  # a new tag is ID3v2.3 unless the settings convert
    assert tags["TCON"].text == ["Jazz; Blues"] and tags["TIT2"].text == ["Song"] and tags["TPE1"].text == ["Band"]
    assert str(tags["TDRC"].text[0]) == "1999-02-03"
    assert read_tags(path).genres == ["Jazz", "Blues"]
    if shutil.which("ffprobe"):
        assert ffprobe_genre(path) == "Jazz; Blues"  # players reading INFO agree
    undone = service.undo()
    assert undone and all(r.ok for r in undone), [r.error for r in undone]
    assert sha(path) == before and path.stat().st_size == size


def test_a_wav_with_both_gets_both_and_undo_restores_both(tmp_path):
    path = info_wav(tmp_path / "b.wav", {b"IART": b"Band", b"IGNR": b"Rock"}, id3_genre=["Rock"])
    size = path.stat().st_size
    service, store = service_for(tmp_path, path)
    assert all(r.ok for r in service.write({str(path): ["Jazz"]}))
    assert ignr(path) == b"Jazz\x00" and mutagen.File(path).tags["TCON"].text == ["Jazz"]
    assert all(r.ok for r in service.undo())
    assert ignr(path) == b"Rock\x00" and mutagen.File(path).tags["TCON"].text == ["Rock"]
    assert path.stat().st_size == size
    assert dict(read_info(str(path)))[b"IART"] == b"Band\x00"


def test_info_without_a_genre_gets_one_and_undo_takes_it_away(tmp_path):
    path = info_wav(tmp_path / "c.wav", {b"INAM": b"Song"})
    before = sha(path)
    service, store = service_for(tmp_path, path)
    assert all(r.ok for r in service.write({str(path): ["Jazz"]}))
    assert ignr(path) == b"Jazz\x00" and mutagen.File(path).tags["TCON"].text == ["Jazz"]
    assert all(r.ok for r in service.undo())
    assert sha(path) == before


def test_an_odd_byte_info_value_comes_back_exactly(tmp_path):
    path = info_wav(tmp_path / "d.wav", {b"IGNR": b"Caf\xe9 Rock"})  # latin-1, not UTF-8
    before = sha(path)
    assert read_tags(path).genres == ["Caf\xe9 Rock"]
    service, store = service_for(tmp_path, path)
    assert all(r.ok for r in service.write({str(path): ["Jazz"]}))
    assert all(r.ok for r in service.undo())
    assert sha(path) == before


def test_direct_write_keeps_id3_only_files_as_they_were(tmp_path):
    path = make_audio(tmp_path / "e.wav", seconds=0.5, tags={"genre": ["Rock"]})
    write_genres(path, ["Jazz"])
    assert read_info(str(path)) is None and read_tags(path).genres == ["Jazz"]
