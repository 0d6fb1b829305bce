"""The training wizard's first two pages: the training data (and which tags to trust), the genres.

Split from ``training_wizard.py`` (the wizard's wiring); every figure comes from ``training/``.

1. Data: counts per genre, what each genre lacks in the trainer's terms (``trainer.check_trainable``:
   tracks, artists), warnings (few tracks, one artist dominating), the files left out because they
   could not be read (named), and the opt-in to trust existing genre tags, genre by genre. The
   check list keeps its place whatever the warnings say: they sit in a box of fixed height below
   it, so a click never lands on a row that moved under the pointer.
2. Genres: every genre, also those below the minimum; rename one, or merge it into another by
   giving both the same name. Next (which starts the training) waits until the trainer's check passes.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QScrollArea,
    QTableWidget,
    QVBoxLayout,
    QWizardPage,
)

from genre_desktop.core.genre import same_genre
from genre_desktop.training.dataset import Dataset, existing_genre_counts
from genre_desktop.training.trainer import Readiness
from genre_desktop.ui.wizard_tables import cell as _cell
from genre_desktop.ui.wizard_tables import table as _table

if TYPE_CHECKING:
    from genre_desktop.ui.wizard_state import WizardState

CHECKING = Readiness(False, ["checking what the trainer needs"])
TRUST_ROWS = 8  # rows of the trust list in view: a library's tags span many genres
WARNING_LINES = 5  # lines of the warnings box before it scrolls


def html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unreadable_lines(unreadable: dict[str, str], limit: int = 5) -> list[str]:
    """"⚠ Left out, could not be read: Artist/Album/x.mp3 (empty file)", naming the files."""
    if not unreadable:
        return []
    n = len(unreadable)
    named = [f"{html(_short(path))} ({html(reason)})" for path, reason in sorted(unreadable.items())[:limit]]
    more = f" and {n - limit} more" if n > limit else ""
    return [f"⚠ Left out, {n} file{'s' if n != 1 else ''} that could not be read: " + "; ".join(named) + more]


def _short(path: str) -> str:
    """The last three parts of a path (Artist/Album/file), enough to find it; the tooltip has it all."""
    parts = os.path.normpath(path).split(os.sep)
    return os.sep.join(parts[-3:])


class DataPage(QWizardPage):
    """Counts per genre, warnings and the trust-existing-tags opt-in."""

    def __init__(self, wizard: "WizardState") -> None:
        super().__init__()
        self.w = wizard
        self.setTitle("Your training data")
        self.setSubTitle("Tracks you accepted or corrected teach the model. You may also trust the genre tags "
                         "your files already carry, genre by genre.")
        self.table = _table(["genre", "tracks", "artists", "largest artist share", "from", "what it lacks"])
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(5, QHeaderView.ResizeMode.Stretch)
        self.trust = QListWidget()
        line = self.trust.fontMetrics().height() + 6
        self.trust.setFixedHeight(line * TRUST_ROWS + 2 * self.trust.frameWidth())
        self.trust.itemChanged.connect(lambda _item: self.refresh())
        self.warnings = QLabel()
        self.warnings.setWordWrap(True)
        self.warnings.setObjectName("warnings")
        self.warnings.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        # A box of fixed height: warnings coming and going never move the widgets above.
        box = QScrollArea()
        box.setWidget(self.warnings)
        box.setWidgetResizable(True)
        box.setFrameShape(QFrame.Shape.NoFrame)
        box.setFixedHeight((self.warnings.fontMetrics().height() + 2) * WARNING_LINES)
        self.warnings_box = box
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(QLabel("Also learn from existing genre tags of these genres (tracks you have not reviewed):"))
        layout.addWidget(self.trust)
        layout.addWidget(box)
        for genre, n in existing_genre_counts(wizard.tracks, wizard.settings.aliases).items():
            item = QListWidgetItem(f"{genre} ({n} track{'' if n == 1 else 's'})")
            item.setData(Qt.ItemDataRole.UserRole, genre)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.trust.addItem(item)

    def trusted(self) -> list[str]:
        return [self.trust.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.trust.count())
                if self.trust.item(i).checkState() == Qt.CheckState.Checked]

    def set_trusted(self, genres: list[str]) -> None:
        for i in range(self.trust.count()):
            item = self.trust.item(i)
            want = item.data(Qt.ItemDataRole.UserRole) in genres
            item.setCheckState(Qt.CheckState.Checked if want else Qt.CheckState.Unchecked)

    def initializePage(self) -> None:  # noqa: N802
        self.refresh()

    def refresh(self) -> None:
        self.w.rebuild(merges={})
        self.render()

    def render(self) -> None:
        """Show the datasets and the trainer's verdict as they are now (the verdict may come later)."""
        show_dataset(self.table, self.w.everything, self.w.readiness)
        ds = self.w.dataset
        warnings = [w.message for w in ds.warnings() if w.kind != "excluded"]  # the table says those
        lines = [f"⚠ {html(w)}" for w in warnings] + unreadable_lines(self.w.everything.unreadable)
        if self.w.readiness is CHECKING:
            lines.insert(0, "Checking what the trainer needs…")
        elif not self.w.readiness.ok:
            lines.insert(0, f"<b>Not ready to train: {html(self.w.readiness.problems[0])}.</b> Label more tracks "
                            "(by other artists too), trust more tags above, or merge genres on the next page.")
        self.warnings.setText("<br>".join(lines) or "No warnings: ready to train.")
        self.warnings.setToolTip("\n".join(sorted(self.w.everything.unreadable)))
        self.completeChanged.emit()

    def isComplete(self) -> bool:  # noqa: N802
        # Two genres (of any size) are the least the next page, where genres merge, can make a model of;
        # the training itself waits there for the trainer's own check.
        return len(self.w.everything.labels) >= 2


