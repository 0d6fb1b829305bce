"""The write preview: every file and its exact change (old genres -> new) before anything is written.

The plan is the library session's (:class:`genre_desktop.app.plan.WritePlan`, Qt-free, the CLI's
too): the dialog asks its ``planner`` for the plan under the options as edited, and shows it.
Files whose container has no tag format (Sun .au, raw AAC) are listed apart with the reason, and
not counted as files to write. Further tag fields a plan changes get their own pair of columns,
notes about a file (a tag version the write changes) a Notes column. The window refreshes the
dialog when the library changes while it is open, and shows it again (``set_notice`` says why)
when the plan went stale between the click on Write and the write.
"""

from __future__ import annotations

import os
from typing import Any, Callable

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QRadioButton,
    QSpinBox,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from genre_desktop.app.plan import PlannedChange, WritePlan
from genre_desktop.settings import GENRE_LAYOUTS, Settings
from genre_desktop.ui.alias_editor import AliasEditor
from genre_desktop.ui.elide import MiddleElideDelegate


_STYLE_FIELD_NAMES = {"style": "STYLE", "grouping": "GROUPING"}


class ChangesModel(QAbstractTableModel):
    """File, Now, Will be; then "<field> now", "<field> will be" for each further field the plan
    sets; then Notes when a change has any."""

    HEADERS = ("File", "Now", "Will be")

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.changes: list[PlannedChange] = []
        self._base = ""
        self._fields: list[str] = []
        self._notes = False

    def set_changes(self, changes: list[PlannedChange], fields: list[str] | None = None) -> None:
        self.beginResetModel()
        self.changes = changes
        self._fields = list(fields or [])
        self._notes = any(c.notes for c in changes)
        # Paths are shown relative to the folder all of them share: "Album/01 Song.flac", so two
        # files with the same name in different folders stay distinguishable.
        folders = [os.path.dirname(c.path) for c in changes]
        self._base = os.path.commonpath(folders) if folders else ""
        self.endResetModel()

    def shown_path(self, path: str) -> str:
        return os.path.relpath(path, self._base) if self._base else os.path.basename(path)

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.changes)

    def headers(self) -> list[str]:
        extra = [f"{name.capitalize()} {when}" for name in self._fields for when in ("now", "will be")]
        return [*self.HEADERS, *extra, *(["Notes"] if self._notes else [])]

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.headers())

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.headers()[section]
        return None

    def _cell(self, change: PlannedChange, column: int) -> str:
        if column == 0:
            return self.shown_path(change.path)
        if column <= 2:
            values = change.old if column == 1 else change.new
        elif column - 3 < 2 * len(self._fields):
            pair = change.fields.get(self._fields[(column - 3) // 2])
            if pair is None:
                return ""
            values = pair[(column - 3) % 2]
        else:
            return "; ".join(change.notes)
        return "; ".join(values) if values else "(none)"

    def data(self, index, role=Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        change = self.changes[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._cell(change, index.column())
        if role == Qt.ItemDataRole.ToolTipRole:
            return "\n".join([change.path, *change.notes])
        return None


class WriteDialog(QDialog):
    """Modal preview; accepted means: write ``plan`` with ``settings()``.

    ``planner(settings) -> WritePlan``: the library session's plan under the edited options."""

    def __init__(self, planner: Callable[[Settings], WritePlan], settings: Settings,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Write genres to files")
        self.resize(900, 560)
        self._planner = planner
        self._settings = settings  # immutable: the edits make a new one (settings())
        self.plan = WritePlan()

        options = QGroupBox("How to write")
        form = QFormLayout(options)
        self.replace = QRadioButton("Replace the file's genres")
        self.add = QRadioButton("Add to the file's genres")
        group = QButtonGroup(self)
        group.addButton(self.replace)
        group.addButton(self.add)
        (self.add if settings.write_mode == "add" else self.replace).setChecked(True)
        # Stacked, not side by side: the option column is narrow (the preview gets the width) and
        # the labels must be read in full to know what will happen to the file's genres.
        mode_column = QVBoxLayout()
        mode_column.setSpacing(2)
        mode_column.addWidget(self.replace)
        mode_column.addWidget(self.add)
        form.addRow("Mode", mode_column)
        self.max_genres = QSpinBox()
        self.max_genres.setRange(1, 5)
        self.max_genres.setValue(settings.max_genres)
        self.max_genres.setToolTip("Accepted predictions may add their runner-up genres up to this number")
        form.addRow("Genres per file", self.max_genres)
        self.genre_layout = QComboBox()
        for key, label in GENRE_LAYOUTS:
            self.genre_layout.addItem(label, key)
        self.genre_layout.setCurrentIndex(max(0, self.genre_layout.findData(settings.genre_layout)))
        self.genre_layout.setToolTip(f"Where a genre that sits under another in the genre tree goes (House is "
                                     f"under Electronic); styles are written to {_STYLE_FIELD_NAMES.get(settings.style_field, 'STYLE')} "
                                     f"(Settings ▸ Tags)")
        form.addRow("Sub-genres", self.genre_layout)
        self.id3_version = QComboBox()
        self.id3_version.addItem("Keep each file's version", "keep")
        self.id3_version.addItem("Convert to ID3v2.4", 4)
        self.id3_version.addItem("Convert to ID3v2.3", 3)
        self.id3_version.setCurrentIndex(max(0, self.id3_version.findData(settings.id3_version)))
        self.id3_version.setToolTip("ID3v2.4 holds several genres in one frame; ID3v2.3, which older players "
                                    "and playout systems read, holds one text: genres joined by the separator")
        form.addRow("MP3/WAV/AIFF tags", self.id3_version)
        self.separator = QLineEdit(settings.id3_separator)
        self.separator.setMaximumWidth(60)
        form.addRow("ID3v2.3 separator", self.separator)
        self.aliases = AliasEditor(settings.aliases, settings.user_genres)
        aliases_box = QGroupBox("Genres and their spelling in tags")
        QVBoxLayout(aliases_box).addWidget(self.aliases)

        self.model = ChangesModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self._file_delegate = MiddleElideDelegate(self.table)  # the folder and the file name both stay in view
        self.table.setItemDelegateForColumn(0, self._file_delegate)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.resizeSection(1, 130)
        header.resizeSection(2, 130)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.notice = QLabel()  # why the preview is shown again, or changed while open
        self.notice.setWordWrap(True)
        self.notice.setObjectName("notice")
        self.notice.setStyleSheet("QLabel#notice { font-weight: bold; padding: 4px; }")
        self.notice.hide()
        self.unwritable_label = QLabel()
        self.unwritable_label.setWordWrap(True)
        self.unwritable = QListWidget()
        self.unwritable.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.unwritable.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.unwritable.setMaximumHeight(self.fontMetrics().height() * 7)
        self.skipped: list[tuple[PlannedChange, str]] = []  # (change, why it cannot be written)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.write_button = self.buttons.addButton("Write", QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        left = QWidget()
        left.setMaximumWidth(420)  # the preview table is what matters: give it the width
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(options)
        left_layout.addWidget(aliases_box, 1)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.notice)
        right_layout.addWidget(self.table, 1)
        right_layout.addWidget(self.unwritable_label)
        right_layout.addWidget(self.unwritable)
        right_layout.addWidget(self.summary)
        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([380, 620])
        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.buttons)

        for signal in (self.replace.toggled, self.max_genres.valueChanged, self.aliases.changed,
                       self.genre_layout.currentIndexChanged):
            signal.connect(lambda *_: self.refresh())
        # The version (and the separator it joins with) changes what the Notes say: plan again.
        self.id3_version.currentIndexChanged.connect(lambda _: (self._sync_separator(), self.refresh()))
        self.separator.editingFinished.connect(self.refresh)
        self._sync_separator()
        self.refresh()

    def _sync_separator(self) -> None:
        self.separator.setEnabled(self.id3_version.currentData() != 4)  # v2.3 files join with it

    def settings(self) -> Settings:
        """The settings as edited in the dialog (the caller saves them)."""
        return self._settings.replace(
            write_mode="add" if self.add.isChecked() else "replace",
            max_genres=self.max_genres.value(),
            genre_layout=self.genre_layout.currentData(),
            id3_version=self.id3_version.currentData(),
            id3_separator=self.separator.text() or "; ",
            aliases=self.aliases.aliases(),
            user_genres=self.aliases.user_genres(),
        )

    def set_notice(self, text: str) -> None:
        """A sentence above the preview (why it is shown again; empty: none)."""
        self.notice.setText(text)
        self.notice.setVisible(bool(text))

    def refresh(self) -> None:
        """Plan again under the options as edited (also when the library changed meanwhile)."""
        self.plan = plan = self._planner(self.settings())
        changes, unchanged = plan.changes, plan.unchanged
        self.skipped = list(plan.unwritable)
        self.model.set_changes(changes, plan.field_names())
        if plan.field_names() and self.width() < 1140:  # the style columns need the room
            self.resize(1140, self.height())
        self._lay_out_columns()
        self._show_skipped()
        n = len(changes)
        self.write_button.setText(f"Write {n} file{'s' if n != 1 else ''}")
        self.write_button.setEnabled(n > 0)
        if n == 0 and unchanged == 0 and self.skipped:
            self.summary.setText("Nothing can be written: none of these files has a tag format for genres.")
        elif n == 0 and unchanged == 0:
            self.summary.setText("Nothing to write yet: accept or correct predictions in the review queue first.")
        else:
            extra = (f" {unchanged} reviewed file{'s' if unchanged != 1 else ''} already "
                     f"{'carry' if unchanged != 1 else 'carries'} {'their' if unchanged != 1 else 'its'} genres.") if unchanged else ""
            noted = sum(1 for c in changes if c.notes)
            form = (f" The write also changes the tag form of {noted} file{'s' if noted != 1 else ''} "
                    f"(see Notes).") if noted else ""
            fields = (f"The genre and style ({_STYLE_FIELD_NAMES.get(self._settings.style_field, 'STYLE')}) fields "
                      f"are written" if plan.field_names() else "Only the genre field is written")
            self.summary.setText(f"{n} file{'s' if n != 1 else ''} will change. {fields}; the old values are "
                                 f"journaled and Edit ▸ Undo last write restores them.{extra}{form}")

    def _lay_out_columns(self) -> None:
        """The file name takes the room, unless there are Notes: then they share it (a note is a
        sentence, "its ID3v2.3 tag becomes ID3v2.4 (…)", and is cut less than a path)."""
        header = self.table.horizontalHeader()
        last = self.model.columnCount() - 1
        notes = self.model.headers()[-1] == "Notes"
        for column in range(1, last + 1):  # a column that was Notes before may be a field's now
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive if notes else QHeaderView.ResizeMode.Stretch)
        if notes:
            header.resizeSection(0, max(160, self.table.viewport().width() // 4))
            header.setSectionResizeMode(last, QHeaderView.ResizeMode.Stretch)

    def _show_skipped(self) -> None:
        self.unwritable.clear()
        for change, why in self.skipped:
            folder, name = os.path.split(change.path)
            # Two lines, each elided on its own: the name and the reason both stay readable.
            self.unwritable.addItem(f"{os.path.join(os.path.basename(folder), name)}\n    {why}")
            self.unwritable.item(self.unwritable.count() - 1).setToolTip(f"{change.path}\n{why}")
        k = len(self.skipped)
        self.unwritable_label.setText(f"{k} reviewed file{'s' if k != 1 else ''} cannot be written and will be "
                                      f"left as {'they are' if k != 1 else 'it is'} (your choice stays in the library):")
        self.unwritable_label.setVisible(k > 0)
        self.unwritable.setVisible(k > 0)

    def changes(self) -> dict[str, list[str]]:
        return self.plan.values()
