import json

from genre_desktop.core.prediction import Prediction, SegmentScore


def test_round_trip_and_rounding():
    pred = Prediction(
        path="/m/a.flac",
        genres=[("jazz", 0.712345678), ("blues", 0.287654322)],
        models={"svm": {"jazz": 0.61111111, "blues": 0.38888889}},
        segments=[SegmentScore(5.0, 35.0, {"jazz": 0.7, "blues": 0.3})],
        tags={"jazz": 0.123456789},
        model_version="test-1",
    )
    data = json.loads(json.dumps(pred.to_dict()))
    assert data["genres"][0] == {"genre": "jazz", "probability": 0.71235}
    assert data["tags"]["jazz"] == 0.12346
    back = Prediction.from_dict(data)
    assert back.top == ("jazz", 0.71235)
    assert back.segments[0].start == 5.0 and back.segments[0].genres["blues"] == 0.3
    assert back.models["svm"]["jazz"] == 0.61111


def test_failed_prediction_carries_the_reason():
    pred = Prediction.failed("/m/bad.mp3", "not an audio file")
    assert pred.to_dict()["error"] == "not an audio file"
    assert pred.top is None
