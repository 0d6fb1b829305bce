"""The library map: a 2-D scatter of the tracks' embeddings, coloured by genre.

Points come from ``training.session.map_points`` (PCA or t-SNE, computed on the job runner).
Labels: the librarian's choice, else the file's genre tag; a track with neither is a hollow grey
ring ("no genre"). Each genre gets a colour (and, past twenty genres, a mark) from
``ui.map_palette``, the genres with the most tracks the most distinct ones; the legend lists them
with their counts. Likely mislabels (``training.mislabels``: the estimated chance that the label is
wrong is at least one half) are drawn larger inside a ring of the text colour and listed beside
the map, most suspicious first, each with the reason ("tagged pop; the models say classical 0.91;
7 of its 10 nearest neighbours are tagged classical"). Clicking a point (or a list entry) shows the
track's verdict under the list and emits ``track_selected(path)``: the main window selects and
plays it.
"""

from __future__ import annotations

import os
from collections import Counter

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QIcon, QPainter, QPainterPath, QPen, QPixmap, QPolygonF
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFrame,
    QGraphicsPathItem,
    QGraphicsScene,
    QGraphicsView,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from genre_desktop.jobs.runner import Job
from genre_desktop.training.library_map import MapPoint
from genre_desktop.training.mislabels import FLAG_THRESHOLD
from genre_desktop.ui.map_palette import NO_GENRE, assign

SCENE_SIZE = 600.0
PATH_ROLE = Qt.ItemDataRole.UserRole
RADIUS = 4.5
FLAGGED_RADIUS = 7.0


def mark_path(mark: str, r: float, centre: QPointF = QPointF(0, 0)) -> QPainterPath:
    """The outline of a mark of radius ``r`` (circle, square, triangle or diamond) at ``centre``."""
    path = QPainterPath()
    x, y = centre.x(), centre.y()
    if mark == "square":
        path.addRect(QRectF(x - 0.85 * r, y - 0.85 * r, 1.7 * r, 1.7 * r))
    elif mark == "triangle":
        path.addPolygon(QPolygonF([QPointF(x, y - 1.1 * r), QPointF(x + r, y + 0.8 * r), QPointF(x - r, y + 0.8 * r),
                                   QPointF(x, y - 1.1 * r)]))
    elif mark == "diamond":
        path.addPolygon(QPolygonF([QPointF(x, y - 1.15 * r), QPointF(x + 1.15 * r, y), QPointF(x, y + 1.15 * r),
                                   QPointF(x - 1.15 * r, y), QPointF(x, y - 1.15 * r)]))
    else:
        path.addEllipse(centre, r, r)
    return path


def style_of(genre: str | None, styles: dict[str, tuple[str, str]]) -> tuple[QColor, str, bool]:
    """(colour, mark, filled) of a point labelled ``genre`` (None: the hollow "no genre" ring)."""
    if genre is None or genre not in styles:
        return QColor(NO_GENRE), "circle", False
    colour, mark = styles[genre]
    return QColor(colour), mark, True


