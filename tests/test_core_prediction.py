"""The typed, versioned Prediction and the Track that holds it: stored format, old formats, statuses."""

from __future__ import annotations

import json
import re

from genre_desktop.core import SCHEMA, Prediction, SegmentScore, Status, Track
from genre_desktop.library.store import Store

# A prediction as stores written before the schema field existed hold it (schema 1).
SCHEMA_1 = {
    "path": "/m/a.flac",
    "genres": [{"genre": "jazz", "probability": 0.7}, {"genre": "blues", "probability": 0.3}],
    "models": {"svm": {"jazz": 0.6, "blues": 0.4}},
    "segments": [{"start": 0.0, "end": 30.0, "genres": {"jazz": 0.8, "blues": 0.2}},
                 {"start": 30.0, "end": 60.0, "genres": {"blues": 0.55, "jazz": 0.45}}],
    "tags": {"saxophone": 0.9},
    "model_version": "bundled-1",
    "error": None,
}


def test_an_old_stored_prediction_reads_typed_and_writes_back_the_same_shape_with_its_schema():
    p = Prediction.from_dict(SCHEMA_1)
    assert p.schema == 1 and p.top == ("jazz", 0.7) and p.top_genre == "jazz" and p.confidence == 0.7
    assert p.ranked() == ["jazz", "blues"] and p.ranked(1) == ["jazz"]
    assert p.segments[1].top == ("blues", 0.55) and p.segment_at(45.0) == 1 and p.segment_at(-1.0) == 0
    out = p.to_dict()
    assert out.pop("schema") == SCHEMA == 3
    assert out == SCHEMA_1
    again = Prediction.from_dict(p.to_dict())
    assert again.schema == SCHEMA and (again.genres, again.models, again.segments) == (p.genres, p.models, p.segments)


def test_round_trip_of_a_new_prediction():
    p = Prediction("/m/b.mp3", genres=[("rock", 0.123456789)], models={"x": {"rock": 1.0}},
                   segments=[SegmentScore(0.0, 30.0, {"rock": 1.0})], tags={"guitar": 0.5}, model_version="v")
    again = Prediction.from_dict(json.loads(json.dumps(p.to_dict())))
    assert again.genres == [("rock", 0.12346)]  # stored with 5 decimals
    assert again.schema == SCHEMA and again.segments == [SegmentScore(0.0, 30.0, {"rock": 1.0})]
    failed = Prediction.from_dict(Prediction.failed("/m/c.ogg", "cannot decode").to_dict())
    assert failed.error == "cannot decode" and failed.top is None and failed.confidence is None


def test_keys_of_a_newer_schema_survive_a_save_by_this_version():
    newer = dict(SCHEMA_1, schema=SCHEMA + 1, calibration={"t": 1.5})
    p = Prediction.from_dict(newer)
    assert p.extra == {"calibration": {"t": 1.5}}
    assert p.to_dict()["calibration"] == {"t": 1.5}


def test_lenient_reading_of_genres_as_a_mapping():
    p = Prediction.from_dict({"path": "/x", "genres": {"pop": 0.2, "rock": 0.8}})
    assert p.genres == [("rock", 0.8), ("pop", 0.2)] and p.models == {} and p.segments == []


def test_track_holds_a_typed_prediction_and_stores_the_dict(tmp_path):
    track = Track("/m/a.flac", status=Status.PREDICTED, prediction=SCHEMA_1)  # a dict is read through its schema
    assert isinstance(track.prediction, Prediction) and track.predicted_genre == "jazz" and track.confidence == 0.7
    data = track.to_dict()
    assert data["prediction"]["genres"] == SCHEMA_1["genres"] and data["status"] == "predicted"
    assert Track.from_dict(json.loads(json.dumps(data))).prediction == Prediction.from_dict(data["prediction"])

    store = Store.open(tmp_path / "library.json")
    store.upsert([track])
    store.close()
    raw = tmp_path.joinpath("library.json").read_text() + "".join(
        p.read_text() for p in (tmp_path / "library.json.shards").glob("*") if p.is_file())
    assert re.search(r'"schema":\s*3', raw) and '"predicted"' in raw  # the dict format, versioned
    store = Store.open(tmp_path / "library.json")
    back = store.get("/m/a.flac")
    store.close()
    assert isinstance(back.prediction, Prediction) and back.prediction.segments[0].genres == {"jazz": 0.8, "blues": 0.2}
    assert back.status == Status.PREDICTED == "predicted"


