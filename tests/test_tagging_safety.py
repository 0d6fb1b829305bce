"""Tag writes are safe with users' files: every failure is a TagError with a reason, and a failed
write leaves the file byte-for-byte as it was, with no temporary file left behind."""

from __future__ import annotations

import importlib
import os
import stat
from pathlib import Path

import mutagen
import pytest

from genre_desktop.tagging import TagError, UnsupportedFormat, WriteOptions, read_genres, read_tags, write_genres
from genre_desktop.tagging.registry import ENTRIES
from media import FORMATS, make_audio

files_mod = importlib.import_module("genre_desktop.tagging.files")


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".genre-desktop-" in p.name)


def assert_tag_error(call, path, reason_part: str, kind=TagError):
    with pytest.raises(kind) as info:
        call()
    assert info.value.path == str(path)
    assert reason_part in info.value.reason, info.value.reason
    assert str(info.value) == f"{path}: {info.value.reason}"


def test_vanished_file(tmp_path):
    path = tmp_path / "gone.flac"
    assert_tag_error(lambda: write_genres(path, ["Rock"]), path, "file not found")
    assert_tag_error(lambda: read_tags(path), path, "file not found")


@pytest.mark.parametrize("ext", [".mp3", ".flac"])
def test_read_only_file_is_refused_even_for_root(tmp_path, ext):
    path = make_audio(tmp_path / f"ro{ext}", seconds=0.5, tags={"genre": ["Jazz"]})
    path.chmod(0o444)
    before = path.read_bytes()
    try:
        assert_tag_error(lambda: write_genres(path, ["Rock"]), path, "file is read-only")
        assert path.read_bytes() == before
        assert read_genres(path) == ["Jazz"]  # reading is fine
    finally:
        path.chmod(0o644)
    assert leftovers(tmp_path) == []


def test_text_file_renamed_flac(tmp_path):
    path = tmp_path / "notes.flac"
    path.write_text("not audio at all\n" * 40)
    before = path.read_bytes()
    assert_tag_error(lambda: read_tags(path), path, "not an audio file: header not recognised")
    assert_tag_error(lambda: write_genres(path, ["Rock"]), path, "not an audio file: header not recognised")
    assert path.read_bytes() == before


def test_zero_byte_file_and_folder(tmp_path):
    empty = tmp_path / "empty.mp3"
    empty.write_bytes(b"")
    assert_tag_error(lambda: read_tags(empty), empty, "empty file")
    assert_tag_error(lambda: write_genres(empty, ["Rock"]), empty, "empty file")
    folder = tmp_path / "album.flac"
    folder.mkdir()
    assert_tag_error(lambda: read_tags(folder), folder, "folder")


def test_malformed_flac_header_is_reported_not_raised_raw(tmp_path):
    path = tmp_path / "broken.flac"
    path.write_bytes(b"fLaC" + b"\x7f\xff\xff\xff" + bytes(64))
    with pytest.raises(TagError) as info:
        read_tags(path)
    assert info.value.reason


