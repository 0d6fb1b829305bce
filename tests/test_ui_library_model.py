"""LibraryModel: sort, search-as-you-type, status filter and incremental updates, all in memory."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QAbstractItemModelTester

from genre_desktop.core.status import ACCEPTED, ERROR, PREDICTED, UNANALYSED
from genre_desktop.core.track import Track
from genre_desktop.ui.library_model import (
    ARTIST,
    CHOICE,
    CONFIDENCE,
    DURATION,
    GENRES,
    STATUS,
    TITLE,
    LibraryModel,
    PathRole,
    format_duration,
)


def pred(genre: str, p: float) -> dict:
    return {"path": "", "genres": [{"genre": genre, "probability": p}], "models": {}, "segments": [], "tags": {},
            "model_version": "t", "error": None}


def tracks() -> list[Track]:
    return [
        Track("/m/a.flac", title="Zebra Song", artist="Bee", album="One", duration=200.0, genres=["Rock"]),
        Track("/m/b.mp3", title="", artist="ant", album="Two", duration=61.4, status=PREDICTED, prediction=pred("jazz", 0.9)),
        Track("/m/c.ogg", title="Apple", artist="Cat", duration=None, status=PREDICTED, prediction=pred("rock", 0.4)),
        Track("/m/d.wav", title="Dance", artist="bee", status=ERROR, error="truncated frame"),
    ]


def column(model: LibraryModel, col: int) -> list[str]:
    return [model.data(model.index(r, col)) for r in range(model.rowCount())]


def test_model_passes_qt_consistency_checks_and_shows_file_name_when_untitled(qapp):
    model = LibraryModel()
    QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Fatal)
    model.set_tracks(tracks())
    assert model.rowCount() == 4 and model.columnCount() == 10  # with Folder (hidden by default in the view)
    assert column(model, TITLE) == ["Zebra Song", "b.mp3", "Apple", "Dance"]
    assert column(model, DURATION) == ["3:20", "1:01", "", ""]
    assert model.data(model.index(3, STATUS), Qt.ItemDataRole.ToolTipRole) == "truncated frame"
    assert model.data(model.index(1, CONFIDENCE)) == "90%"
    assert model.data(model.index(0, 0), PathRole) == "/m/a.flac"
    assert format_duration(3725) == "1:02:05"


def test_sort_by_columns_and_keep_missing_values_first(qapp):
    model = LibraryModel()
    model.set_tracks(tracks())
    model.sort(TITLE, Qt.SortOrder.AscendingOrder)
    assert column(model, TITLE) == ["Apple", "b.mp3", "Dance", "Zebra Song"]
    model.sort(CONFIDENCE, Qt.SortOrder.DescendingOrder)
    assert column(model, CONFIDENCE)[:2] == ["90%", "40%"]
    model.sort(DURATION, Qt.SortOrder.AscendingOrder)
    assert column(model, DURATION)[-2:] == ["1:01", "3:20"]
    model.sort(ARTIST, Qt.SortOrder.AscendingOrder)  # case-insensitive
    assert [a.casefold() for a in column(model, ARTIST)] == ["ant", "bee", "bee", "cat"]


def test_search_matches_every_word_in_any_field_and_status_filter_combines(qapp):
    model = LibraryModel()
    model.set_tracks(tracks())
    model.set_search("bee")
    assert sorted(column(model, TITLE)) == ["Dance", "Zebra Song"]
    model.set_search("bee rock")  # artist and genre of the same track
    assert column(model, TITLE) == ["Zebra Song"]
    model.set_search("jazz")  # the predicted genre is searchable too
    assert column(model, TITLE) == ["b.mp3"]
    model.set_search("")
    model.set_status_filter(PREDICTED)
    assert sorted(column(model, TITLE)) == ["Apple", "b.mp3"]
    model.set_search("apple")
    assert column(model, TITLE) == ["Apple"]
    assert model.total_count() == 4


def test_incremental_updates_touch_one_row_and_append_new_tracks(qapp, qtbot):
    model = LibraryModel()
    model.set_tracks(tracks())
    model.sort(TITLE, Qt.SortOrder.AscendingOrder)
    changed = []
    model.dataChanged.connect(lambda a, b: changed.append((a.row(), b.row())))
    model.update_fields("/m/a.flac", status=ACCEPTED, chosen=["jazz"])
    row = model.row_of("/m/a.flac")
    assert changed == [(row, row)]
    assert model.data(model.index(row, CHOICE)) == "jazz"  # the librarian's choice, in its own column
    assert model.data(model.index(row, GENRES)) == "Rock"  # "In file" still says what the file holds
    assert model.data(model.index(row, STATUS)) == ACCEPTED
    model.set_search("zebra")
    with qtbot.waitSignal(model.rowsInserted):
        model.update_tracks([Track("/m/e.flac", title="Zebra Two"), Track("/m/f.flac", title="Other")])
    assert column(model, TITLE) == ["Zebra Song", "Zebra Two"]  # only the match became visible
    assert model.total_count() == 6
    replaced = Track("/m/a.flac", title="Zebra Song", status=UNANALYSED, genres=["Jazz"])
    model.update_tracks([replaced])
    assert model.track_by_path("/m/a.flac") is replaced
    assert model.data(model.index(model.row_of("/m/a.flac"), GENRES)) == "Jazz"


def test_typing_forward_narrows_and_backspace_widens_with_sort_kept(qapp):
    model = LibraryModel()
    many = [Track(f"/m/{i}.flac", title=f"{w} {i}") for i, w in enumerate(["river", "rivet", "rose", "riven"] * 5)]
    model.set_tracks(many)
    model.sort(TITLE, Qt.SortOrder.DescendingOrder)
    for text, expected in (("r", 20), ("ri", 15), ("riv", 15), ("rive", 15), ("river", 5), ("rive", 15), ("", 20)):
        model.set_search(text)
        assert model.rowCount() == expected, text
    titles = column(model, TITLE)
    assert titles == sorted(titles, key=str.casefold, reverse=True)
    model.set_search("rive 1")  # two words: both must match
    assert sorted(column(model, TITLE)) == ["riven 11", "riven 15", "riven 19", "river 12", "river 16",
                                            "rivet 1", "rivet 13", "rivet 17"]
