"""The panel beside the table: the selected track's details, the genre tree's genres the network
heard (suggestions to take as the genre or the style: ``ui/broad_suggestions.py``) and its
prediction.

Given the library ``session`` (and its review ``rules``), a suggestion taken here is a decision of
the session like the review queue's, with the same undo (the Undo button, Ctrl+Z in the panel)."""

from __future__ import annotations

import os
from typing import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QFormLayout, QFrame, QLabel, QPushButton, QScrollArea, QVBoxLayout, QWidget

from genre_desktop.app.review import ReviewRules
from genre_desktop.core.track import Track
from genre_desktop.ui.broad_suggestions import BroadSuggestions
from genre_desktop.ui.library_model import display_title, format_duration
from genre_desktop.ui.predictions_panel import PredictionsPanel


def _value_label() -> QLabel:
    label = QLabel()
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


def _line() -> QFrame:
    line = QFrame()
    line.setFrameShape(QFrame.Shape.HLine)
    line.setFrameShadow(QFrame.Shadow.Sunken)
    return line


class SidePanel(QScrollArea):
    def __init__(self, spell: Callable[[str], str] = lambda g: g, parent: QWidget | None = None,
                 session=None, rules: ReviewRules | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.rules = rules or ReviewRules(spell)
        self._path: str | None = None
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setMinimumWidth(260)
        body = QWidget()
        layout = QVBoxLayout(body)
        self.title = QLabel()
        self.title.setWordWrap(True)
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setBold(True)
        self.title.setFont(font)
        layout.addWidget(self.title)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.fields: dict[str, QLabel] = {}
        for key, caption in (("artist", "Artist"), ("album", "Album"), ("genres", "Genres in file"),
                             ("styles", "Style in file"), ("chosen", "Your choice"), ("chosen_style", "Your style"),
                             ("status", "Status"), ("audio", "Audio"), ("file", "File")):
            self.fields[key] = _value_label()
            form.addRow(caption, self.fields[key])
        self.form = form
        layout.addLayout(form)
        layout.addWidget(_line())
        self.broad = BroadSuggestions(spell)
        self.undo_button = QPushButton("Undo choice")
        self.undo_button.setToolTip("Take the last genre or style decision back (Ctrl+Z)")
        self.broad.buttons.addWidget(self.undo_button)
        layout.addWidget(self.broad)
        self.predictions = PredictionsPanel(spell)
        layout.addWidget(self.predictions)
        self.broad.chosen.connect(self.take_suggestion)
        self.undo_button.clicked.connect(self.undo)
        undo = QShortcut(QKeySequence.StandardKey.Undo, self)
        undo.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        undo.activated.connect(self.undo)
        self.setWidget(body)
        self.show_track(None)

    def take_suggestion(self, genre: str, as_style: bool) -> None:
        """A broad genre taken as the shown track's genre (or style): a decision of the session."""
        track = self.session.track(self._path) if self.session is not None and self._path else None
        if track is None:
            return
        self.session.decide([self.rules.choose_style(track, genre) if as_style else self.rules.choose(track, genre)])
        self._update_undo()

    def undo(self) -> None:
        if self.session is not None and self.session.can_undo:
            self.session.undo_decision()
        self._update_undo()

    def _update_undo(self) -> None:
        can = self.session is not None and self.session.can_undo
        self.undo_button.setEnabled(can)
        self.undo_button.setVisible(self.session is not None and bool(self.broad.genres()))

    def show_track(self, track: Track | None) -> None:
        self._path = track.path if track is not None else None
        self.broad.set_track(track)
        self._update_undo()
        if track is None:
            self.title.setText("No track selected")
            for label in self.fields.values():
                label.setText("")
            for key in ("styles", "chosen_style"):
                self.form.setRowVisible(self.fields[key], False)
            self.predictions.set_prediction(None, "Select a track in the table to see its details and prediction.")
            return
        self.title.setText(display_title(track))
        self.fields["artist"].setText(track.artist or "—")
        self.fields["album"].setText(track.album + (f" ({track.year})" if track.year else "") if track.album else "—")
        self.fields["genres"].setText(", ".join(track.genres) or "none")
        self.fields["chosen"].setText(", ".join(track.chosen or []) or "—")
        self.fields["styles"].setText(", ".join(track.styles))
        self.fields["chosen_style"].setText(", ".join(track.chosen_style or []))
        for key in ("styles", "chosen_style"):  # most files have no style: no empty rows
            self.form.setRowVisible(self.fields[key], bool(self.fields[key].text()))
        status = track.status + (" · file missing" if track.missing else "")
        self.fields["status"].setText(status + (f"\n{track.error}" if track.error else ""))
        parts = [track.format.upper() if track.format else "", format_duration(track.duration),
                 f"{track.samplerate / 1000:g} kHz" if track.samplerate else "",
                 {1: "mono", 2: "stereo"}.get(track.channels or 0, f"{track.channels} ch" if track.channels else "")]
        self.fields["audio"].setText(" · ".join(p for p in parts if p))
        # Break long paths at separators so the label wraps instead of widening the panel.
        self.fields["file"].setText(track.path.replace(os.sep, os.sep + "\u200b"))
        self.predictions.show_track(track)
