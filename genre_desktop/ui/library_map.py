"""The library map: a 2-D scatter of the tracks' embeddings, coloured by genre.

Points come from ``training.session.map_points`` (PCA or t-SNE, computed on the job runner).
Colours: the librarian's choice, else the file's genre tag; grey only for a track with neither.
Likely mislabels (their neighbours mostly carry another genre) are drawn larger with a red ring
and listed beside the map, most suspicious first. Clicking a point
(or a list entry) emits ``track_selected(path)``: the main window selects and plays it.
"""

from __future__ import annotations

import os

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPainter, QPen
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QGraphicsEllipseItem,
    QGraphicsScene,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from genre_desktop.jobs.runner import Job
from genre_desktop.training.library_map import MapPoint
from genre_desktop.ui.theme import genre_colour

SCENE_SIZE = 600.0
PATH_ROLE = Qt.ItemDataRole.UserRole


class MapView(QGraphicsView):
    """The scatter. ``track_selected(path)`` on click."""

    track_selected = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.items_by_path: dict[str, QGraphicsEllipseItem] = {}
        self.selected: str | None = None

    def set_points(self, points: list[MapPoint]) -> None:
        scene = self.scene()
        scene.clear()
        self.items_by_path = {}
        if not points:
            return
        xs = [p.x for p in points]
        ys = [p.y for p in points]
        x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
        # One scale for both axes: distances on the map keep their proportions.
        scale = SCENE_SIZE / (max(x1 - x0, y1 - y0) or 1.0)
        ox = (SCENE_SIZE - (x1 - x0) * scale) / 2
        oy = (SCENE_SIZE - (y1 - y0) * scale) / 2
        # Suspicious points last, so they are drawn on top.
        for p in sorted(points, key=lambda p: (p.mislabel_score > 0, p.genre is not None)):
            flagged = p.mislabel_score > 0
            r = 7.0 if flagged else 4.5
            cx, cy = ox + (p.x - x0) * scale, oy + (y1 - p.y) * scale
            item = QGraphicsEllipseItem(QRectF(cx - r, cy - r, 2 * r, 2 * r))
            colour = genre_colour(p.genre) if p.genre else QColor("#9a9a9a")
            item.setBrush(QBrush(colour))
            item.setPen(QPen(QColor("#d32f2f"), 2.5) if flagged else QPen(colour.darker(140), 0.8))
            tip = f"{os.path.basename(p.path)}\n{p.genre or 'no genre (no choice, no tag)'}"
            if flagged:
                tip += f"\nlikely mislabel ({p.mislabel_score:.0%} of its neighbours: {p.neighbour_genre})"
            item.setToolTip(tip)
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
        if isinstance(item, QGraphicsEllipseItem) and item.data(0):
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
        item.setTransformOriginPoint(item.rect().center())
        item.setScale(1.8)
        self.selected = path
        self.track_selected.emit(path)


class LibraryMapWidget(QWidget):
    """Map, legend and the list of likely mislabels."""

    track_selected = Signal(str)
    method_changed = Signal(str)  # "pca" or "tsne": the owner recomputes the points

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = MapView()
        self.view.track_selected.connect(self.track_selected)
        self.method = QComboBox()
        self.method.addItem("PCA (fast, linear)", "pca")
        self.method.addItem("t-SNE (neighbourhoods)", "tsne")
        self.method.currentIndexChanged.connect(lambda _i: self.method_changed.emit(self.method.currentData()))
        self.status = QLabel("Computing the map…")
        self.legend = QLabel()
        self.legend.setWordWrap(True)
        self.suspects = QListWidget()
        self.suspects.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.suspects.setMinimumWidth(240)
        self.suspects.itemClicked.connect(lambda item: self.view.select(item.data(PATH_ROLE)))
        side = QVBoxLayout()
        side.addWidget(QLabel("Likely mislabels (most suspicious first):"))
        side.addWidget(self.suspects, 1)
        side.addWidget(self.legend)
        top = QHBoxLayout()
        top.addWidget(self.method)
        top.addWidget(self.status, 1)
        body = QHBoxLayout()
        body.addWidget(self.view, 3)
        body.addLayout(side, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(body, 1)

    def set_points(self, points: list[MapPoint]) -> None:
        self.view.set_points(points)
        flagged = sorted((p for p in points if p.mislabel_score > 0), key=lambda p: -p.mislabel_score)
        self.suspects.clear()
        for p in flagged:
            item = QListWidgetItem(f"{os.path.basename(p.path)}\n   {p.genre} → {p.neighbour_genre}? "
                                   f"({p.mislabel_score:.0%})")
            item.setData(PATH_ROLE, p.path)
            item.setToolTip(f"{p.path}\nlabelled {p.genre}; {p.mislabel_score:.0%} of its nearest neighbours "
                            f"are {p.neighbour_genre}")
            self.suspects.addItem(item)
        genres = sorted({p.genre for p in points if p.genre})
        # A swatch and its name never part at a line break (&nbsp;); entries break between them.
        swatches = " ".join(f"<span style='color:{genre_colour(g).name()}'>●</span>&nbsp;{g}" for g in genres)
        if any(p.genre is None for p in points):
            swatches += " <span style='color:#9a9a9a'>●</span>&nbsp;no&nbsp;genre"
        self.legend.setText(swatches + " <span style='color:#d32f2f'>◯</span>&nbsp;likely&nbsp;mislabel")
        self.status.setText(f"{len(points)} track{'' if len(points) == 1 else 's'}, {len(flagged)} likely mislabel{'' if len(flagged) == 1 else 's'}; "
                            "click a point to select and play it")


class LibraryMapDialog(QDialog):
    """The map in a window; computes the points on the job runner (``session.map_points``)."""

    track_selected = Signal(str)

    def __init__(self, tracks, runner, dirs, settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from genre_desktop.training.library_map import map_labels

        self.setWindowTitle("Library map")
        self.resize(980, 680)
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
                              lambda f, m: job.progress(m), job.token, others, tagged)

        self.handle = self.runner.submit(work, name=Job.LIBRARY_MAP, key="library-map",
                                         on_progress=self.widget.status.setText, on_finished=self.widget.set_points,
                                         on_failed=lambda e: self.widget.status.setText(f"Map failed: {e}"))

    def reject(self) -> None:
        if self.handle is not None:
            self.handle.cancel()
        super().reject()
