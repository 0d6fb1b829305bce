"""Tag-write safety gaps closed for issue 6: failed-but-changed writes are undoable, undo restores
the ID3 version, working copies are cleaned by age (ctime) and by the scanner, the scanner reads
ID3v2.3 genres the way TagService writes them, and a damaged store is rebuilt by `scan`."""

from __future__ import annotations

import os
import shutil
import time

import mutagen
import numpy as np
import pytest
from media import make_audio

import genre_desktop.library.scanner as scanner_mod
import genre_desktop.library.tag_service as service_mod
from genre_desktop.audio import decode
from genre_desktop.cli import main
from genre_desktop.library.journal import DONE, FAILED, Journal
from genre_desktop.library.scanner import scan, scan_paths
from genre_desktop.library.store import Store
from genre_desktop.library.tag_service import TagService
from genre_desktop.tagging import WriteOptions, read_genres, read_tags, write_genres
from genre_desktop.tagging.files import remove_working_copies

TAGS = {"title": "Title", "artist": "Artist", "album": "Album", "date": "2001", "genre": ["Rock"]}


def drain(gen):
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            return stop.value


def id3_snapshot(path):
    tags = mutagen.File(path).tags
    return tags.version[:2], sorted((k, str(v)) for k, v in tags.items())


@pytest.fixture
def v23_mp3(tmp_path):
    path = make_audio(tmp_path / "music" / "old.mp3", seconds=0.5, tags=TAGS)
    audio = mutagen.File(path)
    audio.tags.update_to_v23()
    audio.save(v2_version=3)
    assert mutagen.File(path).tags.version[:2] == (2, 3)
    return path


def service_for(tmp_path, paths, options=WriteOptions()):
    store = Store.open(tmp_path / "library.json")
    scan_paths([str(p) for p in paths], store, options)
    return TagService(store, Journal(tmp_path / "journal.jsonl"), options), store


def test_undo_restores_an_id3v23_file_as_v23_with_its_frames(tmp_path, v23_mp3):
    before = id3_snapshot(v23_mp3)
    service, store = service_for(tmp_path, [v23_mp3], WriteOptions(id3_version=4))
    [result] = service.write({str(v23_mp3): ["Jazz", "Blues"]})  # the user converts to v2.4
    assert result.ok and mutagen.File(v23_mp3).tags.version[:2] == (2, 4)
    [entry] = service.journal.entries()
    assert entry.extra["id3_version"] == 3
    [undone] = service.undo()
    assert undone.ok, undone.error
    assert id3_snapshot(v23_mp3) == before  # version 2.3 and every frame as it was
    service.journal.close()
    store.close()


def test_a_write_that_changed_the_file_but_failed_verification_is_undoable(tmp_path, monkeypatch):
    path = make_audio(tmp_path / "music" / "a.flac", seconds=0.5, tags=TAGS)
    service, store = service_for(tmp_path, [path])

    def wrong_write(p, genres, options=WriteOptions(), **kwargs):  # a backend bug: writes something else
        write_genres(p, genres + ["Garbled"], options)

    monkeypatch.setattr(service_mod, "write_genres", wrong_write)
    [result] = service.write({str(path): ["Jazz"]})
    assert not result.ok and "verification failed" in result.error
    [entry] = service.journal.entries()
    assert entry.state == FAILED and entry.found == ["Jazz", "Garbled"]
    assert Journal(tmp_path / "journal.jsonl").entries()[0].found == ["Jazz", "Garbled"]  # durable
    monkeypatch.setattr(service_mod, "write_genres", write_genres)
    [undone] = service.undo()
    assert undone.ok, undone.error
    assert read_genres(path) == ["Rock"]
    assert store.get(str(path)).genres == ["Rock"]
    assert service.undo() == []  # nothing left to undo
    service.journal.close()
    store.close()


def test_a_refused_write_that_left_the_file_alone_is_not_undone(tmp_path):
    path = make_audio(tmp_path / "music" / "a.mp3", seconds=0.5, tags=TAGS)
    service, store = service_for(tmp_path, [path])
    [result] = service.write({str(path): ["17"]})  # ID3 would read "17" back as "Rock": refused
    assert not result.ok
    [entry] = service.journal.entries()
    assert entry.state == FAILED and entry.found is None and not entry.touched_file
    assert service.undo() == []
    service.journal.close()
    store.close()


