"""jobs layer (see DESIGN.md)."""

from genre_desktop.jobs import pyside_fix as _pyside_fix

_pyside_fix.apply()  # before any signal is emitted in this process (see pyside_fix.py)
