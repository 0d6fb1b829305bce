"""The review queue: go through predictions fast, from the keyboard.

Keys (when the queue has focus): A or Enter accept the predicted genre; 1-9 pick the n-th genre of
the list (most likely first); E or / type a new genre (Enter applies, Escape returns); S skip;
B go to the genre tree's suggestions (there: Enter or G take one as the genre, T as the style,
Escape back); Ctrl+Z undo the last decision (a bulk accept is one decision); Up/Down move.

A style taken from the suggestions keeps the track in the queue (its genre still waits); the bulk
accept never takes a music genre for a track whose analysis heard spoken word or no audible audio,
and says how many it left out.

A view of the library session: the queue shows the session's tracks that wait for review, and a
decision is a :class:`~genre_desktop.app.review.Decision` (the fields it sets) handed to
``session.decide``, which changes the track, saves it and keeps the undo; Ctrl+Z is
``session.undo_decision``. Changes made elsewhere (an analysis, another process, the library
table) reach the queue through the session's events and refresh it when it is on screen.
"""

from __future__ import annotations

import time
from typing import Callable

from PySide6.QtCore import QEvent, QModelIndex, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from genre_desktop.app.review import Decision, ReviewRules, in_queue
from genre_desktop.app.workflow import scan_note
from genre_desktop.core.status import ACCEPTED, CORRECTED
from genre_desktop.core.track import Track
from genre_desktop.jobs.session_signals import SessionSignals
from genre_desktop.ui.broad_suggestions import BroadSuggestions
from genre_desktop.ui.genre_input import GenreInput
from genre_desktop.ui.library_model import display_title
from genre_desktop.ui.predictions_panel import WARNING_COLOUR, note_text
from genre_desktop.ui.review_keys import QueueKeys
from genre_desktop.ui.review_model import QueueModel


