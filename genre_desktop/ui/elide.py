"""Paths in tables: elided in the middle, so both the top folder and the file name stay in view."""

from __future__ import annotations

import os

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QStyledItemDelegate


class MiddleElideDelegate(QStyledItemDelegate):
    """A column of paths: "Nina Simone/…/03 - My Baby.mp3", not "Nina Simone/Little Gi…" (the
    view's own elide mode stays for the other columns)."""

    def initStyleOption(self, option, index) -> None:  # noqa: N802
        super().initStyleOption(option, index)
        option.textElideMode = Qt.TextElideMode.ElideMiddle


def relative_path(path: str, root: str | None) -> str:
    """``path`` relative to the library folder ``root`` when it lies inside, else as it is."""
    if root:
        try:
            rel = os.path.relpath(path, root)
        except ValueError:  # another drive (Windows)
            return path
        if not rel.startswith(os.pardir + os.sep) and rel != os.pardir:
            return rel
    return path
