"""Issue 10: a write is verified on the working copy before it replaces the file; damaged IFF files
are refused with a reason; undo writes back exactly what the journal recorded."""

from __future__ import annotations

import struct

import mutagen
import pytest
from media import FORMATS, make_audio
from mutagen.flac import FLAC
from mutagen.id3 import TCON
from helpers import sha

import genre_desktop.tagging.files as files_mod
from genre_desktop.library.journal import Journal
from genre_desktop.library.scanner import scan_paths
from genre_desktop.library.store import Store
from genre_desktop.library.tag_service import TagService
from genre_desktop.tagging import TagError, WriteOptions, read_tags, write_genres
from genre_desktop.tagging.registry import ENTRIES


def refused_untouched(path, genres: list[str]) -> str:
    """Write ``genres`` to ``path`` expecting a refusal; the file must be byte-identical after it.
    Returns the refusal's reason."""
    before = sha(path)
    with pytest.raises(TagError) as info:
        write_genres(path, genres)
    assert sha(path) == before
    return info.value.reason


def service_for(tmp_path, paths, options=WriteOptions()):
    store = Store.open(tmp_path / "library.json")
    summary = scan_paths([str(p) for p in paths], store, options)
    return TagService(store, Journal(tmp_path / "journal.jsonl"), options), store, summary


def pcm_wav(frames: int, data_claims: int | None = None, extra: bytes = b"") -> bytes:
    samples = bytes((i * 7) % 251 for i in range(frames * 2))
    fmt = b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, 8000, 16000, 2, 16)
    data = b"data" + struct.pack("<I", len(samples) if data_claims is None else data_claims) + samples
    body = b"WAVE" + fmt + extra + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def pcm_aiff(frames: int, ssnd_claims: int | None = None) -> bytes:
    samples = bytes((i * 5) % 253 for i in range(frames * 2))
    rate = b"\x40\x0b\xfa\x00\x00\x00\x00\x00\x00\x00"  # 8000 Hz as an 80-bit float
    comm = b"COMM" + struct.pack(">IhIh", 18, 1, frames, 16) + rate
    payload = struct.pack(">II", 0, 0) + samples
    ssnd = b"SSND" + struct.pack(">I", len(payload) if ssnd_claims is None else ssnd_claims) + payload
    body = b"AIFF" + comm + ssnd
    return b"FORM" + struct.pack(">I", len(body)) + body


# ----------------------------------------------------------------------------- damaged IFF files
def test_truncated_wav_is_refused_with_its_sizes_and_left_untouched(tmp_path):
    path = tmp_path / "cut.wav"
    path.write_bytes(pcm_wav(200, data_claims=2000))  # 400 bytes of samples, the header says 2000
    reason = refused_untouched(path, ["Rock"])
    assert "truncated WAV: the data chunk claims 2,000 bytes, the file holds 400" in reason


def test_truncated_aiff_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "cut.aiff"
    path.write_bytes(pcm_aiff(200, ssnd_claims=5000))
    reason = refused_untouched(path, ["Rock"])
    assert "truncated AIFF: the SSND chunk claims 5,000 bytes, the file holds 408" in reason


