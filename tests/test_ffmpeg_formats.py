"""Formats only ffmpeg decodes (WavPack, TTA, DSD, M4B, Matroska, CAF, Speex, Wave64, AC-3) are scanned and
analysed; only writing their tags is refused, with the reason. ffmpeg's words become the user's."""

from __future__ import annotations


import numpy as np
import pytest
from ffmpeg_media import FFMPEG_MADE, TAGGED_BY_FFMPEG, alac_of_unknown_depth, dsdiff, dsf, ffmpeg_made
from media import ffmpeg_available
from helpers import sha

from genre_desktop.audio import SUPPORTED_EXTENSIONS, DecodeError, decode, probe
from genre_desktop.audio.ffmpeg import ffmpeg_reason
from genre_desktop.library.scanner import scan, scan_paths
from genre_desktop.library.store import Store
from genre_desktop.tagging import TagError, read_tags, write_genres
from genre_desktop.tagging.registry import unwritable_reason

pytestmark = pytest.mark.skipif(not ffmpeg_available(), reason="ffmpeg is not installed")

NAMES = {".wv": "WavPack", ".tta": "TTA", ".mka": "Matroska/WebM", ".caf": "Core Audio (CAF)",
         ".spx": "Speex in Ogg", ".w64": "Wave64", ".dsf": "DSF (DSD audio)", ".dff": "DSDIFF (DSD audio)"}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("ffmpeg-only")
    for ext in FFMPEG_MADE:
        ffmpeg_made(root / f"song{ext}")
    dsf(root / "song.dsf")
    dsdiff(root / "song.dff")
    return root


def test_the_scan_finds_reads_and_keeps_every_one(folder, tmp_path):
    assert {".wv", ".mpc", ".ape", ".tta", ".tak", ".dsf", ".dff", ".m4b", ".mka"} <= SUPPORTED_EXTENSIONS
    store = Store.open(tmp_path / "lib.json")
    gen = scan(folder, store)
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            summary = stop.value
            break
    assert summary.unreadable == [] and summary.found == len(FFMPEG_MADE) + 2
    for path in folder.iterdir():
        track = store.get(str(path))
        assert track.error is None and track.duration > 0.4, (path.name, track.error, track.duration)
        if path.suffix in TAGGED_BY_FFMPEG:  # their own tags, read though never written
            assert (track.title, track.artist, track.genres) == ("Tit", "Art", ["Rock"]), path.name
    assert scan_paths([str(folder / "song.dsf")], store).unreadable == []


@pytest.mark.parametrize("name", sorted(NAMES))
def test_it_decodes_and_only_writing_is_refused(folder, name):
    path = folder / f"song{name}"
    info = probe(path)
    y = decode(path, 22050)
    assert abs(len(y) / 22050 - info.duration) < 0.1 and np.abs(y).max() > 0.05, name
    before = sha(path)
    with pytest.raises(TagError) as refused:
        write_genres(path, ["Jazz"])
    assert refused.value.reason == f"tags cannot be written for this format ({NAMES[name]}) yet"
    assert sha(path) == before
    assert unwritable_reason(str(path), read_tags(path).format).startswith("tags cannot be written for this format")


def test_dolby_digital_is_scanned_and_decoded_and_has_no_tag_format(folder, tmp_path):
    """AC-3 and E-AC-3 (DVD and broadcast rips) carry no tags: in the library without a 'damaged'
    note, analysable, and a write says why there is nothing to write to."""
    from genre_desktop.library.journal import Journal
    from genre_desktop.library.tag_service import TagService

    store = Store.open(tmp_path / "lib.json")
    paths = [folder / "song.ac3", folder / "song.eac3"]
    summary = scan_paths([str(p) for p in paths], store)
    assert summary.unreadable == [] and summary.damaged == []
    for path, name in zip(paths, ("Dolby Digital (AC-3)", "Dolby Digital Plus (E-AC-3)")):
        track = store.get(str(path))
        assert track.error is None and track.duration == pytest.approx(2.0, abs=0.1), track
        y = decode(path, 22050)
        assert np.abs(y).max() > 0.05
        before = sha(path)
        [result] = TagService(store, Journal(tmp_path / "journal.jsonl")).write({str(path): ["Jazz"]})
        assert not result.ok and result.error == f"audio format not supported for tagging ({name}, which has no tag format)"
        assert sha(path) == before


def test_dsd_decodes_at_an_eighth_of_its_bit_rate(folder):
    for name in ("song.dsf", "song.dff"):
        info = probe(folder / name)
        assert (info.samplerate, info.channels) == (352800, 2) and info.duration == pytest.approx(0.5, abs=0.02)
        y = decode(folder / name, 22050, offset=0.1, duration=0.2)
        spectrum = np.abs(np.fft.rfft(y * np.hanning(len(y))))
        assert abs(np.argmax(spectrum) * 22050 / len(y) - 440) < 15  # the tone the bits carry


def test_an_m4b_audiobook_is_an_mp4_and_is_written_and_undone(folder, tmp_path):
    from genre_desktop.library.journal import Journal
    from genre_desktop.library.tag_service import TagService

    path = tmp_path / "book.m4b"
    path.write_bytes((folder / "song.m4b").read_bytes())
    before = sha(path)
    store = Store.open(tmp_path / "lib.json")
    scan_paths([str(path)], store)
    service = TagService(store, Journal(tmp_path / "journal.jsonl"))
    assert service.write({str(path): ["Audiobook"]})[0].ok
    assert read_tags(path).genres == ["Audiobook"]
    assert service.undo()[0].exact and sha(path) == before


def test_ffmpeg_words_become_the_users(tmp_path):
    path = alac_of_unknown_depth(tmp_path / "odd.m4a")
    assert probe(path).duration > 0.5  # the scan keeps it
    with pytest.raises(DecodeError) as info:
        decode(path)
    assert info.value.reason == "ffmpeg cannot decode it: this ALAC variant cannot be decoded (ffmpeg does not support it)"
    assert ffmpeg_reason(b"[mov,mp4,m4a,3gp,3g2,mj2 @ 0x55d5] moov atom not found\ncut.m4a: Invalid data found "
                         b"when processing input\n") == ("the file has no index (its moov atom is missing: an "
                                                          "interrupted recording or download?)")
    assert ffmpeg_reason(b"Error while opening decoder for input stream #0:0 : Not yet implemented in FFmpeg, "
                         b"patches welcome\n", "Musepack") == ("this Musepack variant cannot be decoded (ffmpeg "
                                                                "does not support it)")
    assert ffmpeg_reason(b"[aac @ 0x1] something new\n") == "something new"


def test_they_are_analysed(folder, tmp_path):
    from genre_desktop.inference.analyzer import Analyzer

    analyzer = Analyzer(musicnn=False, threads=1)
    for path in (folder / "song.wv", folder / "song.mka", dsf(tmp_path / "long.dsf", seconds=4.0, channels=1)):
        prediction = analyzer.analyze(path).prediction
        assert not prediction.error and prediction.genres, (path.name, prediction.error)
