"""The write plan and its preview dialog: exact old -> new per file, options change the plan."""

from __future__ import annotations

from PySide6.QtCore import Qt

from genre_desktop.core.status import ACCEPTED, CORRECTED, PREDICTED, WRITTEN
from genre_desktop.core.track import Track
from genre_desktop.settings import Settings
from genre_desktop.app.plan import plan_changes, plan_write
from genre_desktop.ui.write_dialog import WriteDialog


def planner(tracks):
    return lambda settings: plan_write(tracks, settings)


def prediction(*pairs) -> dict:
    return {"path": "", "genres": [{"genre": g, "probability": p} for g, p in pairs], "models": {}, "segments": [],
            "tags": {}, "model_version": "t", "error": None}


def tracks() -> list[Track]:
    return [
        Track("/m/a.mp3", genres=["Rock"], status=ACCEPTED, chosen=["hiphop"], prediction=prediction(("hiphop", 0.7), ("pop", 0.2))),
        Track("/m/b.flac", genres=[], status=CORRECTED, chosen=["Trip Hop"], prediction=prediction(("jazz", 0.6), ("blues", 0.3))),
        Track("/m/c.ogg", genres=["Jazz"], status=ACCEPTED, chosen=["jazz"], prediction=prediction(("jazz", 0.9))),
        Track("/m/d.wav", genres=["Pop"], status=PREDICTED, prediction=prediction(("rock", 0.9))),
        Track("/m/e.wav", genres=["Metal"], status=WRITTEN, chosen=["metal"]),
    ]


def test_plan_replaces_spells_and_counts_the_unchanged():
    changes, unchanged = plan_changes(tracks(), Settings(write_mode="replace"))
    assert [(c.path, c.old, c.new) for c in changes] == [
        ("/m/a.mp3", ["Rock"], ["Hip-Hop"]),
        ("/m/b.flac", [], ["Trip Hop"]),
    ]
    assert unchanged == 1  # c.ogg already says Jazz; d is not reviewed; e was written already


def test_plan_add_mode_and_several_genres():
    settings = Settings(write_mode="add", max_genres=2)
    changes, _ = plan_changes(tracks(), settings)
    by_path = {c.path: c.new for c in changes}
    assert by_path["/m/a.mp3"] == ["Rock", "Hip-Hop", "Pop"]  # accepted: runner-up comes along
    assert by_path["/m/b.flac"] == ["Trip Hop"]  # corrected: only the librarian's genre
    assert "/m/c.ogg" not in by_path  # adding "Jazz" to "Jazz" changes nothing


def test_dialog_previews_every_change_and_options_update_it(qtbot):
    settings = Settings(write_mode="replace")
    dialog = WriteDialog(planner(tracks()), settings)
    qtbot.addWidget(dialog)
    model = dialog.model
    rows = [[model.data(model.index(r, c)) for c in range(3)] for r in range(model.rowCount())]
    assert rows == [["a.mp3", "Rock", "Hip-Hop"], ["b.flac", "(none)", "Trip Hop"]]
    assert dialog.write_button.text() == "Write 2 files"
    dialog.add.setChecked(True)
    assert model.data(model.index(0, 2)) == "Rock; Hip-Hop"
    # Editing a genre's spelling in the genre editor changes the preview at once.
    dialog.aliases.item("hip-hop").setText(1, "Hip Hop")
    assert model.data(model.index(0, 2)) == "Rock; Hip Hop"
    dialog.id3_version.setCurrentIndex(dialog.id3_version.findData(3))
    assert dialog.separator.isEnabled()
    chosen = dialog.settings()
    assert chosen.write_mode == "add" and chosen.id3_version == 3 and chosen.aliases["hiphop"] == "Hip Hop"
    assert settings.write_mode == "replace"  # the caller's settings change only when it saves them
    assert dialog.changes() == {"/m/a.mp3": ["Rock", "Hip Hop"], "/m/b.flac": ["Trip Hop"]}