class ReviewQueue(QueueKeys, QWidget):
    currentTrackChanged = Signal(str)  # the path of the track the card shows, "" when none
    thresholdChanged = Signal(float)
    bulkAccepted = Signal(int)  # how many predictions a bulk accept took

    # Changes made elsewhere (an analysis streaming results) refresh the queue at most this often
    # while it is shown, and never more than a tenth of the time: a 100,000-track queue takes longer.
    REFRESH_MS = 500

    def __init__(self, session, spell: Callable[[str], str] = lambda g: g, threshold: float = 0.8,
                 parent: QWidget | None = None, rules: ReviewRules | None = None,
                 signals: SessionSignals | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self._spell = spell
        self.rules = rules or ReviewRules(spell)
        self._labels: list[str] | Callable[[], list[str]] = []
        self._deciding = False  # our own decision: the session's echo needs no refresh
        self._stale = True
        self._choices: list[str] = []
        self._current: Track | None = None
        self._typing_for: str | None = None  # path of the track shown when the librarian began typing
        self._announced = ""  # the path last sent by currentTrackChanged
        self.left_out = 0  # how many the last bulk accept left for review (spoken word, silence)

        # --- top bar: order, filter, bulk accept
        self.order = QComboBox()
        self.order.addItems(["Most confident first", "Least confident first"])
        self.order.setToolTip("Order of the queue")
        self.only_disagreeing = QCheckBox("Only where the prediction disagrees with the file's genre")
        self.threshold = QDoubleSpinBox()
        self.threshold.setRange(0.0, 100.0)
        self.threshold.setDecimals(0)
        self.threshold.setSuffix(" %")
        self.threshold.setValue(round(threshold * 100))
        self.threshold.setToolTip("Bulk accept takes every queued prediction at or above this confidence")
        self.bulk_button = QPushButton("Accept all ≥ threshold")
        top = QHBoxLayout()
        top.addWidget(self.order)
        top.addWidget(self.only_disagreeing)
        top.addStretch(1)
        top.addWidget(QLabel("Bulk accept at"))
        top.addWidget(self.threshold)
        top.addWidget(self.bulk_button)

        # --- queue table
        self.model = QueueModel(spell, self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col, width in ((1, 130), (2, 90), (3, 130), (4, 56)):
            header.resizeSection(col, width)

        # --- the card for the current item
        card = QWidget()
        card_layout = QVBoxLayout(card)
        self.title = QLabel()
        self.title.setWordWrap(True)
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.2)
        font.setBold(True)
        self.title.setFont(font)
        self.details = QLabel()
        self.details.setWordWrap(True)
        self.note = QLabel()  # the file's problem, as the details panel shows it ("⚠ truncated MP3: ...")
        self.note.setWordWrap(True)
        self.note.setStyleSheet(f"color: {WARNING_COLOUR};")
        self.note.setTextFormat(Qt.TextFormat.PlainText)  # a file name in a note is not markup
        self.choices = QListWidget()
        self.choices.setToolTip("Press 1-9, or double-click / Enter on a genre to pick it")
        self.broad = BroadSuggestions(spell)
        self.new_genre = GenreInput()
        self.new_genre.setPlaceholderText("New genre… (E), Enter to apply")
        buttons = QHBoxLayout()
        self.accept_button = QPushButton("Accept (A)")
        self.skip_button = QPushButton("Skip (S)")
        self.undo_button = QPushButton("Undo (Ctrl+Z)")
        for b in (self.accept_button, self.skip_button, self.undo_button):
            buttons.addWidget(b)
        self.keys_help = QLabel("A / Enter accept · 1–9 pick · E type a genre · S skip · B suggestions "
                                "(G genre, T style) · Ctrl+Z undo · ↑↓ move")
        self.keys_help.setWordWrap(True)
        self.keys_help.setForegroundRole(self.keys_help.foregroundRole())
        for w in (self.title, self.details, self.note, QLabel("Pick a genre:"), self.choices, self.new_genre, self.broad):
            card_layout.addWidget(w)
        card_layout.addLayout(buttons)
        card_layout.addWidget(self.keys_help)

        # A short window scrolls the card rather than squeezing its parts over each other.
        card_area = QScrollArea()
        card_area.setWidgetResizable(True)
        card_area.setFrameShape(QFrame.Shape.NoFrame)
        card_area.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        card_area.setWidget(card)
        splitter = QSplitter()
        splitter.addWidget(self.table)
        splitter.addWidget(card_area)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        self.counts = QLabel()
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.counts)

        # --- wiring
        self.order.currentIndexChanged.connect(lambda _: self.refresh())
        self.only_disagreeing.toggled.connect(lambda _: self.refresh())
        self.threshold.valueChanged.connect(lambda v: (self.thresholdChanged.emit(v / 100.0), self._update_counts()))
        self.bulk_button.clicked.connect(self.bulk_accept)
        self.accept_button.clicked.connect(self.accept_current)
        self.skip_button.clicked.connect(self.skip)
        self.undo_button.clicked.connect(self.undo)
        self.choices.itemActivated.connect(lambda item: self.pick(self.choices.row(item)))
        self.broad.chosen.connect(self.take_suggestion)
        self.broad.escaped.connect(lambda: self.table.setFocus(Qt.FocusReason.ShortcutFocusReason))
        self.table.selectionModel().currentRowChanged.connect(self._on_current_row)
        undo = QShortcut(QKeySequence.StandardKey.Undo, self)
        undo.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        undo.activated.connect(self.undo)
        self.new_genre.textEdited.connect(self._begin_typing)
        self.new_genre.submitted.connect(self._apply_new_genre)
        self.new_genre.cancelled.connect(self._stop_typing)
        for widget in (self.table, self.choices):
            widget.installEventFilter(self)
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(self.REFRESH_MS)
        self._refresh_timer.timeout.connect(self.refresh_if_stale)
        self.signals = signals or SessionSignals(session, self)
        self.signals.reset.connect(lambda _tracks: self._on_library_changed(at_once=True))
        self.signals.changed.connect(lambda _tracks: self._on_library_changed())
        self.signals.removed.connect(lambda _paths: self._on_library_changed())
        self.signals.decisions.connect(lambda *_: self._update_counts())
        self._show_current()

    # -- content ---------------------------------------------------------------------------------
    def set_known_genres(self, labels: list[str] | Callable[[], list[str]]) -> None:
        """Genre names to offer when typing one, besides every genre chosen so far (or a function
        giving the current ones: the settings change while the window is open)."""
        self._labels = labels if callable(labels) else list(labels)
        self._stale = True

    def _on_library_changed(self, at_once: bool = False) -> None:
        if self._deciding:
            return  # our own decision: the rows were updated already
        self._stale = True
        if self.isVisible():
            if at_once:
                self.refresh()
            elif not self._refresh_timer.isActive():
                self._refresh_timer.start()

    def refresh_if_stale(self) -> None:
        """Refresh if the library changed since the queue was last built (the window calls this
        when the queue comes on screen)."""
        if self._stale:
            self.refresh()

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        self.refresh_if_stale()

    def refresh(self) -> None:
        started = time.perf_counter()
        self._refresh(self.session.tracks())
        self._refresh_timer.setInterval(max(self.REFRESH_MS, int(10_000 * (time.perf_counter() - started))))

    def _refresh(self, tracks: list[Track]) -> None:
        self._stale = False
        labels = self._labels() if callable(self._labels) else self._labels
        self.new_genre.set_known(self.rules.known_genres(tracks, labels), self.rules.identity)
        keep = self._current.path if self._current else None
        rows = self.rules.queue(tracks, only_disagreeing=self.only_disagreeing.isChecked(),
                                most_confident_first=self.order.currentIndex() == 0)
        self.model.set_rows(rows)
        row = next((i for i, t in enumerate(rows) if t.path == keep), 0)
        self._select(row)
        self._update_counts()

    def queued(self) -> list[Track]:
        return list(self.model.rows)

    def current(self) -> Track | None:
        return self._current

    def _select(self, row: int) -> None:
        if not self.model.rows:
            self._on_current_row(QModelIndex())
            return
        row = max(0, min(row, len(self.model.rows) - 1))
        index = self.model.index(row, 0)
        self.table.selectionModel().setCurrentIndex(
            index, self.table.selectionModel().SelectionFlag.ClearAndSelect | self.table.selectionModel().SelectionFlag.Rows)
        self.table.scrollTo(index)
        self._on_current_row(index)

    def _on_current_row(self, index: QModelIndex, _previous: QModelIndex | None = None) -> None:
        track = self.model.rows[index.row()] if index.isValid() and index.row() < len(self.model.rows) else None
        if (track.path if track else None) != (self._current.path if self._current else None):
            self._stop_typing(keep_focus=True)  # what was typed belongs to the track no longer shown
        self._current = track
        self._show_current()
        # Announced by path, whatever set _current before (undo does): the window's details must
        # follow every change of the card, also to "nothing left to review".
        path = track.path if track is not None else ""
        if path != self._announced:
            self._announced = path
            self.currentTrackChanged.emit(path)

    def _show_current(self) -> None:
        track = self._current
        self.choices.clear()
        self._choices = []
        enabled = track is not None
        for w in (self.accept_button, self.skip_button, self.choices, self.new_genre):
            w.setEnabled(enabled)
        self.undo_button.setEnabled(self.session.can_undo)
        self.note.setText(note_text(scan_note(track), True) if track is not None else "")
        self.note.setVisible(bool(self.note.text()))
        if track is None:
            self.title.setText("Nothing to review")
            self.details.setText("Analysed tracks appear here, most confident first. Analyse the library with "
                                 "Ctrl+R; accepted and corrected tracks leave the queue and can be written "
                                 "to the files with Ctrl+T.")
            return
        self.title.setText(display_title(track))
        existing = ", ".join(track.genres) or "no genre tag"
        who = " – ".join(p for p in (track.artist, track.album) if p)
        note = " (disagrees)" if self.rules.disagrees(track) else ""
        style = f"\nYour style: {', '.join(track.chosen_style)}" if track.chosen_style else ""
        self.details.setText((f"{who}\n" if who else "") + f"In file: {existing}{note}{style}")
        self.broad.set_track(track)
        for i, (genre, probability) in enumerate(track.prediction.genres):
            self._choices.append(genre)
            spelled = self._spell(genre)
            key = f"{i + 1}" if i < 9 else "  "
            item = QListWidgetItem(f"{key}   {spelled}   {float(probability):.0%}")
            self.choices.addItem(item)
        self.choices.setCurrentRow(0)

    def _update_counts(self) -> None:
        queued = sum(1 for t in self.session.tracks() if in_queue(t))
        made = self.session.decision_counts()
        shown = len(self.model.rows)
        take, leave = self.rules.split_above(self.model.rows, self.threshold.value() / 100.0)
        above, left = len(take), len(leave)
        self.bulk_button.setText(f"Accept {above} ≥ threshold")
        self.bulk_button.setEnabled(above > 0)
        self.bulk_button.setToolTip(f"{left} more at or above the threshold are left for you: their analysis heard "
                                    "spoken word or no audible audio" if left else "")
        filtered = f" · {shown} shown by the filter" if shown != queued else ""
        spoken = (f" · {left} not music above the threshold (spoken word or silence): bulk accept leaves them "
                  "for you" if left else "")
        self.counts.setText(f"{queued} to review{filtered} · this session: {made.get(ACCEPTED, 0)} accepted, "
                            f"{made.get(CORRECTED, 0)} corrected{spoken}")
        self.undo_button.setEnabled(self.session.can_undo)

    # -- decisions ---------------------------------------------------------------------------------
    def _decide(self, decisions: list[Decision]) -> None:
        if not decisions:
            return
        row = self.table.currentIndex().row()
        self._deciding = True
        try:
            self.session.decide(decisions)
        finally:
            self._deciding = False
        # The decided rows leave the queue (a style alone does not decide the genre: the track stays,
        # shown as it is now); the same row is then the next item.
        self.model.remove_paths({d.path for d in decisions if "status" in d.fields})
        self._current = None
        self._select(row if row >= 0 else 0)
        self._update_counts()

    def accept_current(self) -> None:
        track = self._current
        if track is not None and track.predicted_genre:
            self._decide([Decision.choose(track, [track.predicted_genre], ACCEPTED)])

    def pick(self, index: int) -> None:
        """Pick the index-th genre of the list (0 = the predicted one, which counts as accepting)."""
        track = self._current
        if track is None or not (0 <= index < len(self._choices)):
            return
        self._decide([self.rules.choose(track, self._choices[index])])

    def take_suggestion(self, genre: str, as_style: bool = False) -> None:
        """A genre of the tree's suggestions taken as the current track's genre or style."""
        track = self._current
        if track is None:
            return
        self._decide([self.rules.choose_style(track, genre) if as_style else self.rules.choose(track, genre)])
        if as_style:
            self.broad.list.setFocus()  # the genre may follow from the same list

    def choose_new(self, genre: str) -> None:
        genre = genre.strip()
        track = self._current
        if track is None or not genre:
            return
        self._decide([self.rules.choose(track, genre)])
        self.new_genre.add_known(self._spell(genre))

    def skip(self) -> None:
        row = self.table.currentIndex().row()
        if row + 1 < len(self.model.rows):
            self._select(row + 1)

    def bulk_accept(self) -> int:
        """Accept every shown music prediction at or above the threshold (one undo step); those
        whose analysis heard spoken word or silence stay (``left_out`` says how many)."""
        threshold = self.threshold.value() / 100.0
        take, leave = self.rules.split_above(self.model.rows, threshold)
        chosen = [Decision.choose(t, [t.predicted_genre], ACCEPTED) for t in take]  # rules.bulk_accept, one pass
        self.left_out = len(leave)
        self._decide(chosen)
        if chosen:
            self.bulkAccepted.emit(len(chosen))
        return len(chosen)

    def undo(self) -> None:
        """Take the last decision back (the session's undo); its first track becomes current."""
        self._deciding = True
        try:
            paths = self.session.undo_decision()
        finally:
            self._deciding = False
        if not paths:
            return
        self._current = self.session.track(paths[0])
        self.refresh()
