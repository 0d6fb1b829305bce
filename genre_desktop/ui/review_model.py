"""The review queue's table model: the queued tracks, one row each (title, artist, the file's genres,
the predicted genre as it will be written, the confidence). A track whose analysis heard spoken
word or no audible audio says so beside its predicted genre (a bulk accept leaves it)."""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, Qt

from genre_desktop.core.prediction import NO_AUDIO, SPOKEN_WORD
from genre_desktop.core.track import Track
from genre_desktop.ui.library_model import display_title


class QueueModel(QAbstractTableModel):
    HEADERS = ("Title", "Artist", "In file", "Predicted", "Conf.")

    def __init__(self, spell: Callable[[str], str], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.rows: list[Track] = []
        self._spell = spell

    def set_rows(self, rows: list[Track]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def remove_paths(self, paths: set[str]) -> None:
        self.beginResetModel()
        self.rows = [t for t in self.rows if t.path not in paths]
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        track = self.rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            col = index.column()
            if col == 0:
                return display_title(track)
            if col == 1:
                return track.artist
            if col == 2:
                return ", ".join(track.genres)
            if col == 3:
                heard = track.content
                note = f" · {heard}" if heard in (SPOKEN_WORD, NO_AUDIO) else ""
                return self._spell(track.predicted_genre or "") + note
            return f"{track.confidence:.0%}" if track.confidence is not None else ""
        if role == Qt.ItemDataRole.ToolTipRole:
            if index.column() == 3 and track.content in (SPOKEN_WORD, NO_AUDIO):
                return f"The analysis heard {track.content}: a bulk accept leaves this track for you"
            return track.path
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() == 4:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None