def show_dataset(table: QTableWidget, ds: Dataset, readiness: Readiness) -> None:
    """Every genre of ``ds`` (built without a minimum) with what the trainer says it lacks."""
    summaries = ds.summaries()
    table.setRowCount(len(summaries))
    for r, s in enumerate(summaries):
        sources = ", ".join(f"{n} {src}" for src, n in sorted(s.sources.items()))
        lacks = readiness.genres.get(s.genre, "")
        who = s.top_artist if not os.path.isabs(s.top_artist) else f"folder {os.path.basename(s.top_artist)}"
        for c, (value, right) in enumerate(((s.genre, False), (s.tracks, True), (s.artists, True),
                                            (f"{s.top_share:.0%} ({who})", False), (sources, False),
                                            (lacks or "—", False))):
            table.setItem(r, c, _cell(value, right))
        table.item(r, 5).setToolTip(lacks)


class GenresPage(QWizardPage):
    """Rename genres; giving two genres the same name merges them."""

    def __init__(self, wizard: "WizardState") -> None:
        super().__init__()
        self.w = wizard
        self.setTitle("Genres")
        self.setSubTitle("Rename a genre by editing its name on the right; give two genres the same name to "
                         "merge them. Any name works, including genres the bundled models never saw.")
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["genre", "tracks", "artists", "train as"])
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.itemChanged.connect(self._changed)
        self.result = QLabel()
        self.result.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(self.result)

    def initializePage(self) -> None:  # noqa: N802
        merges = dict(self.w.merges)
        self.w.rebuild(merges={})
        summaries = self.w.everything.summaries()  # every genre, also those below the minimum
        self.table.blockSignals(True)
        self.table.setRowCount(len(summaries))
        for r, s in enumerate(summaries):
            for c, value in enumerate((s.genre, s.tracks, s.artists)):
                item = _cell(value, c > 0)
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                item.setToolTip(self.w.readiness.genres.get(s.genre, ""))
                self.table.setItem(r, c, item)
            self.table.setItem(r, 3, _cell(merges.get(s.genre, s.genre)))
        self.table.blockSignals(False)
        self._changed()

    def set_target(self, genre: str, target: str) -> None:
        for r in range(self.table.rowCount()):
            if self.table.item(r, 0).text() == genre:
                self.table.item(r, 3).setText(target)

    def _changed(self, _item=None) -> None:
        merges = {}
        for r in range(self.table.rowCount()):
            source = self.table.item(r, 0).text()
            target = (self.table.item(r, 3).text() if self.table.item(r, 3) else "").strip()
            if target and not same_genre(target, source, self.w.settings.aliases):  # a respelling: no merge
                merges[source] = target
        self.w.rebuild(merges=merges)
        self.render()

    def render(self) -> None:
        ds, readiness = self.w.dataset, self.w.readiness
        lines = ["Training on: " + (", ".join(f"{g} ({n})" for g, n in ds.counts().items()) or "nothing yet")]
        if readiness is CHECKING:
            lines.append("Checking what the trainer needs…")
        elif not readiness.ok:
            lines.append(f"<b>Not ready to train: {html(readiness.problems[0])}.</b>")
        lines += [f"⚠ {g}: {lacks}" for g, lacks in readiness.genres.items() if lacks]
        lines += [f"⚠ {w.message}" for w in ds.warnings() if w.kind != "excluded"]
        self.result.setText("<br>".join(lines))
        self.completeChanged.emit()

    def isComplete(self) -> bool:  # noqa: N802
        return self.w.readiness.ok  # Next starts the training: only what the trainer will accept
