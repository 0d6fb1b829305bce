"""About: the app's version, the bundled models and their licences, the libraries and theirs."""

from __future__ import annotations

import html
import json
import logging
from importlib import metadata
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

from genre_desktop import __version__

log = logging.getLogger(__name__)

LIBRARIES = ("PySide6-Essentials", "numpy", "librosa", "soundfile", "sounddevice", "onnxruntime", "scikit-learn",
             "xgboost-cpu", "tinydb", "mutagen")


def library_licences() -> list[tuple[str, str, str]]:
    """(name, version, licence) of the runtime libraries, from their installed metadata."""
    rows = []
    for name in LIBRARIES:
        try:
            meta = metadata.metadata(name)
        except metadata.PackageNotFoundError:
            continue
        licence = meta.get("License-Expression") or ""
        if not licence:
            classifiers = [c.split("::")[-1].strip() for c in meta.get_all("Classifier") or [] if c.startswith("License ::")]
            licence = ", ".join(classifiers)
        if not licence:
            lines = (meta.get("License") or "").strip().splitlines()
            licence = lines[0] if lines else ""
        rows.append((name, meta.get("Version", ""), (licence or "see package")[:80]))
    return rows


def model_licences(models_dir: Path) -> tuple[str, list[tuple[str, str, str]]] | None:
    """(manifest version, [(model, licence, training data)]) from models/manifest.json, or None."""
    path = models_dir / "manifest.json"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.info("no readable model manifest at %s: %s", path, exc)
        return None
    models = raw.get("models") or []
    if isinstance(models, dict):
        models = [dict(v, name=k) for k, v in models.items()]
    rows = [(str(m.get("name", "?")), str(m.get("licence") or m.get("license") or "not stated"),
             str(m.get("training_data") or "")) for m in models if isinstance(m, dict)]
    return str(raw.get("version", "")), rows


def attributions(models_dir: Path) -> list[tuple[str, str]]:
    """(what, attribution and licence) of third-party material the bundle carries: the pretrained
    networks (from the manifest's ``source`` and ``labels_licence``) and the genre tree's sources."""
    rows: list[tuple[str, str]] = []
    try:
        raw = json.loads((models_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raw = {}
    for m in raw.get("models") or []:
        if not isinstance(m, dict) or not isinstance(m.get("source"), dict):
            continue
        source = m["source"]
        what = str(source.get("reference") or source.get("repository") or m.get("name", "?"))
        where = ", ".join(str(source[k]) for k in ("repository", "package", "checkpoint", "release") if source.get(k))
        rows.append((f"{m.get('name', '?')} weights", f"{what} ({where}); {m.get('licence', 'licence not stated')}"))
        if m.get("labels_licence"):
            rows.append((f"{m.get('name', '?')} class labels", str(m["labels_licence"])))
    try:
        from importlib import resources

        tree = json.loads(resources.files("genre_desktop.core").joinpath("genre_tree.json").read_text(encoding="utf-8"))
        rows.append(("Genre tree", str(tree.get("attribution", ""))))
    except (OSError, ValueError, ModuleNotFoundError) as exc:
        log.info("no genre tree attribution: %s", exc)
    return rows


def about_html(models_dir: Path) -> str:
    parts = [f"<h2>Genre Desktop {html.escape(__version__)}</h2>",
             "<p>Offline genre recognition, review and tagging for music libraries. Licence: GPL-3.0-or-later.</p>",
             "<h3>Bundled models</h3>"]
    models = model_licences(models_dir)
    if models is None:
        parts.append(f"<p>No model manifest found in {html.escape(str(models_dir))}.</p>")
    else:
        version, rows = models
        parts.append(f"<p>Model set version {html.escape(version)}</p><table cellpadding='3'>"
                     "<tr><th align='left'>Model</th><th align='left'>Licence</th><th align='left'>Trained on</th></tr>")
        for name, licence, data in rows:
            parts.append(f"<tr><td>{html.escape(name)}</td><td>{html.escape(licence)}</td><td>{html.escape(data)}</td></tr>")
        parts.append("</table>")
    credits = attributions(models_dir)
    if credits:
        parts.append("<h3>Attributions</h3><table cellpadding='3'>")
        for what, text in credits:
            parts.append(f"<tr><td valign='top'>{html.escape(what)}</td><td>{html.escape(text)}</td></tr>")
        parts.append("</table><p>The licence texts are in the <code>models</code> folder (LICENSE-EfficientAT, "
                     "LICENSE-AudioSet-labels) and beside the genre tree (genre_tree.LICENSE.txt).</p>")
    parts.append("<h3>Libraries</h3><table cellpadding='3'>"
                 "<tr><th align='left'>Library</th><th align='left'>Version</th><th align='left'>Licence</th></tr>")
    for name, version, licence in library_licences():
        parts.append(f"<tr><td>{html.escape(name)}</td><td>{html.escape(version)}</td><td>{html.escape(licence)}</td></tr>")
    parts.append("</table>")
    return "".join(parts)


class AboutDialog(QDialog):
    def __init__(self, models_dir: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About Genre Desktop")
        self.resize(620, 520)
        self.text = QTextBrowser()
        self.text.setOpenExternalLinks(True)
        self.text.setHtml(about_html(models_dir))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(buttons, alignment=Qt.AlignmentFlag.AlignRight)
