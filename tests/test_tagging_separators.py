"""Issue 22 item 7: secondary genres are read, kept and written in the file's own form.

Several genres in one text (ID3v2.3, RIFF INFO) are several genres ("/", ";", "," as real taggers
write them), never splitting inside a known name; the default write keeps what the file has.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from media import make_audio
from mutagen.id3 import ID3, TCON

from genre_desktop.app.plan import plan_changes
from genre_desktop.core.status import CORRECTED
from genre_desktop.core.track import Track
from genre_desktop.library.journal import Journal
from genre_desktop.library.scanner import scan_paths
from genre_desktop.library.store import Store
from genre_desktop.library.tag_service import TagService
from genre_desktop.settings import Settings
from genre_desktop.tagging import WriteOptions, read_tags
from genre_desktop.tagging.separators import joinable, separator_of, split_values

FIXTURES = Path(__file__).parent / "data" / "tagging"


@pytest.mark.parametrize("text,values,separator", [
    ("Rock/Blues", ["Rock", "Blues"], "/"),
    ("Hip-Hop; Rock", ["Hip-Hop", "Rock"], "; "),
    ("Hip-Hop;Rock", ["Hip-Hop", "Rock"], ";"),
    ("Rock, Pop", ["Rock", "Pop"], ", "),
    ("Rock", ["Rock"], None),
    ("", [], None),
    ("Drum & Bass", ["Drum & Bass"], None),
    ("R&B; Soul", ["R&B", "Soul"], "; "),
    ("Pop/Funk/Rock", ["Pop/Funk", "Rock"], "/"),
    ("Folk, World, & Country", ["Folk, World, & Country"], None),
    ("Funk / Soul", ["Funk / Soul"], None),
    ("Indie Dance / Nu Disco; House", ["Indie Dance / Nu Disco", "House"], "; "),
    ("Hip/Hop", ["Hip/Hop"], None),  # the genre tree knows it: Hip-Hop
    ("AC/DC", ["AC", "DC"], "/"),
    ("Rock//Jazz", ["Rock", "Jazz"], "/"),
])
def test_split_values(text, values, separator):
    assert split_values(text) == (values, separator)


def test_join_check_and_own_separator():
    assert joinable(["Rock", "Jazz"], "; ") is None
    assert joinable(["Pop/Funk", "Rock"], "/") is None
    assert "'Lo-Fi', 'Chill'" in joinable(["Lo-Fi/Chill"], "; ")
    assert separator_of(["Rock/Blues"]) == "/" and separator_of(["Rock", "Jazz"]) is None


def v23(tmp_path, value, name="a.mp3"):
    path = make_audio(tmp_path / name, seconds=0.3, tags={"title": "T"})
    tags = ID3(path)
    tags.add(TCON(encoding=1, text=[value]))
    tags.update_to_v23()
    tags.save(str(path), v2_version=3)
    return path


def test_the_scanner_reads_a_v23_rock_slash_blues_as_two_genres(tmp_path):
    path = v23(tmp_path, "Rock/Blues")
    store = Store.open(tmp_path / "library.json")
    scan_paths([str(path)], store)  # no options: what the window and the CLI get from a plain scan
    assert store.get(str(path)).genres == ["Rock", "Blues"]
    store.close()


def test_an_info_genre_list_reads_as_several(tmp_path):
    path = tmp_path / "wav.wav"
    shutil.copyfile(FIXTURES / "wav.wav", path)  # ffmpeg's INFO list: IGNR "Rock; Jazz"
    assert read_tags(path).genres == ["Rock", "Jazz"]


def write_decision(tmp_path, path, chosen, settings=Settings()):
    """The window's and the CLI's write of one reviewed track, with these settings."""
    store = Store.open(tmp_path / "library.json")
    options = WriteOptions(id3_version=settings.id3_version, id3_separator=settings.id3_separator)
    scan_paths([str(path)], store, options)
    track = store.get(str(path))
    track.status, track.chosen = CORRECTED, list(chosen)
    changes, unchanged = plan_changes([track], settings)
    service = TagService(store, Journal(tmp_path / "journal.jsonl"), options)
    results = service.write({c.path: c.new for c in changes})
    assert all(r.ok for r in results), [r.error for r in results]
    service.journal.close()
    store.close()
    return changes, unchanged


def test_the_default_write_keeps_secondary_genres_in_the_files_own_form(tmp_path):
    path = v23(tmp_path, "Hip-Hop; Rock")
    changes, unchanged = write_decision(tmp_path, path, ["Hip-Hop"])
    assert changes == [] and unchanged == 1  # the file already says Hip-Hop, and keeps Rock
    assert ID3(path)["TCON"].text == ["Hip-Hop; Rock"]
    write_decision(tmp_path / "again", path, ["Jazz"])
    assert ID3(path)["TCON"].text == ["Hip-Hop; Rock; Jazz"] and ID3(path).version[:2] == (2, 3)
    other = v23(tmp_path, "Rock/Blues", "b.mp3")
    write_decision(tmp_path / "other", other, ["Jazz"])
    assert ID3(other)["TCON"].text == ["Rock/Blues/Jazz"]  # its own "/", not the setting's "; "


def test_replace_is_still_the_users_choice(tmp_path):
    path = v23(tmp_path, "Hip-Hop; Rock")
    write_decision(tmp_path, path, ["Jazz"], Settings(write_mode="replace"))
    assert ID3(path)["TCON"].text == ["Jazz"]


def test_a_value_of_many_pieces_splits_in_linear_time_and_the_bound_is_above_every_known_name(monkeypatch):
    """A hostile ID3v2.3 genre of thousands of pieces must not stall a scan (issue 21's campaign):
    each piece is joined with at most as many following ones as a known name could span."""
    from genre_desktop.core.genre import default_tree
    from genre_desktop.tagging import separators

    longest = max(len(key) for key in default_tree()._by_name)
    assert 4 * max(longest, *(len(k) for k in separators.KNOWN)) < separators._LONGEST_NAME
    calls = []
    monkeypatch.setattr(separators, "resolve", lambda text: calls.append(text))
    text = "/".join(f"G{i}" for i in range(2000))
    values, sep = separators._split(text, ())
    assert len(values) == 2000 and sep == "/"
    assert len(calls) <= 2000 * separators._LONGEST_NAME // 2  # was 2000 * 1999 / 2
    assert max(len(c) for c in calls) < 2 * separators._LONGEST_NAME
    monkeypatch.undo()
    assert separators._split("Hip-Hop/Rap/Jazz", ())[0] == ("Hip-Hop/Rap", "Jazz")  # known names still whole
