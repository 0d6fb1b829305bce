"""What "can predict" means for a new model (training/can_predict.py), on hand-made answers."""

from __future__ import annotations

from genre_desktop.training.can_predict import HELD_OUT, IN_TRAINING, check

BUNDLED = ["blues", "classical", "jazz"]


def test_a_genre_never_answered_for_its_held_out_tracks_cannot_be_predicted():
    v = check(["jazz", "lo-fi"], ["jazz", "lo-fi", "lo-fi"], ["jazz", "jazz", "jazz"], 0.3,
              {"jazz": 9, "lo-fi": 4}, {"jazz": 5, "lo-fi": 1}, BUNDLED)
    assert not v.useful and not v.changes_nothing
    assert [g.genre for g in v.unpredictable] == ["lo-fi"]
    assert v.problems() == ["lo-fi: never the answer for its 2 held-out tracks"]
    assert v.advice() == ["lo-fi: more tracks of it by more artists (now 4 tracks by 1 artist), or merge it with "
                          "a close genre"]
    assert v.summary() == "cannot predict lo-fi"


def test_weight_zero_changes_nothing_and_a_genre_only_the_user_knows_can_never_win():
    v = check(["jazz", "lo-fi"], ["jazz", "lo-fi"], ["jazz", "jazz"], 0.0, {"jazz": 9, "lo-fi": 4},
              {"jazz": 5, "lo-fi": 2}, BUNDLED)
    assert v.changes_nothing and not v.useful
    assert v.problems()[0].startswith("activating it would change no prediction")
    assert "it can never win" in v.problems()[1]
    assert v.summary() == "would change nothing and cannot predict lo-fi"


def test_a_genre_without_held_out_tracks_is_judged_on_its_training_tracks():
    v = check(["jazz", "lo-fi"], ["jazz"], ["jazz"], 0.5, {"jazz": 9, "lo-fi": 3}, {"jazz": 5, "lo-fi": 1}, BUNDLED,
              training_answers={"lo-fi": ["lo-fi", "jazz", "lo-fi"]})
    lofi = v.genres[1]
    assert lofi.tested_on == IN_TRAINING and (lofi.n, lofi.won) == (3, 2) and lofi.ok
    assert v.genres[0].tested_on == HELD_OUT and v.useful and v.summary() == "can predict every genre you taught"
    never = check(["jazz", "lo-fi"], ["jazz"], ["jazz"], 0.5, {"jazz": 9, "lo-fi": 3}, {"jazz": 5, "lo-fi": 1},
                  BUNDLED, training_answers={"lo-fi": ["jazz"] * 3})
    assert never.problems() == ["lo-fi: never the answer for any of its 3 training tracks"]
