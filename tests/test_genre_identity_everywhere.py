"""The one genre identity where genres are written, filtered, completed and stored: one spelling per
genre in writes, the librarian's own genres in the tree, filters that follow the tree."""

from __future__ import annotations

import json

import pytest

from genre_desktop.app.plan import plan_changes
from genre_desktop.app.review import ReviewRules
from genre_desktop.core.genre import canonical_genre, default_tree, genre_matcher
from genre_desktop.core.genre_spelling import GenreSpelling, add_user_genres, spelling_for, user_tree
from genre_desktop.library.store import Store
from genre_desktop.core.status import ACCEPTED, CORRECTED, WRITTEN
from genre_desktop.core.track import Track
from genre_desktop.settings import DEFAULT_ALIASES, Settings


def corrected(path: str, genre: str, genres=()) -> Track:
    return Track(path, genres=list(genres), status=CORRECTED, chosen=[genre])


def test_one_genre_typed_three_ways_is_written_one_way():
    """Lo-fi, lo-fi and Lo-Fi chosen on three tracks went into three files as three spellings."""
    tracks = [corrected("/m/1.flac", "Lo-fi"), corrected("/m/2.flac", "lo-fi"), corrected("/m/3.flac", "Lo-Fi")]
    changes, _ = plan_changes(tracks, Settings())
    assert len({tuple(c.new) for c in changes}) == 1 and len(changes) == 3
    # The library's files already say it one way: the write follows them.
    tagged = [Track(f"/m/t{i}.flac", genres=["Lo-fi"], status=WRITTEN, chosen=["Lo-fi"]) for i in range(2)]
    changes, _ = plan_changes(tracks + tagged, Settings())
    assert {tuple(c.new) for c in changes} == {("Lo-fi",)} and len(changes) == 3
    # The librarian's own genre (the genre editor) names it: that spelling wins everywhere.
    mine = Settings(user_genres=[{"name": "LoFi", "parent": "hip-hop"}])
    changes, _ = plan_changes(tracks + tagged, mine)
    assert {tuple(c.new) for c in changes} == {("LoFi",)} and len(changes) == 3


def test_tree_genres_are_written_with_the_trees_name_or_the_alias():
    tracks = [corrected("/m/1.mp3", "dnb"), corrected("/m/2.mp3", "Drum & Bass"), corrected("/m/3.mp3", "hip hop"),
              corrected("/m/4.mp3", "heavy metal", genres=["Metal"])]
    changes, unchanged = plan_changes(tracks, Settings())
    assert {c.path: c.new for c in changes} == {"/m/1.mp3": ["Drum and Bass"], "/m/2.mp3": ["Drum and Bass"],
                                                 "/m/3.mp3": ["Hip-Hop"]}
    assert unchanged == 1  # "Metal" is how the bundled aliases write Heavy Metal: already right
    spelled = Settings(aliases={**DEFAULT_ALIASES, "drum-and-bass": "DnB"})
    changes, _ = plan_changes(tracks, spelled)
    assert {c.path: c.new for c in changes}["/m/2.mp3"] == ["DnB"]
    settings = Settings(write_mode="add", max_genres=2)
    both = Track("/m/5.mp3", genres=["drum n bass"], status=CORRECTED, chosen=["DnB", "Jungle"])
    assert plan_changes([both], settings)[0][0].new == ["drum n bass", "Jungle"]  # the file keeps its own


def test_settings_spell_every_spelling_of_a_genre_one_way():
    settings = Settings()
    assert settings.spell("hiphop") == settings.spell("Hip Hop") == settings.spell("HIPHOP") == "Hip-Hop"
    assert settings.spell("metal") == settings.spell("Heavy Metal") == "Metal"  # the bundled alias
    assert settings.spell("rnb") == "R&B" and settings.spell("  k-pop ") == "k-pop"


def test_user_genres_join_the_tree_and_collisions_merge():
    tree = add_user_genres(default_tree(), [
        {"name": "Lo-fi", "parent": "hip-hop"}, {"name": "Chillhop", "parent": "lofi"},  # under one of theirs
        {"name": "Synthwave", "parent": "Electronic"},  # a parent given by name
        {"name": "Hip Hop"}, {"name": "dnb", "parent": "rock"},  # tree genres: merged, nothing added
        {"name": "lo fi"},  # one of theirs again
        {"name": "Vaporwave", "parent": "no-such-genre"}, {"name": ""}, "junk",
    ])
    mine = [n for n in tree if n.user]
    assert [(n.name, n.parent) for n in mine] == [("Lo-fi", "hip-hop"), ("Chillhop", "lofi"),
                                                  ("Synthwave", "electronic"), ("Vaporwave", None)]
    assert tree.path("chillhop") == ("Hip-Hop", "Lo-fi", "Chillhop")
    assert len(tree) == len(default_tree()) + 4 and tree.node("drum-and-bass").parent == "electronic"
    assert tree.canonical("LO-FI") == canonical_genre("lo-fi") == "lofi"  # one identity with or without them
    looped = add_user_genres(default_tree(), [{"name": "A", "parent": "b"}, {"name": "B", "parent": "a"}])
    assert {(n.name, n.parent) for n in looped if n.user} == {("A", None), ("B", "a")}


