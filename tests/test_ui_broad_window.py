"""Broad genres and spoken word through the real window, end to end: analyse (a stand-in analyzer
with the network's broad genres and content), bulk accept leaves the spoken-word file and says so,
the review queue takes a broad genre by keys, the write puts parent and child where the setting
says (TagLib and mediafile read them), and undo gives the files back byte for byte."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from tag_readers import mediafile_fields, taglib_props
from helpers import sha

from genre_desktop.core.prediction import MUSIC, SPOKEN_WORD, BroadGenre, Prediction
from genre_desktop.core.status import ACCEPTED, CORRECTED, PREDICTED, WRITTEN
from genre_desktop.settings import Settings
from media import make_audio
from windows import opened_window, wait_idle

HEARD = {  # name -> (ten-genre vote, confidence, content, broad genres)
    "alpha": ("disco", 0.92, MUSIC, [BroadGenre("Electronic", (), 0.81), BroadGenre("House", ("Electronic",), 0.74)]),
    "bravo": ("pop", 0.95, SPOKEN_WORD, [BroadGenre("Pop", (), 0.2)]),
    "charlie": ("rock", 0.60, MUSIC, [BroadGenre("Rock", (), 0.7), BroadGenre("Punk Rock", ("Rock",), 0.55)]),
}


class StandInAnalyzer:
    def __init__(self, **_config):
        pass

    def analyze(self, path, cancel):
        cancel.raise_if_cancelled()
        genre, p, content, broad = HEARD[Path(path).stem]
        genres = [(genre, p), ("blues", round(1 - p, 2))]
        return Prediction(path, genres=genres, models={"svm": dict(genres)}, broad=broad, content=content,
                          model_version="stand-in-1")


@pytest.fixture
def library(tmp_path):
    root = tmp_path / "music"
    make_audio(root / "alpha.flac", seconds=1.0, tags={"title": "Alpha", "genre": "Dance"})
    make_audio(root / "bravo.mp3", seconds=1.0, tags={"title": "Bravo"})
    make_audio(root / "charlie.flac", seconds=1.0, tags={"title": "Charlie", "genre": "Rock"})
    return root


@pytest.fixture
def window(qtbot, library):
    with opened_window(qtbot, Settings(write_mode="replace", genre_layout="style", bulk_threshold=0.8),
                       analyzer_factory=lambda **kw: StandInAnalyzer(**kw)) as win:
        yield win


def test_broad_genres_from_analysis_to_the_files_and_back(qtbot, window, library):
    win = window
    files = {p.stem: str(p) for p in library.iterdir()}
    before = {name: sha(p) for name, p in files.items()}
    win.open_folder(str(library))
    wait_idle(qtbot, win)
    win.table.setFocus()
    qtbot.keyClick(win.table, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    wait_idle(qtbot, win)

    # The side panel offers alpha's broad genres with their parent.
    win.select_path(files["alpha"])
    qtbot.waitUntil(lambda: win.side.broad.list.topLevelItemCount() == 2, timeout=5000)
    assert win.side.broad.list.topLevelItem(1).text(0) == "House, in Electronic"

    # Bulk accept takes alpha (music, 92%) and leaves bravo (spoken word, 95%), saying so.
    qtbot.keyClick(win.table, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    queue = win.review
    assert "1 not music above the threshold" in queue.counts.text()
    qtbot.mouseClick(queue.bulk_button, Qt.MouseButton.LeftButton)
    assert "1 left for you: spoken word" in win.status_text.text()
    assert win.session.track(files["alpha"]).status == ACCEPTED
    assert win.session.track(files["bravo"]).status == PREDICTED
    qtbot.keyClick(queue.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # the bulk accept, undone
    assert win.session.track(files["alpha"]).status == PREDICTED

    # alpha: "House" as the genre, from the keyboard; charlie: "Punk Rock" as its style, then accept rock.
    queue.table.setFocus()
    assert os.path.basename(queue.current().path) == "alpha.flac"  # the undone track is shown again
    qtbot.keyClick(queue.table, Qt.Key.Key_B)
    qtbot.keyClick(queue.broad.list, Qt.Key.Key_Down)
    qtbot.keyClick(queue.broad.list, Qt.Key.Key_G)
    assert win.session.track(files["alpha"]).chosen == ["House"]
    assert win.session.track(files["alpha"]).status == CORRECTED
    assert os.path.basename(queue.current().path) == "charlie.flac"
    qtbot.keyClick(queue.table, Qt.Key.Key_B)
    qtbot.keyClick(queue.broad.list, Qt.Key.Key_Down)
    qtbot.keyClick(queue.broad.list, Qt.Key.Key_T)
    qtbot.keyClick(queue.broad.list, Qt.Key.Key_Escape)
    qtbot.keyClick(queue.table, Qt.Key.Key_A)
    charlie = win.session.track(files["charlie"])
    assert charlie.chosen == ["rock"] and charlie.chosen_style == ["Punk Rock"] and charlie.status == ACCEPTED

    # The preview: House goes under its parent (the setting: parent + style), Punk Rock to STYLE.
    qtbot.keyClick(queue.table, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier)
    dialog = win.write_dialog
    model = dialog.model
    rows = {model.data(model.index(r, 0)): [model.data(model.index(r, c)) for c in range(1, 5)]
            for r in range(model.rowCount())}
    assert rows == {"alpha.flac": ["Dance", "Electronic", "(none)", "House"],
                    "charlie.flac": ["Rock", "Rock", "(none)", "Punk Rock"]}
    qtbot.mouseClick(dialog.write_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, win)
    assert taglib_props(files["alpha"])["GENRE"] == ["Electronic"]
    assert taglib_props(files["alpha"])["STYLE"] == ["House"]
    assert mediafile_fields(files["charlie"])["styles"] == ["Punk Rock"]
    assert mediafile_fields(files["charlie"])["genres"] == ["Rock"]
    assert sha(files["bravo"]) == before["bravo"]  # the spoken-word file was not touched
    assert win.session.track(files["alpha"]).status == WRITTEN
    assert win.session.track(files["charlie"]).styles == ["Punk Rock"]

    # Undo the write: every file byte for byte as it was.
    queue.table.setFocus()
    qtbot.keyClick(queue.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    wait_idle(qtbot, win)
    assert {name: sha(p) for name, p in files.items()} == before