def swatch(colour: QColor, mark: str, filled: bool, ring: QColor | None = None, size: int = 16) -> QIcon:
    """A legend icon: the mark as the map draws it."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    p = QPainter(pixmap)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    centre = QPointF(size / 2, size / 2)
    if ring is not None:
        p.setPen(QPen(ring, 2.2))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawEllipse(centre, size / 2 - 1.5, size / 2 - 1.5)
    p.setPen(QPen(colour.darker(140) if filled else colour, 1.0 if filled else 1.6))
    p.setBrush(QBrush(colour) if filled else Qt.BrushStyle.NoBrush)
    p.drawPath(mark_path(mark, size / 2 - (5 if ring is not None else 3), centre))
    p.end()
    return QIcon(pixmap)


def genre_styles(points: list[MapPoint]) -> dict[str, tuple[str, str]]:
    """genre -> (colour, mark) for the genres on the map, the most common first."""
    counts = Counter(p.genre for p in points if p.genre)
    return assign(sorted(counts, key=lambda g: (-counts[g], g)))


class MapView(QGraphicsView):
    """The scatter. ``track_selected(path)`` on click."""

    track_selected = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.items_by_path: dict[str, QGraphicsPathItem] = {}
        self.styles: dict[str, tuple[str, str]] = {}
        self.selected: str | None = None

    def set_points(self, points: list[MapPoint], styles: dict[str, tuple[str, str]] | None = None) -> None:
        scene = self.scene()
        scene.clear()
        self.items_by_path = {}
        self.styles = styles if styles is not None else genre_styles(points)
        if not points:
            return
        xs = [p.x for p in points]
        ys = [p.y for p in points]
        x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
        # One scale for both axes: distances on the map keep their proportions.
        scale = SCENE_SIZE / (max(x1 - x0, y1 - y0) or 1.0)
        ox = (SCENE_SIZE - (x1 - x0) * scale) / 2
        oy = (SCENE_SIZE - (y1 - y0) * scale) / 2
        ring = self.palette().windowText().color()  # black on the light palette, white on the dark one
        # Unlabelled first, likely mislabels last: drawn on top.
        for p in sorted(points, key=lambda p: (p.flagged, p.genre is not None)):
            centre = QPointF(ox + (p.x - x0) * scale, oy + (y1 - p.y) * scale)
            colour, mark, filled = style_of(p.genre, self.styles)
            item = QGraphicsPathItem(mark_path(mark, FLAGGED_RADIUS if p.flagged else RADIUS, centre))
            item.setBrush(QBrush(colour) if filled else Qt.BrushStyle.NoBrush)
            item.setPen(QPen(colour.darker(140), 0.8) if filled else QPen(colour, 1.4))
            if p.flagged:  # a ring of the text colour around the genre's own mark: seen on any colour
                halo = QGraphicsPathItem(mark_path("circle", FLAGGED_RADIUS + 3.0, centre), item)
                halo.setPen(QPen(ring, 2.2))
                halo.setData(0, p.path)
                halo.setToolTip(tooltip(p))
            item.setToolTip(tooltip(p))
            item.setData(0, p.path)
            item.setCursor(Qt.CursorShape.PointingHandCursor)
            scene.addItem(item)
            self.items_by_path[p.path] = item
        scene.setSceneRect(QRectF(-20, -20, SCENE_SIZE + 40, SCENE_SIZE + 40))
        self.fitInView(scene.sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        if self.scene() and self.items_by_path:
            self.fitInView(self.scene().sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)

    def mousePressEvent(self, event) -> None:  # noqa: N802
        item = self.itemAt(event.position().toPoint())
        if item is not None and item.data(0):
            self.select(item.data(0))
            event.accept()
            return
        super().mousePressEvent(event)

    def select(self, path: str) -> None:
        """Mark ``path``'s point and emit ``track_selected``."""
        previous = self.items_by_path.get(self.selected or "")
        if previous is not None:
            previous.setScale(1.0)
        item = self.items_by_path.get(path)
        if item is None:
            return
        item.setTransformOriginPoint(item.path().boundingRect().center())
        item.setScale(1.8)
        self.selected = path
        self.track_selected.emit(path)


def tooltip(p: MapPoint) -> str:
    lines = [os.path.basename(p.path), p.genre or "no genre (no choice, no tag)"]
    if p.genre:
        lines.append(f"chance the label is wrong: {p.mislabel_score:.0%}")
        if p.reason:
            lines.append(p.reason)
    return "\n".join(lines)


