"""The review queue driven from the keyboard: accept, pick, type, skip, undo, bulk accept, filter."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from genre_desktop.app.review import ReviewRules
from genre_desktop.app.session import LibrarySession
from genre_desktop.core.genre import canonical_genre
from genre_desktop.core.status import ACCEPTED, CORRECTED, PREDICTED, UNANALYSED
from genre_desktop.core.track import Track
from genre_desktop.settings import Settings
from genre_desktop.ui.review_queue import ReviewQueue


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
    tracks = library()
    session = LibrarySession(None)  # no store: the queue works on the session's memory
    session.set_tracks(tracks)
    widget = ReviewQueue(session, settings.spell, threshold=0.8)
    qtbot.addWidget(widget)
    decisions = []
    session.events.decisions.connect(decisions.append)  # every decision and undo
    widget.refresh()
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
    disagrees = ReviewRules(Settings().spell).disagrees
    assert canonical_genre("Hip-Hop") == canonical_genre("hip hop") == "hip-hop"
    assert not disagrees(tracks[0])  # Rock vs rock
    assert disagrees(tracks[1])  # Pop vs jazz
    assert not disagrees(tracks[2])  # no tag: nothing to disagree with
    assert not disagrees(tracks[3])  # "Hip Hop" vs hiphop / Hip-Hop
    widget.only_disagreeing.setChecked(True)
    assert titles(widget) == ["Two"]
    assert "1 shown by the filter" in widget.counts.text()


def test_empty_queue_explains_what_to_do(qtbot):
    session = LibrarySession(None)
    session.set_tracks([Track("/m/x.flac")])
    widget = ReviewQueue(session)
    qtbot.addWidget(widget)
    widget.refresh()
    assert widget.current() is None
    assert "Nothing to review" in widget.title.text()
    assert not widget.accept_button.isEnabled()
    qtbot.keyClick(widget.table, Qt.Key.Key_A)  # no crash with nothing to accept


def type_genre(qtbot, widget, text):
    """E, then the text key by key, as a librarian types it."""
    qtbot.keyClick(widget.table, Qt.Key.Key_E)
    assert widget.new_genre.hasFocus()
    qtbot.keyClicks(widget.new_genre, text)


def popup_of(widget):
    return widget.new_genre.completer().popup()


def test_enter_in_the_completer_popup_applies_the_highlighted_genre_and_returns_to_the_queue(qtbot, queue):
    widget, tracks, _ = queue
    by_title = {t.title: t for t in tracks}
    widget.set_known_genres(["World", "Worldbeat"])
    widget.refresh()
    type_genre(qtbot, widget, "Wor")
    qtbot.waitUntil(lambda: popup_of(widget).isVisible(), timeout=2000)
    # While the popup is open the keyboard goes to it (it forwards keys to the field).
    qtbot.keyClick(popup_of(widget), Qt.Key.Key_Down)  # highlight "World"
    qtbot.keyClick(popup_of(widget), Qt.Key.Key_Return)
    assert by_title["One"].status == CORRECTED and by_title["One"].chosen == ["World"]
    assert not popup_of(widget).isVisible()
    assert widget.table.hasFocus() and widget.new_genre.text() == ""
    # The queue has the keyboard again: A accepts Two, it is not typed into the field.
    qtbot.keyClick(widget.focusWidget(), Qt.Key.Key_A)
    assert by_title["Two"].status == ACCEPTED and by_title["Two"].chosen == ["jazz"]
    assert widget.new_genre.text() == ""


def test_enter_in_the_popup_with_nothing_highlighted_applies_the_typed_text(qtbot, queue):
    widget, tracks, _ = queue
    by_title = {t.title: t for t in tracks}
    widget.set_known_genres(["World"])
    widget.refresh()
    type_genre(qtbot, widget, "World")
    qtbot.waitUntil(lambda: popup_of(widget).isVisible(), timeout=2000)
    qtbot.keyClick(popup_of(widget), Qt.Key.Key_Return)
    assert by_title["One"].chosen == ["World"] and widget.current().title == "Two"
    assert widget.table.hasFocus()
    for key in (Qt.Key.Key_S, Qt.Key.Key_1):  # hotkeys act on the queue
        qtbot.keyClick(widget.focusWidget(), key)
    assert widget.new_genre.text() == ""
    assert by_title["Two"].status == PREDICTED and by_title["Three"].chosen == ["hiphop"]


def test_escape_closes_the_popup_then_returns_to_the_queue_without_applying(qtbot, queue):
    widget, tracks, decisions = queue
    widget.set_known_genres(["World"])
    widget.refresh()
    type_genre(qtbot, widget, "Wor")
    qtbot.waitUntil(lambda: popup_of(widget).isVisible(), timeout=2000)
    qtbot.keyClick(popup_of(widget), Qt.Key.Key_Escape)
    assert not popup_of(widget).isVisible() and widget.new_genre.hasFocus()
    qtbot.keyClick(widget.new_genre, Qt.Key.Key_Escape)
    assert widget.table.hasFocus() and widget.new_genre.text() == "" and decisions == []


def test_text_left_in_the_field_never_lands_on_another_track(qtbot, queue):
    widget, tracks, decisions = queue
    by_title = {t.title: t for t in tracks}
    type_genre(qtbot, widget, "Worldaaa")  # typed for One...
    qtbot.mouseClick(widget.table.viewport(), Qt.MouseButton.LeftButton,
                     pos=widget.table.visualRect(widget.model.index(1, 0)).center())  # ...then the user clicks Two
    assert widget.current().title == "Two" and not widget.new_genre.hasFocus()
    type_genre(qtbot, widget, "Hip-Hop")
    qtbot.keyClick(widget.new_genre, Qt.Key.Key_Return)
    assert by_title["Two"].chosen == ["Hip-Hop"]
    assert by_title["One"].status == PREDICTED and len(decisions) == 1


def test_a_genre_typed_for_a_track_that_left_the_queue_is_not_applied_to_the_next(qtbot, queue):
    widget, tracks, decisions = queue
    by_title = {t.title: t for t in tracks}
    type_genre(qtbot, widget, "World")
    # Meanwhile One is decided elsewhere (the library table) and the queue refreshes.
    by_title["One"].status = ACCEPTED
    widget.session.set_tracks(tracks)  # e.g. a reload after another process decided it
    assert widget.current().title == "Two"
    qtbot.keyClick(widget.new_genre, Qt.Key.Key_Return)
    assert by_title["Two"].status == PREDICTED and decisions == []


def test_the_genre_field_never_takes_the_keyboard_by_itself(qtbot, queue):
    widget, tracks, _ = queue
    widget.choices.setFocus()
    qtbot.keyClick(widget.choices, Qt.Key.Key_Tab)  # Tab from the list of genres
    assert not widget.new_genre.hasFocus()
    widget.choices.setFocus()
    for t in tracks:  # the queue empties while the list has the keyboard: its widgets are disabled
        t.status = ACCEPTED
    widget.session.set_tracks(tracks)
    assert not widget.new_genre.hasFocus()


def test_the_card_shows_a_truncated_files_note_beside_its_prediction(qtbot, tmp_path):
    from PySide6.QtWidgets import QApplication

    from genre_desktop.ui.theme import apply_theme

    tracks = library()
    cut = "truncated MP3: the header says 0:30, the file holds about 0:12"
    tracks[0].error = cut  # One: the most confident, so the card shows it first
    session = LibrarySession(None)
    session.set_tracks(tracks)
    widget = ReviewQueue(session, Settings().spell, threshold=0.8)
    qtbot.addWidget(widget)
    widget.resize(1100, 560)
    widget.refresh()
    widget.show()
    assert widget.current().title == "One"
    assert widget.note.isVisible()
    assert widget.note.text() == f"⚠ {cut}. The prediction is of the part the file holds."
    widget.table.setFocus()
    qtbot.keyClick(widget.table, Qt.Key.Key_Down)  # Two has no note: the card says nothing
    assert widget.current().title == "Two" and not widget.note.isVisible()
    qtbot.keyClick(widget.table, Qt.Key.Key_Up)
    assert widget.note.isVisible() and cut in widget.note.text()
    app = QApplication.instance()
    before = app.palette()
    try:
        for theme in ("light", "dark"):  # looked at by a person: tmp_path/../review_note_<theme>.png
            apply_theme(app, theme)
            qtbot.wait(20)
            widget.grab().save(str(tmp_path.parent / f"review_note_{theme}.png"))
    finally:
        app.setPalette(before)