def test_working_copy_age_is_its_ctime_not_the_copied_mtime(tmp_path):
    song = make_audio(tmp_path / "s.flac", seconds=0.2)
    copy = tmp_path / ".s.flac.genre-desktop-abcd1234.tmp"
    shutil.copyfile(song, copy)
    os.utime(copy, (time.time() - 86400, time.time() - 86400))  # copystat gives it the original's mtime
    assert remove_working_copies(tmp_path, min_age=300) == []  # made just now: maybe a write in progress
    other = tmp_path / ".t.flac.genre-desktop-zzzz.tmp"
    other.write_bytes(b"x")
    assert remove_working_copies(tmp_path, min_age=0, name="s.flac") == [copy]
    assert other.exists()


def test_scan_removes_only_stale_working_copies(tmp_path, monkeypatch):
    root = tmp_path / "music"
    make_audio(root / "a.flac", seconds=0.2, tags=TAGS)
    leftover = root / ".a.flac.genre-desktop-x1y2.tmp"
    shutil.copyfile(root / "a.flac", leftover)
    store = Store.open(tmp_path / "library.json")
    summary = drain(scan(root, store))
    assert summary.found == 1 and leftover.exists()  # young: left alone, and never a track
    monkeypatch.setattr(scanner_mod, "STALE_WORKING_COPY", 0.0)
    os.utime(root / "a.flac")  # make the rescan visit the folder's file again (not needed for cleanup)
    drain(scan(root, store))
    assert not leftover.exists()
    assert store.paths() == [str(root / "a.flac")]
    store.close()


def test_scanner_splits_v23_genres_like_the_writer(tmp_path, v23_mp3):
    options = WriteOptions(id3_version=3, id3_separator=" / ")
    write_genres(v23_mp3, ["Jazz", "Blues"], options)
    store = Store.open(tmp_path / "library.json")
    drain(scan(v23_mp3.parent, store, options=options))
    assert store.get(str(v23_mp3)).genres == ["Jazz", "Blues"]
    drain(scan(v23_mp3.parent, Store.open(tmp_path / "other.json")))
    assert Store.open(tmp_path / "other.json").get(str(v23_mp3)).genres == ["Jazz / Blues"]  # literal without options
    store.close()


def test_cli_scan_without_a_folder_rebuilds_a_damaged_store(tmp_path, capsys):
    music = tmp_path / "music"
    for i in range(30):
        make_audio(music / f"d{i // 10}" / f"{i:02d}.flac", seconds=0.2, tags={"title": f"t{i}", "genre": ["Rock"]})
    store_path = tmp_path / "lib.json"
    assert main(["scan", str(music), "--store", str(store_path)]) == 0
    capsys.readouterr()
    shards = sorted((tmp_path / "lib.json.shards").glob("s*.json"))
    for shard in shards:
        shard.write_bytes(b'{"tracks": {"1": {"pa')  # torn: every track lost
    assert main(["scan", "--store", str(store_path)]) == 0
    out, err = capsys.readouterr()
    assert "damaged store file was kept" in err and "new:         30" in out
    store = Store.open(store_path)
    assert len(store) == 30 and store.roots == [str(music)] and store.recovered_from == []
    assert sorted(store.get(p).title for p in store.paths()) == sorted(f"t{i}" for i in range(30))
    store.close()


def test_cli_scan_without_a_folder_and_no_library_is_a_usage_error(tmp_path, capsys):
    assert main(["scan", "--store", str(tmp_path / "lib.json")]) == 2
    assert "no library folder known" in capsys.readouterr().err


def test_read_tags_reports_the_id3_version(tmp_path, v23_mp3):
    assert read_tags(v23_mp3).id3_version == 3
    assert read_tags(make_audio(tmp_path / "n.mp3", seconds=0.2, tags=TAGS)).id3_version == 4
    assert read_tags(make_audio(tmp_path / "n.flac", seconds=0.2, tags=TAGS)).id3_version is None


# ------------------------------------------------------------------ malformed ID3 tags
from hostile import _id3_frame, _strip_id3, _with_id3  # noqa: E402


@pytest.fixture(scope="module")
def mpeg(tmp_path_factory):
    mp3 = make_audio(tmp_path_factory.mktemp("mpeg") / "m.mp3", seconds=0.5, signal="noise", tags=TAGS)
    return _strip_id3(mp3.read_bytes())


