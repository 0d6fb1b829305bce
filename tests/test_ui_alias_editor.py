"""The genre editor: the tree with the librarian's genres, search, add (merging into a genre that is
there already), move, remove, and spellings (refused when they name another genre)."""

from __future__ import annotations

from PySide6.QtCore import Qt

from genre_desktop.settings import DEFAULT_ALIASES
from genre_desktop.ui.alias_editor import TOP_LEVEL, AliasEditor


def editor(qtbot, user_genres=None, aliases=None) -> AliasEditor:
    widget = AliasEditor(dict(aliases if aliases is not None else DEFAULT_ALIASES), user_genres or [])
    qtbot.addWidget(widget)
    widget.resize(600, 500)
    widget.show()
    return widget


def visible(widget) -> list[str]:
    return [key for key, item in widget._items.items() if not item.isHidden()]


def test_the_tree_and_the_librarians_genres_are_shown_with_their_spellings(qtbot):
    widget = editor(qtbot, [{"name": "Lo-fi", "parent": "hip-hop"}])
    assert widget.tree.topLevelItemCount() == 25
    lofi = widget.item("lofi")
    assert lofi.parent() is widget.item("hip-hop") and lofi.text(2) == "yours" and lofi.font(0).italic()
    assert widget.item("hip-hop").isExpanded()  # it holds one of theirs
    assert widget.item("heavy-metal").text(1) == "Metal"  # the bundled alias
    assert widget.item("drum-and-bass").text(1) == "Drum and Bass" and "DnB" in widget.item("drum-and-bass").text(2)
    assert "Electronic › Drum and Bass" in widget.item("drum-and-bass").toolTip(0)
    assert widget.user_genres() == [{"name": "Lo-fi", "parent": "hip-hop"}]
    assert not widget.message.isVisible()


def test_search_narrows_to_matches_and_their_parents(qtbot):
    widget = editor(qtbot)
    widget.search.setText("dnb")
    assert visible(widget) == ["electronic", "drum-and-bass"]
    widget.search.setText("hip hop")  # another spelling finds the genre
    assert "hip-hop" in visible(widget)
    widget.search.setText("rock")
    assert {"rock", "punk-rock", "progressive-rock"} <= set(visible(widget)) and "pop" not in visible(widget)
    widget.search.setText("Synthwave")
    assert visible(widget) == [] and "add it below" in widget.message.text() and widget.name.text() == "Synthwave"
    widget.search.clear()
    assert len(visible(widget)) == len(widget._items)


def test_adding_under_a_parent_picked_by_selection_or_search(qtbot):
    widget = editor(qtbot)
    changed = []
    widget.changed.connect(lambda: changed.append(1))
    widget.tree.setCurrentItem(widget.item("electronic"))  # selecting a genre presets the parent
    assert widget.parent_picker.currentText() == "Electronic"
    widget.name.setText("Synthwave")
    qtbot.mouseClick(widget.add_button, Qt.MouseButton.LeftButton)
    assert widget.item("synthwave").parent() is widget.item("electronic")
    assert "Added Synthwave under Electronic" in widget.message.text() and changed
    widget.parent_picker.setEditText("Hip-Hop")  # typed into the searchable picker
    widget.name.setText("Lo-fi")
    qtbot.keyClick(widget.name, Qt.Key.Key_Return)
    assert widget.user_genres() == [{"name": "Synthwave", "parent": "electronic"}, {"name": "Lo-fi", "parent": "hip-hop"}]
    assert widget.name.text() == ""


def test_a_new_genre_that_is_a_genre_already_merges_into_it_and_says_so(qtbot):
    widget = editor(qtbot, [{"name": "Lo-fi"}])
    for typed, node, words in (("HipHop", "hip-hop", "Hip-Hop in the genre tree: merged"),
                               ("D&B", "drum-and-bass", "Electronic › Drum and Bass in the genre tree"),
                               ("LO FI", "lofi", "your genre Lo-fi already")):
        widget.name.setText(typed)
        widget._add()
        assert words in widget.message.text() and widget.tree.currentItem() is widget.item(node)
    assert widget.user_genres() == [{"name": "Lo-fi", "parent": None}]
    loaded = editor(qtbot, [{"name": "Salsa"}, {"name": "Chill"}])  # a genre of theirs the tree now has
    assert loaded.user_genres() == [{"name": "Chill", "parent": None}]
    assert "“Salsa” is Latin › Salsa in the genre tree: merged" in loaded.message.text()


def test_spellings_are_edited_in_place_and_must_name_their_genre(qtbot):
    widget = editor(qtbot)
    widget.item("house").setText(1, "House Music")
    assert widget.aliases()["house"] == "House Music" and widget.item("house").text(1) == "House Music"
    widget.item("house").setText(1, "Techno")
    assert "“Techno” is another genre (Electronic › Techno)" in widget.message.text()
    assert widget.aliases()["house"] == "House Music" and widget.item("house").text(1) == "House Music"
    widget.item("heavy-metal").setText(1, "")  # blank: written as the tree's name
    assert "metal" not in widget.aliases() and widget.item("heavy-metal").text(1) == "Heavy Metal"
    widget.item("hip-hop").setText(1, "Hip Hop")  # the bundled label's row keeps its label
    assert widget.aliases()["hiphop"] == "Hip Hop"


def test_move_and_remove_only_the_librarians_own(qtbot):
    widget = editor(qtbot, [{"name": "Lo-fi", "parent": "hip-hop"}, {"name": "Chillhop", "parent": "lofi"}],
                    {**DEFAULT_ALIASES, "lofi": "Lo-Fi"})
    widget.tree.setCurrentItem(widget.item("rock"))
    assert not widget.move_button.isEnabled() and not widget.remove_button.isEnabled()
    widget.tree.setCurrentItem(widget.item("lofi"))
    assert widget.move_button.isEnabled() and widget.parent_picker.currentText() == "Hip-Hop"
    widget.parent_picker.setCurrentIndex(widget.parent_picker.findText("Electronic"))
    qtbot.mouseClick(widget.move_button, Qt.MouseButton.LeftButton)
    assert widget.item("lofi").parent() is widget.item("electronic") and "Moved Lo-fi" in widget.message.text()
    widget.tree.setCurrentItem(widget.item("lofi"))
    widget.parent_picker.setCurrentIndex(widget.parent_picker.findText("Electronic › Lo-fi › Chillhop"))
    widget._move()
    assert "cannot go under itself" in widget.message.text()
    widget.tree.setCurrentItem(widget.item("lofi"))
    qtbot.mouseClick(widget.remove_button, Qt.MouseButton.LeftButton)
    assert widget.item("lofi") is None and widget.item("chillhop").parent() is widget.item("electronic")
    assert "lofi" not in widget.aliases()  # its spelling went with it
    assert widget.parent_picker.itemText(0) == TOP_LEVEL