def test_filters_follow_the_tree():
    electronic = genre_matcher("electronic")
    assert electronic(["House"]) and electronic(["Drum & Bass"]) and electronic(["jungle"]) and electronic(["EDM"])
    assert not electronic(["Rock"]) and not electronic([])
    hiphop = genre_matcher("hiphop")
    assert hiphop(["Hip-Hop"]) and hiphop(["Rock", "hip hop"]) and hiphop(["Trap"]) and not hiphop(["Pop"])
    assert not genre_matcher("House")(["Electronic"])  # a child does not find its parent
    mine = user_tree([{"name": "Lo-fi", "parent": "hip-hop"}])
    assert genre_matcher("Hip Hop", tree=mine)(["lofi"]) and not genre_matcher("Hip Hop")(["lofi"])
    assert genre_matcher("Urban", {"hiphop": "Urban"})(["Hip-Hop"])
    assert genre_matcher("Lo-Fi")(["lo fi"]) and not genre_matcher("Lo-Fi")(["Hi-Fi"])


def test_the_store_filters_by_the_one_identity(tmp_path):
    store = Store.open(tmp_path / "s.json")
    store.upsert([Track("/m/a.flac", genres=["Hip-Hop"]), Track("/m/b.flac", genres=["House"]),
                  Track("/m/c.flac", genres=["Rock"]), Track("/m/d.flac", genres=["DnB", "Ambient"])])
    found = {g: sorted(t.path for t in store.query(genre=g))
             for g in ("hiphop", "Hip Hop", "electronic", "drum and bass", "metal")}
    assert found == {"hiphop": ["/m/a.flac"], "Hip Hop": ["/m/a.flac"], "electronic": ["/m/b.flac", "/m/d.flac"],
                     "drum and bass": ["/m/d.flac"], "metal": []}
    store.close()


def test_completion_offers_one_spelling_per_genre_including_the_librarians():
    tracks = [Track("/m/a", genres=["hip hop", "Lo-Fi"], chosen=["lo-fi"], status=ACCEPTED),
              Track("/m/b", genres=["Lo-Fi"])]
    names = ReviewRules(aliases=DEFAULT_ALIASES).known_genres(tracks, list(DEFAULT_ALIASES))
    assert "Hip-Hop" in names and "Metal" in names and "Drum and Bass" in names and "Lo-Fi" in names
    assert not {"hip hop", "lo-fi", "hiphop", "Heavy Metal"} & set(names)
    rules = ReviewRules(aliases=DEFAULT_ALIASES, user_genres=[{"name": "Synthwave", "parent": "electronic"}])
    assert "Synthwave" in rules.known_genres([])
    assert rules.identity("dnb") == rules.identity("Drum and Bass")


def test_old_settings_files_load_unchanged_and_user_genres_round_trip(tmp_path):
    path = tmp_path / "settings.json"
    old = {"aliases": {"hiphop": "Hip Hop", "house": "House Music"}, "max_genres": 2}
    path.write_text(json.dumps(old))
    settings = Settings.load(path)
    assert settings.user_genres == [] and settings.aliases == old["aliases"] and settings.max_genres == 2
    assert settings.spell("hip-hop") == "Hip Hop" and settings.spell("house") == "House Music"
    mine = settings.replace(user_genres=[{"name": "Lo-fi", "parent": "hip-hop"}])
    assert settings.user_genres == []  # replace never shares the list
    mine.save(path)
    again = Settings.load(path)
    assert again.user_genres == [{"name": "Lo-fi", "parent": "hip-hop"}]
    assert again.genre_tree().path("lofi") == ("Hip-Hop", "Lo-fi") and again.spell("LOFI") == "Lo-fi"
    path.write_text(json.dumps({"user_genres": "Lo-fi"}))  # not a list: the default
    assert Settings.load(path).user_genres == []
    newer = {"name": "Vaporwave", "parent": None, "colour": "#ff00ff"}  # a key of a newer version stays
    path.write_text(json.dumps({"user_genres": [newer, {"parent": "rock"}, "junk"]}))
    assert Settings.load(path).user_genres == [newer]


def test_spelling_rules_in_order():
    spelling = GenreSpelling({"hiphop": "Hip Hop"}, user_tree([{"name": "Lo-fi"}]),
                             used=["Trip-Hop", "trip hop", "trip hop", "Lo-Fi", "Lo-Fi", "Hip-Hop"])
    assert spelling.spell("hip-hop") == "Hip Hop"  # 1: the alias
    assert spelling.spell("lofi") == "Lo-fi"  # 2: the librarian's genre, not the library's "Lo-Fi"
    assert spelling.spell("dnb") == "Drum and Bass"  # 2: the tree's name
    assert spelling.spell("TRIP HOP") == "trip hop"  # 3: the most used spelling
    assert spelling.spell("  Vapor   wave ") == "Vapor wave"  # 4: as given, tidied
    assert spelling_for(DEFAULT_ALIASES) is spelling_for(dict(DEFAULT_ALIASES))  # shared per settings


@pytest.mark.parametrize("name", ["Hip-Hop", "hip hop", "HipHop", "R&B", "RnB", "DnB", "Drum'n'Bass", "Lo-fi"])
def test_review_rules_accept_any_spelling_of_the_predicted_genre(name):
    rules = ReviewRules(Settings().spell, DEFAULT_ALIASES)
    label = {"Lo-fi": "lofi", "R&B": "r-and-b", "RnB": "rnb", "DnB": "dnb", "Drum'n'Bass": "drum and bass"}.get(name, "hiphop")
    track = Track("/m/x", genres=[name], status="predicted",
                  prediction={"path": "/m/x", "genres": [{"genre": label, "probability": 0.9}]})
    assert rules.status_for(track, name) == ACCEPTED and not rules.disagrees(track)
