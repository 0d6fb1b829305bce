"""A scan of 50,000 files opens each as few times as it can (on a network share each open is a
round trip): reading the tags sniffs, checks for foreign audio and parses from one handle."""

from __future__ import annotations

import builtins

import pytest
from media import FORMATS, make_audio

from genre_desktop.library.scanner import scan_paths
from genre_desktop.library.store import Store
from genre_desktop.tagging import read_tags, write_genres

# M4A (the mono-AAC check) and WAV (RIFF INFO, streamed length) read regions of their own on top.
ONE_OPEN = [ext for ext in (".mp3", ".flac", ".ogg", ".opus", ".aiff", ".wma") if ext in FORMATS]


def _count_opens(monkeypatch, path) -> list[str]:
    opened: list[str] = []
    real = builtins.open

    def counting(file, *args, **kwargs):
        if str(file) == str(path):
            opened.append(args[0] if args else kwargs.get("mode", "r"))
        return real(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", counting)
    return opened


@pytest.mark.parametrize("ext", ONE_OPEN)
def test_reading_tags_opens_the_file_once(tmp_path, monkeypatch, ext):
    path = make_audio(tmp_path / f"a{ext}", seconds=1, tags={"title": "T", "genre": ["Rock"]})
    opened = _count_opens(monkeypatch, path)
    tags = read_tags(path)
    assert tags.genres == ["Rock"] and tags.duration == pytest.approx(1, abs=0.1)
    assert opened == ["rb"]


@pytest.mark.parametrize("ext", ONE_OPEN)
def test_scanning_opens_the_file_once(tmp_path, monkeypatch, ext):
    path = make_audio(tmp_path / f"a{ext}", seconds=1, tags={"genre": ["Jazz"]})
    store = Store.open(tmp_path / "lib.json")
    opened = _count_opens(monkeypatch, path)
    scan_paths([str(path)], store)
    assert opened == ["rb"] and store.get(str(path)).genres == ["Jazz"]


@pytest.mark.parametrize("ext", FORMATS)
def test_a_file_parsed_from_its_handle_still_saves(tmp_path, ext):
    """mutagen given a handle has no file name of its own: the one set after the parse is where a save goes."""
    path = make_audio(tmp_path / f"a{ext}", seconds=1, tags={"genre": ["Rock"]})
    write_genres(path, ["Blues"])
    assert read_tags(path).genres == ["Blues"]


def test_foreign_audio_is_still_refused_with_its_name(tmp_path):
    path = tmp_path / "a.mp3"
    path.write_bytes(b"wvpk" + b"\0" * 2000)  # WavPack under an MP3's name
    from genre_desktop.tagging import TagError

    with pytest.raises(TagError, match="WavPack"):
        write_genres(path, ["Rock"])
