import json

import pytest

from genre_desktop.paths import app_dirs
from genre_desktop.settings import Settings


def test_round_trip_keeps_unknown_keys(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"id3_version": 3, "future_option": [1, 2]}))
    settings = Settings.load(path)
    assert settings.id3_version == 3
    settings = settings.replace(last_library="/music")
    settings.save(path)
    saved = json.loads(path.read_text())
    assert saved["future_option"] == [1, 2]
    assert Settings.load(path).last_library == "/music"


def test_corrupt_file_is_moved_aside(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text("{not json")
    settings = Settings.load(path)
    assert settings == Settings()
    assert (tmp_path / "settings.json.corrupt").read_text() == "{not json"


def test_wrong_types_fall_back_to_defaults(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"segments": "many", "bulk_threshold": 1}))
    settings = Settings.load(path)
    assert settings.segments == Settings().segments
    assert settings.bulk_threshold == 1


def test_alias_spelling_is_case_insensitive():
    settings = Settings()
    assert settings.spell("hiphop") == "Hip-Hop"
    assert settings.spell("HipHop") == "Hip-Hop"
    assert settings.spell("k-pop") == "k-pop"


def test_app_home_override_is_used(app_home):
    dirs = app_dirs()
    assert str(dirs.store_path).startswith(str(app_home))


def test_tag_networks_default_to_msd_and_round_trip(tmp_path):
    path = tmp_path / "settings.json"
    default = Settings()
    assert default.tag_networks == ["musicnn_msd"]
    both = default.replace(tag_networks=["musicnn_msd", "musicnn_mtt"])
    assert default.tag_networks == ["musicnn_msd"]  # replace never shares the list
    both.save(path)
    assert Settings.load(path).tag_networks == ["musicnn_msd", "musicnn_mtt"]
    path.write_text(json.dumps({"tag_networks": "musicnn_mtt"}))  # not a list: the default
    assert Settings.load(path).tag_networks == ["musicnn_msd"]


def test_a_write_keeps_the_files_other_genres_by_default():
    """Issue 22 item 7: replace mode turned "Hip-Hop; Rock" into "Hip-Hop"; the default now keeps them."""
    from genre_desktop.app.plan import plan_changes
    from genre_desktop.core.status import ACCEPTED, CORRECTED
    from genre_desktop.core.track import Track

    both = Track("/m/a.mp3", genres=["Hip-Hop", "Rock"], status=CORRECTED, chosen=["Hip-Hop"])
    single = Track("/m/b.mp3", genres=["Rock"], status=ACCEPTED, chosen=["Blues"])
    changes, unchanged = plan_changes([both, single], Settings())
    assert Settings().write_mode == "add"
    assert unchanged == 1  # the file already says Hip-Hop (and keeps Rock)
    assert [(c.path, c.new) for c in changes] == [("/m/b.mp3", ["Rock", "Blues"])]
    changes, _ = plan_changes([both], Settings(write_mode="replace"))  # the user's other choice
    assert changes[0].new == ["Hip-Hop"]


def test_each_file_keeps_its_id3_version_by_default():
    from genre_desktop.app.workspace import Workspace

    assert Settings().id3_version == "keep"
    assert Workspace(app_dirs(), Settings()).write_options().id3_version == "keep"
    options = Workspace(app_dirs(), Settings(id3_version=3, style_field="grouping")).write_options()
    assert (options.id3_version, options.style_field) == (3, "grouping")


@pytest.mark.parametrize("saved,expected", [
    # A file of the old version held every value; the old defaults follow the new ones...
    ({"write_mode": "replace", "id3_version": 4}, ("add", "keep")),
    # ...a value that was not the default then was chosen, and stays.
    ({"write_mode": "add", "id3_version": 3}, ("add", 3)),
    # A file of this version is taken as it is: "replace" and 4 are the user's choices now.
    ({"write_mode": "replace", "id3_version": 4, "settings_version": 2}, ("replace", 4)),
    ({"id3_version": "keep", "settings_version": 2}, ("add", "keep")),
    ({"id3_version": 2, "write_mode": "overwrite", "style_field": "mood"}, ("add", "keep")),  # invalid: defaults
])
def test_settings_of_the_old_version_follow_the_new_defaults_unless_chosen(tmp_path, saved, expected):
    path = tmp_path / "settings.json"
    path.write_text(json.dumps(saved))
    settings = Settings.load(path)
    assert (settings.write_mode, settings.id3_version) == expected
    assert settings.style_field == "style"
    settings.save(path)
    assert json.loads(path.read_text())["settings_version"] == 2
    assert Settings.load(path) == settings
