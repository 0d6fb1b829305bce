"""The panel beside the table: the selected track's details and its prediction."""

from __future__ import annotations

import os
from typing import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFormLayout, QFrame, QLabel, QScrollArea, QVBoxLayout, QWidget

from genre_desktop.core.track import Track
from genre_desktop.ui.library_model import display_title, format_duration
from genre_desktop.ui.predictions_panel import PredictionsPanel


def _value_label() -> QLabel:
    label = QLabel()
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


class SidePanel(QScrollArea):
    def __init__(self, spell: Callable[[str], str] = lambda g: g, parent: QWidget | None = None) -> None:
        super().__init__(parent)
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
                             ("chosen", "Your choice"), ("status", "Status"), ("audio", "Audio"), ("file", "File")):
            self.fields[key] = _value_label()
            form.addRow(caption, self.fields[key])
        layout.addLayout(form)
        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)
        layout.addWidget(line)
        self.predictions = PredictionsPanel(spell)
        layout.addWidget(self.predictions)
        self.setWidget(body)
        self.show_track(None)

    def show_track(self, track: Track | None) -> None:
        if track is None:
            self.title.setText("No track selected")
            for label in self.fields.values():
                label.setText("")
            self.predictions.set_prediction(None, "Select a track in the table to see its details and prediction.")
            return
        self.title.setText(display_title(track))
        self.fields["artist"].setText(track.artist or "—")
        self.fields["album"].setText(track.album + (f" ({track.year})" if track.year else "") if track.album else "—")
        self.fields["genres"].setText(", ".join(track.genres) or "none")
        self.fields["chosen"].setText(", ".join(track.chosen or []) or "—")
        status = track.status + (" · file missing" if track.missing else "")
        self.fields["status"].setText(status + (f"\n{track.error}" if track.error else ""))
        parts = [track.format.upper() if track.format else "", format_duration(track.duration),
                 f"{track.samplerate / 1000:g} kHz" if track.samplerate else "",
                 {1: "mono", 2: "stereo"}.get(track.channels or 0, f"{track.channels} ch" if track.channels else "")]
        self.fields["audio"].setText(" · ".join(p for p in parts if p))
        # Break long paths at separators so the label wraps instead of widening the panel.
        self.fields["file"].setText(track.path.replace(os.sep, os.sep + "\u200b"))
        self.predictions.show_track(track)