def test_truncated_mp3_still_takes_a_genre_without_losing_audio(tmp_path):
    full = make_audio(tmp_path / "full.mp3", seconds=3.0, tags={"title": "T", "genre": ["Jazz"]})
    data = full.read_bytes()
    path = tmp_path / "cut.mp3"
    path.write_bytes(data[: len(data) // 2 + 7])
    audio_bytes = path.read_bytes()[len(path.read_bytes()) - 2000:]
    write_genres(path, ["Rock"])
    assert read_genres(path) == ["Rock"]
    assert path.read_bytes().endswith(audio_bytes)  # the frames after the tag are the same bytes


def test_au_has_no_tag_format_but_reads_its_header(tmp_path):
    path = make_audio(tmp_path / "clip.au", seconds=1.0, sr=22050)
    tags = read_tags(path)
    assert (tags.format, tags.samplerate, tags.channels, tags.genres) == ("au", 22050, 1, [])
    assert tags.duration == pytest.approx(1.0)
    assert_tag_error(lambda: write_genres(path, ["Rock"]), path, "no tag format", kind=UnsupportedFormat)


def test_gtzan_clip_reads(gtzan_dir):
    tags = read_tags(os.path.join(gtzan_dir, "clips", "blues.00000.au"))
    assert tags.format == "au" and tags.samplerate == 22050 and tags.duration == pytest.approx(30.0, abs=0.1)


def test_bad_genre_arguments_are_value_errors(tmp_path):
    path = make_audio(tmp_path / "a.flac", seconds=0.5)
    for bad in ("Rock", ["Rock", 3], [""], [" Rock"], ["A\x00B"]):
        with pytest.raises(ValueError):
            write_genres(path, bad)
    with pytest.raises(ValueError):
        WriteOptions(id3_version=2)


def test_symlink_is_followed_and_stays_a_link(tmp_path):
    real = make_audio(tmp_path / "real.flac", seconds=0.5, tags={"genre": ["Jazz"]})
    link = tmp_path / "link.flac"
    link.symlink_to(real)
    write_genres(link, ["Rock"])
    assert link.is_symlink()
    assert read_genres(real) == ["Rock"]


def test_hard_linked_file_is_saved_in_place_so_both_names_change(tmp_path):
    path = make_audio(tmp_path / "a.flac", seconds=0.5, tags={"genre": ["Jazz"]})
    twin = tmp_path / "b.flac"
    os.link(path, twin)
    write_genres(path, ["Rock"])
    assert read_genres(twin) == ["Rock"]
    assert os.stat(path).st_ino == os.stat(twin).st_ino
    assert leftovers(tmp_path) == []


def test_mode_is_kept_and_mtime_moves(tmp_path):
    path = make_audio(tmp_path / "a.mp3", seconds=0.5)
    path.chmod(0o640)
    os.utime(path, (1_000_000_000, 1_000_000_000))
    write_genres(path, ["Rock"])
    st = path.stat()
    assert stat.S_IMODE(st.st_mode) == 0o640
    assert st.st_mtime > 1_000_000_000
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("ext", FORMATS)
def test_a_failing_save_leaves_the_file_untouched(tmp_path, monkeypatch, ext):
    path = make_audio(tmp_path / f"a{ext}", seconds=0.5, tags={"title": "T", "genre": ["Jazz"]})
    before = path.read_bytes()
    entry = next(e for e in ENTRIES if isinstance(mutagen.File(str(path)), e.kind))

    def exploding_save(audio, options):
        # Half-write the working copy, as a crash or a full disk would, then fail.
        with open(audio.filename, "r+b") as handle:
            handle.truncate(10)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(entry.backend, "save", exploding_save)
    assert_tag_error(lambda: write_genres(path, ["Rock"]), path, "No space left on device")
    assert path.read_bytes() == before
    assert leftovers(tmp_path) == []


def test_file_changed_by_someone_else_during_the_write_is_not_overwritten(tmp_path, monkeypatch):
    path = make_audio(tmp_path / "a.flac", seconds=0.5, tags={"genre": ["Jazz"]})
    entry = next(e for e in ENTRIES if e.format == "flac")
    real_save = type(entry.backend).save

    def save_while_other_program_writes(audio, options):
        real_save(entry.backend, audio, options)
        with open(path, "ab") as handle:  # another tagger appends to the original meanwhile
            handle.write(b"\0" * 10)

    monkeypatch.setattr(entry.backend, "save", save_while_other_program_writes)
    assert_tag_error(lambda: write_genres(path, ["Rock"]), path, "changed on disk")
    monkeypatch.undo()
    assert read_genres(path) == ["Jazz"]
    assert leftovers(tmp_path) == []


def test_working_copy_is_hidden_and_next_to_the_file(tmp_path, monkeypatch):
    path = make_audio(tmp_path / "a.ogg", seconds=0.5)
    seen = []
    entry = next(e for e in ENTRIES if e.format == "ogg")
    real_save = type(entry.backend).save

    def spy(audio, options):
        seen.append(Path(audio.filename))
        real_save(entry.backend, audio, options)

    monkeypatch.setattr(entry.backend, "save", spy)
    write_genres(path, ["Rock"])
    assert len(seen) == 1 and seen[0].parent == tmp_path and seen[0].name.startswith(".a.ogg.")
    assert not seen[0].exists()


def test_unwritable_folder_falls_back_to_saving_in_place(tmp_path, monkeypatch):
    path = make_audio(tmp_path / "a.mp3", seconds=0.5, tags={"genre": ["Jazz"]})
    real_access = os.access
    monkeypatch.setattr(files_mod.os, "access",
                        lambda p, mode, **kw: False if Path(p) == tmp_path else real_access(p, mode, **kw))
    inode = path.stat().st_ino
    write_genres(path, ["Rock"])
    assert read_genres(path) == ["Rock"]
    assert path.stat().st_ino == inode  # same file, written in place


def test_undo_leaves_alone_a_damaged_atom_no_write_touched(tmp_path):
    """Fuzz seed 7: an M4A whose album atom mutagen cannot parse took a genre write, but its undo
    was refused ("the file's '\xa9alb' atom is damaged"): undo put back every field, the album too.
    Only the places that differ are put back, and only they are judged."""
    import shutil

    from genre_desktop.tagging import read_tags, restore_fields, write_fields

    path = tmp_path / "a.m4a"
    shutil.copyfile(Path(__file__).parent / "data" / "tagging" / "m4a.m4a", path)
    data = path.read_bytes()
    album = data.index(b"\xa9alb")
    inner = data.index(b"data", album)
    path.write_bytes(data[:inner] + b"xata" + data[inner + 4:])  # the album's value atom, renamed
    assert "\xa9alb" in mutagen.File(str(path)).tags._failed_atoms
    before = read_tags(path)
    write_fields(path, {"genre": ["Blues"], "style": ["Delta Blues"]})
    assert read_tags(path).genres == ["Blues"]
    restore_fields(path, before.raw)
    assert read_tags(path).values == before.values
    assert "\xa9alb" in mutagen.File(str(path)).tags._failed_atoms  # still there, as other players may read it
