"""Issue 22 item 6: a bulk accept takes exactly the rows that read at or above the threshold (0.695
shows as 70 % and is taken at 70 %), in the queue and the CLI; the window says how to take it back."""

from __future__ import annotations

from PySide6.QtCore import Qt

from genre_desktop.app.review import ReviewRules, shown_percent
from genre_desktop.app.session import LibrarySession
from genre_desktop.core.status import ACCEPTED, PREDICTED
from genre_desktop.core.track import Track
from genre_desktop.settings import Settings
from genre_desktop.ui.review_queue import ReviewQueue


def prediction(genre, p) -> dict:
    return {"path": "", "genres": [{"genre": genre, "probability": p}, {"genre": "blues", "probability": 1 - p}],
            "models": {}, "segments": [], "tags": {}, "model_version": "test", "error": None}


def test_the_rows_shown_at_or_above_the_threshold_are_the_rows_taken(qtbot):
    tracks = [Track(f"/m/{i}.flac", title=f"T{i}", status=PREDICTED, prediction=prediction("rock", p))
              for i, p in enumerate((0.9, 0.72, 0.7, 0.695, 0.6949, 0.5))]
    session = LibrarySession(None)
    session.set_tracks(tracks)
    widget = ReviewQueue(session, Settings().spell, threshold=0.7)
    qtbot.addWidget(widget)
    widget.refresh()
    widget.show()
    widget.threshold.setValue(70)
    shown = [widget.model.data(widget.model.index(r, c)) for r in range(widget.model.rowCount())
             for c in range(widget.model.columnCount())]
    reads_70 = sum(1 for t in tracks if f"{t.confidence:.0%}" in ("90%", "72%", "70%"))
    assert reads_70 == 4 and shown.count("70%") == 2  # 0.7 and 0.695 both read 70 %
    assert widget.bulk_button.text() == "Accept 4 ≥ threshold"
    qtbot.mouseClick(widget.bulk_button, Qt.MouseButton.LeftButton)
    assert [t.status for t in tracks] == [ACCEPTED] * 4 + [PREDICTED] * 2
    assert shown_percent(0.695) == 70 and shown_percent(0.6949) == 69
    assert len(ReviewRules(Settings().spell).above(tracks, 0.70)) == 4


def test_the_window_says_how_to_take_a_bulk_accept_back(qtbot, tmp_path):
    from media import make_audio
    from windows import opened_window

    from genre_desktop.core.prediction import Prediction

    root = tmp_path / "music"
    make_audio(root / "a.flac", seconds=1, tags={"title": "A"})
    with opened_window(qtbot, Settings()) as win:
        win.open_folder(str(root))
        qtbot.waitUntil(lambda: win.model.total_count() == 1 and not win.jobs.runner.active(), timeout=20000)
        path = str(root / "a.flac")
        win.session.add_result(Prediction(path, genres=[("rock", 0.695), ("pop", 0.305)], model_version="t"))
        win.tabs.setCurrentIndex(1)
        win.review.threshold.setValue(70)
        win.review.refresh()
        assert win.review.bulk_button.text() == "Accept 1 ≥ threshold"
        qtbot.mouseClick(win.review.bulk_button, Qt.MouseButton.LeftButton)
        assert win.session.track(path).status == ACCEPTED
        assert "Ctrl+Z" in win.status_text.text(), win.status_text.text()
        qtbot.keyClick(win.review.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
        assert win.session.track(path).status == PREDICTED