def test_status_is_its_stored_string():
    assert Status("written") is Status.WRITTEN and f"{Status.ERROR:<6}|" == "error |" and str(Status.ACCEPTED) == "accepted"
    assert json.dumps({"s": Status.CORRECTED}) == '{"s": "corrected"}'
    assert {Status.PREDICTED: 1}["predicted"] == 1  # a plain value read back finds its member


def test_a_stored_prediction_reads_lazily_and_equals_the_same_one_built():
    built = Prediction("/m/a.flac", genres=[("jazz", 0.7), ("blues", 0.3)], models={"svm": {"jazz": 0.6, "blues": 0.4}},
                       segments=[SegmentScore(0.0, 30.0, {"jazz": 0.8, "blues": 0.2}),
                                 SegmentScore(30.0, 60.0, {"blues": 0.55, "jazz": 0.45})],
                       tags={"saxophone": 0.9}, model_version="bundled-1", schema=1)
    stored = Prediction.from_dict(SCHEMA_1)
    assert stored.top_genre == "jazz" and "genres" not in vars(stored)  # the table's top genre parses nothing more
    assert stored == built and built == stored
    stored.genres = [("rock", 1.0)]  # fields can be set as on any Prediction
    assert stored.top == ("rock", 1.0) and stored != built


def test_a_track_reads_its_stored_prediction_only_when_asked():
    track = Track("/m/a.flac", prediction=SCHEMA_1)
    assert track.predicted_genre == "jazz" and track.confidence == 0.7
    assert isinstance(track.__dict__["_prediction"], dict)  # the table's columns made no object
    assert track.prediction.segment_at(40.0) == 1 and isinstance(track.__dict__["_prediction"], Prediction)
    assert Track("/m/b.flac").prediction is None and Track("/m/b.flac").predicted_genre is None


def test_schema_3_keeps_broad_genres_and_content_and_older_records_read_unchanged():
    from genre_desktop.core.prediction import NO_AUDIO, SPOKEN_WORD, BroadGenre

    house = BroadGenre("House", ("Electronic",), 0.61234567)
    p = Prediction("/m/d.flac", genres=[("disco", 0.6)], broad=[BroadGenre("Electronic", (), 0.7), house],
                   content="music")
    data = json.loads(json.dumps(p.to_dict()))
    assert data["schema"] == 3 and data["content"] == "music"
    assert data["broad"][1] == {"genre": "House", "path": ["Electronic"], "probability": 0.61235}
    again = Prediction.from_dict(data)
    assert again.broad[1] == BroadGenre("House", ("Electronic",), 0.61235) and again.content == "music"
    assert again.is_music and again.extra == {}
    old = Prediction.from_dict(SCHEMA_1)
    assert old.broad == [] and old.content is None and old.is_music  # unknown content: a music genre may apply
    assert "broad" not in old.to_dict() and "content" not in old.to_dict()
    for content in (SPOKEN_WORD, NO_AUDIO):
        assert not Prediction.from_dict(dict(SCHEMA_1, schema=3, content=content)).is_music
    odd = Prediction.from_dict(dict(SCHEMA_1, schema=3, content="karaoke", broad=[{"genre": "Ska"}, house.to_dict()]))
    assert odd.content is None and [b.genre for b in odd.broad] == ["House"]  # damaged entries are dropped
    assert Prediction.failed("/m/s.wav", "no audible audio", content=NO_AUDIO).to_dict()["content"] == NO_AUDIO


def test_a_track_says_whether_a_music_genre_may_be_taken_for_it():
    assert Track("/m/new.flac").is_music  # not analysed
    assert Track("/m/a.flac", prediction=SCHEMA_1).is_music  # analysed before schema 3: unknown, music
    talk = Track("/m/talk.mp3", prediction=dict(SCHEMA_1, schema=3, content="spoken word"))
    assert not talk.is_music and not talk.prediction.is_music
    assert not Track("/m/s.wav", prediction=Prediction.failed("/m/s.wav", "no audible audio", content="no audible audio")).is_music
    assert Track("/m/m.ogg", prediction=Prediction("/m/m.ogg", genres=[("rock", 1.0)], content="music")).is_music
