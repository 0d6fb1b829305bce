"""The dark palette keeps unchecked check boxes visible where they sit on Base (lists, tables):
Fusion alone outlines them in Window.darker(140), which is about the dark Base colour."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QRect
from PySide6.QtGui import QColor, QImage, QPainter, QPalette
from PySide6.QtWidgets import QApplication, QStyle, QStyleFactory, QStyleOptionButton

from genre_desktop.ui.theme import ThemeStyle, apply_theme


def _outline_contrast(style: QStyle, palette: QPalette) -> float:
    """The largest lightness difference between an unchecked box's pixels and the Base it sits on."""
    base = palette.color(QPalette.ColorRole.Base)
    image = QImage(24, 24, QImage.Format.Format_ARGB32)
    image.fill(base)
    option = QStyleOptionButton()
    option.rect = QRect(4, 4, 16, 16)
    option.palette = palette
    option.state = QStyle.StateFlag.State_Enabled | QStyle.StateFlag.State_Off
    painter = QPainter(image)
    style.drawPrimitive(QStyle.PrimitiveElement.PE_IndicatorItemViewItemCheck, option, painter)
    painter.end()
    return max(abs(QColor(image.pixel(x, y)).lightness() - base.lightness()) for x in range(24) for y in range(24))


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_unchecked_boxes_stand_out_from_base(qtbot, theme):
    app = QApplication.instance()
    apply_theme(app, theme)
    try:
        assert isinstance(app.style(), ThemeStyle)
        assert _outline_contrast(app.style(), app.palette()) >= 40
    finally:
        apply_theme(app, "light")


def test_plain_fusion_loses_them_on_the_dark_palette(qtbot):
    """What the proxy style is for: the same drawing by Fusion alone barely differs from Base."""
    app = QApplication.instance()
    apply_theme(app, "dark")
    try:
        fusion = QStyleFactory.create("Fusion")
        assert _outline_contrast(fusion, app.palette()) < 20
    finally:
        apply_theme(app, "light")
