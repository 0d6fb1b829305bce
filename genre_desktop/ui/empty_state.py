"""What a new user sees before any music is loaded: what to do, in one sentence, and a button."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget


class EmptyState(QWidget):
    openRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.heading = QLabel()
        font = self.heading.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        self.heading.setFont(font)
        self.heading.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.heading.setWordWrap(True)
        self.text = QLabel()
        self.text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.text.setWordWrap(True)
        self.text.setFixedWidth(520)  # a fixed width lets the wrapped text compute its height
        self.button = QPushButton("Open a music folder…")
        self.button.setDefault(True)
        self.button.clicked.connect(self.openRequested.emit)
        layout = QVBoxLayout(self)
        layout.addStretch(2)
        layout.addWidget(self.heading)
        layout.addWidget(self.text, alignment=Qt.AlignmentFlag.AlignHCenter)
        layout.addSpacing(12)
        layout.addWidget(self.button, alignment=Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(3)
        self.set_idle()

    def _say(self, heading: str, text: str) -> None:
        self.heading.setText(heading)
        self.text.setText(text)
        # A wrapped label inside an aligned layout item gets its one-line height: ask for all lines.
        self.text.setMinimumHeight(self.text.heightForWidth(self.text.width()))

    def set_idle(self) -> None:
        self._say("No music here yet", 
            "Open the folder that holds your music (Ctrl+O), or drag a folder onto this window. "
            "Genre Desktop lists every audio file, predicts its genre from the sound, and lets you "
            "review the predictions before anything is written to your files.")
        self.button.show()

    def set_opening(self) -> None:
        self._say("Opening your library…", "Reading the list of tracks from the last session.")
        self.button.hide()

    def set_scanning(self, root: str) -> None:
        self._say("Reading your music…", f"Looking for audio files in {root}. Tracks appear as soon as the scan finishes; "
                          "the progress is shown at the bottom of the window.")
        self.button.hide()

    def set_missing(self, root: str) -> None:
        self._say("The music folder is not available", f"{root} cannot be found (an unplugged drive or a renamed folder?). "
                          "Plug it in and press F5, or open another folder.")
        self.button.show()
