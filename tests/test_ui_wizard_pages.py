"""The wizard's figures agree with each other, its lists stay put under the pointer, the files it
leaves out are named, and a model that cannot predict what it was taught is not offered as if it
could: pytest-qt driving the real pages (real training on a generated library)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QStyle, QStyleOptionViewItem, QWizard
from test_ui_training_wizard import _library, _shot

from genre_desktop.jobs.runner import JobRunner
from genre_desktop.core.status import ERROR
from genre_desktop.core.track import Track
from genre_desktop.paths import app_dirs
from genre_desktop.settings import Settings
from genre_desktop.training.registry import Registry
from genre_desktop.ui.training_wizard import TrainingWizard


@pytest.fixture
def runner():
    r = JobRunner()
    yield r
    r.shutdown()


def _indicator(view, row: int) -> QPoint:
    """Where a person clicks to tick row ``row`` of a check list: its check box."""
    item = view.item(row)
    option = QStyleOptionViewItem()
    view.initViewItemOption(option)
    option.rect = view.visualItemRect(item)
    option.features |= QStyleOptionViewItem.ViewItemFeature.HasCheckIndicator
    return view.style().subElementRect(QStyle.SubElement.SE_ItemViewItemCheckIndicator, option, view).center()


def _tagged(genre: str, artist: str, n: int, status=None, error=None) -> list[Track]:
    return [Track(f"/m/{genre}/{artist}-{i}.flac", artist=artist, genres=[genre.title()],
                  **({"status": status} if status else {}), error=error) for i in range(n)]


def test_ticking_genres_lands_on_the_rows_under_the_pointer(qtbot, runner):
    """The issue: the check list moved as warnings appeared, so the second click ticked another row."""
    tracks = []
    for genre, n in (("rock", 3), ("jazz", 2), ("pop", 2), ("metal", 1), ("soul", 1)):
        for a in range(n):
            tracks += _tagged(genre, f"{genre} artist {a}", 2)
    wizard = TrainingWizard(tracks, runner, app_dirs(), Settings(segments=1, cpu_threads=1))
    qtbot.addWidget(wizard)
    wizard.show()
    qtbot.waitExposed(wizard)
    data = wizard.data_page
    trust = data.trust
    rows = [trust.item(i).data(Qt.ItemDataRole.UserRole) for i in range(trust.count())]
    # Where the pointer will go, read before the first click: the user aims at what is on screen.
    aims = {g: trust.viewport().mapToGlobal(_indicator(trust, i)) for i, g in enumerate(rows)}
    warnings_before = data.warnings.text()
    for genre in ("rock", "jazz", "pop"):
        qtbot.mouseClick(trust.viewport(), Qt.MouseButton.LeftButton, pos=trust.viewport().mapFromGlobal(aims[genre]))
        qtbot.wait(10)
    assert data.trusted() == ["rock", "jazz", "pop"]
    assert data.warnings.text() != warnings_before  # the warnings did change meanwhile
    assert wizard.dataset.counts() == {"jazz": 4, "pop": 4, "rock": 6}
    _shot(wizard, "1-data-ticked")


def test_files_that_could_not_be_read_are_not_counted_and_are_named(qtbot, runner):
    tracks = (_tagged("rock", "a", 3) + _tagged("rock", "b", 3) + _tagged("jazz", "c", 3) + _tagged("jazz", "d", 3)
              + _tagged("rock", "broken", 1, status=ERROR, error="empty file"))
    wizard = TrainingWizard(tracks, runner, app_dirs(), Settings(segments=1, cpu_threads=1))
    qtbot.addWidget(wizard)
    wizard.show()
    data = wizard.data_page
    assert [data.trust.item(i).text() for i in range(data.trust.count())] == ["jazz (6 tracks)", "rock (6 tracks)"]
    data.set_trusted(["rock", "jazz"])
    assert wizard.dataset.counts() == {"jazz": 6, "rock": 6}
    text = data.warnings.text()
    assert "Left out, 1 file that could not be read: m/rock/broken-0.flac (empty file)" in text


def test_the_figures_agree_and_a_model_that_changes_nothing_is_not_offered(qtbot, tmp_path, runner, monkeypatch):
    from genre_desktop.training import trainer

    monkeypatch.setattr(trainer, "fit_mix_weight", lambda *args, **kwargs: 0.0)  # as the run fitted it
    tracks, dirs = _library(tmp_path / "music")
    unreadable = tmp_path / "music" / "classical" / "9.wav"
    unreadable.write_bytes(b"not audio")  # analysed once, broken since: training finds out
    tracks.append(Track(str(unreadable), artist="Classical Artist 9", genres=["Classical"], chosen=["Classical"],
                        status="corrected"))
    wizard = TrainingWizard(tracks, runner, dirs, Settings(segments=1, cpu_threads=1))
    qtbot.addWidget(wizard)
    activated = []
    wizard.model_activated.connect(activated.append)
    wizard.show()
    wizard.data_page.set_trusted(["metal"])
    wizard.next()
    wizard.next()
    page = wizard.train_page
    qtbot.waitUntil(page.isComplete, timeout=120000)
    report = wizard.result.report
    new, mixed, _current = report.models
    # One figure, with how it was obtained: the mix (what activating runs) on the held-out artists.
    assert f"accuracy {mixed.accuracy:.0%}, macro F1 {mixed.macro_f1:.2f} on {report.heldout} held-out tracks" \
        in page.status.text()
    assert "never used to fit or choose it" in page.status.text()
    # The table that chose the head shows the same held-out figure for it as the summary.
    headers = [page.candidates.horizontalHeaderItem(c).text() for c in range(page.candidates.columnCount())]
    chosen = next(r for r in range(page.candidates.rowCount()) if "chosen" in page.candidates.item(r, 0).text())
    assert page.candidates.item(chosen, headers.index("held-out\naccuracy")).text() == f"{new.accuracy:.3f}"
    assert page.candidates.item(chosen, headers.index("held-out\nmacro F1")).text() == f"{new.macro_f1:.3f}"
    assert "CV (cross-validated): grouped by artist" in page.note.text()
    assert f"Left out, 1 file that could not be read: {Path(*unreadable.parts[-3:])}" in page.note.text()
    _shot(wizard, "3-training-figures")
    wizard.next()
    wizard.next()
    act = wizard.activate_page
    assert not act.use_new.isEnabled() and not act.use_new.isChecked() and act.keep.isChecked()
    assert "This model would change nothing and cannot predict" in act.verdict.text()
    assert "What would help:" in act.verdict.text()
    _shot(wizard, "5-activate-changes-nothing")
    wizard.button(QWizard.WizardButton.FinishButton).click()
    assert activated == [] and Registry(dirs.user_models).active() is None