def test_odd_chunk_without_its_pad_byte_is_refused(tmp_path):
    # An odd-sized LIST chunk at the end with no pad byte: mutagen would put the ID3 chunk one
    # byte off, where no reader finds it.
    body = pcm_wav(100)[12:] + b"LIST" + struct.pack("<I", 5) + b"INFOx"
    path = tmp_path / "odd.wav"
    path.write_bytes(b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WAVE" + body)
    reason = refused_untouched(path, ["Rock"])
    assert "odd size" in reason and "pad byte" in reason


def test_truncated_wav_through_the_service_is_refused_and_nothing_is_journaled_as_written(tmp_path):
    path = tmp_path / "cut.wav"
    path.write_bytes(pcm_wav(200, data_claims=2000))
    before = sha(path)
    service, store, _ = service_for(tmp_path, [path])
    [result] = service.write({str(path): ["Rock"]})
    assert not result.ok and "truncated WAV" in result.error
    assert sha(path) == before
    assert service.undo(all=True) == []
    assert sha(path) == before


def test_a_complete_wav_with_a_pad_byte_is_written(tmp_path):
    body = pcm_wav(100)[12:] + b"LIST" + struct.pack("<I", 5) + b"INFOx\x00"
    path = tmp_path / "padded.wav"
    path.write_bytes(b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WAVE" + body)
    write_genres(path, ["Rock"])
    assert read_tags(path).genres == ["Rock"]


# ----------------------------------------------------------------------------- verification before the rename
@pytest.fixture(params=FORMATS)
def song(request, tmp_path):
    return make_audio(tmp_path / f"song{request.param}", seconds=2.0, tags={"title": "T", "genre": ["Jazz"]})


def _entry(path):
    kind = type(mutagen.File(path, options=[e.kind for e in ENTRIES]))
    return next(e for e in ENTRIES if e.kind is kind)


def test_a_save_that_damages_the_audio_is_caught_before_the_rename(song, monkeypatch):
    """For every container: a save that changes one byte of audio leaves the original untouched."""
    entry = _entry(song)
    save = type(entry.backend).save

    def damaging_save(self, audio, options):
        save(self, audio, options)
        if open(audio.filename, "rb").read(4) == b"OggS":  # damage a page's packet, with a valid checksum
            _flip_in_ogg_page(audio.filename)
            return
        with open(audio.filename, "r+b") as handle:  # the working copy: flip a byte mid-file (audio)
            handle.seek(0, 2)
            middle = handle.tell() // 2
            handle.seek(middle)
            byte = handle.read(1)
            handle.seek(middle)
            handle.write(bytes([byte[0] ^ 0x55]))

    monkeypatch.setattr(type(entry.backend), "save", damaging_save)
    reason = refused_untouched(song, ["Rock"])
    assert "damage" in reason and "nothing written" in reason
    assert not list(song.parent.glob(".*.tmp"))


def _flip_in_ogg_page(path):
    from mutagen.ogg import OggPage

    with open(path, "rb") as handle:
        pages = []
        while True:
            try:
                pages.append(OggPage(handle))
            except EOFError:
                break
    page = pages[-1]  # an audio page (the headers come first)
    data = bytearray(page.packets[0])
    data[len(data) // 2] ^= 0x55
    page.packets[0] = bytes(data)
    with open(path, "wb") as handle:
        handle.write(b"".join(p.write() for p in pages))


def test_genres_that_do_not_read_back_from_the_copy_leave_the_original(song, monkeypatch):
    entry = _entry(song)
    set_fields = type(entry.backend).set_fields

    def wrong(self, audio, values, options):
        set_fields(self, audio, {**values, "genre": ["Something else"]}, options)

    monkeypatch.setattr(type(entry.backend), "set_fields", wrong)
    reason = refused_untouched(song, ["Rock"])
    assert "did not read back" in reason


def test_the_service_never_renames_an_unverified_copy(tmp_path, monkeypatch):
    """The rename happens only after the read-back: a failing read-back never reaches the file."""
    path = make_audio(tmp_path / "a.flac", seconds=1.0, tags={"genre": ["Jazz"]})
    service, store, _ = service_for(tmp_path, [path])
    before = sha(path)
    renamed = []
    monkeypatch.setattr(files_mod.os, "replace", lambda a, b: renamed.append((a, b)))
    monkeypatch.setattr(files_mod, "_verify", lambda *a: (_ for _ in ()).throw(TagError(path, "checked: bad")))
    [result] = service.write({str(path): ["Rock"]})
    assert not result.ok and result.error == "checked: bad"
    assert renamed == [] and sha(path) == before


def test_in_place_save_of_a_hard_linked_file_is_verified_first(tmp_path, monkeypatch):
    path = tmp_path / "cut.wav"
    path.write_bytes(pcm_wav(200, data_claims=2000))
    (tmp_path / "link.wav").hardlink_to(path)
    before = sha(path)
    with pytest.raises(TagError):
        write_genres(path, ["Rock"])
    assert sha(path) == before == sha(tmp_path / "link.wav")
    good = make_audio(tmp_path / "good.flac", seconds=0.5, tags={"genre": ["Jazz"]})
    (tmp_path / "good-link.flac").hardlink_to(good)
    write_genres(good, ["Rock"])
    assert read_tags(tmp_path / "good-link.flac").genres == ["Rock"]


# ----------------------------------------------------------------------------- undo restores exactly
def _flac_with_raw_genres(path, values):
    make_audio(path, seconds=0.5, tags={"title": "T"})
    audio = FLAC(path)
    audio.tags["GENRE"] = values
    audio.save()
    return path


def _v23_mp3_with_tcon(path, values):
    make_audio(path, seconds=0.5, tags={"title": "T"})
    audio = mutagen.File(path)
    audio.tags.add(TCON(encoding=1, text=values))
    audio.tags.update_to_v23()
    audio.save(v2_version=3, v23_sep=None)
    return path


def _tcon(path):
    tags = mutagen.File(path).tags
    return tags.version[:2], list(tags["TCON"].text)


@pytest.mark.parametrize("id3_version", [3, 4])
def test_undo_puts_back_a_vorbis_genre_with_a_nul(tmp_path, id3_version):
    path = _flac_with_raw_genres(tmp_path / "nul.flac", ["Rock\x00Live", "Jazz"])
    service, store, _ = service_for(tmp_path, [path], WriteOptions(id3_version=id3_version))
    assert all(r.ok for r in service.write({str(path): ["Fuzz"]}))
    assert FLAC(path).tags["genre"] == ["Fuzz"]
    undone = service.undo()
    assert undone and all(r.ok for r in undone), [r.error for r in undone]
    assert FLAC(path).tags["genre"] == ["Rock\x00Live", "Jazz"]


@pytest.mark.parametrize("values", [["Drum; Bass", "Pop"], ["Rock", "Pop"], ["Rock; Pop"]])
@pytest.mark.parametrize("id3_version", [3, 4])
def test_undo_restores_an_id3v23_tcon_with_the_same_values_and_count(tmp_path, values, id3_version):
    path = _v23_mp3_with_tcon(tmp_path / "old.mp3", values)
    assert _tcon(path) == ((2, 3), values)
    service, store, _ = service_for(tmp_path, [path], WriteOptions(id3_version=id3_version))
    written = service.write({str(path): ["Fuzz"]})
    assert all(r.ok for r in written), [r.error for r in written]
    undone = service.undo()
    assert undone and all(r.ok for r in undone), [r.error for r in undone]
    assert _tcon(path) == ((2, 3), values)
    assert service.undo() == []


def test_exact_write_bypasses_the_checks_for_new_values_only_when_asked(tmp_path):
    path = make_audio(tmp_path / "a.flac", seconds=0.5)
    with pytest.raises(ValueError):
        write_genres(path, ["Rock\x00Live"])
    write_genres(path, [" Rock\x00Live "], exact=True)
    assert read_tags(path).raw_genres == [" Rock\x00Live "]


# ----------------------------------------------------------------------------- undo leaves no tag behind
@pytest.mark.parametrize("ext", [".wav", ".aiff", ".mp3"])
def test_undo_of_a_write_to_an_untagged_file_leaves_it_byte_identical(tmp_path, ext):
    path = make_audio(tmp_path / f"bare{ext}", seconds=0.5)
    assert mutagen.File(path).tags is None
    before = sha(path)
    service, store, _ = service_for(tmp_path, [path])
    assert all(r.ok for r in service.write({str(path): ["Fuzz"]}))
    undone = service.undo()
    assert undone and all(r.ok for r in undone), [r.error for r in undone]
    assert sha(path) == before  # no empty ID3 chunk or tag left behind, no growth


def test_an_mp3_whose_tag_sits_after_junk_is_refused_not_given_a_second_tag(tmp_path):
    tagged = make_audio(tmp_path / "t.mp3", seconds=0.5, tags={"genre": ["Rock"]})
    path = tmp_path / "junk-first.mp3"
    path.write_bytes(b"\x00junk" * 40 + tagged.read_bytes())
    reason = refused_untouched(path, ["Fuzz"])
    assert "ID3 tag starts 200 bytes in" in reason


@pytest.mark.skipif(".m4a" not in FORMATS, reason="no AAC encoder")
def test_an_m4a_whose_genre_atom_is_damaged_is_refused_not_replaced_for_good(tmp_path):
    path = make_audio(tmp_path / "a.m4a", seconds=0.5, tags={"title": "T", "genre": ["Jazz"]})
    data = bytearray(path.read_bytes())
    at = data.find(b"data", data.find(b"\xa9gen"))
    data[at - 4:at] = struct.pack(">I", 0x7FFFFFFF)  # the genre's data atom claims too much
    path.write_bytes(bytes(data))
    assert read_tags(path).genres == []  # mutagen cannot read it; TagLib still shows "Jazz"
    reason = refused_untouched(path, ["Fuzz"])
    assert "genre atom is damaged" in reason


@pytest.mark.skipif(".m4a" not in FORMATS, reason="no AAC encoder")
def test_an_m4a_genre_value_of_an_odd_data_type_is_refused(tmp_path):
    # Found by tools/fuzz_tags.py: type 0 instead of 1 (UTF-8). mutagen reads it as text, TagLib
    # skips it; a write and undo would turn it into text that TagLib then shows.
    path = make_audio(tmp_path / "a.m4a", seconds=0.5, tags={"genre": ["Rock", "Jazz"]})
    data = bytearray(path.read_bytes())
    at = data.find(b"data", data.find(b"\xa9gen"))
    data[at + 4:at + 8] = b"\x00\x00\x00\x00"
    path.write_bytes(bytes(data))
    reason = refused_untouched(path, ["Fuzz"])
    assert "unexpected data type (0)" in reason


@pytest.mark.skipif(".wma" not in FORMATS, reason="no WMA encoder")
def test_a_wma_whose_header_extension_is_corrupt_is_refused_not_repaired(tmp_path):
    # Found by tools/fuzz_tags.py: a sub-object claiming 134 MB made the file undecodable; the save
    # re-rendered the header extension and the write turned it into a playable file.
    path = make_audio(tmp_path / "a.wma", seconds=0.5, tags={"genre": ["Rock"]})
    data = bytearray(path.read_bytes())
    ext = data.find(bytes.fromhex("b503bf5f2ea9cf118ee300c00c205365"))
    assert ext > 0
    data[ext + 46 + 19] = 0x08  # the first sub-object's size, high byte
    path.write_bytes(bytes(data))
    reason = refused_untouched(path, ["Fuzz"])
    assert "damaged WMA: an object in the header extension claims" in reason
