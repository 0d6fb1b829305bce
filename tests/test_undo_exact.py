"""Undo by construction (issue 21): every write gives the file back byte for byte, proven first.

Each class the hostile-file campaign found never undoable, or "undone" into another file, is made
here with ffmpeg and mutagen (``undo_media``) and driven through the service the CLI and the
window use: write, then undo, then the SHA-256 of the file must be the original's.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess

import mutagen
import pytest
import soundfile as sf
from media import FORMATS, ffmpeg_available, make_audio
from undo_media import campaign_files, cover_jpeg, two_id3_chunks, with_cover
from helpers import sha

from genre_desktop.library.journal import DONE, Journal
from genre_desktop.library.scanner import scan_paths
from genre_desktop.library.store import Store
from genre_desktop.library.tag_service import TagService
from genre_desktop.library.undo_store import undo_folder
from genre_desktop.tagging import TagError, read_tags, write_genres
from genre_desktop.tagging import rebuild
from genre_desktop.tagging.restore import restore_original

needs_ffmpeg = pytest.mark.skipif(not ffmpeg_available(), reason="ffmpeg is not installed")


def service_for(tmp_path, paths, **kwargs):
    store = Store.open(tmp_path / "library.json")
    assert scan_paths([str(p) for p in paths], store).unreadable == []
    return TagService(store, Journal(tmp_path / "journal.jsonl"), **kwargs), store


def blob_files(tmp_path):
    return [p for p in undo_folder(tmp_path / "journal.jsonl").glob("*/*")]


CAMPAIGN = ["mpeg25.mp3", "stacked.mp3", "junk.wav", "ffmpeg.mp3", "ffmpeg.opus", "ffmpeg.m4a", "ffmpeg.wma",
            "ffmpeg.ogg", "ffmpeg.flac", "padded.flac", "v22.mp3", "latin1.mp3", "upper.flac", "upper.ogg",
            "streamed.wav", "streamed-bare.wav", "streamed-odd.wav"]
GROWN = [(f"Genre {i}" + " with a long name" * 90) for i in range(10)]  # ~15 KB of genres


@pytest.fixture(scope="module")
def campaign(tmp_path_factory):
    return campaign_files(tmp_path_factory.mktemp("campaign"))


@pytest.mark.parametrize("name", CAMPAIGN)
def test_every_campaign_class_is_written_then_undone_byte_for_byte(tmp_path, campaign, name):
    if name not in campaign:
        pytest.skip("needs ffmpeg")
    path = tmp_path / name
    shutil.copyfile(campaign[name], path)
    original, audio = sha(path), sf.read(path)[0] if name.endswith(".wav") else None
    service, store = service_for(tmp_path, [path])
    [written] = service.write({str(path): ["Fuzz"]})
    assert written.ok, written.error
    assert read_tags(path).genres == ["Fuzz"] and sha(path) != original
    if audio is not None:  # a streamed WAV keeps its samples (its sizes become the real ones)
        assert (sf.read(path)[0] == audio).all()
    [entry] = service.journal.entries()
    assert entry.undo is not None and entry.fields == {"genre": {"old": entry.old, "new": ["Fuzz"]}}
    [undone] = service.undo()
    assert undone.ok and undone.exact, undone.error
    assert sha(path) == original
    assert store.get(str(path)).genres == read_tags(path).genres
    assert blob_files(tmp_path) == []  # an undone write's data is no longer kept


@pytest.mark.parametrize("name", CAMPAIGN)
def test_every_campaign_class_grown_past_its_padding_is_undone_byte_for_byte(tmp_path, campaign, name):
    """A write too big for the tag's room grows the file and adds padding (the campaign's 4,511 ->
    5,545 byte MP3): undo takes it away again (writing the old genres back would leave the bigger
    file). The 64 KB of padding of padded.flac is used up instead, and put back."""
    if name not in campaign:
        pytest.skip("needs ffmpeg")
    path = tmp_path / name
    shutil.copyfile(campaign[name], path)
    original, size = sha(path), path.stat().st_size
    service, _ = service_for(tmp_path, [path])
    [written] = service.write({str(path): GROWN})
    assert written.ok, written.error
    grew = path.stat().st_size - size
    assert (grew < -40_000 if name == "padded.flac" else grew > 5_000) and read_tags(path).genres == GROWN
    [undone] = service.undo()
    assert undone.ok and undone.exact, undone.error
    assert sha(path) == original and path.stat().st_size == size


def test_the_write_never_tried_is_not_undone_twice_and_a_second_write_chains(tmp_path):
    path = make_audio(tmp_path / "a.flac", seconds=0.5, tags={"genre": ["Rock"], "title": "T"})
    original = sha(path)
    service, _ = service_for(tmp_path, [path])
    assert service.write({str(path): ["Jazz"]})[0].ok
    middle = sha(path)
    assert service.write({str(path): ["Pop", "Funk"]})[0].ok
    assert [r.exact for r in service.undo()] == [True] and sha(path) == middle
    assert [r.exact for r in service.undo()] == [True] and sha(path) == original
    assert service.undo() == []


@pytest.mark.parametrize("ext", [e for e in FORMATS if e != ".wav"] + [".wav"])
def test_a_300_kb_cover_is_not_kept_again_for_undo(tmp_path, ext):
    if not ffmpeg_available():
        pytest.skip("needs ffmpeg for the JPEG")
    jpeg = cover_jpeg(tmp_path)
    assert 270_000 < len(jpeg) < 330_000 and jpeg[:2] == b"\xff\xd8"
    path = with_cover(make_audio(tmp_path / f"a{ext}", seconds=1.0, tags={"genre": ["Rock"], "title": "T"}), jpeg)
    original = sha(path)
    service, _ = service_for(tmp_path, [path])
    assert service.write({str(path): ["A much longer genre than before"]})[0].ok
    kept = sum(p.stat().st_size for p in blob_files(tmp_path))
    assert kept < 20_000, kept  # the cover moved with the tag; only what the write changed is kept
    [undone] = service.undo()
    assert undone.ok and undone.exact and sha(path) == original


def test_ogg_pages_renumbered_by_a_write_are_numbered_back(tmp_path, monkeypatch):
    path = make_audio(tmp_path / "a.ogg", seconds=3.0, signal="noise", tags={"genre": ["Rock"]})
    original = sha(path)
    service, _ = service_for(tmp_path, [path])
    kept = []
    real_keep = service._keep
    monkeypatch.setattr(service, "_keep", lambda entry, undo: (kept.append(undo), real_keep(entry, undo)))
    many = [f"Genre number {i} with a longer name" for i in range(600)]  # the comment header needs more pages
    assert service.write({str(path): many})[0].ok
    assert any(op[0] == "P" for op in kept[0].ops)  # the later pages were renumbered: numbered back on undo
    assert len(kept[0].literal) < 10_000
    [undone] = service.undo()
    assert undone.ok and undone.exact and sha(path) == original


def test_two_id3_chunks_are_refused_with_who_reads_which(tmp_path):
    for ext in (".aiff", ".wav"):
        path = two_id3_chunks(tmp_path / f"two{ext}")
        before = sha(path)
        with pytest.raises(TagError) as info:
            write_genres(path, ["Rock"])
        assert "2 ID3 chunks" in info.value.reason and "ffmpeg" in info.value.reason, info.value.reason
        assert sha(path) == before
        if shutil.which("ffprobe"):  # the reason is true: ffprobe reads the other chunk than mutagen
            out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format_tags=genre", "-of", "json",
                                  str(path)], capture_output=True, text=True).stdout
            assert json.loads(out)["format"]["tags"]["genre"] == "Second"
            assert str(mutagen.File(path).tags["TCON"]) == "First"


def test_a_write_whose_undo_cannot_be_proven_is_refused_and_the_file_untouched(tmp_path, monkeypatch):
    path = make_audio(tmp_path / "a.mp3", seconds=0.5, tags={"genre": ["Rock"]})
    before = sha(path)
    service, store = service_for(tmp_path, [path])
    real_plan = rebuild.plan

    def lossy_plan(*args):  # a plan that forgets one byte the write changed
        plan = real_plan(*args)
        return rebuild.UndoPlan(plan.ops, plan.literal[:-1] + b"?", plan.size)

    monkeypatch.setattr(rebuild, "plan", lossy_plan)
    [result] = service.write({str(path): ["Jazz"]})
    assert not result.ok and "could not be undone byte for byte" in result.error
    assert sha(path) == before and store.get(str(path)).genres == ["Rock"]
    assert not list(tmp_path.glob(".*.tmp"))


def test_undo_data_is_durable_before_the_file_is_replaced(tmp_path, monkeypatch):
    """At the moment of the rename the journal already names the undo data and the blobs exist."""
    from genre_desktop.tagging import working_copy

    path = make_audio(tmp_path / "a.flac", seconds=0.5, tags={"genre": ["Rock"]})
    service, _ = service_for(tmp_path, [path])
    seen = []
    real_replace = os.replace

    def spy(src, dst):
        if str(dst) == str(path):
            [entry] = Journal(tmp_path / "journal.jsonl").entries()
            seen.append((entry.undo is not None, all(p.exists() for p in blob_files(tmp_path)), len(blob_files(tmp_path))))
        real_replace(src, dst)

    monkeypatch.setattr(working_copy.os, "replace", spy)
    assert service.write({str(path): ["Jazz"]})[0].ok
    assert seen == [(True, True, seen[0][2])] and seen[0][2] >= 1


def test_a_file_changed_since_the_write_is_left_reported_once_and_its_genres_offered(tmp_path):
    a = make_audio(tmp_path / "a.flac", seconds=0.5, tags={"genre": ["Rock"], "title": "T"})
    b = make_audio(tmp_path / "b.flac", seconds=0.5, tags={"genre": ["Rock"], "title": "T"})
    service, store = service_for(tmp_path, [a, b])
    assert all(r.ok for r in service.write({str(a): ["Jazz"], str(b): ["Jazz"]}))
    audio = mutagen.File(a)  # another program edits the title of a afterwards
    audio["title"] = "Edited elsewhere"
    audio.save()
    results = {r.path: r for r in service.undo(all=True)}
    assert results[str(b)].ok and results[str(b)].exact
    left = results[str(a)]
    assert not left.ok and "changed since the write" in left.error and left.offer == "genres"
    assert read_tags(a).genres == ["Jazz"] and mutagen.File(a)["title"] == ["Edited elsewhere"]
    assert service.undo(all=True) == []  # reported once: later undos do not repeat it
    assert [e.path for e in service.left_by_undo()] == [str(a)]
    [genres] = service.undo(all=True, genre_level=True)
    assert genres.ok and genres.exact is False and "only its genres" in genres.note
    assert read_tags(a).genres == ["Rock"] and mutagen.File(a)["title"] == ["Edited elsewhere"]


def test_a_crash_after_the_rename_is_undone_byte_for_byte(tmp_path):
    path = make_audio(tmp_path / "a.wav", seconds=0.5, tags={"genre": ["Rock"]})
    original = sha(path)
    service, store = service_for(tmp_path, [path])
    entry = service.journal.intent("crash", str(path), ["Rock"], ["Jazz"], extra={"status": "unanalysed"})
    write_genres(path, ["Jazz"], keep=lambda undo: service._keep(entry, undo))  # then the process died
    assert service.journal.get(entry.id).state == "pending"
    [undone] = service.undo()
    assert undone.ok and undone.exact and sha(path) == original
    assert service.journal.get(entry.id).state == DONE


def test_damaged_or_missing_undo_data_is_said_and_the_genres_offered(tmp_path):
    path = make_audio(tmp_path / "a.mp3", seconds=0.5, tags={"genre": ["Rock"]})
    service, _ = service_for(tmp_path, [path])
    assert service.write({str(path): ["Jazz"]})[0].ok
    written = sha(path)
    for blob in blob_files(tmp_path):
        blob.write_bytes(blob.read_bytes()[:-1] + b"!")
    [result] = service.undo()
    assert not result.ok and "damaged" in result.error and result.offer == "genres"
    assert sha(path) == written
    [genres] = service.undo(genre_level=True)
    assert genres.ok and read_tags(path).genres == ["Rock"]


def test_a_journal_from_before_undo_data_is_undone_genre_by_genre(tmp_path):
    path = make_audio(tmp_path / "a.flac", seconds=0.5, tags={"genre": ["Rock"]})
    service, store = service_for(tmp_path, [path])
    write_genres(path, ["Jazz"])
    store.update(str(path), genres=["Jazz"], size=path.stat().st_size, mtime=path.stat().st_mtime)
    service.journal.close()
    old_style = {"op": "intent", "id": "0123456789abcdef", "batch": "b", "kind": "write", "time": 1.0,
                 "path": str(path), "old": ["Rock"], "new": ["Jazz"], "raw_old": ["Rock"], "status": "unanalysed"}
    (tmp_path / "journal.jsonl").write_text(json.dumps(old_style) + "\n" +
                                            json.dumps({"op": "done", "id": "0123456789abcdef", "time": 2.0}) + "\n")
    service = TagService(store, Journal(tmp_path / "journal.jsonl"))
    [entry] = service.journal.entries()
    assert (entry.old, entry.new, entry.fields["genre"]) == (["Rock"], ["Jazz"], {"old": ["Rock"], "new": ["Jazz"]})
    [undone] = service.undo()
    assert undone.ok and undone.exact is False and read_tags(path).genres == ["Rock"]


def test_the_proof_agrees_with_hashlib_in_order_and_out_of_order(tmp_path):
    written = tmp_path / "w.bin"
    written.write_bytes(bytes(range(256)) * 40)
    data = written.read_bytes()
    for ops in ([("L", 3), ("C", 0, 100), ("C", 500, 2000), ("L", 2)],       # in order: one read
                [("C", 500, 2000), ("L", 3), ("C", 0, 100), ("L", 2)]):      # out of order: two reads
        literal = b"abcde"
        pieces, used = [], 0
        for op in ops:
            if op[0] == "L":
                pieces.append(literal[used:used + op[1]])
                used += op[1]
            else:
                pieces.append(data[op[1]:op[1] + op[2]])
        expected = b"".join(pieces)
        (tmp_path / "o.bin").write_bytes(expected)
        (tmp_path / "other.bin").write_bytes(expected[:-1] + b"?")
        (tmp_path / "longer.bin").write_bytes(expected + b"!")
        for name, result in (("o.bin", True), ("other.bin", False), ("longer.bin", False)):
            with open(written, "rb") as handle, open(tmp_path / name, "rb") as original:
                same, (whole, w_size) = rebuild.prove(ops, literal, handle, original)
            assert same is result, name
            assert (whole, w_size) == (hashlib.sha256(data).hexdigest(), len(data))


def test_hard_links_and_symlinks_get_the_original_back_too(tmp_path):
    real = make_audio(tmp_path / "real.flac", seconds=0.5, tags={"genre": ["Rock"]})
    link = tmp_path / "hard.flac"
    link.hardlink_to(real)
    other = make_audio(tmp_path / "target.mp3", seconds=0.5, tags={"genre": ["Rock"]})
    symlink = tmp_path / "link.mp3"
    symlink.symlink_to(other)
    originals = (sha(real), sha(other))
    service, _ = service_for(tmp_path, [real, symlink])
    assert all(r.ok for r in service.write({str(real): ["Jazz"], str(symlink): ["Jazz"]}))
    assert read_tags(link).genres == ["Jazz"] and read_tags(other).genres == ["Jazz"]
    assert all(r.exact for r in service.undo())
    assert (sha(real), sha(other)) == originals and sha(link) == originals[0]
    assert symlink.is_symlink() and real.stat().st_ino == link.stat().st_ino


@pytest.mark.parametrize("ext", sorted(FORMATS))
def test_a_write_of_genre_and_style_is_journaled_per_field_and_undone_byte_for_byte(tmp_path, ext):
    path = make_audio(tmp_path / f"a{ext}", seconds=0.5, tags={"genre": ["Rock"], "title": "T"})
    original = sha(path)
    service, store = service_for(tmp_path, [path])
    [written] = service.write({str(path): {"genre": ["Jazz"], "style": ["Bebop"]}})
    assert written.ok, written.error
    assert read_tags(path).styles == ["Bebop"]
    [entry] = service.journal.entries()
    assert entry.fields == {"genre": {"old": ["Rock"], "new": ["Jazz"]}, "style": {"old": [], "new": ["Bebop"]}}
    [undone] = service.undo()
    assert undone.exact and sha(path) == original
    assert store.get(str(path)).styles == [] and store.get(str(path)).genres == ["Rock"]


def test_a_damaged_second_id3_tag_after_the_first_is_refused(tmp_path, campaign):
    """Fuzz seed 6 found it: with the stacked tag's flags set to 0x5d, mpg123 decoded 18 samples
    fewer once a write had moved that tag (ffmpeg decoded the same); refused, the file untouched."""
    data = bytearray(campaign["stacked.mp3"].read_bytes())
    assert data[10:13] == b"ID3"
    data[14:16] = b"\xe8\x5d"  # revision and flags of the second tag: undefined bits set
    path = tmp_path / "damaged-second.mp3"
    path.write_bytes(bytes(data))
    with pytest.raises(TagError) as info:
        write_genres(path, ["Fuzz"])
    assert "second ID3 tag right after the first has a damaged header" in info.value.reason
    assert path.read_bytes() == bytes(data)


@pytest.mark.parametrize("ext", [".mp3", ".flac", ".aiff"])
def test_a_genre_before_a_cover_is_matched_without_indexing_the_tags(tmp_path, monkeypatch, ext):
    """The common write (a genre that grew, a cover after it) is matched from the same tag's head
    and shifted tail: no content-defined chunking of the 300 KB picture, a few bytes kept."""
    if not ffmpeg_available():
        pytest.skip("needs ffmpeg for the JPEG")
    from genre_desktop.tagging import matching

    path = with_cover(make_audio(tmp_path / f"a{ext}", seconds=1.0, tags={"genre": ["Rock"], "title": "T"}),
                      cover_jpeg(tmp_path))
    original = sha(path)
    chunked, kept = [], []
    real_chunks = matching.chunking.chunks
    monkeypatch.setattr(matching.chunking, "chunks", lambda *a, **k: (chunked.append(1), real_chunks(*a, **k))[1])
    write_genres(path, ["A much longer genre than before"], keep=kept.append)
    assert chunked == [] and len(kept[0].literal) < 200, (len(chunked), len(kept[0].literal))

    undo, used = kept[0], [0]

    def literal(n: int) -> bytes:
        used[0] += n
        return undo.literal[used[0] - n:used[0]]

    restore_original(path, undo.ops, literal, sha256=undo.sha256, size=undo.size,
                     written_sha256=undo.written_sha256, written_size=undo.written_size)
    assert sha(path) == original
