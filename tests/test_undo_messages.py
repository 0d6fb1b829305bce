"""Messages of issue 21: a refusal quotes a damaged value escaped and cut; an undo failure says
what happened to the undo; a failed undo entry does not stop the others."""

from __future__ import annotations


import mutagen
import pytest
from media import make_audio
from helpers import sha

from genre_desktop.library.journal import Journal
from genre_desktop.library.scanner import scan_paths
from genre_desktop.library.store import Store
from genre_desktop.library.tag_service import TagService
from genre_desktop.tagging import TagError, read_tags, write_genres
from genre_desktop.tagging.reasons import quoted
from genre_desktop.tagging.registry import ENTRIES

JUNK = "T\x00\x01\x1b[31m" + "\udcff" * 3 + "x" * 5000  # NUL, control bytes, a terminal escape, undecodable


def test_quoted_escapes_and_cuts():
    assert quoted("Rock") == "'Rock'"
    assert quoted("Café") == "'Café'"
    text = quoted(JUNK)
    assert text.isprintable() and "\\x00" in text and "\\x1b" in text and "\\udcff" in text
    assert text.endswith("(5,011 characters)") and len(text) < 100
    assert quoted(["a"] * 9) == "['a', 'a', 'a', 'a', 'a', 'a', and 3 more]"
    assert quoted(None) == "(none)" and quoted("it's") == "'it\\'s'"


def test_atom_names_in_pythons_bytes_form_are_not_shown(tmp_path):
    """Found by fuzz seed 14: mutagen says "wrong offset inside b'stco'" and "too short
    b'\x00\x00\t\x00' atom"; a user reads what is wrong instead."""
    import sys
    from pathlib import Path

    from mutagen.mp4 import MP4StreamInfoError

    from genre_desktop.tagging.reasons import damaged

    path = tmp_path / "a.m4a"
    path.write_bytes(b"\x00\x00\x00\x18ftypM4A ")
    assert damaged(MP4StreamInfoError("wrong offset inside b'stco'"), path) == (
        "damaged M4A file: its chunk offset table (stco) is damaged")
    assert damaged(MP4StreamInfoError(r"too short b'\x00\x00\t\x00' atom"), path) == (
        "damaged M4A file: an atom is shorter than its header")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
    import fuzz_tags  # the campaign flags such text as internal

    assert fuzz_tags.INTERNAL.search("damaged M4A file: wrong offset inside b'stco")
    assert not fuzz_tags.INTERNAL.search("the file's genre atom is damaged: Bob's tagger wrote it")


def test_a_refusal_quotes_a_damaged_value_escaped_and_cut(tmp_path, monkeypatch):
    path = make_audio(tmp_path / "a.flac", seconds=0.5, tags={"genre": ["Rock"], "title": "Plain"})
    entry = next(e for e in ENTRIES if e.format == "flac")
    real_save = type(entry.backend).save

    def save_that_mangles_the_title(self, audio, options):  # what a damaged tag does on a round trip
        audio.tags["title"] = [JUNK.replace("\udcff", "?")]
        real_save(self, audio, options)

    monkeypatch.setattr(type(entry.backend), "save", save_that_mangles_the_title)
    before = sha(path)
    with pytest.raises(TagError) as info:
        write_genres(path, ["Jazz"])
    reason = info.value.reason
    assert reason.startswith("the write would change the title ('Plain' -> 'T\\x00\\x01\\x1b[31m???xxx")
    assert reason.isprintable() and len(reason) < 200 and "(5,011 characters)" in reason
    assert sha(path) == before


def test_a_genre_level_undo_that_fails_says_so_in_undo_words(tmp_path, monkeypatch):
    path = make_audio(tmp_path / "a.flac", seconds=0.5, tags={"genre": ["Rock"]})
    store = Store.open(tmp_path / "lib.json")
    scan_paths([str(path)], store)
    service = TagService(store, Journal(tmp_path / "journal.jsonl"))
    assert service.write({str(path): ["Jazz"]})[0].ok
    [entry] = service.journal.entries()
    service.journal.expire([entry.id])  # its undo data gone: undo goes genre by genre
    entry = next(e for e in ENTRIES if e.format == "flac")
    restore = type(entry.backend).restore_fields

    def wrong(self, audio, raw):  # a backend bug: puts another genre back
        restore(self, audio, {**raw, "genre": {"GENRE": ["Something else"]}})

    monkeypatch.setattr(type(entry.backend), "restore_fields", wrong)
    [result] = service.undo()
    assert not result.ok
    assert result.error.startswith("undo failed: the genres did not read back from the restored copy")
    assert result.error.endswith("the file is unchanged") and "retagged" not in result.error
    assert read_tags(path).genres == ["Jazz"]


def test_one_failing_entry_does_not_stop_undo_all(tmp_path):
    paths = [make_audio(tmp_path / f"{i}.mp3", seconds=0.5, tags={"genre": ["Rock"]}) for i in range(3)]
    store = Store.open(tmp_path / "lib.json")
    scan_paths([str(p) for p in paths], store)
    service = TagService(store, Journal(tmp_path / "journal.jsonl"))
    for p in paths:
        assert service.write({str(p): ["Jazz"]})[0].ok
    audio = mutagen.File(paths[1])  # the middle batch's file is edited by another program
    audio.tags.add(mutagen.id3.TIT2(encoding=3, text=["Edited"]))
    audio.save()
    results = service.undo(all=True)
    assert [r.ok for r in results] == [True, False, True]
    assert [read_tags(p).genres for p in paths] == [["Rock"], ["Jazz"], ["Rock"]]
    assert service.undo(all=True) == []  # reported once