class Legend(QWidget):
    """The map's key: each genre's mark and name with its count, in columns under the map."""

    COLUMNS = 4
    MAX_ROWS = 6  # then it scrolls (a library with dozens of genres)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.texts: list[str] = []
        self.grid = QGridLayout()
        self.grid.setContentsMargins(4, 2, 4, 2)
        self.grid.setHorizontalSpacing(12)
        self.grid.setVerticalSpacing(2)
        inner = QWidget()
        inner.setLayout(self.grid)
        self.scroll = QScrollArea()
        self.scroll.setWidget(inner)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.scroll)

    def set_entries(self, entries: list[tuple[QIcon, str]]) -> None:
        while self.grid.count():
            self.grid.takeAt(0).widget().deleteLater()
        self.texts = [text for _, text in entries]
        for i, (icon, text) in enumerate(entries):
            mark = QLabel()
            mark.setPixmap(icon.pixmap(16, 16))
            name = QLabel(text)
            row, col = divmod(i, self.COLUMNS)
            self.grid.addWidget(mark, row, 2 * col)
            self.grid.addWidget(name, row, 2 * col + 1)
        for col in range(self.COLUMNS):
            self.grid.setColumnStretch(2 * col + 1, 1)
        rows = min(self.MAX_ROWS, max(1, -(-len(entries) // self.COLUMNS)))
        line = max(18, self.fontMetrics().height() + 4)
        self.scroll.setFixedHeight(rows * line + 6)


class LibraryMapWidget(QWidget):
    """Map, legend, the list of likely mislabels and the selected track's verdict."""

    track_selected = Signal(str)
    method_changed = Signal(str)  # "pca" or "tsne": the owner recomputes the points

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.points: dict[str, MapPoint] = {}
        self.view = MapView()
        self.view.track_selected.connect(self._selected)
        self.method = QComboBox()
        self.method.addItem("PCA (fast, linear)", "pca")
        self.method.addItem("t-SNE (neighbourhoods)", "tsne")
        self.method.currentIndexChanged.connect(lambda _i: self.method_changed.emit(self.method.currentData()))
        self.status = QLabel("Computing the map…")
        self.status.setWordWrap(True)
        self.suspects = QListWidget()
        self.suspects.setWordWrap(True)
        self.suspects.setMinimumWidth(280)
        self.suspects.itemClicked.connect(lambda item: self.view.select(item.data(PATH_ROLE)))
        self.detail = QLabel("Click a point or a listed track to see why it is (or is not) flagged.")
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.detail.setObjectName("hint")
        self.detail.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        # Room for the verdict and a reason of two or three lines: a wrapped label is not given
        # the height of its wrapped text by the layout, and the reason is what the panel is for.
        self.detail.setMinimumHeight((self.detail.fontMetrics().height() + 1) * 5)
        self.legend = Legend()
        right = QVBoxLayout()
        right.setContentsMargins(0, 0, 0, 0)
        heading = QLabel(f"Likely mislabels (chance the label is wrong ≥ {FLAG_THRESHOLD:.0%}), most "
                         "suspicious first:")
        heading.setWordWrap(True)
        right.addWidget(heading)
        right.addWidget(self.suspects, 1)
        self.no_suspects = QLabel("No labelled track looks mislabelled: every tag agrees with what the "
                                  "models hear and with its neighbours, or the evidence is too weak to say.")
        self.no_suspects.setWordWrap(True)
        self.no_suspects.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.no_suspects.hide()
        right.addWidget(self.no_suspects, 1)
        right.addWidget(self.detail)
        left = QVBoxLayout()
        left.setContentsMargins(0, 0, 0, 0)
        left.addWidget(self.view, 1)
        left.addWidget(self.legend)
        split = QSplitter(Qt.Orientation.Horizontal)
        for part in (left, right):
            holder = QWidget()
            holder.setLayout(part)
            split.addWidget(holder)
        split.setChildrenCollapsible(False)
        split.setSizes([620, 400])  # the map's side first; the list's long lines wrap
        top = QHBoxLayout()
        top.addWidget(self.method)
        top.addWidget(self.status, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(split, 1)

    def set_points(self, points: list[MapPoint]) -> None:
        styles = genre_styles(points)
        self.points = {p.path: p for p in points}
        self.view.set_points(points, styles)
        flagged = sorted((p for p in points if p.flagged), key=lambda p: (-p.mislabel_score, p.path))
        self.suspects.clear()
        for p in flagged:
            colour, mark, filled = style_of(p.genre, styles)
            item = QListWidgetItem(swatch(colour, mark, filled),
                                   f"{os.path.basename(p.path)}: {p.mislabel_score:.0%} likely wrong\n{p.reason}")
            item.setData(PATH_ROLE, p.path)
            item.setToolTip(f"{p.path}\n{p.reason}")
            self.suspects.addItem(item)
        self.suspects.setVisible(bool(flagged))
        self.no_suspects.setVisible(not flagged)
        self._legend(points, styles)
        labelled = sum(1 for p in points if p.genre)
        self.status.setText(f"{len(points)} track{'' if len(points) == 1 else 's'} ({labelled} labelled), "
                            f"{len(flagged)} likely mislabel{'' if len(flagged) == 1 else 's'}; click a point "
                            "to select and play it")

    def _legend(self, points: list[MapPoint], styles: dict[str, tuple[str, str]]) -> None:
        counts = Counter(p.genre for p in points)
        entries = [(swatch(*style_of(g, styles)), f"{g} ({counts[g]})") for g in styles]
        if counts.get(None):
            entries.append((swatch(*style_of(None, styles)), f"no genre ({counts[None]})"))
        ring = self.palette().windowText().color()
        entries.append((swatch(QColor("#bbbbbb"), "circle", True, ring), "likely mislabel"))
        self.legend.set_entries(entries)

    def _selected(self, path: str) -> None:
        p = self.points.get(path)
        if p is not None:
            verdict = ("no genre to judge" if not p.genre else
                       f"{'likely mislabel' if p.flagged else 'not flagged'}: chance the label is wrong "
                       f"{p.mislabel_score:.0%}" + (f", perhaps {p.suspected}" if p.flagged and p.suspected else ""))
            self.detail.setText(f"<b>{_html(os.path.basename(path))}</b>: {verdict}"
                                + (f"<br>{_html(p.reason)}" if p.reason else ""))
        self.track_selected.emit(path)


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class LibraryMapDialog(QDialog):
    """The map in a window; computes the points on the job runner (``session.map_points``)."""

    track_selected = Signal(str)

    def __init__(self, tracks, runner, dirs, settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from genre_desktop.training.library_map import map_labels

        self.setWindowTitle("Library map")
        self.resize(1040, 700)
        self.runner = runner
        self.dirs = dirs
        self.settings = settings
        self.tracks = list(tracks)
        # Coloured by every label the librarian has: choices, else the file's genre tag.
        self.dataset, self.tagged = map_labels(self.tracks, settings.aliases)
        self.widget = LibraryMapWidget()
        self.widget.track_selected.connect(self.track_selected)
        self.widget.method_changed.connect(self.compute)
        layout = QVBoxLayout(self)
        layout.addWidget(self.widget)
        self.handle = None
        self.compute("pca")

    def compute(self, method: str) -> None:
        from genre_desktop.training.session import map_points

        dataset, tagged, dirs, settings = self.dataset, self.tagged, self.dirs, self.settings
        labelled = {e.path for e in dataset.examples}
        others = [t.path for t in self.tracks if t.path not in labelled and not t.missing]
        self.widget.status.setText(f"Computing the map ({method})…")

        def work(job):
            return map_points(dataset, dirs, method, settings.segments, settings.cpu_threads,
                              lambda f, m: job.progress(m), job.token, others, tagged, settings.aliases)

        self.handle = self.runner.submit(work, name=Job.LIBRARY_MAP, key="library-map",
                                         on_progress=self.widget.status.setText, on_finished=self.widget.set_points,
                                         on_failed=lambda e: self.widget.status.setText(f"Map failed: {e}"))

    def reject(self) -> None:
        if self.handle is not None:
            self.handle.cancel()
        super().reject()
