"""Typing a genre: completion by containment and by the one genre identity ("dnb" offers Drum and Bass)."""

from __future__ import annotations

from PySide6.QtCore import Qt

from genre_desktop.ui.genre_input import GenreInput


def completions(widget: GenreInput) -> list[str]:
    model = widget.completer().completionModel()
    return [model.index(r, 0).data() for r in range(model.rowCount())]


def field(qtbot) -> GenreInput:
    widget = GenreInput()
    qtbot.addWidget(widget)
    widget.set_known(["Drum and Bass", "Hip-Hop", "Lo-fi", "Trip Hop", "Heavy Metal", "Rock"])
    widget.show()
    widget.setFocus()
    return widget


def test_another_spelling_offers_the_known_name(qtbot):
    widget = field(qtbot)
    for typed, offered in (("dnb", ["Drum and Bass"]), ("hip hop", ["Hip-Hop"]), ("LOFI", ["Lo-fi"]),
                           ("bass", ["Drum and Bass"]), ("hop", ["Hip-Hop", "Trip Hop"]),
                           ("metal", ["Heavy Metal"]), ("rock", ["Rock"])):
        widget.clear()
        qtbot.keyClicks(widget, typed)
        qtbot.waitUntil(lambda: widget.popup_visible(), timeout=2000)
        assert completions(widget) == offered, typed


def test_enter_on_the_offered_name_submits_it(qtbot):
    widget = field(qtbot)
    submitted = []
    widget.submitted.connect(submitted.append)
    qtbot.keyClicks(widget, "d&b")
    qtbot.waitUntil(lambda: widget.popup_visible(), timeout=2000)
    popup = widget.completer().popup()
    qtbot.keyClick(popup, Qt.Key.Key_Down)
    qtbot.keyClick(popup, Qt.Key.Key_Return)
    assert submitted == ["Drum and Bass"]
    widget.add_known("drum & bass")  # the same genre: not offered twice
    assert widget.known().count("Drum and Bass") == 1 and "drum & bass" not in widget.known()
