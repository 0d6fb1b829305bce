"""The training wizard walked page by page with pytest-qt (real training on a generated library,
on the real job runner), and the library map. Each page is grabbed as a screenshot; they go to a
temporary folder, or to $GENRE_DESKTOP_SCREENSHOTS when set (that is how docs/screenshots/wizard-*.png
are regenerated: a test run never writes into the repository)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from media import make_audio
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWizard

from genre_desktop.jobs.runner import JobRunner
from genre_desktop.library.scanner import scan
from genre_desktop.library.store import Store
from genre_desktop.core.status import CORRECTED
from genre_desktop.paths import app_dirs
from genre_desktop.settings import Settings
from genre_desktop.training.registry import Registry
from genre_desktop.ui.library_map import LibraryMapDialog
from genre_desktop.ui.training_wizard import TrainingWizard

SHOTS = Path(os.environ.get("GENRE_DESKTOP_SCREENSHOTS") or tempfile.mkdtemp(prefix="genre-wizard-shots-"))
SPECS = {"techno": ("noise", 440.0), "classical": ("tone", 180.0), "metal": ("chirp", 600.0)}


def _library(root: Path):
    for genre, (signal, base) in SPECS.items():
        for a in range(4):
            make_audio(root / genre / f"{a}.wav", seconds=5.0 + 0.3 * a, freq=base * (1 + 0.15 * a), signal=signal,
                       tags={"artist": f"{genre.title()} Artist {a}", "genre": genre.title()})
    # A low tone someone labelled techno: the map should call it a likely mislabel.
    make_audio(root / "odd" / "oddball.wav", seconds=5.2, freq=200.0, signal="tone",
               tags={"artist": "Oddball", "genre": "Techno"})
    dirs = app_dirs()
    store = Store.open(dirs.store_path)
    for _ in scan(root, store):
        pass
    for track in store.all():
        if "/techno/" in track.path or "oddball" in track.path:
            store.update(track.path, chosen=["Techno"], status=CORRECTED)
        elif "/classical/" in track.path:
            store.update(track.path, chosen=["Classical"], status=CORRECTED)
    tracks = store.all()
    store.close()
    return tracks, dirs


def _shot(widget, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    image = widget.grab()
    assert not image.isNull() and image.width() > 300
    assert image.save(str(SHOTS / f"wizard-{name}.png"))


@pytest.fixture
def runner():
    r = JobRunner()
    yield r
    r.shutdown()


def test_walk_the_wizard(qtbot, tmp_path, runner):
    tracks, dirs = _library(tmp_path / "music")
    settings = Settings(segments=1, cpu_threads=1)
    wizard = TrainingWizard(tracks, runner, dirs, settings)
    qtbot.addWidget(wizard)
    activated = []
    wizard.model_activated.connect(activated.append)
    wizard.show()

    # 1. Data: corrections only, then trust the existing metal tags.
    data = wizard.data_page
    assert wizard.currentPage() is data
    assert {data.table.item(r, 0).text() for r in range(data.table.rowCount())} == {"classical", "techno"}
    assert "fewer than 10" in data.warnings.text()
    trust = {data.trust.item(i).data(Qt.ItemDataRole.UserRole) for i in range(data.trust.count())}
    assert "metal" in trust
    data.set_trusted(["metal"])
    assert data.table.rowCount() == 3 and wizard.dataset.counts()["metal"] == 4
    _shot(wizard, "1-data")

    # 2. Genres: rename classical to orchestral.
    wizard.next()
    genres = wizard.genres_page
    assert wizard.currentPage() is genres
    genres.set_target("classical", "Orchestral")
    assert wizard.dataset.counts() == {"metal": 4, "orchestral": 4, "techno": 5}
    assert "orchestral (4)" in genres.result.text()
    _shot(wizard, "2-genres")

    # 3. Training: starts on entering; cancel leaves nothing; start again and finish.
    wizard.next()
    page = wizard.train_page
    assert page.handle is not None
    page.cancel()
    qtbot.waitUntil(lambda: page.handle is None, timeout=60000)
    # The worker needs well over a millisecond to build its Analyzer: the cancel always lands first.
    assert page.result is None and "Nothing was saved" in page.status.text()
    assert Registry(dirs.user_models).versions() == [] and not list(dirs.user_models.glob(".staging-*"))
    assert not page.isComplete() and page.restart_button.isEnabled()
    _shot(wizard, "3-cancelled")
    page.start()
    qtbot.waitUntil(page.isComplete, timeout=60000)
    assert wizard.button(QWizard.WizardButton.NextButton).isEnabled()
    assert "Saved user-" in page.status.text()
    # every candidate the trainer tried: the logistic regressions on each network's statistics and on
    # both (3 x 2), then the SVMs (2) and XGBoost on the best of those
    assert page.candidates.rowCount() == len(page.result.report.candidates) == 9
    assert "chosen" in page.candidates.item(0, 0).text()
    _shot(wizard, "3-training")

    # 4. Comparison report: three models, per-genre rows, heat map, export.
    wizard.next()
    report = wizard.report_page
    assert report.summary.rowCount() == 3
    assert report.summary.item(2, 0).text().startswith("current: bundled ensemble")
    assert report.per_genre.rowCount() == 3
    assert report.heat.labels == ["metal", "orchestral", "techno"]
    assert sum(map(sum, report.heat.confusion)) == wizard.result.report.heldout
    exported = report.export_to(tmp_path / "export")
    assert sorted(p.name for p in exported) == ["confusion.csv", "metrics.csv", "report.html"]
    wizard.resize(1000, 700)
    _shot(wizard, "4-report")

    # 5. Activate.
    wizard.next()
    act = wizard.activate_page
    assert wizard.result.version in act.use_new.text()
    act.use_new.setChecked(True)
    _shot(wizard, "5-activate")
    wizard.accept()
    assert activated == [wizard.result.version]
    assert Registry(dirs.user_models).active() == wizard.result.version


def test_library_map_highlights_mislabels_and_selects_tracks(qtbot, tmp_path, runner):
    tracks, dirs = _library(tmp_path / "music")
    settings = Settings(segments=1, cpu_threads=1)
    dialog = LibraryMapDialog(tracks, runner, dirs, settings)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: bool(dialog.widget.view.items_by_path), timeout=60000)
    widget = dialog.widget
    assert len(widget.view.items_by_path) == 9  # 4 techno + 4 classical + the oddball (metal untrusted here)
    suspects = [widget.suspects.item(i).data(Qt.ItemDataRole.UserRole) for i in range(widget.suspects.count())]
    assert suspects and os.path.basename(suspects[0]) == "oddball.wav"
    chosen = []
    dialog.track_selected.connect(chosen.append)
    item = widget.view.items_by_path[suspects[0]]
    pos = widget.view.mapFromScene(item.sceneBoundingRect().center())
    qtbot.mouseClick(widget.view.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert chosen == [suspects[0]]
    widget.suspects.itemClicked.emit(widget.suspects.item(0))
    assert chosen == [suspects[0], suspects[0]]
    _shot(dialog, "map")


def _labelled(genre: str, artist: str, n: int, start: int = 0) -> list:
    from genre_desktop.core.track import Track

    return [Track(f"/m/{genre}/{artist}-{i}.flac", artist=artist, genres=[genre.title()], chosen=[genre.title()],
                  status=CORRECTED) for i in range(start, start + n)]


def _rows(table) -> dict[str, list[str]]:
    return {table.item(r, 0).text(): [table.item(r, c).text() for c in range(1, table.columnCount())]
            for r in range(table.rowCount())}


def test_wizard_says_what_each_genre_lacks_and_never_starts_a_training_the_trainer_refuses(qtbot, tmp_path, runner):
    # The library: each genre by one artist; and a genre with fewer tracks than the minimum.
    tracks = _labelled("rock", "Rocker", 4) + _labelled("jazz", "Jazzer", 3) + _labelled("blues", "Bluesman", 2)
    wizard = TrainingWizard(tracks, runner, app_dirs(), Settings(segments=1, cpu_threads=1))
    qtbot.addWidget(wizard)
    wizard.show()
    data = wizard.data_page
    rows = _rows(data.table)
    assert set(rows) == {"rock", "jazz", "blues"}  # blues too, although below the minimum
    assert rows["rock"][1] == "1" and "one artist only" in rows["rock"][-1]
    assert "left out: needs 1 more track" in rows["blues"][-1]
    assert "too few artists to hold any tracks out" in data.warnings.text()
    next_button = wizard.button(QWizard.WizardButton.NextButton)
    assert next_button.isEnabled()  # the merge page is where a user gets over it
    wizard.next()
    genres = wizard.genres_page
    assert set(_rows(genres.table)) == {"rock", "jazz", "blues"}
    assert not next_button.isEnabled() and "Not ready to train" in genres.result.text()
    genres.set_target("blues", "jazz")  # jazz now has tracks by two artists, but rock still one
    assert wizard.dataset.counts() == {"jazz": 5, "rock": 4}
    assert wizard.readiness.artists["jazz"] == 2
    assert not next_button.isEnabled()
    _shot(wizard, "2-genres-not-ready")
    # Nothing started, even when asked directly.
    wizard.train_page.start()
    assert wizard.train_page.handle is None and "Cannot train" in wizard.train_page.status.text()

    # Tracks by more artists: the trainer's check passes and Next is enabled.
    more = tracks + _labelled("rock", "Other Rocker", 3) + _labelled("jazz", "Other Jazzer", 3) \
        + _labelled("rock", "Third Rocker", 2) + _labelled("jazz", "Third Jazzer", 2)
    wizard2 = TrainingWizard(more, runner, app_dirs(), Settings(segments=1, cpu_threads=1))
    qtbot.addWidget(wizard2)
    wizard2.show()
    assert "Not ready" not in wizard2.data_page.warnings.text()
    wizard2.next()
    assert wizard2.readiness.ok and wizard2.button(QWizard.WizardButton.NextButton).isEnabled()


def test_a_training_failing_mid_run_ends_the_progress_and_says_what_to_do(qtbot, tmp_path, runner):
    tracks, dirs = _library(tmp_path / "music")
    # After the analysis three classical files became unreadable: the run finds out at 40 %.
    for track in tracks:
        if "/classical/" in track.path and not track.path.endswith("0.wav"):
            Path(track.path).write_bytes(b"not audio any more")
    wizard = TrainingWizard(tracks, runner, dirs, Settings(segments=1, cpu_threads=1))
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.next()
    wizard.next()
    page = wizard.train_page
    qtbot.waitUntil(lambda: page.handle is None, timeout=60000)
    assert page.result is None and page.error
    assert page.bar.value() == 0
    assert "Training failed" in page.status.text() and "Nothing was saved" in page.status.text()
    assert "Back" in page.status.text() and page.restart_button.isEnabled() and not page.cancel_button.isEnabled()
    assert Registry(dirs.user_models).versions() == []


def test_report_page_and_wizard_import_one_way():
    import ast
    import inspect

    import genre_desktop.ui.training_report as report_module

    tree = ast.parse(inspect.getsource(report_module))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert "genre_desktop.ui.training_wizard" not in imported


def test_library_map_colours_by_the_files_genre_where_nothing_was_chosen(qtbot, tmp_path, runner):
    from genre_desktop.core.track import Track
    from genre_desktop.training.session import vector_analyzer, vectors_for

    tracks, dirs = _library(tmp_path / "music")
    untagged = make_audio(tmp_path / "music" / "untagged.wav", seconds=5.0, freq=300.0, signal="tone")
    tracks.append(Track(str(untagged)))
    settings = Settings(segments=1, cpu_threads=1)
    analyzer = vector_analyzer(dirs, settings.segments)  # the metal files were analysed, not reviewed
    for t in tracks:
        if "/metal/" in t.path or t.path == str(untagged):
            vectors_for(analyzer)(t.path)
    dialog = LibraryMapDialog(tracks, runner, dirs, settings)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: bool(dialog.widget.view.items_by_path), timeout=60000)
    items = dialog.widget.view.items_by_path
    assert len(items) == 14  # 4 techno + 4 classical + the oddball (chosen), 4 metal (tag), 1 untagged
    styles = dialog.widget.view.styles
    colours = {p: item.brush().color().name() for p, item in items.items() if item.brush().style() != Qt.BrushStyle.NoBrush}
    metal = [p for p in colours if "/metal/" in p]
    assert len(metal) == 4 and {colours[p] for p in metal} == {styles["metal"][0]}
    assert len(set(styles[g][0] for g in styles)) == len(styles) == 3  # metal, techno, classical: one colour each
    hollow = [p for p, item in items.items() if item.brush().style() == Qt.BrushStyle.NoBrush]
    assert hollow == [str(untagged)]  # "no genre": a ring, unlike every genre's filled mark
    legend = dialog.widget.legend.texts
    assert legend == ["techno (5)", "classical (4)", "metal (4)", "no genre (1)", "likely mislabel"]


def test_report_page_shows_ten_genres_in_full_without_scrolling(qtbot):
    """GTZAN's ten genres at the wizard's default size: names not cut short, the whole heat map in view."""
    from types import SimpleNamespace

    import numpy as np

    from genre_desktop.training.evaluate import score
    from genre_desktop.training.report import Report
    from genre_desktop.ui.training_report import ReportPage

    labels = ["blues", "classical", "country", "disco", "hiphop", "jazz", "metal", "pop", "reggae", "rock"]
    rng = np.random.default_rng(0)
    true = [g for g in labels for _ in range(8)]
    predicted = [t if rng.random() < 0.7 else labels[rng.integers(10)] for t in true]
    models = [score(name, true, predicted, labels, labels) for name in
              ("your new model", "your new model + bundled ensemble (w=0.45)", "current: bundled ensemble (gtzan)")]
    report = Report(created="", version="user-0001", labels=labels, counts={g: 8 for g in labels}, warnings=[],
                    candidates=[], chosen="svm (C=10)", heldout=80, groups_heldout=20, weight=0.45, models=models)
    wizard = QWizard()
    wizard.setWizardStyle(QWizard.WizardStyle.ClassicStyle)
    page = ReportPage()
    wizard.addPage(page)
    qtbot.addWidget(wizard)
    page.set_result(SimpleNamespace(report=report, folder="", version="user-0001"))
    wizard.resize(900, 640)  # TrainingWizard's size
    wizard.show()
    qtbot.waitExposed(wizard)
    page.initializePage()
    qtbot.wait(20)
    table = page.per_genre
    assert table.columnWidth(0) >= table.sizeHintForColumn(0)  # "classical", not "cla…"
    assert not table.horizontalScrollBar().isVisible()
    heat = page.heat
    assert heat.rect().contains(heat.grid_rect().toRect())
    assert heat.cell_size() >= heat.MIN_CELL
    _shot(wizard, "4-report-ten-genres")


def test_a_large_training_set_is_checked_in_the_background(qtbot, runner, monkeypatch):
    monkeypatch.setattr(TrainingWizard, "SYNC_CHECK_LIMIT", 0)  # as for tens of thousands of tracks
    tracks = []
    for genre in ("rock", "jazz"):
        for a in range(4):
            tracks += _labelled(genre, f"{genre} artist {a}", 2)
    wizard = TrainingWizard(tracks, runner, app_dirs(), Settings(segments=1, cpu_threads=1))
    qtbot.addWidget(wizard)
    wizard.show()
    assert not wizard.readiness.ok and "Checking" in wizard.data_page.warnings.text()
    wizard.next()
    next_button = wizard.button(QWizard.WizardButton.NextButton)
    qtbot.waitUntil(lambda: wizard.readiness.ok, timeout=20000)
    assert next_button.isEnabled() and "Checking" not in wizard.genres_page.result.text()
    wizard.genres_page.set_target("jazz", "rock")  # one genre left: the new verdict replaces the old
    qtbot.waitUntil(lambda: "Not ready" in wizard.genres_page.result.text(), timeout=20000)
    assert not next_button.isEnabled()


def test_library_map_says_so_when_no_track_looks_mislabelled(qtbot):
    from genre_desktop.training.library_map import MapPoint
    from genre_desktop.ui.library_map import LibraryMapWidget

    widget = LibraryMapWidget()
    qtbot.addWidget(widget)
    widget.show()
    calm = [MapPoint("/m/a.flac", "rock", 0.0, 0.0, 0.05), MapPoint("/m/b.flac", "jazz", 1.0, 1.0, 0.1)]
    widget.set_points(calm)
    assert widget.no_suspects.isVisible() and not widget.suspects.isVisible()
    widget.set_points([*calm, MapPoint("/m/c.flac", "pop", 0.5, 0.5, 0.93, "classical", "the models say classical")])
    assert widget.suspects.isVisible() and widget.suspects.count() == 1 and not widget.no_suspects.isVisible()
