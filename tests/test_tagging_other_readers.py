"""What other readers see after our write and our undo: TagLib (pytaglib) and beets' mediafile
must read the same genre values, with the same count, as the file held before (issue 10)."""

from __future__ import annotations

import mutagen
import pytest
from media import FORMATS, make_audio
from mutagen.flac import FLAC
from mutagen.id3 import TCON

from genre_desktop.library.journal import Journal
from genre_desktop.library.scanner import scan_paths
from genre_desktop.library.store import Store
from genre_desktop.library.tag_service import TagService
from genre_desktop.tagging import WriteOptions

taglib = pytest.importorskip("taglib")
mediafile = pytest.importorskip("mediafile")


def taglib_genres(path) -> list[str]:
    with taglib.File(str(path)) as f:
        return list(f.tags.get("GENRE", []))


def mediafile_genres(path) -> list[str]:
    return list(mediafile.MediaFile(str(path)).genres or [])


def write_then_undo(tmp_path, path, options):
    store = Store.open(tmp_path / "library.json")
    scan_paths([str(path)], store, options)
    service = TagService(store, Journal(tmp_path / "journal.jsonl"), options)
    written = service.write({str(path): ["Fuzz", "Noise"]})
    assert all(r.ok for r in written), [r.error for r in written]
    seen_written = (taglib_genres(path), mediafile_genres(path))
    undone = service.undo()
    assert undone and all(r.ok for r in undone), [r.error for r in undone]
    service.journal.close()
    store.close()
    return seen_written


@pytest.mark.parametrize("id3_version", [3, 4])
def test_id3v23_multi_value_tcon_comes_back_the_same_to_taglib_and_mediafile(tmp_path, id3_version):
    path = make_audio(tmp_path / "old.mp3", seconds=0.5, tags={"title": "T"})
    audio = mutagen.File(path)
    audio.tags.add(TCON(encoding=1, text=["Rock", "Pop"]))
    audio.tags.update_to_v23()
    audio.save(v2_version=3, v23_sep=None)
    before = (taglib_genres(path), mediafile_genres(path))
    assert before[0] == ["Rock", "Pop"]
    written = write_then_undo(tmp_path, path, WriteOptions(id3_version=id3_version))
    if id3_version == 4:
        assert written == (["Fuzz", "Noise"], ["Fuzz", "Noise"])
    assert (taglib_genres(path), mediafile_genres(path)) == before
    assert mutagen.File(path).tags.version[:2] == (2, 3)


@pytest.mark.parametrize("ext", [e for e in (".flac", ".ogg", ".opus") if e in FORMATS])
def test_vorbis_multi_value_genre_comes_back_the_same_to_taglib_and_mediafile(tmp_path, ext):
    path = make_audio(tmp_path / f"a{ext}", seconds=0.5, tags={"title": "T", "genre": ["Rock", "Drum; Bass", "Pop"]})
    before = (taglib_genres(path), mediafile_genres(path))
    assert before[0] == ["Rock", "Drum; Bass", "Pop"]
    written = write_then_undo(tmp_path, path, WriteOptions())
    assert written == (["Fuzz", "Noise"], ["Fuzz", "Noise"])
    assert (taglib_genres(path), mediafile_genres(path)) == before


def test_a_nul_inside_a_vorbis_genre_comes_back_byte_for_byte(tmp_path):
    path = make_audio(tmp_path / "nul.flac", seconds=0.5, tags={"title": "T"})
    audio = FLAC(path)
    audio.tags["GENRE"] = ["Rock\x00Live", "Jazz"]
    audio.save()
    before = taglib_genres(path)
    write_then_undo(tmp_path, path, WriteOptions())
    assert FLAC(path).tags["genre"] == ["Rock\x00Live", "Jazz"]
    assert taglib_genres(path) == before
