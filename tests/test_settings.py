import json

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
