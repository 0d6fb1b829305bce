"""Issue 10 item 4: every refusal says what is wrong with the file in a user's words; audio in
containers the app does not tag is "tags cannot be written for this format yet" (and analysed where ffmpeg decodes
it); absurd header durations are bounded by the file's size; ffmpeg's real error line is kept."""

from __future__ import annotations

import importlib
import struct

import mutagen
import pytest
from media import UNTAGGABLE, ffmpeg_available, make_audio, make_untaggable
from helpers import sha

from genre_desktop.audio import decode, probe
from genre_desktop.library.scanner import scan_paths
from genre_desktop.library.store import Store
from genre_desktop.tagging import TagError, UnsupportedFormat, read_tags, write_genres
from genre_desktop.tagging.reasons import plain

ffmpeg_mod = importlib.import_module("genre_desktop.audio.ffmpeg")
reading_mod = importlib.import_module("genre_desktop.tagging.reading")
needs_ffmpeg = pytest.mark.skipif(not ffmpeg_available(), reason="ffmpeg not installed")

NAMES = {"wavpack": "WavPack", "tta": "TTA", "speex": "Speex in Ogg", "caf": "Core Audio (CAF)",
         "matroska": "Matroska/WebM"}


@needs_ffmpeg
@pytest.mark.parametrize("kind", sorted(UNTAGGABLE))
@pytest.mark.parametrize("ext", [".mp3", ".ogg", ".flac"])
def test_real_audio_in_an_untaggable_container_is_not_supported_for_tagging(tmp_path, kind, ext):
    path = make_untaggable(tmp_path / f"renamed{ext}", kind, seconds=1.0)
    before = sha(path)
    with pytest.raises(UnsupportedFormat) as info:
        write_genres(path, ["Rock"])
    assert info.value.reason == f"tags cannot be written for this format ({NAMES[kind]}) yet"
    assert sha(path) == before
    tags = read_tags(path)  # the header, as for .au
    assert tags.genres == [] and tags.duration == pytest.approx(1.0, abs=0.1)
    y = decode(path, sr=22050)
    assert abs(len(y) / 22050 - 1.0) < 0.1 and float(abs(y).max()) > 0.1
    store = Store.open(tmp_path / "lib.json")
    summary = scan_paths([str(path)], store)
    assert summary.unreadable == [] and store.get(str(path)).duration == pytest.approx(1.0, abs=0.1)


def test_python_internals_never_reach_the_user(tmp_path, monkeypatch):
    path = make_audio(tmp_path / "a.flac", seconds=0.5)
    for exc in (KeyError(3), IndexError("bytearray index out of range"),
                struct.error("'I' format requires 0 <= number <= 4294967295"), mutagen.MutagenError("error")):
        def boom(*args, exc=exc, **kwargs):
            raise exc
        monkeypatch.setattr(reading_mod, "_open", boom)  # where mutagen opens the file
        for call in (lambda: read_tags(path), lambda: write_genres(path, ["Rock"])):
            with pytest.raises(TagError) as info:
                call()
            assert info.value.reason == "damaged FLAC file: its structure cannot be read", info.value.reason


def test_a_readable_mutagen_sentence_is_kept():
    assert plain("can't sync to MPEG frame")
    for internal in ("error", "KeyError: 3", "'I' format requires 0 <= number <= 4294967295",
                     "bytearray index out of range", "unpack requires a buffer of 4 bytes", "3"):
        assert not plain(internal), internal


def _mp3_claiming(tmp_path, frames: int) -> str:
    """A tiny MP3 whose Xing header claims ``frames`` frames (a 552-byte file claiming ages)."""
    src = make_audio(tmp_path / "src.mp3", seconds=0.3)
    audio = mutagen.File(src)
    data = bytearray(open(src, "rb").read())
    start = data.find(b"Xing")
    if start < 0:
        start = data.find(b"Info")
    assert start > 0, "libsndfile's MP3 has no Xing/Info header"
    flags = struct.unpack(">I", data[start + 4:start + 8])[0]
    assert flags & 1
    data[start + 8:start + 12] = struct.pack(">I", frames)
    path = tmp_path / "liar.mp3"
    path.write_bytes(bytes(data[: max(audio.info.bitrate and 552, 552)]))
    return str(path)


def test_an_absurd_header_duration_is_bounded_by_the_file_size(tmp_path):
    path = _mp3_claiming(tmp_path, 0xFFFFFFF0)
    info = probe(path)
    assert 0 <= info.duration <= 552 * 8 / 8000 + 1e-9


def test_ffmpeg_error_keeps_the_real_line_not_the_repeat_notice():
    stderr = (b"[mp3 @ 0x1] Header missing\n" * 3 + b"Error while decoding stream #0:0: Invalid data found\n"
              b"    Last message repeated 38 times\n")
    assert ffmpeg_mod.last_line(stderr) == "Error while decoding stream #0:0: Invalid data found"
