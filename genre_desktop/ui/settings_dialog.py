"""Settings: appearance, tag writing (mode, count, ID3, the style field, where sub-genres go,
aliases, the undo data kept and its limits),
analysis (model, segments, threads, workers, tag networks)."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from genre_desktop.settings import GENRE_LAYOUTS, TAG_NETWORK_CHOICES, Settings
from genre_desktop.ui.alias_editor import AliasEditor
from genre_desktop.ui.theme import THEMES


def available_models(user_models: Path) -> tuple[list[tuple[str | None, str]], str | None]:
    """(version, label) choices, the bundled models alone (None) first, and the active version."""
    from genre_desktop.training.registry import Registry

    registry = Registry(user_models)
    choices: list[tuple[str | None, str]] = [(None, "Bundled models")]
    for info in registry.versions():
        choices.append((info.version, f"Bundled + {info.version} ({len(info.labels)} genres, {info.tracks} tracks)"))
    return choices, registry.active()


class SettingsDialog(QDialog):
    """``undo_usage``: how much undo data is kept now, in words (``UndoUsage.describe()``)."""

    def __init__(self, settings: Settings, user_models: Path, parent: QWidget | None = None,
                 undo_usage: str | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.resize(560, 480)
        self._settings = settings  # immutable: the edits make a new one (settings())
        tabs = QTabWidget()

        general = QWidget()
        form = QFormLayout(general)
        self.theme = QComboBox()
        for name in THEMES:
            self.theme.addItem({"system": "Follow the system", "light": "Light", "dark": "Dark"}[name], name)
        self.theme.setCurrentIndex(THEMES.index(settings.theme) if settings.theme in THEMES else 0)
        form.addRow("Theme", self.theme)
        self.threshold = QDoubleSpinBox()
        self.threshold.setRange(0, 100)
        self.threshold.setDecimals(0)
        self.threshold.setSuffix(" %")
        self.threshold.setValue(round(settings.bulk_threshold * 100))
        form.addRow("Bulk-accept threshold", self.threshold)
        tabs.addTab(general, "General")

        tags = QWidget()
        tag_form = QFormLayout(tags)
        self.mode = QComboBox()
        self.mode.addItem("Replace the file's genres", "replace")
        self.mode.addItem("Add to the file's genres", "add")
        self.mode.setCurrentIndex(max(0, self.mode.findData(settings.write_mode)))
        tag_form.addRow("Mode", self.mode)
        self.max_genres = QSpinBox()
        self.max_genres.setRange(1, 5)
        self.max_genres.setValue(settings.max_genres)
        tag_form.addRow("Genres per file", self.max_genres)
        self.id3_version = QComboBox()
        self.id3_version.addItem("Keep each file's version", "keep")
        self.id3_version.addItem("Convert to ID3v2.4", 4)
        self.id3_version.addItem("Convert to ID3v2.3", 3)
        self.id3_version.setCurrentIndex(max(0, self.id3_version.findData(settings.id3_version)))
        self.id3_version.setToolTip("Older players and playout systems read only ID3v2.3; a file without "
                                    "an ID3 tag gets ID3v2.3 unless you convert")
        tag_form.addRow("ID3 version", self.id3_version)
        self.separator = QLineEdit(settings.id3_separator)
        self.separator.setMaximumWidth(60)
        self.separator.setToolTip("Joins several genres where a tag holds one value (ID3v2.3, WAV INFO), "
                                  "unless the file already uses its own separator")
        tag_form.addRow("ID3v2.3 separator", self.separator)
        self.style_field = QComboBox()
        self.style_field.addItem("STYLE", "style")
        self.style_field.addItem("GROUPING", "grouping")
        self.style_field.setCurrentIndex(max(0, self.style_field.findData(settings.style_field)))
        self.style_field.setToolTip("STYLE is what TagLib-based players, foobar2000 and Mp3tag read as the "
                                    "style; GROUPING is where iTunes, Serato and others show it")
        tag_form.addRow("Styles are written to", self.style_field)
        self.genre_layout = QComboBox()
        for key, label in GENRE_LAYOUTS:
            self.genre_layout.addItem(label, key)
        self.genre_layout.setCurrentIndex(max(0, self.genre_layout.findData(settings.genre_layout)))
        self.genre_layout.setToolTip("Where a chosen genre that sits under another in the genre tree goes "
                                     "(House is under Electronic). A top-level genre (Rock) always goes to "
                                     "the genre field; a style you chose always goes to the style field.")
        tag_form.addRow("Sub-genres", self.genre_layout)
        self.aliases = AliasEditor(settings.aliases, settings.user_genres)
        # At least eight genres in sight: the tree is where a librarian reads and edits spellings.
        rows = self.aliases.tree.fontMetrics().height() + 4
        self.aliases.tree.setMinimumHeight(self.aliases.tree.header().sizeHint().height() + 8 * rows)
        tag_form.addRow(QLabel("Genres (the genre tree and your own) and how each is written in tags:"))
        tag_form.addRow(self.aliases)
        self.undo_usage = QLabel(undo_usage or "none")
        self.undo_usage.setWordWrap(True)
        self.undo_usage.setToolTip("What gives written files back byte for byte on undo: the bytes each write "
                                   "changed, kept beside the journal")
        tag_form.addRow("Undo data kept", self.undo_usage)
        self.undo_max_mb = QSpinBox()
        self.undo_max_mb.setRange(0, 1 << 20)
        self.undo_max_mb.setSuffix(" MB")
        self.undo_max_mb.setSpecialValueText("no limit")
        self.undo_max_mb.setValue(settings.undo_max_mb)
        self.undo_max_days = QSpinBox()
        self.undo_max_days.setRange(0, 36500)
        self.undo_max_days.setSuffix(" days")
        self.undo_max_days.setSpecialValueText("never")
        self.undo_max_days.setValue(settings.undo_max_days)
        for box in (self.undo_max_mb, self.undo_max_days):
            box.setMaximumWidth(160)
            box.setToolTip("Past this, the oldest writes' undo data expires (you are told before a write "
                           "makes it expire); they can then still be undone genre by genre")
        tag_form.addRow("Keep at most", self.undo_max_mb)
        tag_form.addRow("Expire after", self.undo_max_days)
        tabs.addTab(tags, "Tags")

        analysis = QWidget()
        a_form = QFormLayout(analysis)
        self.model_choice = QComboBox()
        self.model_choice.setToolTip("A model you trained joins the bundled models' vote "
                                     "(Models > Train your own model)")
        choices, current = available_models(user_models)
        for version, label in choices:
            self.model_choice.addItem(label, version)
        self.model_choice.setCurrentIndex(max(0, self.model_choice.findData(current)))
        a_form.addRow("Model", self.model_choice)
        self.segments = QSpinBox()
        self.segments.setRange(1, 20)
        self.segments.setValue(settings.segments)
        self.segments.setToolTip("How many 30-second segments of each track are analysed and voted on")
        a_form.addRow("Segments per track", self.segments)
        self.threads = QSpinBox()
        self.threads.setRange(0, max(1, os.cpu_count() or 1))
        self.threads.setSpecialValueText("automatic")
        self.threads.setValue(min(settings.cpu_threads, self.threads.maximum()))
        a_form.addRow("CPU threads", self.threads)
        self.workers = QSpinBox()
        self.workers.setRange(0, max(1, os.cpu_count() or 1))
        self.workers.setSpecialValueText("one per core")
        self.workers.setValue(min(settings.analysis_workers, self.workers.maximum()))
        self.workers.setToolTip("Worker processes analysing tracks at once; each holds the models "
                                "(about 0.5 GB), so fewer workers use less memory")
        a_form.addRow("Analysis workers", self.workers)
        networks = QWidget()
        n_layout = QVBoxLayout(networks)
        n_layout.setContentsMargins(0, 0, 0, 0)
        self.tag_networks: dict[str, QCheckBox] = {}
        for name, label in TAG_NETWORK_CHOICES:
            box = QCheckBox(label)
            box.setChecked(name in settings.tag_networks)
            n_layout.addWidget(box)
            self.tag_networks[name] = box
        networks.setToolTip("Which music-tagging networks describe each track with tags. The genre vote "
                            "runs the networks it needs whatever you choose here.")
        a_form.addRow("Tag networks", networks)
        note = QLabel("Changes apply to the next analysis; tracks already analysed keep their predictions "
                      "until you analyse them again.")
        note.setWordWrap(True)
        a_form.addRow(note)
        tabs.addTab(analysis, "Analysis")

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(tabs)
        layout.addWidget(buttons)
        self.tabs = tabs

    def settings(self) -> Settings:
        return self._settings.replace(
            theme=self.theme.currentData(),
            bulk_threshold=self.threshold.value() / 100.0,
            write_mode=self.mode.currentData(),
            max_genres=self.max_genres.value(),
            id3_version=self.id3_version.currentData(),
            id3_separator=self.separator.text() or "; ",
            style_field=self.style_field.currentData(),
            genre_layout=self.genre_layout.currentData(),
            aliases=self.aliases.aliases(),
            undo_max_mb=self.undo_max_mb.value(),
            undo_max_days=self.undo_max_days.value(),
            user_genres=self.aliases.user_genres(),
            segments=self.segments.value(),
            cpu_threads=self.threads.value(),
            analysis_workers=self.workers.value(),
            tag_networks=[n for n in self._settings.tag_networks if n not in self.tag_networks]
            + [n for n, box in self.tag_networks.items() if box.isChecked()],
        )

    def chosen_model(self) -> str | None:
        """The user model version to activate (None: the bundled models alone)."""
        return self.model_choice.currentData()
