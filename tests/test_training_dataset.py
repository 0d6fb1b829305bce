"""The training set: sources, genre names, merges, groups, counts and warnings."""

from __future__ import annotations

import pytest

from genre_desktop.core.status import ACCEPTED, CORRECTED, PREDICTED, WRITTEN
from genre_desktop.core.track import Track
from genre_desktop.settings import DEFAULT_ALIASES
from genre_desktop.training.dataset import (
    build_dataset, class_name, existing_genre_counts, group_of, resolve_merges,
)


def t(path, status=PREDICTED, chosen=None, genres=(), artist="", album="", missing=False):
    return Track(path=path, status=status, chosen=chosen, genres=list(genres), artist=artist, album=album,
                 missing=missing)


def test_class_names_are_labels_else_the_one_spelling():
    assert class_name("  Hip-Hop ", DEFAULT_ALIASES) == "hiphop"
    assert class_name("HIPHOP", DEFAULT_ALIASES) == "hiphop"
    assert class_name("Heavy Metal", DEFAULT_ALIASES) == "metal"  # the tree's node of the label
    assert class_name("hip hop") == "hiphop"  # the bundled label, aliases or not
    assert class_name("Lo-fi", {"lofi": "Lo-Fi"}) == "lofi"  # a label of the librarian's aliases
    assert class_name("K-Pop") == "k-pop"
    assert class_name("Drum  and   Bass") == class_name("dnb") == "drum and bass"


def test_sources_statuses_and_trust():
    tracks = [
        t("/a/1", CORRECTED, ["Techno"], ["Rock"], "A"),
        t("/a/2", ACCEPTED, ["rock"], artist="B"),
        t("/a/3", WRITTEN, ["Jazz", "Blues"], artist="C"),  # first chosen genre is the label
        t("/a/4", PREDICTED, ["Pop"], ["Pop"], "D"),  # predicted only: not a label, but its tag is "pop"
        t("/a/5", genres=["Ambient"], artist="E"),
        t("/a/6", CORRECTED, ["Techno"], artist="F", missing=True),  # gone from disk
        t("/a/7", CORRECTED, [], ["Rock"], "G"),  # empty choice: falls through to tags (untrusted)
    ]
    ds = build_dataset(tracks, trust_existing=["ambient", "POP"], min_tracks=1)
    got = {e.path: (e.genre, e.source) for e in ds.examples}
    assert got == {"/a/1": ("techno", "chosen"), "/a/2": ("rock", "chosen"), "/a/3": ("jazz", "chosen"),
                   "/a/4": ("pop", "trusted tag"), "/a/5": ("ambient", "trusted tag")}
    assert existing_genre_counts(tracks) == {"pop": 1, "ambient": 1, "rock": 1}


def test_merges_renames_and_cycles():
    assert resolve_merges({"House": "electronic", "Techno": "House"}) == {"house": "electronic", "techno": "electronic"}
    with pytest.raises(ValueError):
        resolve_merges({"a": "b", "b": "a"})
    tracks = [t(f"/m/{i}", CORRECTED, [g], artist=f"x{i}") for i, g in enumerate(["House", "Techno", "Techno"])]
    ds = build_dataset(tracks, merges={"Techno": "House", "house": "Electronic"}, min_tracks=1)
    assert ds.counts() == {"electronic": 3}
    assert ds.class_of("techno") == ds.class_of("HOUSE") == "electronic" and ds.class_of("DnB") == "drum and bass"


def test_groups_artist_album_folder():
    assert group_of(Track(path="/x/y.mp3", artist=" Björk ")) == "artist:björk"
    assert group_of(Track(path="/x/y.mp3", albumartist="VA")) == "artist:va"
    assert group_of(Track(path="/x/y.mp3", album="Live")) == "album:live"
    assert group_of(Track(path="/x/z/y.mp3")) == "folder:/x/z"


def test_counts_warnings_and_exclusion():
    tracks = [t(f"/r/{i}", CORRECTED, ["rock"], artist="Solo" if i < 8 else f"a{i}") for i in range(12)]
    tracks += [t(f"/k/{i}", CORRECTED, ["K-Pop"], artist=f"k{i}") for i in range(4)]
    tracks += [t(f"/o/{i}", CORRECTED, ["Opera"], artist="o") for i in range(2)]
    ds = build_dataset(tracks)
    assert ds.counts() == {"k-pop": 4, "rock": 12} and ds.excluded == {"opera": 2}
    kinds = {(w.genre, w.kind) for w in ds.warnings()}
    assert kinds == {("k-pop", "few"), ("rock", "dominant"), ("opera", "excluded")}
    rock = next(s for s in ds.summaries() if s.genre == "rock")
    assert rock.top_artist == "Solo" and rock.top_share == pytest.approx(8 / 12) and rock.artists == 5
