"""Where sub-genres go, in the window (issue 20 item 5): the setting in the settings dialog and the
write preview (changing it re-plans the preview, a style gets its own columns), and the library's
content filter (item 6). Screenshots in both palettes go to the app's data folder."""

from __future__ import annotations

import os

import pytest
from PySide6.QtWidgets import QApplication

from genre_desktop.app.plan import plan_write
from genre_desktop.core.prediction import MUSIC, NO_AUDIO, SPOKEN_WORD, Prediction
from genre_desktop.core.status import CORRECTED, PREDICTED
from genre_desktop.core.track import Track
from genre_desktop.paths import app_dirs
from genre_desktop.settings import Settings
from genre_desktop.ui.library_view import LibraryView
from genre_desktop.ui.settings_dialog import SettingsDialog
from genre_desktop.ui.theme import apply_theme
from genre_desktop.ui.write_dialog import WriteDialog


def decided() -> list[Track]:
    return [
        Track("/m/house.flac", genres=["Dance"], status=CORRECTED, chosen=["House"]),
        Track("/m/trap.mp3", genres=["Hip-Hop"], styles=["Boom Bap"], status=CORRECTED, chosen=["Hip-Hop"],
              chosen_style=["Trap"]),
        Track("/m/rock.ogg", genres=[], status=CORRECTED, chosen=["Rock"]),
    ]


def cells(dialog) -> list[list[str]]:
    model = dialog.model
    return [[model.data(model.index(r, c)) for c in range(model.columnCount())] for r in range(model.rowCount())]


def test_the_settings_dialog_keeps_the_layout(qtbot, tmp_path):
    dialog = SettingsDialog(Settings(genre_layout="parent"), tmp_path)
    qtbot.addWidget(dialog)
    assert dialog.genre_layout.currentData() == "parent"
    assert [dialog.genre_layout.itemData(i) for i in range(dialog.genre_layout.count())] == ["genre", "style", "parent"]
    dialog.genre_layout.setCurrentIndex(dialog.genre_layout.findData("style"))
    assert dialog.settings().genre_layout == "style"


def test_the_write_preview_follows_the_layout_and_shows_styles(qtbot):
    tracks = decided()
    dialog = WriteDialog(lambda s: plan_write(tracks, s), Settings(write_mode="replace"))
    qtbot.addWidget(dialog)
    assert dialog.model.headers() == ["File", "Now", "Will be", "Style now", "Style will be"]
    assert cells(dialog) == [["house.flac", "Dance", "House", "", ""],  # no style change: blank
                             ["trap.mp3", "Hip-Hop", "Hip-Hop", "Boom Bap", "Trap"],
                             ["rock.ogg", "(none)", "Rock", "", ""]]
    assert "The genre and style (STYLE) fields are written" in dialog.summary.text()
    dialog.genre_layout.setCurrentIndex(dialog.genre_layout.findData("style"))
    assert cells(dialog)[0] == ["house.flac", "Dance", "Electronic", "(none)", "House"]
    assert dialog.settings().genre_layout == "style"
    assert dialog.changes()["/m/house.flac"] == {"genre": ["Electronic"], "style": ["House"]}
    dialog.genre_layout.setCurrentIndex(dialog.genre_layout.findData("parent"))
    assert {r[0]: r[2] for r in cells(dialog)}["house.flac"] == "Electronic; House"


def library() -> list[Track]:
    def t(name, content, genre="pop"):
        return Track(f"/m/{name}.mp3", title=name.title(), status=PREDICTED,
                     prediction=Prediction(f"/m/{name}.mp3", genres=[(genre, 0.9)], content=content))
    return [t("song", MUSIC), t("podcast", SPOKEN_WORD), t("silence", NO_AUDIO), t("old", None),
            Track("/m/new.mp3", title="New")]


def shown(view) -> list[str]:
    return sorted(t.title for t in view.model.visible_tracks())


def test_the_library_filters_by_what_the_analysis_heard(qtbot):
    view = LibraryView(Settings().spell)
    qtbot.addWidget(view)
    view.set_tracks(library())
    assert len(shown(view)) == 5
    choose = lambda key: view.content_filter.setCurrentIndex(view.content_filter.findData(key))  # noqa: E731
    choose("spoken")
    assert shown(view) == ["Podcast"] and view.count_label.text() == "1 of 5"
    choose("not-music")
    assert shown(view) == ["Podcast", "Silence"]
    view.search.setText("sil")
    view.apply_filter()
    assert shown(view) == ["Silence"]
    view.search.setText("")
    view.apply_filter()
    choose("unknown")
    assert shown(view) == ["New", "Old"]
    choose(None)
    assert len(shown(view)) == 5


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_screenshots(qtbot, tmp_path, theme):
    app = QApplication.instance()
    apply_theme(app, theme)
    try:
        tracks = decided()
        write = WriteDialog(lambda s: plan_write(tracks, s), Settings(write_mode="add", genre_layout="style"))
        settings = SettingsDialog(Settings(), tmp_path)
        settings.tabs.setCurrentIndex(1)
        view = LibraryView(Settings().spell)
        view.set_tracks(library())
        view.content_filter.setCurrentIndex(view.content_filter.findData("not-music"))
        view.resize(1000, 300)
        for w in (write, settings, view):
            qtbot.addWidget(w)
            w.show()
        qtbot.wait(50)
        out = [str(app_dirs().data)] + ([os.environ["GENRE_SCREENSHOTS"]] if os.environ.get("GENRE_SCREENSHOTS") else [])
        for folder in out:
            os.makedirs(folder, exist_ok=True)
            write.grab().save(os.path.join(folder, f"layout_write_{theme}.png"))
            settings.grab().save(os.path.join(folder, f"layout_settings_{theme}.png"))
            view.grab().save(os.path.join(folder, f"content_filter_{theme}.png"))
    finally:
        apply_theme(app, "light")
