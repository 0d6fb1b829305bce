"""Genre and style apart (issue 20 item 5) and spoken word left out of bulk accepts (item 6), below
the window: where a write puts a chosen genre's parent (``Settings.genre_layout``), a chosen style
(``Track.chosen_style``), ``write --layout``, ``accept --above`` and ``list --content``; other
readers (TagLib, mediafile) see what was written and ``undo`` gives the files back exactly."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from tag_readers import mediafile_fields, taglib_props
from helpers import cli, sha

from genre_desktop.app.plan import new_fields, plan_write
from genre_desktop.app.review import ReviewRules, content_matcher, decided
from genre_desktop.core.prediction import MUSIC, NO_AUDIO, SPOKEN_WORD, Prediction
from genre_desktop.core.status import ACCEPTED, CORRECTED, PREDICTED, WRITTEN
from genre_desktop.core.track import Track
from genre_desktop.library.store import Store
from genre_desktop.settings import Settings
from genre_desktop.tagging import read_tags

FIXTURES = Path(__file__).parent / "data" / "tagging"


def track(chosen=None, status=CORRECTED, genres=(), styles=(), chosen_style=None, **kw) -> Track:
    return Track("/m/a.flac", genres=list(genres), styles=list(styles), chosen=chosen, status=status,
                 chosen_style=chosen_style, format="flac", **kw)


@pytest.mark.parametrize("layout, genres, styles", [
    ("genre", ["House"], None),
    ("style", ["Electronic"], ["House"]),
    ("parent", ["Electronic", "House"], None),
])
def test_the_layout_places_a_genre_and_its_parent(layout, genres, styles):
    settings = Settings(write_mode="replace", genre_layout=layout)
    assert new_fields(track(["house"]), settings) == (genres, styles)


def test_a_deeper_genre_puts_its_top_level_parent_in_the_genre_field():
    t = track(["Jungle"])
    assert new_fields(t, Settings(write_mode="replace", genre_layout="style")) == (["Electronic"], ["Jungle"])
    assert new_fields(t, Settings(write_mode="replace", genre_layout="parent")) == (
        ["Electronic", "Drum and Bass", "Jungle"], None)


def test_a_top_level_or_unknown_genre_stays_in_the_genre_field_and_add_mode_keeps_the_files_values():
    settings = Settings(genre_layout="style")  # "add" mode: the file's genres and styles stay
    assert new_fields(track(["rock"]), settings) == (["Rock"], None)
    assert new_fields(track(["Vaporwave"], genres=["Pop"]), settings) == (["Pop", "Vaporwave"], None)
    t = track(["Techno"], genres=["Electronic"], styles=["Minimal"])
    assert new_fields(t, settings) == (["Electronic"], ["Minimal", "Techno"])


def test_an_accepted_gtzan_label_follows_its_alias_and_the_tree():
    t = track(["metal"], status=ACCEPTED, prediction=Prediction("/m/a.flac", genres=[("metal", 0.9)]))
    assert new_fields(t, Settings(write_mode="replace", genre_layout="style")) == (["Rock"], ["Metal"])
    assert new_fields(t, Settings(write_mode="replace", genre_layout="parent")) == (["Rock", "Metal"], None)


def test_the_librarians_own_genre_under_a_parent_is_placed_too():
    settings = Settings(write_mode="replace", genre_layout="style", user_genres=[{"name": "Lo-fi", "parent": "hip-hop"}])
    assert new_fields(track(["lo fi"]), settings) == (["Hip-Hop"], ["Lo-fi"])
    assert new_fields(track(["LO-FI"]), settings.replace(genre_layout="parent")) == (["Hip-Hop", "Lo-fi"], None)


def test_a_layout_the_settings_do_not_know_falls_back_to_the_default(tmp_path):
    path = tmp_path / "settings.json"
    Settings(genre_layout="parent").save(path)
    assert Settings.load(path).genre_layout == "parent"
    path.write_text('{"genre_layout": "sideways"}')
    assert Settings.load(path).genre_layout == "genre"


def test_a_chosen_style_joins_the_plan_as_a_field_of_its_own():
    t = track(["Hip-Hop"], genres=["Hip-Hop"], styles=["Boom Bap"], chosen_style=["trap"])
    plan = plan_write([t], Settings(write_mode="replace"))
    (change,) = plan.changes
    assert change.new == ["Hip-Hop"] and change.fields == {"style": (["Boom Bap"], ["Trap"])}
    assert plan.values() == {t.path: {"genre": ["Hip-Hop"], "style": ["Trap"]}}
    assert plan.field_names() == ["style"]
    t.styles = ["Trap"]  # the file says so already: nothing to write
    plan = plan_write([t], Settings(write_mode="replace"))
    assert not plan.changes and plan.unchanged == 1


def spoken(path, p=0.95, content=SPOKEN_WORD) -> Track:
    return Track(path, status=PREDICTED, prediction=Prediction(path, genres=[("pop", p)], content=content))


def test_bulk_accept_never_takes_a_music_genre_for_spoken_word_or_silence():
    rules = ReviewRules()
    rows = [spoken("/a"), spoken("/b", content=MUSIC), spoken("/c", content=NO_AUDIO), spoken("/d", content=None),
            spoken("/e", p=0.5, content=SPOKEN_WORD)]
    assert [d.path for d in rules.bulk_accept(rows, 0.8)] == ["/b", "/d"]
    assert [t.path for t in rules.not_music_above(rows, 0.8)] == ["/a", "/c"]  # /e is below: not counted
    assert [t.path for t in rows if content_matcher("spoken")(t)] == ["/a", "/e"]
    assert [t.path for t in rows if content_matcher("not-music")(t)] == ["/a", "/c", "/e"]
    assert [t.path for t in rows if content_matcher("unknown")(t)] == ["/d"]
    assert [t.path for t in rows if content_matcher("Spoken Word")(t)] == ["/a", "/e"]
    with pytest.raises(ValueError, match="one of music, spoken"):
        content_matcher("podcast")


def test_choosing_a_style_keeps_a_queued_track_waiting_and_redecides_a_written_one():
    rules = ReviewRules()
    queued = spoken("/a", content=MUSIC)
    d = rules.choose_style(queued, "House")
    assert dict(d.fields) == {"chosen_style": ["House"]}
    queued.chosen_style = ["House"]
    assert decided(queued)  # reset can take it back
    written = Track("/b", status=WRITTEN, chosen=["Electronic"],
                    prediction=Prediction("/b", genres=[("disco", 0.9)]))
    assert dict(rules.choose_style(written, "Techno").fields) == {"chosen_style": ["Techno"], "status": CORRECTED}
    assert dict(rules.choose_style(written, None).fields)["chosen_style"] is None


# ---------------------------------------------------------------------------------- the CLI, for real
@pytest.fixture
def library(tmp_path, capsys):
    folder = tmp_path / "music"
    folder.mkdir()
    names = ["flac.flac", "mp3_v24.mp3", "m4a.m4a", "mp3_v23.mp3", "wav.wav", "wma.wma", "ogg.ogg", "aiff.aiff"]
    for name in names:
        shutil.copyfile(FIXTURES / name, folder / name)
    store = str(tmp_path / "lib.json")
    assert cli(capsys, "scan", str(folder), "--store", store)[0] == 0
    files = [str(folder / n) for n in names]
    return store, files


def set_predictions(store, predictions: dict[str, tuple[str, float, str | None]]) -> None:
    with Store.open(store) as s:
        for path, (genre, p, content) in predictions.items():
            s.update(path, status=PREDICTED,
                     prediction=Prediction(path, genres=[(genre, p), ("rock", round(1 - p, 2))], content=content))


def test_accept_leaves_spoken_word_for_review_and_list_filters_by_content(library, capsys):
    store, (flac, mp3, m4a, *_) = library
    set_predictions(store, {flac: ("jazz", 0.95, MUSIC), mp3: ("pop", 0.97, SPOKEN_WORD), m4a: ("pop", 0.9, NO_AUDIO)})
    with Store.open(store) as s:  # the other files wait for analysis: not in the queue
        assert s.get(flac).status == PREDICTED
    code, out, _ = cli(capsys, "accept", "--above", "0.8", "--store", store)
    assert code == 0, out
    assert f"left for review {mp3}: the analysis heard spoken word, not music" in out
    assert f"left for review {m4a}: the analysis heard no audible audio, not music" in out
    assert "Accepted 1 of 3 predictions" in out and "2 left for review: the analysis heard spoken word" in out
    with Store.open(store) as s:
        assert s.get(flac).status == ACCEPTED and s.get(mp3).status == PREDICTED and s.get(m4a).status == PREDICTED
    with Store.open(store) as s:
        s.update(mp3, chosen_style=["Spoken Word"])
    code, out, err = cli(capsys, "list", "--content", "spoken", "--store", store)
    assert "- (style Spoken Word)" in out
    assert code == 0 and mp3 in out and flac not in out and m4a not in out and "[spoken word]" in out
    code, out, _ = cli(capsys, "list", "--content", "not-music", "--json", "--store", store)
    assert sorted(r["path"] for r in json.loads(out)) == sorted([mp3, m4a])
    code, _, err = cli(capsys, "list", "--content", "audiobook", "--store", store)
    assert code == 2 and "unknown content 'audiobook' (one of music, spoken" in err and "Traceback" not in err


def flat(values: list[str]) -> list[str]:
    return [part for v in values for part in re.split(r"\s*[/;]\s*", v) if part]


@pytest.mark.parametrize("layout", ["style", "parent"])
def test_write_layout_reaches_other_readers_and_undo_is_exact(library, capsys, layout):
    store, files = library
    before = {f: sha(f) for f in files}
    before_raw = {f: read_tags(f).raw for f in files}
    with Store.open(store) as s:
        for f in files:
            s.update(f, status=CORRECTED, chosen=["House"], prediction=Prediction(f, genres=[("disco", 0.7)]))
    code, out, err = cli(capsys, "write", "--dry-run", "--layout", layout, "--store", store)
    assert code == 0, out + err
    if layout == "style":
        assert f"would write {files[0]}: Rock; Jazz -> Rock; Jazz; Electronic; style: Bebop -> Bebop; House" in out
    else:
        assert f"would write {files[0]}: Rock; Jazz -> Rock; Jazz; Electronic; House" in out
    assert sha(files[0]) == before[files[0]]  # a dry run writes nothing
    code, out, err = cli(capsys, "write", "--layout", layout, "--store", store)
    assert code == 0 and f"Wrote {len(files)} file(s)" in out, out + err
    for f in files:
        # One text where the tag holds one (ID3v2.3, RIFF INFO): joined by the file's own separator.
        genres, styles = flat(taglib_props(f).get("GENRE", [])), flat(taglib_props(f).get("STYLE", []))
        if f.endswith(".wma"):  # TagLib has no STYLE for ASF, and lists ASF genres in its own order
            styles = read_tags(f).styles
            assert sorted(genres) == sorted(read_tags(f).genres)
            genres = read_tags(f).genres
        read = {k: flat(v) if isinstance(v, list) else v for k, v in mediafile_fields(f).items()}
        if layout == "style":
            assert genres[-1:] == ["Electronic"] and styles[-1:] == ["House"], (f, genres, styles)
            assert read["genres"][-1:] == ["Electronic"] and read["styles"][-1:] == ["House"], (f, read)
        else:
            assert genres[-2:] == ["Electronic", "House"], (f, genres)
            assert read["genres"][-2:] == ["Electronic", "House"]
            assert "House" not in " ".join(styles)
    code, out, err = cli(capsys, "undo", "--store", store)
    assert code == 0, out + err
    assert {f: read_tags(f).raw for f in files} == before_raw
    assert {f: sha(f) for f in files} == before
