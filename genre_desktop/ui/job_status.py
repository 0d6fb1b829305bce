"""The status bar's job display: a sentence, a progress bar, Cancel, and the problems counter."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar, QToolButton


class JobStatus:
    """Owns the widgets it adds to ``bar``; the window tells it when work begins and ends."""

    def __init__(self, bar: QStatusBar) -> None:
        self.text = QLabel()
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(220)
        self.progress.setTextVisible(True)
        self.progress.hide()
        self.cancel_button = QToolButton()
        self.cancel_button.setText("Cancel")
        self.cancel_button.setToolTip("Cancel the running scan or analysis (Ctrl+.)")
        self.cancel_button.hide()
        self.errors_button = QToolButton()
        self.errors_button.setAutoRaise(True)
        self.errors_button.setToolTip("Files that could not be read, analysed or written, with the reason (Ctrl+Shift+E)")
        self.errors_button.hide()
        bar.addWidget(self.text, 1)
        bar.addPermanentWidget(self.errors_button)
        bar.addPermanentWidget(self.progress)
        bar.addPermanentWidget(self.cancel_button)

    def begin(self, text: str, busy: bool = False, cancellable: bool = True) -> None:
        self.text.setText(text)
        self.progress.setRange(0, 0 if busy else 1)
        self.progress.setFormat("%v / %m")
        self.progress.show()
        self.cancel_button.setVisible(cancellable)

    def step(self, done: int, total: int, text: str) -> None:
        self.progress.setRange(0, total)
        self.progress.setValue(done)
        self.progress.setFormat(f"{done:,} / {total:,}")
        self.text.setText(text)

    def end(self) -> None:
        self.progress.hide()
        self.cancel_button.hide()

    def show_problems(self, count: int) -> None:
        self.errors_button.setText(f"⚠ {count:,} problem{'s' if count != 1 else ''}")
        self.errors_button.setVisible(count > 0)
