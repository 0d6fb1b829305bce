"""The genre tree (core/genre_tree.json, tools/build_genre_tree.py) and the one identity rule on it."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

from genre_desktop.core.genre import (
    GenreNode,
    GenreTree,
    canonical_genre,
    children,
    class_index_nodes,
    default_tree,
    descendants,
    gtzan_nodes,
    name_key,
    node,
    path,
    resolve,
    same_genre,
)
from genre_desktop.settings import DEFAULT_ALIASES

ROOT = Path(__file__).resolve().parents[1]


def _tool():
    spec = importlib.util.spec_from_file_location("_build_genre_tree", ROOT / "tools" / "build_genre_tree.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("key, spellings", [
    ("hip-hop", ["Hip-Hop", "Hip Hop", "HipHop", "hip_hop", "hiphop", "HIP HOP", "Hip Hop Music", "Hip hop music"]),
    ("drum-and-bass", ["Drum and Bass", "drum & bass", "Drum'n'Bass", "Drum 'n' Bass", "drum-n-bass", "DnB", "D&B",
                       "DRUMANDBASS", "Drum&Bass"]),
    ("r-and-b", ["R&B", "RnB", "R'n'B", "r & b", "R and B", "Rhythm and Blues", "rhythm & blues"]),
    ("heavy-metal", ["Heavy Metal", "heavy-metal", "Metal", "metal"]),
    ("classical", ["Classical", "classical music", "CLASSICAL"]),
    ("electronic-dance-music", ["EDM", "Electronic Dance Music", "electronic dance"]),
    ("a-cappella", ["A Cappella", "A capella", "Acapella"]),
    ("rock-and-roll", ["Rock and Roll", "Rock'n'Roll", "Rock & Roll", "rock n roll"]),
    ("latin", ["Latin", "Music of Latin America", "Latin American"]),
    ("new-age", ["New Age", "New-Age", "new-age music"]),
])
def test_every_spelling_of_a_genre_resolves_to_its_one_node(key, spellings):
    for spelling in spellings:
        assert canonical_genre(spelling) == key, spelling
        assert resolve(spelling) is node(key), spelling
        assert canonical_genre(spelling, DEFAULT_ALIASES) == key, spelling


def test_names_that_are_no_node_keep_the_name_key():
    assert resolve("Lo-fi") is None
    assert canonical_genre("Lo-fi") == canonical_genre("lo-fi") == canonical_genre("Lo-Fi") == "lofi"
    assert canonical_genre("LOFI") == canonical_genre("lo fi") == "lofi"
    assert canonical_genre("Lo-fi Music") == "lofi"  # a trailing "music" does not count
    assert canonical_genre("K-Pop") == "kpop" and not same_genre("K-Pop", "Pop")
    assert canonical_genre("演歌") != canonical_genre("ロック")
    assert canonical_genre("Música Popular") == canonical_genre("música-popular")
    assert canonical_genre("Música") == canonical_genre("Mu\u0301sica")  # composed or not, one letter
    assert canonical_genre("Music") == "music" and canonical_genre("!!!") == "!!!"
    assert not same_genre("Electronic", "Electronica") and not same_genre("Funk", "Funk Carioca")


def test_the_librarians_aliases_name_their_labels_genre():
    assert canonical_genre("Urban", {"hiphop": "Urban"}) == "hip-hop"
    assert canonical_genre("Chill", {"lofi": "Chill"}) == canonical_genre("Lo-Fi") == "lofi"
    assert resolve("Urban", {"hiphop": "Urban"}) is node("hip-hop")
    assert canonical_genre("Urban") == "urban"  # without the alias it is a genre of its own


def test_readable_names_and_the_gtzan_labels():
    names = [n.name for n in default_tree()]
    for name in ("Hip-Hop", "Drum and Bass", "Classical", "R&B", "Electronic", "House", "Salsa", "Heavy Metal"):
        assert name in names
    named_music = {"Children's Music", "Electronic Dance Music"}  # the genres' own names
    assert not [n for n in names if n.lower().endswith(" music") and n not in named_music]
    assert not [n for n in names if n.lower().startswith("music ")]
    expected = {"blues": "Blues", "classical": "Classical", "country": "Country", "disco": "Disco",
                "hiphop": "Hip-Hop", "jazz": "Jazz", "metal": "Heavy Metal", "pop": "Pop", "reggae": "Reggae",
                "rock": "Rock"}
    assert {label: n.name for label, n in gtzan_nodes().items()} == expected
    for label, spelled in DEFAULT_ALIASES.items():  # the bundled spellings are the same genres
        assert same_genre(label, spelled) and resolve(spelled).gtzan == label


def test_every_genre_class_of_the_network_is_a_node_with_its_index():
    by_index = class_index_nodes()
    assert set(range(216, 266)) <= set(by_index)
    assert set(by_index) - set(range(216, 266)) == {30, 31}  # Chant and Mantra: AudioSet classes too
    assert by_index[217].name == "Hip-Hop" and by_index[243].name == "Drum and Bass" and by_index[249].name == "Salsa"
    assert resolve("Jungle").class_index is None  # a genre AudioSet names but the network does not output
    assert all(n.audioset_id and n.audioset_id.startswith("/m/") for n in default_tree())


def test_shape_paths_children_descendants():
    tree = default_tree()
    assert len(tree) == 65 and len(children()) == 25
    assert path("house") == ("Electronic", "House")
    assert path(node("jungle")) == ("Electronic", "Drum and Bass", "Jungle")
    assert path("jazz") == ("Jazz",)
    assert [a.key for a in tree.ancestors("jungle")] == ["electronic", "drum-and-bass"]
    assert tree.parent("house") is node("electronic") and tree.parent("electronic") is None
    below = [n.key for n in descendants("electronic")]
    assert "house" in below and "jungle" in below and "drone" in below and "electronic" not in below
    assert below.index("drum-and-bass") < below.index("jungle")
    assert [n.name for n in children("rock")][:2] == ["Heavy Metal", "Punk Rock"]
    assert tree.is_under("jungle", "electronic") and tree.is_under("rock", "rock")
    assert not tree.is_under("rock", "heavy-metal")
    with pytest.raises(KeyError, match="no genre with the key"):
        node("polka")
    assert tree.get("polka") is None and "house" in tree and node("house") in tree


def test_several_parents_in_audioset_one_parent_in_the_tree():
    beatboxing = node("beatboxing")
    assert beatboxing.parent == "hip-hop" and beatboxing.also_under == ("vocal",)
    assert beatboxing not in descendants("vocal")
    assert node("swing").parent == "jazz"  # AudioSet files Swing under Country; its own text says jazz
    assert node("chant").parent == "vocal"


def test_a_tree_refuses_duplicate_keys_unknown_parents_and_loops():
    with pytest.raises(ValueError, match="two nodes"):
        GenreTree([GenreNode("a", "A"), GenreNode("a", "A again")])
    with pytest.raises(ValueError, match="unknown parent"):
        GenreTree([GenreNode("a", "A", parent="b")])
    with pytest.raises(ValueError, match="loops"):
        GenreTree([GenreNode("r", "R"), GenreNode("a", "A", parent="b"), GenreNode("b", "B", parent="a")])


def test_the_data_file_carries_its_attribution_and_licence():
    package = resources.files("genre_desktop.core")
    document = json.loads(package.joinpath("genre_tree.json").read_text(encoding="utf-8"))
    assert "AudioSet ontology" in document["attribution"] and "CC BY-SA 4.0" in document["attribution"]
    assert "CC BY 4.0" in document["attribution"] and document["changes"]
    notice = package.joinpath("genre_tree.LICENSE.txt").read_text(encoding="utf-8")
    assert "CC BY-SA 4.0" in notice and "creativecommons.org/licenses/by-sa/4.0" in notice
    assert "Changes made" in notice and "Google" in notice


def test_nothing_is_read_at_import():
    code = ("import genre_desktop.core, genre_desktop.core.genre_tree as t; assert t._default is None; "
            "import genre_desktop.core.genre as g; g.canonical_genre('x'); assert t._default is not None")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_name_key_rule():
    assert name_key("Drum'n'Bass") == name_key("drum and bass") == "drumandbass"
    assert name_key("N-Dubz") == "ndubz"  # a leading or trailing "n" is a letter, not "and"
    assert name_key("Soul Music") == "soul" and name_key("Music") == "music"


# -- the build tool ----------------------------------------------------------------------------------

def _ontology():
    def cls(i, name, children=(), restrictions=()):
        return {"id": i, "name": name, "child_ids": list(children), "restrictions": list(restrictions)}
    return [
        cls("/m/0kpv1t", "Music genre", ["/m/hh", "/m/0y4f8", "/m/el"], ["abstract"]),
        cls("/m/hh", "Hip hop music", ["/m/bb", "/m/tr"]),
        cls("/m/tr", "Trap music", restrictions=["blacklist"]),
        cls("/m/bb", "Beatboxing"),
        cls("/m/0y4f8", "Vocal music", ["/m/bb"]),
        cls("/m/el", "Electronic music", ["/m/0283d"]),
        cls("/m/0283d", "Drum and bass"),
        cls("/m/x", "Speech"),
    ]


def test_the_tool_applies_its_rules_and_keeps_published_keys(monkeypatch):
    tool = _tool()
    monkeypatch.setattr(tool, "GTZAN", {"hiphop": "/m/hh"})
    indices = {"/m/hh": 217, "/m/bb": 218, "/m/0283d": 243}
    first = tool.render(tool.build(_ontology(), indices))
    assert first == tool.render(tool.build(_ontology(), indices))
    nodes = {n["key"]: n for n in json.loads(first)["nodes"]}
    assert list(nodes) == ["hip-hop", "beatboxing", "trap", "vocal", "electronic", "drum-and-bass"]
    assert nodes["beatboxing"]["also_under"] == ["vocal"] and nodes["beatboxing"]["parent"] == "hip-hop"
    assert nodes["trap"]["class_index"] is None and nodes["drum-and-bass"]["aliases"] == ["DnB", "D&B"]
    assert nodes["hip-hop"]["gtzan"] == "hiphop" and nodes["hip-hop"]["aliases"] == []
    # A node renamed later keeps the key already published (settings store keys).
    monkeypatch.setitem(tool.NAMES, "/m/0283d", "Drum & Bass")
    old = {n["audioset_id"]: n["key"] for n in nodes.values()}
    renamed = {n["key"]: n for n in tool.build(_ontology(), indices, old)["nodes"]}
    assert renamed["drum-and-bass"]["name"] == "Drum & Bass"
    # A spelling that would name two nodes stops the build.
    monkeypatch.setitem(tool.ALIASES, "/m/el", ["Beat Boxing"])
    with pytest.raises(SystemExit, match="would name both"):
        tool.build(_ontology(), indices)


def test_running_the_tool_again_gives_the_shipped_file(tmp_path):
    tool = _tool()
    source = tool.default_source()
    if source is None:
        pytest.skip("shared/models/efficientat (the AudioSet ontology) not found")
    shipped = ROOT / "genre_desktop" / "core"
    (tmp_path / "genre_tree.json").write_bytes((shipped / "genre_tree.json").read_bytes())
    assert tool.main(["--source", str(source), "--out", str(tmp_path)]) == 0
    for name in ("genre_tree.json", "genre_tree.LICENSE.txt"):
        assert (tmp_path / name).read_bytes() == (shipped / name).read_bytes(), name
    fresh = tmp_path / "fresh"  # and from nothing (no published keys to keep)
    assert tool.main(["--source", str(source), "--out", str(fresh)]) == 0
    assert (fresh / "genre_tree.json").read_bytes() == (shipped / "genre_tree.json").read_bytes()
