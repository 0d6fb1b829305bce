"""The review queue driven from the keyboard: accept, pick, type, skip, undo, bulk accept, filter."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from genre_desktop.library.track import ACCEPTED, CORRECTED, PREDICTED, UNANALYSED, Track
from genre_desktop.settings import Settings
from genre_desktop.ui.review_queue import ReviewQueue, disagrees, normalise_genre


def prediction(*pairs) -> dict:
    return {"path": "", "genres": [{"genre": g, "probability": p} for g, p in pairs], "models": {}, "segments": [],
            "tags": {}, "model_version": "test", "error": None}


def library() -> list[Track]:
    return [
        Track("/m/1.flac", title="One", genres=["Rock"], status=PREDICTED, prediction=prediction(("rock", 0.95), ("metal", 0.05))),
        Track("/m/2.flac", title="Two", genres=["Pop"], status=PREDICTED, prediction=prediction(("jazz", 0.85), ("blues", 0.15))),
        Track("/m/3.flac", title="Three", status=PREDICTED, prediction=prediction(("hiphop", 0.60), ("reggae", 0.30), ("pop", 0.1))),
        Track("/m/4.flac", title="Four", genres=["Hip Hop"], status=PREDICTED, prediction=prediction(("hiphop", 0.40), ("disco", 0.35))),
        Track("/m/5.flac", title="Five", status=UNANALYSED),
    ]


@pytest.fixture
def queue(qtbot):
    settings = Settings()
    widget = ReviewQueue(settings.spell, threshold=0.8)
    qtbot.addWidget(widget)
    tracks = library()
    decisions = []

    def apply(batch):  # what the main window does: update the shared Track objects
        decisions.append(batch)
        by_path = {t.path: t for t in tracks}
        for path, fields in batch:
            for name, value in fields.items():
                setattr(by_path[path], name, value)

    widget.decided.connect(apply)
    widget.set_tracks(tracks)
    widget.show()
    widget.table.setFocus()
    return widget, tracks, decisions


def titles(widget) -> list[str]:
    return [t.title for t in widget.queued()]


def test_queue_holds_predicted_tracks_most_confident_first(queue):
    widget, _, _ = queue
    assert titles(widget) == ["One", "Two", "Three", "Four"]
    assert widget.current().title == "One"
    assert widget.choices.count() == 2 and widget.choices.item(0).text().startswith("1")
    widget.order.setCurrentIndex(1)
    assert titles(widget) == ["Four", "Three", "Two", "One"]


def test_keyboard_accept_pick_type_skip_and_undo(qtbot, queue):
    widget, tracks, decisions = queue
    by_title = {t.title: t for t in tracks}
    qtbot.keyClick(widget.table, Qt.Key.Key_A)  # accept "rock" for One
    assert by_title["One"].status == ACCEPTED and by_title["One"].chosen == ["rock"]
    assert widget.current().title == "Two"
    qtbot.keyClick(widget.table, Qt.Key.Key_2)  # second genre: blues
    assert by_title["Two"].status == CORRECTED and by_title["Two"].chosen == ["blues"]
    assert widget.current().title == "Three"
    qtbot.keyClick(widget.table, Qt.Key.Key_S)  # skip Three
    assert widget.current().title == "Four"
    qtbot.keyClick(widget.table, Qt.Key.Key_E)  # type a genre the model does not know
    assert widget.new_genre.hasFocus()
    qtbot.keyClicks(widget.new_genre, "Trip Hop")
    qtbot.keyClick(widget.new_genre, Qt.Key.Key_Return)
    assert by_title["Four"].status == CORRECTED and by_title["Four"].chosen == ["Trip Hop"]
    assert titles(widget) == ["Three"]
    assert by_title["Three"].status == PREDICTED  # skipped, still queued
    qtbot.keyClick(widget.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # undo the typed genre
    assert by_title["Four"].status == PREDICTED and by_title["Four"].chosen is None
    assert widget.current().title == "Four"
    qtbot.keyClick(widget.table, Qt.Key.Key_Return)  # Enter accepts too
    assert by_title["Four"].status == ACCEPTED and by_title["Four"].chosen == ["hiphop"]
    assert "this session: 2 accepted, 1 corrected" in widget.counts.text()
    assert len(decisions) == 5


def test_bulk_accept_above_threshold_is_one_undoable_decision(qtbot, queue):
    widget, tracks, decisions = queue
    widget.threshold.setValue(80)
    assert widget.bulk_button.text() == "Accept 2 ≥ threshold"
    qtbot.mouseClick(widget.bulk_button, Qt.MouseButton.LeftButton)
    assert [t.status for t in tracks[:2]] == [ACCEPTED, ACCEPTED]
    assert titles(widget) == ["Three", "Four"]
    qtbot.keyClick(widget.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert [t.status for t in tracks[:2]] == [PREDICTED, PREDICTED]
    assert titles(widget) == ["One", "Two", "Three", "Four"]


def test_disagreement_filter_compares_spellings(queue):
    widget, tracks, _ = queue
    spell = Settings().spell
    assert normalise_genre("Hip-Hop") == normalise_genre("hip hop") == "hiphop"
    assert not disagrees(tracks[0], spell)  # Rock vs rock
    assert disagrees(tracks[1], spell)  # Pop vs jazz
    assert not disagrees(tracks[2], spell)  # no tag: nothing to disagree with
    assert not disagrees(tracks[3], spell)  # "Hip Hop" vs hiphop / Hip-Hop
    widget.only_disagreeing.setChecked(True)
    assert titles(widget) == ["Two"]
    assert "1 shown by the filter" in widget.counts.text()


def test_empty_queue_explains_what_to_do(qtbot):
    widget = ReviewQueue()
    qtbot.addWidget(widget)
    widget.set_tracks([Track("/m/x.flac")])
    assert widget.current() is None
    assert "Nothing to review" in widget.title.text()
    assert not widget.accept_button.isEnabled()
    qtbot.keyClick(widget.table, Qt.Key.Key_A)  # no crash with nothing to accept