def test_dialog_with_nothing_to_write_says_so(qtbot):
    dialog = WriteDialog(planner([Track("/m/x.flac")]), Settings())
    qtbot.addWidget(dialog)
    assert not dialog.write_button.isEnabled()
    assert "review queue" in dialog.summary.text()


def test_dialog_lists_files_that_cannot_be_written_apart_with_the_reason(qtbot, tmp_path):
    from media import make_audio

    from genre_desktop.tagging import read_tags

    au = make_audio(tmp_path / "sun.au", seconds=0.5)
    flac = make_audio(tmp_path / "ok.flac", seconds=0.5, tags={"genre": "Rock"})
    library = []
    for path, chosen in ((au, "jazz"), (flac, "blues")):
        tags = read_tags(path)  # what the scan records
        library.append(Track(str(path), format=tags.format, genres=tags.genres, status=CORRECTED, chosen=[chosen]))
    dialog = WriteDialog(planner(library), Settings())
    qtbot.addWidget(dialog)
    dialog.show()
    model = dialog.model
    assert [model.data(model.index(r, 0)) for r in range(model.rowCount())] == ["ok.flac"]
    assert dialog.write_button.text() == "Write 1 file"
    assert dialog.changes() == {str(flac): ["Rock", "Blues"]}  # the default keeps the file's genres
    assert dialog.unwritable.isVisible() and dialog.unwritable.count() == 1
    assert "sun.au" in dialog.unwritable.item(0).text() and "no tag format" in dialog.unwritable.item(0).text()
    assert "1 reviewed file cannot be written" in dialog.unwritable_label.text()
    only_au = WriteDialog(planner(library[:1]), Settings())
    qtbot.addWidget(only_au)
    assert not only_au.write_button.isEnabled() and "Nothing can be written" in only_au.summary.text()


def test_registry_says_which_containers_take_no_tags():
    from genre_desktop.tagging.registry import ENTRIES, unwritable_reason

    assert all(unwritable_reason(f"/m/x.{e.format}", e.format) is None for e in ENTRIES)
    assert "no tag format" in unwritable_reason("/m/x.au", "au")
    assert "no tag format" in unwritable_reason("/m/x.aac", "aac")
    assert unwritable_reason("/m/x.flac", "") is None  # unknown format, a taggable extension: let the write try


def test_the_preview_shows_further_fields_and_notes_of_a_plan(qtbot):
    """The interface for later tag fields (a style) and notes (a tag version the write changes):
    an entry of ``PlannedChange.fields`` or ``notes``, shown without touching the dialog."""
    from genre_desktop.app.plan import PlannedChange, WritePlan

    def planner(_settings):
        return WritePlan(changes=[
            PlannedChange("/m/a.mp3", ["Jazz"], ["Jazz"], fields={"style": (["Bebop"], ["Hard Bop"])},
                          notes=["the tag becomes ID3v2.4 (it is ID3v2.3 now)"]),
            PlannedChange("/m/b.flac", [], ["Rock"])])

    dialog = WriteDialog(planner, Settings())
    qtbot.addWidget(dialog)
    model = dialog.model
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    assert headers == ["File", "Now", "Will be", "Style now", "Style will be", "Notes"]
    first = [model.data(model.index(0, c)) for c in range(model.columnCount())]
    assert first == ["a.mp3", "Jazz", "Jazz", "Bebop", "Hard Bop", "the tag becomes ID3v2.4 (it is ID3v2.3 now)"]
    second = [model.data(model.index(1, c)) for c in range(model.columnCount())]
    assert second == ["b.flac", "(none)", "Rock", "", "", ""]
    assert "ID3v2.4" in model.data(model.index(0, 0), Qt.ItemDataRole.ToolTipRole)
    dialog.set_notice("The library changed while this preview was open.")
    assert not dialog.notice.isHidden()
