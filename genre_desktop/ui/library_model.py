"""The library table model: an in-memory list of Track, sorted and filtered in Python, not per row.

Why not QSortFilterProxyModel: with 100,000 rows its sort calls ``data()`` (Python) twice per
comparison, ~3 million calls, several seconds. Here a sort is one ``list.sort`` with a key
function and a search is one pass over precomputed lowercase strings; painting a row reads
attributes of a Track already in memory. No store access happens in ``data()``.

Rows: ``_visible`` (the filtered, sorted tracks) over ``_tracks`` (all); ``_row_of`` maps path to
visible row for incremental updates (one analysis result -> one ``dataChanged``).
"""

from __future__ import annotations

import os
from typing import Any, Callable, Iterable

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor

from genre_desktop.app.workflow import is_truncated
from genre_desktop.core.status import ACCEPTED, CORRECTED, ERROR, PREDICTED, STATUSES, UNANALYSED, WRITTEN
from genre_desktop.core.track import Track

# Two genre columns, one meaning each: what the file's tag holds now ("In file", GENRES) and the
# librarian's choice, which the next write puts into the file ("Your choice", CHOICE). The CLI's
# ``list`` shows the same two, with the same names.
# "Folder": the file's folder inside the library (the full path in its tooltip); hidden until the
# librarian shows it from the header's menu (the default window has no room for a tenth column).
TITLE, ARTIST, ALBUM, DURATION, GENRES, CHOICE, PREDICTED_GENRE, CONFIDENCE, STATUS, FOLDER = range(10)
HEADERS = ("Title", "Artist", "Album", "Duration", "In file", "Your choice", "Predicted", "Confidence", "Status",
           "Folder")
# Status is widened by the view to its longest text at the table's font (``STATUS_TEXTS``).
DEFAULT_WIDTHS = (230, 140, 140, 64, 110, 110, 96, 88, 128, 200)  # room for the sort arrow
DEFAULT_HIDDEN = ("Folder",)
TRUNCATED = " · truncated"  # after the status of a file cut short
STATUS_TEXTS = tuple(str(s) + TRUNCATED for s in STATUSES) + ("missing",)  # every text of the Status column

TrackRole = Qt.ItemDataRole.UserRole + 1
PathRole = Qt.ItemDataRole.UserRole + 2

# Status colours, readable on light and dark backgrounds alike (used for the status text only).
STATUS_COLOURS = {
    UNANALYSED: None,
    PREDICTED: QColor("#3d8fd6"),
    ACCEPTED: QColor("#2e9e5b"),
    CORRECTED: QColor("#c68a12"),
    WRITTEN: QColor("#7a5cc2"),
    ERROR: QColor("#d64541"),
}


def format_duration(seconds: float | None) -> str:
    if seconds is None or seconds < 0:
        return ""
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def display_title(track: Track) -> str:
    """The tag title, else the file name: a row is never blank."""
    return track.title or os.path.basename(track.path)


def shown_genres(track: Track) -> list[str]:
    """What the "In file" column shows: the file's genre tag as last read or written."""
    return list(track.genres)


def chosen_genres(track: Track) -> list[str]:
    """What the "Your choice" column shows: the genres the librarian accepted or chose (none yet: empty)."""
    return list(track.chosen or ())


def _search_key(track: Track) -> str:
    parts = [display_title(track), track.artist, track.album, track.albumartist, " ".join(track.genres),
             track.predicted_genre or "", " ".join(track.chosen or ()), track.path]
    return "\n".join(parts).casefold()


_SORT_KEYS: dict[int, Callable[[Track], Any]] = {
    TITLE: lambda t: display_title(t).casefold(),
    ARTIST: lambda t: (t.artist.casefold(), t.album.casefold()),
    ALBUM: lambda t: (t.album.casefold(), t.path),
    DURATION: lambda t: t.duration if t.duration is not None else -1.0,
    GENRES: lambda t: ", ".join(shown_genres(t)).casefold(),
    CHOICE: lambda t: ", ".join(chosen_genres(t)).casefold(),
    PREDICTED_GENRE: lambda t: t.predicted_genre or "",
    CONFIDENCE: lambda t: t.confidence if t.confidence is not None else -1.0,
    FOLDER: lambda t: t.path.casefold(),
}


def _sort_key(column: int) -> Callable[[Track], Any]:
    """Key functions that never compare None with str (missing values sort first); else the status."""
    return _SORT_KEYS.get(column, lambda t: t.status)


def _common_folder(tracks: list[Track]) -> str:
    """The deepest folder holding every track (one pass over the distinct folders, not the tracks)."""
    folders = {os.path.dirname(t.path) for t in tracks}
    if not folders:
        return ""
    try:
        return os.path.commonpath(list(folders))
    except ValueError:  # mixed drives or relative paths
        return ""


