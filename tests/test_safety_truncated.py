"""Issue 13 item 8: a truncated MP3 is said to be truncated (decoded length against the header's),
decoder notes go to the log, and a tag write does not clear a file's problem."""

from __future__ import annotations

import logging

import pytest
from media import make_audio

from genre_desktop.audio import decode, probe
from genre_desktop.library.journal import Journal
from genre_desktop.library.scanner import scan_paths
from genre_desktop.library.store import Store
from genre_desktop.library.tag_service import TagService
from genre_desktop.core.status import ERROR, UNANALYSED
from genre_desktop.tagging import WriteOptions


@pytest.fixture(scope="module")
def cut_mp3(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cut")
    full = make_audio(folder / "full.mp3", seconds=30, tags={"genre": ["Rock"]}, signal="noise")
    data = full.read_bytes()
    path = folder / "cut.mp3"
    path.write_bytes(data[: len(data) * 2 // 5])
    return path


def test_probe_says_a_cut_mp3_is_truncated_and_how_long_it_really_is(cut_mp3):
    info = probe(cut_mp3)
    assert info.problem.startswith("truncated MP3: the header says 0:30, the file holds about 0:12")
    assert abs(info.duration - len(decode(cut_mp3, sr=22050)) / 22050) < 1.0


def test_a_whole_mp3_has_no_problem(tmp_path):
    path = make_audio(tmp_path / "whole.mp3", seconds=5, signal="noise")
    info = probe(path)
    assert info.problem == "" and info.duration == pytest.approx(5, abs=0.1)


def test_scan_shows_the_truncation_and_the_real_length(tmp_path, cut_mp3):
    store = Store.open(tmp_path / "lib.json")
    summary = scan_paths([str(cut_mp3)], store)
    track = store.get(str(cut_mp3))
    assert summary.unreadable == [] and track.status == UNANALYSED
    assert track.error.startswith("truncated MP3: the header says 0:30")
    assert 11 < track.duration < 13


def test_read_tags_finds_the_truncation_in_its_own_parse(cut_mp3, tmp_path):
    """The scan reads each MP3 once: the tags' parse also says whether the file was cut short."""
    from genre_desktop.tagging import read_tags

    tags = read_tags(cut_mp3)
    assert tags.problem == probe(cut_mp3).problem
    assert tags.problem.startswith("truncated MP3: the header says 0:30, the file holds about 0:12")
    assert 11 < tags.duration < 13 and tags.genres == ["Rock"]
    whole = read_tags(make_audio(tmp_path / "whole.mp3", seconds=5, signal="noise"))
    assert whole.problem == "" and whole.duration == pytest.approx(5, abs=0.1)


def test_scanning_a_cut_mp3_parses_it_once(tmp_path, cut_mp3, monkeypatch):
    from mutagen.mp3 import MP3

    parses = []
    real = MP3.load
    monkeypatch.setattr(MP3, "load", lambda self, *a, **k: (parses.append(a), real(self, *a, **k))[1])
    store = Store.open(tmp_path / "lib.json")
    scan_paths([str(cut_mp3)], store)
    assert len(parses) == 1
    assert store.get(str(cut_mp3)).error.startswith("truncated MP3: the header says 0:30")


def test_decoder_notes_go_to_the_log_not_the_terminal(cut_mp3, capfd, caplog):
    with caplog.at_level(logging.INFO, logger="genre_desktop.audio"):
        decode(cut_mp3, sr=22050, offset=1.0, duration=2.0)
        probe(cut_mp3)
    assert "Xing" not in capfd.readouterr().err
    assert any("Xing stream size off" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("genres", [["Rock"], ["Jazz"]])
def test_a_write_does_not_clear_the_files_problem(tmp_path, genres):
    path = make_audio(tmp_path / "a.flac", seconds=0.5, tags={"genre": ["Rock"]})
    store = Store.open(tmp_path / "lib.json")
    scan_paths([str(path)], store)
    problem = "no audible audio (every segment is silent or too short)"
    store.update(str(path), status=ERROR, error=problem)  # what a failed analysis records
    service = TagService(store, Journal(tmp_path / "journal.jsonl"), WriteOptions())
    assert all(r.ok for r in service.write({str(path): genres}))
    track = store.get(str(path))
    assert (track.status, track.error, track.genres) == (ERROR, problem, genres)
