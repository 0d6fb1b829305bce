"""Light and dark palettes (Fusion style) and the per-genre colours shared by the views."""

from __future__ import annotations

import hashlib

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPainter, QPalette, QPen
from PySide6.QtWidgets import QApplication, QProxyStyle, QStyle

from genre_desktop.core.genre import canonical_genre

THEMES = ("system", "light", "dark")

# Fixed colours for the bundled labels so that "rock" is the same colour in every view and session.
GENRE_COLOURS = {
    "blues": "#3b6fb6",
    "classical": "#b58bd8",
    "country": "#c9a227",
    "disco": "#e0529c",
    "hiphop": "#e8743b",
    "jazz": "#2bb3a3",
    "metal": "#8a8f98",
    "pop": "#f06fa7",
    "reggae": "#4caf50",
    "rock": "#d64541",
}


_FIXED: dict[str, str] = {}  # genre identity -> colour, filled on first use (the tree loads lazily)


def genre_colour(genre: str) -> QColor:
    """A stable colour per genre; unknown genres get a hue derived from their identity."""
    if not _FIXED:
        _FIXED.update({canonical_genre(label): colour for label, colour in GENRE_COLOURS.items()})
    key = canonical_genre(genre)  # one genre, one colour: "Hip Hop", "hip-hop" and "hiphop" alike
    if key in _FIXED:
        return QColor(_FIXED[key])
    hue = int(hashlib.md5(key.encode("utf-8")).hexdigest()[:4], 16) % 360
    return QColor.fromHsl(hue, 150, 120)


def _palette(dark: bool) -> QPalette:
    p = QPalette()
    if dark:
        window, base, alt, text, button = "#2b2d31", "#1f2023", "#26282c", "#e6e6e6", "#34363b"
        highlight, link, mid, disabled = "#3d7bd9", "#7fb0ff", "#45484e", "#7d8088"
    else:
        window, base, alt, text, button = "#f3f3f4", "#ffffff", "#f5f6f8", "#1d1d1f", "#e9e9ec"
        highlight, link, mid, disabled = "#2f6fd0", "#1b5fc2", "#c4c6cc", "#9a9ca3"
    roles = {
        QPalette.ColorRole.Window: window,
        QPalette.ColorRole.WindowText: text,
        QPalette.ColorRole.Base: base,
        QPalette.ColorRole.AlternateBase: alt,
        QPalette.ColorRole.ToolTipBase: base,
        QPalette.ColorRole.ToolTipText: text,
        QPalette.ColorRole.PlaceholderText: disabled,
        QPalette.ColorRole.Text: text,
        QPalette.ColorRole.Button: button,
        QPalette.ColorRole.ButtonText: text,
        QPalette.ColorRole.BrightText: "#ff6b6b",
        QPalette.ColorRole.Highlight: highlight,
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.Link: link,
        QPalette.ColorRole.Mid: mid,
        QPalette.ColorRole.Light: "#50535a" if dark else "#ffffff",
        QPalette.ColorRole.Dark: "#151618" if dark else "#a0a2a8",
        QPalette.ColorRole.Shadow: "#000000",
    }
    for role, colour in roles.items():
        p.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText, QPalette.ColorRole.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor(disabled))
    return p


def system_prefers_dark() -> bool:
    hints = QGuiApplication.styleHints()
    return hints is not None and hints.colorScheme() == Qt.ColorScheme.Dark


class ThemeStyle(QProxyStyle):
    """Fusion, with check boxes that show on a dark palette's Base.

    Fusion outlines a check box in ``Window.darker(140)``: on a dark palette that is about the Base
    colour the box sits on (lists, tables), so an unchecked box vanishes. On dark palettes the
    outline is drawn again in the palette's ``Mid``, which contrasts with Base and Window alike.
    """

    _BOXES = (QStyle.PrimitiveElement.PE_IndicatorCheckBox, QStyle.PrimitiveElement.PE_IndicatorItemViewItemCheck)

    def __init__(self) -> None:
        super().__init__("Fusion")

    def drawPrimitive(self, element, option, painter: QPainter, widget=None) -> None:  # noqa: N802 (Qt name)
        super().drawPrimitive(element, option, painter, widget)
        if element in self._BOXES and is_dark(option.palette):
            painter.save()
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.setPen(QPen(option.palette.color(QPalette.ColorRole.Mid).lighter(130), 1))
            painter.translate(0.5, 0.5)  # Fusion's own outline sits on the half pixel too
            painter.drawRect(option.rect.adjusted(0, 0, -1, -1))
            painter.restore()
        elif element == QStyle.PrimitiveElement.PE_IndicatorRadioButton and is_dark(option.palette):
            painter.save()  # the same for a radio button's circle (the wizard's last page has two)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.setPen(QPen(option.palette.color(QPalette.ColorRole.Mid).lighter(130), 1))
            painter.drawEllipse(option.rect.adjusted(1, 1, -1, -1))
            painter.restore()


def apply_theme(app: QApplication, theme: str) -> bool:
    """Apply "light", "dark" or "system"; returns True when the result is dark."""
    if not isinstance(app.style(), ThemeStyle):
        app.setStyle(ThemeStyle())  # the palettes are designed for Fusion: same look on every platform
    dark = theme == "dark" or (theme == "system" and system_prefers_dark())
    app.setPalette(_palette(dark))
    return dark


def is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Window).lightness() < 128
