"""``tag --genre G --style S FILE...`` for real: the style reaches STYLE (or GROUPING) in every
container, other readers see it, the store records it, and ``undo`` puts the file back."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from tag_readers import mediafile_fields, taglib_props
from helpers import cli, sha

from genre_desktop.library.store import Store
from genre_desktop.tagging import WriteOptions, read_tags

FIXTURES = Path(__file__).parent / "data" / "tagging"
NAMES = ["mp3_v23.mp3", "mp3_v24.mp3", "flac.flac", "m4a.m4a", "wma.wma", "wav.wav"]


@pytest.fixture
def music(tmp_path):
    folder = tmp_path / "music"
    folder.mkdir()
    for name in NAMES:
        shutil.copyfile(FIXTURES / name, folder / name)
    return folder


def test_tag_writes_genres_and_styles_and_undo_restores_the_files(music, tmp_path, capsys):
    store = str(tmp_path / "lib.json")
    files = [str(music / n) for n in NAMES]
    before = {f: sha(f) for f in files}
    before_raw = {f: read_tags(f).raw for f in files}
    code, out, err = cli(capsys, "tag", "--genre", "Hip-Hop", "--style", "Boom Bap", "--style", "Jazz Rap",
                         *files, "--store", store)
    assert code == 0, out + err
    assert "style: Bebop -> Boom Bap; Jazz Rap" in out  # each file's old and new style are shown
    for f in files:
        tags = read_tags(f)
        assert tags.genres == ["Hip-Hop"]  # tag sets the genre field to what it is given
        assert tags.styles == ["Boom Bap", "Jazz Rap"], f
        assert mediafile_fields(f)["styles"][:1] in (["Boom Bap"], ["Boom Bap; Jazz Rap"])
        if not f.endswith(".wma"):  # (TagLib has no STYLE for ASF)
            assert taglib_props(f)["STYLE"][0].startswith("Boom Bap")
    opened = Store.open(store)
    assert opened.get(files[0]).styles == ["Boom Bap", "Jazz Rap"]
    opened.close()

    code, out, err = cli(capsys, "undo", "--store", store)
    assert code == 0, out + err
    assert {f: read_tags(f).raw for f in files} == before_raw  # every field's places as stored
    # Byte for byte too, but for ID3v2.3: mutagen folds TYER/TDAT into TDRC on loading and writes
    # them back in its own text encoding (the journal's byte-exact undo is the undo engineer's).
    assert {f: sha(f) for f in files if "v23" not in f} == {f: h for f, h in before.items() if "v23" not in f}
    opened = Store.open(store)
    assert opened.get(files[2]).styles == ["Bebop"]
    opened.close()


def test_a_style_alone_keeps_the_genres_and_may_go_to_grouping(music, tmp_path, capsys):
    store = str(tmp_path / "lib.json")
    path = str(music / "flac.flac")
    code, out, err = cli(capsys, "tag", "--style", "Hard Bop", "--style-field", "grouping", path, "--store", store)
    assert code == 0, out + err
    tags = read_tags(path)
    assert tags.genres == ["Rock", "Jazz"] and tags.styles == ["Bebop"] and tags.grouping == "Hard Bop"
    assert read_tags(path, WriteOptions(style_field="grouping")).styles == ["Hard Bop"]
    assert mediafile_fields(path)["grouping"] == "Hard Bop"


def test_tag_without_genre_or_style_says_so(music, tmp_path, capsys):
    code, out, err = cli(capsys, "tag", str(music / "flac.flac"), "--store", str(tmp_path / "lib.json"))
    assert code == 2 and "give --genre and/or --style" in err
