"""Issue 22 item 8: a truncated file says so everywhere, in the real window: the scan's summary (a
"truncated" count), the table's status, the Problems dialog (also after the analysis failed on it),
the analysis summary, the details beside the prediction of what is there; and the CLI's scan summary.
A 0-byte file's details give its error, not "Not analysed yet"."""

from __future__ import annotations

import os

import pytest
from media import make_audio
from windows import opened_window, wait_idle

from genre_desktop.core.prediction import Prediction
from genre_desktop.core.status import ERROR, PREDICTED, UNANALYSED
from genre_desktop.paths import app_dirs
from genre_desktop.settings import Settings


class CutAwareAnalyzer:
    """The Analyzer's method: the nearly empty cut file has no audio left, the others predict rock."""

    def __init__(self, **_config):
        pass

    def analyze(self, path, cancel):
        if os.path.basename(path) == "gone.mp3":
            return Prediction.failed(path, "no audible audio")
        if os.path.getsize(path) == 0:
            return Prediction.failed(path, "empty file")
        return Prediction(path, genres=[("rock", 0.8), ("blues", 0.2)], models={"svm": {"rock": 0.8, "blues": 0.2}},
                          model_version="stand-in-1")


@pytest.fixture(scope="module")
def whole_mp3(tmp_path_factory):
    return make_audio(tmp_path_factory.mktemp("whole") / "whole.mp3", seconds=30, signal="noise",
                      tags={"title": "Whole", "genre": "Rock"}).read_bytes()


@pytest.fixture
def library(tmp_path, whole_mp3):
    root = tmp_path / "music"
    (root / "Artist" / "Album").mkdir(parents=True)
    (root / "Artist" / "Album" / "cut.mp3").write_bytes(whole_mp3[: len(whole_mp3) * 2 // 5])  # 12 s of 30
    (root / "Artist" / "gone.mp3").write_bytes(whole_mp3[: len(whole_mp3) // 50])  # the header and almost nothing
    (root / "whole.mp3").write_bytes(whole_mp3)
    (root / "empty.mp3").write_bytes(b"")
    return root


@pytest.fixture
def window(qtbot):
    with opened_window(qtbot, Settings(), analyzer_factory=lambda **kw: CutAwareAnalyzer(**kw)) as win:
        yield win


def status_cell(win, path):
    from genre_desktop.ui.library_model import STATUS

    return win.model.data(win.model.index(win.model.row_of(path), STATUS))


def test_truncation_stays_visible_in_the_window(qtbot, window, library):
    win = window
    cut, gone = str(library / "Artist" / "Album" / "cut.mp3"), str(library / "Artist" / "gone.mp3")
    empty = str(library / "empty.mp3")
    win.open_folder(str(library))
    wait_idle(qtbot, win)
    text = win.status_text.text()
    assert "Scan finished" in text and "2 truncated" in text, text
    assert status_cell(win, cut) == f"{UNANALYSED} · truncated"
    problems = dict(win.errors)
    assert problems[cut].startswith("truncated MP3: the header says 0:30, the file holds about 0:12")
    assert problems[gone].startswith("truncated MP3: the header says 0:30")

    win.analysis.analyze_unanalyzed()
    wait_idle(qtbot, win)
    text = win.status_text.text()
    assert "1 truncated file (only what the file holds was analysed)" in text, text
    track = win.session.track(cut)
    assert track.status == PREDICTED and track.error.startswith("truncated MP3")
    assert status_cell(win, cut) == f"{PREDICTED} · truncated"
    gone_track = win.session.track(gone)
    assert gone_track.status == ERROR
    assert gone_track.error.startswith("truncated MP3: the header says 0:30"), gone_track.error
    problems = dict(win.errors)
    assert problems[gone].startswith("truncated MP3") and problems[cut].startswith("truncated MP3")

    dialog = win.show_errors()
    shown = {dialog.table.item(r, 1).text() for r in range(dialog.table.rowCount())}
    assert any(s.startswith("truncated MP3") and "0:12" in s for s in shown), shown
    dialog.close()

    win.select_path(cut)  # the details: the prediction of what is there, and the truncation beside it
    qtbot.waitUntil(lambda: win.details.current_path == cut, timeout=5000)
    panel = win.side.predictions
    assert "Rock" in panel.summary.text() or "rock" in panel.summary.text()
    assert panel.note.isVisible() and "truncated MP3" in panel.note.text()
    assert "part the file holds" in panel.note.text()

    win.select_path(empty)  # the 0-byte file: its error, not "Not analysed yet"
    qtbot.waitUntil(lambda: win.details.current_path == empty, timeout=5000)
    assert "Not analysed yet" not in panel.summary.text()
    assert "empty file" in panel.summary.text(), panel.summary.text()


def test_the_cli_scan_summary_counts_and_names_truncated_files(library, capsys):
    from genre_desktop.cli import main

    main(["scan", str(library)])
    out = capsys.readouterr().out
    assert "  truncated:   2" in out, out
    assert "cut.mp3: truncated MP3: the header says 0:30, the file holds about 0:12" in out


def test_the_cli_analysis_names_a_truncated_file_beside_its_prediction(tmp_path, whole_mp3, capsys):
    from genre_desktop.cli import main
    from genre_desktop.paths import app_dirs
    from genre_desktop.settings import Settings

    Settings(cpu_threads=1, segments=1).save(app_dirs().settings_path)
    root = tmp_path / "music"
    root.mkdir()
    cut = root / "cut.mp3"
    cut.write_bytes(whole_mp3[: len(whole_mp3) * 2 // 5])
    store = str(tmp_path / "lib.json")
    assert main(["scan", str(root), "--store", store]) == 0
    capsys.readouterr()
    code = main(["analyze", "--store", store, "--workers", "1"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "1 predicted, 0 failed" in out, out
    assert f"NOTE {cut}: truncated MP3: the header says 0:30, the file holds about 0:12" in out