class LibraryModel(QAbstractTableModel):
    """All tracks of the open library; what is visible depends on the search text and status filter.

    ``_visible`` holds indices into ``_tracks``; search texts and sort keys are lists aligned with
    ``_tracks`` so that filtering and sorting run as list comprehensions and ``list.sort`` with
    ``keys.__getitem__`` (C speed), not one Python call per comparison.
    """

    countsChanged = Signal()

    def __init__(self, parent=None, spell: Callable[[str], str] = lambda g: g) -> None:
        super().__init__(parent)
        self._spell = spell  # model labels ("hiphop") are shown as they will be written ("Hip-Hop")
        self._tracks: list[Track] = []
        self._pos: dict[str, int] = {}  # path -> index in _tracks
        self._keys: list[str] = []  # search text per track
        self._sort_keys: dict[int, list[Any]] = {}  # column -> key per track (built on first sort)
        self._visible: list[int] = []
        self._row_of: dict[int, int] | None = None  # index in _tracks -> visible row (built on demand)
        self._search = ""
        self._status: str | None = None
        self._content: Callable[[Track], bool] | None = None  # the content filter (spoken word, ...)
        self._sort_column = -1
        self._sort_order = Qt.SortOrder.AscendingOrder
        self._base = ""  # the folder every track is in (the library's): the Folder column is relative to it

    # -- loading ---------------------------------------------------------------------------------
    def set_tracks(self, tracks: Iterable[Track]) -> None:
        self.beginResetModel()
        self._tracks = list({t.path: t for t in tracks}.values())
        self._base = _common_folder(self._tracks)
        self._pos = {t.path: i for i, t in enumerate(self._tracks)}
        self._keys = [_search_key(t) for t in self._tracks]
        self._sort_keys = {}
        self._rebuild()
        self.endResetModel()
        self.countsChanged.emit()

    def _refresh_index(self, index: int) -> None:
        track = self._tracks[index]
        self._keys[index] = _search_key(track)
        for column, keys in self._sort_keys.items():
            keys[index] = _sort_key(column)(track)

    def _emit_row(self, index: int) -> None:
        row = self._rows().get(index)
        if row is not None:
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(HEADERS) - 1))

    def update_tracks(self, tracks: Iterable[Track]) -> None:
        """Replace tracks by path (new paths are appended); repaints only the rows that changed."""
        added = []
        for track in {t.path: t for t in tracks}.values():
            index = self._pos.get(track.path)
            if index is None:
                added.append(track)
                continue
            self._tracks[index] = track
            self._refresh_index(index)
            self._emit_row(index)
        if added:
            first_index = len(self._tracks)
            for track in added:
                self._pos[track.path] = len(self._tracks)
                self._tracks.append(track)
                self._keys.append(_search_key(track))
                for column, keys in self._sort_keys.items():
                    keys.append(_sort_key(column)(track))
            matching = [i for i in range(first_index, len(self._tracks)) if self._matches(i)]
            if matching:
                first = len(self._visible)
                self.beginInsertRows(QModelIndex(), first, first + len(matching) - 1)
                self._visible.extend(matching)
                self._row_of = None
                self.endInsertRows()
        self.countsChanged.emit()

    def remove_paths(self, paths: Iterable[str]) -> None:
        """Drop tracks that left the library (another process purged them)."""
        gone = {self._pos[p] for p in paths if p in self._pos}
        if not gone:
            return
        self.beginResetModel()
        keep = [i for i in range(len(self._tracks)) if i not in gone]
        self._tracks = [self._tracks[i] for i in keep]
        self._keys = [self._keys[i] for i in keep]
        self._sort_keys = {c: [keys[i] for i in keep] for c, keys in self._sort_keys.items()}
        self._pos = {t.path: i for i, t in enumerate(self._tracks)}
        self._rebuild()
        self.endResetModel()
        self.countsChanged.emit()

    def update_fields(self, path: str, **fields: Any) -> Track | None:
        """Change fields of one track in memory (the store is written separately, by the writer)."""
        index = self._pos.get(path)
        if index is None:
            return None
        track = self._tracks[index]
        for name, value in fields.items():
            setattr(track, name, value)
        self._refresh_index(index)
        self._emit_row(index)
        self.countsChanged.emit()
        return track

    # -- filtering and sorting -------------------------------------------------------------------
    def set_search(self, text: str) -> None:
        text = text.strip().casefold()
        if text == self._search:
            return
        # Typing forward ("riv" -> "rive", "a" -> "a b") can only remove rows: every row matching the
        # longer text contains each word of the shorter one.
        narrowing = bool(self._search) and text.startswith(self._search)
        self.beginResetModel()
        previous, self._search = self._visible, text
        if narrowing:
            self._visible = self._filter(previous)
            self._row_of = None
        else:
            self._rebuild()
        self.endResetModel()

    def set_status_filter(self, status: str | None) -> None:
        if status == self._status:
            return
        self.beginResetModel()
        self._status = status
        self._rebuild()
        self.endResetModel()

    def set_content_filter(self, keep: Callable[[Track], bool] | None) -> None:
        """Show only the tracks ``keep`` keeps (``app.review.content_matcher``); None: all."""
        if keep is self._content:
            return
        self.beginResetModel()
        self._content = keep
        self._rebuild()
        self.endResetModel()

    def _matches(self, index: int) -> bool:
        if self._status is not None and self._tracks[index].status != self._status:
            return False
        if self._content is not None and not self._content(self._tracks[index]):
            return False
        key = self._keys[index]
        return all(word in key for word in self._search.split())

    def _filter(self, candidates: list[int]) -> list[int]:
        keys = self._keys
        rows = candidates
        if self._status is not None:
            tracks, status = self._tracks, self._status
            rows = [i for i in rows if tracks[i].status == status]
        if self._content is not None:
            tracks, keep = self._tracks, self._content
            rows = [i for i in rows if keep(tracks[i])]
        for word in self._search.split():
            rows = [i for i in rows if word in keys[i]]
        return rows

    def _rebuild(self) -> None:
        everything = list(range(len(self._tracks)))
        filtered = self._search or self._status is not None or self._content is not None
        self._visible = self._filter(everything) if filtered else everything
        if self._sort_column >= 0:
            self._visible.sort(key=self._column_keys(self._sort_column).__getitem__,
                               reverse=self._sort_order == Qt.SortOrder.DescendingOrder)
        self._row_of = None

    def _column_keys(self, column: int) -> list[Any]:
        keys = self._sort_keys.get(column)
        if keys is None:
            keys = self._sort_keys[column] = list(map(_sort_key(column), self._tracks))
        return keys

    def _rows(self) -> dict[int, int]:
        if self._row_of is None:
            self._row_of = {index: row for row, index in enumerate(self._visible)}
        return self._row_of

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self.layoutAboutToBeChanged.emit()
        persistent = self.persistentIndexList()
        kept = [self._visible[i.row()] if i.isValid() and i.row() < len(self._visible) else None for i in persistent]
        self._sort_column, self._sort_order = column, order
        self._visible.sort(key=self._column_keys(column).__getitem__, reverse=order == Qt.SortOrder.DescendingOrder)
        self._row_of = None
        # Keep the selection and the current row on the same tracks after sorting.
        rows = self._rows() if persistent else {}
        new = [self.index(rows[k], i.column()) if k in rows else QModelIndex() for k, i in zip(kept, persistent)]
        self.changePersistentIndexList(persistent, new)
        self.layoutChanged.emit()

    # -- access ----------------------------------------------------------------------------------
    def track(self, row: int) -> Track | None:
        return self._tracks[self._visible[row]] if 0 <= row < len(self._visible) else None

    def track_by_path(self, path: str) -> Track | None:
        index = self._pos.get(path)
        return self._tracks[index] if index is not None else None

    def row_of(self, path: str) -> int | None:
        index = self._pos.get(path)
        return self._rows().get(index) if index is not None else None

    def tracks(self) -> list[Track]:
        return list(self._tracks)

    def visible_tracks(self) -> list[Track]:
        return [self._tracks[i] for i in self._visible]

    def total_count(self) -> int:
        return len(self._tracks)

    def status_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for track in self._tracks:
            counts[track.status] = counts.get(track.status, 0) + 1
        return counts

    # -- QAbstractTableModel ---------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._visible)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        track = self._tracks[self._visible[index.row()]]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(track, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == STATUS and track.error:
                return track.error
            if column in (TITLE, FOLDER):
                return track.path
            return self._display(track, column) or None
        if role == Qt.ItemDataRole.ForegroundRole and column == STATUS:
            colour = STATUS_COLOURS.get(track.status)
            return QBrush(colour) if colour is not None else None
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (DURATION, CONFIDENCE):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == TrackRole:
            return track
        if role == PathRole:
            return track.path
        return None

    def folder_of(self, path: str) -> str:
        """The folder of ``path`` inside the library ("Nina Simone/Little Girl Blue"; "" at its top)."""
        folder = os.path.dirname(path)
        base = self._base
        if base and (folder == base or folder.startswith(base.rstrip(os.sep) + os.sep)):
            return folder[len(base.rstrip(os.sep)) + 1:]
        return folder

    def _display(self, track: Track, column: int) -> str:
        if column == TITLE:
            return display_title(track)
        if column == ARTIST:
            return track.artist
        if column == ALBUM:
            return track.album
        if column == DURATION:
            return format_duration(track.duration)
        if column == GENRES:
            return ", ".join(track.genres)
        if column == CHOICE:
            return ", ".join(self._spell(g) for g in chosen_genres(track))
        if column == PREDICTED_GENRE:
            return self._spell(track.predicted_genre) if track.predicted_genre else ""
        if column == CONFIDENCE:
            conf = track.confidence
            return f"{conf:.0%}" if conf is not None else ""
        if column == FOLDER:
            return self.folder_of(track.path)
        if column == STATUS:
            if track.missing:
                return "missing"
            # A truncated file keeps saying so beside its status: its prediction is of what is there.
            return track.status + (TRUNCATED if is_truncated(track.error) else "")
        return ""
