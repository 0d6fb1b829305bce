"""The CLI on the one genre identity: `tag` writes one spelling per genre, `list --genre` finds any
spelling and the genres under a genre (the librarian's own included), `evaluate --audio` folders."""

from __future__ import annotations

import json
import shutil

from media import make_audio
from helpers import cli

from genre_desktop.cli.evaluate import genre_of_folder
from genre_desktop.paths import app_dirs
from genre_desktop.settings import Settings
from genre_desktop.tagging import read_genres, read_tags


def listed(capsys, store, genre) -> list[str]:
    code, out, _ = cli(capsys, "list", "--store", store, "--genre", genre, "--json")
    assert code == 0
    return sorted(r["path"].rsplit("/", 1)[-1] for r in json.loads(out))


def test_tag_spells_and_list_finds_by_the_one_identity(tmp_path, capsys):
    master = make_audio(tmp_path / "master.flac", seconds=0.5, tags={"title": "T", "genre": ["Rock"]})
    music = tmp_path / "music"
    music.mkdir()
    files = {name: str(shutil.copy(master, music / f"{name}.flac")) for name in ("a", "b", "c", "d")}
    store = str(tmp_path / "lib.json")
    assert cli(capsys, "scan", str(music), "--store", store)[0] == 0

    code, out, _ = cli(capsys, "tag", "--store", store, "--genre", "hip hop", "--genre", "HipHop", files["a"])
    assert code == 0 and read_genres(files["a"]) == ["Hip-Hop"]  # one genre given twice: written once
    cli(capsys, "tag", "--store", store, "--genre", "dnb", files["b"])
    assert read_genres(files["b"]) == ["Drum and Bass"]
    cli(capsys, "tag", "--store", store, "--genre", "House", files["c"])
    cli(capsys, "tag", "--store", store, "--genre", "lo-fi", files["d"])
    assert read_genres(files["d"]) == ["lo-fi"]  # a genre no rule spells: as typed

    assert listed(capsys, store, "hiphop") == listed(capsys, store, "Hip Hop") == ["a.flac"]
    assert listed(capsys, store, "electronic") == ["b.flac", "c.flac"]  # House and Drum and Bass are under it
    assert listed(capsys, store, "Drum & Bass") == ["b.flac"]
    assert listed(capsys, store, "rock") == [] and listed(capsys, store, "LoFi") == ["d.flac"]

    cli(capsys, "tag", "--store", store, "--genre", "electronic", "--style", "DnB", "--style", "drum & bass", files["b"])
    assert read_tags(files["b"]).genres == ["Electronic"] and read_tags(files["b"]).styles == ["Drum and Bass"]
    # The librarian's own genre under Hip-Hop, and their spelling of it, from the saved settings.
    Settings(user_genres=[{"name": "Lo-fi", "parent": "hip-hop"}]).save(app_dirs().settings_path)
    assert listed(capsys, store, "Hip-Hop") == ["a.flac", "d.flac"]
    cli(capsys, "tag", "--store", store, "--genre", "LO FI", files["c"])
    assert read_genres(files["c"]) == ["Lo-fi"]


def test_evaluate_folders_name_the_models_labels_in_any_spelling():
    labels = ["blues", "hiphop", "metal", "rock"]
    assert genre_of_folder("Hip Hop", labels) == genre_of_folder("HIP-HOP", labels) == "hiphop"
    assert genre_of_folder("Heavy Metal", labels) == genre_of_folder("Metal", labels) == "metal"
    assert genre_of_folder("Drum & Bass", ["drum and bass"]) == "drum and bass"
    assert genre_of_folder("Drum & Bass") == "drum and bass" and genre_of_folder("Polka") == "polka"
