"""ui layer (see DESIGN.md)."""

import genre_desktop.jobs  # noqa: F401  (applies jobs.pyside_fix before any widget emits a signal)
