"""The genre editor: the genre tree with the librarian's own genres, and how each is written in tags.

A search field narrows the ~70 genres to those whose name, spelling or other names match (a match
shows its parents; "dnb" finds Drum and Bass). "Written in tags as" is edited in place; a spelling
that names another genre is refused with the reason. Below: a new genre's name, the parent it goes
under (a searchable list of every genre, preset to the row selected), Add, and Move and Remove for the
librarian's own genres. A new genre that is a genre already merges into it and says so. The
logic is :class:`~genre_desktop.ui.genre_edits.GenreEdits`.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QCompleter,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from genre_desktop.core.genre_tree import GenreNode, name_key
from genre_desktop.ui.genre_edits import SEP, GenreEdits

KEY_ROLE = Qt.ItemDataRole.UserRole
TOP_LEVEL = "(top level)"


class AliasEditor(QWidget):
    changed = Signal()

    def __init__(self, aliases: dict[str, str], user_genres: list | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search genres: name, spelling or another name (“dnb”)")
        self.search.setClearButtonEnabled(True)
        self.tree = QTreeWidget()
        self.tree.setColumnCount(3)
        self.tree.setHeaderLabels(["Genre", "Written in tags as", "Also"])
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(2, 110)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        # Only the spelling is edited: a double-click or Enter anywhere on a row edits it.
        self.tree.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.name = QLineEdit()
        self.name.setPlaceholderText("New genre, e.g. Lo-fi")
        self.parent_picker = QComboBox()
        self.parent_picker.setEditable(True)
        self.parent_picker.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.parent_picker.setToolTip("The genre a new genre goes under (type to search)")
        completer = self.parent_picker.completer()
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.add_button = QPushButton("Add")
        self.move_button = QPushButton("Move")
        self.move_button.setToolTip("Move the selected genre of yours under the genre picked beside")
        self.remove_button = QPushButton("Remove")
        self.remove_button.setToolTip("Remove the selected genre of yours (its own genres move up)")
        self.message = QLabel()
        self.message.setWordWrap(True)
        add_row = QHBoxLayout()
        add_row.addWidget(self.name, 1)
        add_row.addWidget(self.add_button)
        buttons = QHBoxLayout()  # the parent serves Add (a new genre) and Move (one of theirs)
        buttons.addWidget(QLabel("Under"))
        buttons.addWidget(self.parent_picker, 1)
        buttons.addWidget(self.move_button)
        buttons.addWidget(self.remove_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.search)
        layout.addWidget(self.tree, 1)
        layout.addLayout(add_row)
        layout.addLayout(buttons)
        layout.addWidget(self.message)

        self.edits = GenreEdits({}, [])
        self.set_aliases(aliases, user_genres or [])
        self.search.textChanged.connect(lambda _text: self._filter())
        self.tree.itemChanged.connect(self._spelling_edited)
        self.tree.itemDoubleClicked.connect(lambda item, _column: self.edit_spelling(item))
        self.tree.itemActivated.connect(lambda item, _column: self.edit_spelling(item))
        self.tree.currentItemChanged.connect(lambda *_: self._selection_changed())
        self.add_button.clicked.connect(self._add)
        self.name.returnPressed.connect(self._add)
        self.move_button.clicked.connect(self._move)
        self.remove_button.clicked.connect(self._remove)

    # -- the data ---------------------------------------------------------------------------------
    def set_aliases(self, aliases: dict[str, str], user_genres: list | None = None) -> None:
        self.edits = GenreEdits(aliases, user_genres if user_genres is not None else self.edits.user_genres())
        self._rebuild()
        self._say(" ".join(self.edits.notes))
        self.changed.emit()

    def aliases(self) -> dict[str, str]:
        """The spellings as edited (label -> how it is written in tags)."""
        return dict(self.edits.aliases)

    def user_genres(self) -> list[dict]:
        """The librarian's own genres as edited (``Settings.user_genres``)."""
        return self.edits.user_genres()

    def item(self, key: str) -> QTreeWidgetItem | None:
        """The row of the genre ``key``."""
        return self._items.get(key)

    # -- building the rows ------------------------------------------------------------------------
    def _rebuild(self, select: str | None = None) -> None:
        current = select or self._current_key()
        expanded = {k for k, it in getattr(self, "_items", {}).items() if it.isExpanded()}
        tree = self.edits.tree()
        self.tree.blockSignals(True)
        self.tree.clear()
        self._items: dict[str, QTreeWidgetItem] = {}
        muted = self.palette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
        for node in tree:
            parent = self._items.get(node.parent) if node.parent else None
            item = QTreeWidgetItem(parent if parent is not None else self.tree)
            spelled, _ = self.edits.spelling(node)
            item.setText(0, node.name)
            item.setText(1, spelled)
            item.setText(2, "yours" if node.user else ", ".join(node.aliases))
            item.setData(0, KEY_ROLE, node.key)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
            item.setToolTip(0, self._tooltip(node))
            item.setToolTip(2, item.toolTip(0))
            if spelled == node.name:
                item.setForeground(1, muted)  # written as its name: nothing to notice
            if node.user:
                font = QFont(item.font(0))
                font.setItalic(True)
                item.setFont(0, font)
                item.setFont(2, font)
            self._items[node.key] = item
        for key in expanded | self._user_parents():
            if key in self._items:
                self._items[key].setExpanded(True)
        self._fill_parent_picker()
        self.tree.blockSignals(False)
        if current in self._items:
            self.tree.setCurrentItem(self._items[current])
            self.tree.scrollToItem(self._items[current])
        self._filter()
        self._selection_changed()

    def _user_parents(self) -> set[str]:
        """Genres that hold one of the librarian's own genres: shown open, so theirs are seen."""
        tree = self.edits.tree()
        return {a.key for n in tree if n.user for a in tree.ancestors(n)}

    def _tooltip(self, node: GenreNode) -> str:
        tree = self.edits.tree()
        lines = [SEP.join(tree.path(node))]
        if node.user:
            lines.append("Your own genre")
        if node.aliases:
            lines.append("Also written: " + ", ".join(node.aliases))
        if node.gtzan:
            lines.append(f"The bundled models' label “{node.gtzan}”")
        lines.append("Double-click “Written in tags as” to change how it is written")
        return "\n".join(lines)

    def _fill_parent_picker(self) -> None:
        self.parent_picker.blockSignals(True)
        self.parent_picker.clear()
        self.parent_picker.addItem(TOP_LEVEL, None)
        tree = self.edits.tree()
        for node in tree:
            self.parent_picker.addItem(SEP.join(tree.path(node)), node.key)
        view = self.parent_picker.view()  # the list shows whole paths even when the field is narrow
        view.setMinimumWidth(view.sizeHintForColumn(0) + view.verticalScrollBar().sizeHint().width() + 8)
        self.parent_picker.blockSignals(False)

    # -- search -----------------------------------------------------------------------------------
    def _filter(self) -> None:
        text = self.search.text().strip()
        if not text:
            for item in self._items.values():
                item.setHidden(False)
            return
        folded, key = text.casefold(), name_key(text)
        tree = self.edits.tree()
        named = tree.resolve(text, self.edits.aliases)
        shown: set[str] = set()
        for node in tree:
            item = self._items[node.key]
            haystack = [item.text(0), item.text(1), *node.aliases]
            if (named is not None and named.key == node.key) or any(folded in h.casefold() for h in haystack) \
                    or any(key and key in name_key(h) for h in haystack):
                shown.add(node.key)
                shown.update(a.key for a in tree.ancestors(node))
        for node_key, item in self._items.items():
            item.setHidden(node_key not in shown)
            if node_key in shown and item.childCount():
                item.setExpanded(True)
        self._say(f"No genre matches “{text}”: add it below." if not shown else "")
        if not shown:
            self.name.setText(text)

    # -- editing ----------------------------------------------------------------------------------
    def _current_key(self) -> str | None:
        item = self.tree.currentItem() if hasattr(self, "_items") else None
        return item.data(0, KEY_ROLE) if item is not None else None

    def _selection_changed(self) -> None:
        key = self._current_key()
        node = self.edits.tree().get(key)
        self.move_button.setEnabled(bool(node and node.user))
        self.remove_button.setEnabled(bool(node and node.user))
        if node is not None:  # a new genre goes under the row selected; one of theirs: beside it
            target = node.parent if node.user else node.key
            self.parent_picker.setCurrentIndex(max(0, self.parent_picker.findData(target)))

    def _picked_parent(self) -> str | None:
        text = self.parent_picker.currentText().strip()
        index = self.parent_picker.findText(text)
        if index < 0:  # typed, not picked: the genre it names, if any
            found = self.edits.tree().resolve(text.split(SEP)[-1]) if text and text != TOP_LEVEL else None
            return found.key if found is not None else None
        return self.parent_picker.itemData(index)

    def edit_spelling(self, item: QTreeWidgetItem) -> None:
        if self.tree.state() != QAbstractItemView.State.EditingState:
            self.tree.editItem(item, 1)

    def _spelling_edited(self, item: QTreeWidgetItem, column: int) -> None:
        if column != 1:
            return
        key = item.data(0, KEY_ROLE)
        problem = self.edits.set_spelling(key, item.text(1))
        self._say(problem or "")
        self._rebuild(select=key)
        self.changed.emit()

    def _add(self) -> None:
        message, key = self.edits.add(self.name.text(), self._picked_parent())
        if key is not None and self.edits.tree().node(key).user and message.startswith("Added"):
            self.name.clear()
            self.search.clear()
        self._rebuild(select=key)
        self._say(message)
        self.changed.emit()

    def _move(self) -> None:
        key = self._current_key()
        if key is None:
            return
        message = self.edits.move(key, self._picked_parent())
        self._rebuild(select=key)
        self._say(message)
        self.changed.emit()

    def _remove(self) -> None:
        key = self._current_key()
        if key is None:
            return
        message = self.edits.remove(key)
        self._rebuild()
        self._say(message)
        self.changed.emit()

    def _say(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))