@pytest.mark.parametrize("frames, lost", [
    (_id3_frame(b"TIT2", b"\x03Caf\xe9") + _id3_frame(b"TPE1", b"\x03Artist"), "TIT2"),  # latin-1 in a UTF-8 frame
    (_id3_frame(b"TIT2", b"\x07?") + _id3_frame(b"TPE1", b"\x03Artist"), "TIT2"),  # unknown encoding byte
    (_id3_frame(b"TPE1", b"\x03Artist") + _id3_frame(b"APIC", b"\x03image/png"), "APIC"),  # a cut-off picture
])
def test_unreadable_id3_frames_are_skipped_with_a_reason_not_lost(tmp_path, mpeg, frames, lost):
    from genre_desktop.tagging import TagError

    path = tmp_path / "bad.mp3"
    path.write_bytes(_with_id3(mpeg, frames + b"\x00" * 64))
    before = path.read_bytes()
    with pytest.raises(TagError, match=f"cannot be read or kept \\({lost}\\)"):
        write_genres(path, ["Jazz"])
    assert path.read_bytes() == before


def test_v23_frames_without_a_v24_equivalent_are_not_dropped_silently(tmp_path, mpeg):
    from genre_desktop.tagging import TagError

    path = tmp_path / "rvad.mp3"
    rvad = b"\x03\x10" + b"\x00\x10" * 4
    path.write_bytes(_with_id3(mpeg, _id3_frame(b"TIT2", b"\x00Old", size=None)[:4] + (4).to_bytes(4, "big")
                               + b"\x00\x00\x00Old" + b"RVAD" + len(rvad).to_bytes(4, "big") + b"\x00\x00" + rvad,
                               version=3))
    assert mutagen.File(path).tags.version[:2] == (2, 3)
    with pytest.raises(TagError, match="RVAD"):
        write_genres(path, ["Jazz"])


def test_junk_after_the_frames_is_the_minimal_repair(tmp_path, mpeg):
    path = tmp_path / "junk.mp3"
    path.write_bytes(_with_id3(mpeg, _id3_frame(b"TIT2", b"\x03Title") + _id3_frame(b"TPE1", b"\x03Artist")
                               + b"tx!Z\x00\x00\x00\x02\x00\x00ab" + b"\x00" * 20))
    audio_before = decode(path, sr=22050)
    write_genres(path, ["Jazz"])
    tags = read_tags(path)
    assert (tags.title, tags.artist, tags.genres) == ("Title", "Artist", ["Jazz"])
    np.testing.assert_array_equal(decode(path, sr=22050), audio_before)


def test_itunes_style_v24_sizes_are_not_mistaken_for_damage(tmp_path, mpeg):
    path = tmp_path / "itunes.mp3"
    long_title = b"\x03" + b"T" * 300  # > 127 bytes: synchsafe and plain sizes differ
    frame = b"TIT2" + len(long_title).to_bytes(4, "big") + b"\x00\x00" + long_title
    path.write_bytes(_with_id3(mpeg, frame + _id3_frame(b"TPE1", b"\x03Artist") + b"\x00" * 32))
    assert read_tags(path).title == "T" * 300
    write_genres(path, ["Jazz"])
    assert read_tags(path).title == "T" * 300 and read_tags(path).artist == "Artist"


# ------------------------------------------------------------------ every container, through TagService
from media import FORMATS  # noqa: E402


def raw_tags(path):
    audio = mutagen.File(path)
    return sorted((str(k).lower(), str(v)) for k, v in (audio.tags.items() if audio.tags is not None else []))


@pytest.mark.parametrize("id3_version", [4, 3])
@pytest.mark.parametrize("ext", FORMATS)
def test_write_and_undo_keep_audio_and_other_tags_for_every_container(tmp_path, ext, id3_version):
    path = make_audio(tmp_path / "music" / f"s{ext}", seconds=0.7, channels=2, signal="noise",
                      tags={**TAGS, "albumartist": "Various", "genre": ["Rock", "Jazz"]})
    sr = read_tags(path).samplerate
    audio_before, raw_before, tags_before = decode(path, sr=sr), raw_tags(path), read_tags(path)
    options = WriteOptions(id3_version=id3_version)
    service, store = service_for(tmp_path, [path], options)
    [result] = service.write({str(path): ["Électro", "Hip-Hop"]})
    assert result.ok, result.error
    np.testing.assert_array_equal(decode(path, sr=sr), audio_before)
    after = read_tags(path, options)
    assert after.genres == ["Électro", "Hip-Hop"]
    assert (after.title, after.artist, after.album, after.albumartist, after.year) == (
        tags_before.title, tags_before.artist, tags_before.album, tags_before.albumartist, tags_before.year)
    [undone] = service.undo()
    assert undone.ok, undone.error
    np.testing.assert_array_equal(decode(path, sr=sr), audio_before)
    assert raw_tags(path) == raw_before  # every tag as it was, the genre included
    service.journal.close()
    store.close()
