"""The Track record: one audio file in the library, as stored.

Shared vocabulary of the store, the scanner, the CLI and the GUI. Stored as plain JSON dicts
(``to_dict``/``from_dict``; the prediction as ``Prediction.to_dict()``); unknown keys from newer
versions are kept in ``extra``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from genre_desktop.core.prediction import Prediction
from genre_desktop.core.status import UNANALYSED, Status


@dataclass
class Track:
    path: str
    size: int = 0
    mtime: float = 0.0
    duration: float | None = None
    format: str = ""
    samplerate: int | None = None
    channels: int | None = None
    title: str = ""
    artist: str = ""
    album: str = ""
    albumartist: str = ""
    year: str = ""
    genres: list[str] = field(default_factory=list)  # what the file's genre tag holds
    status: Status | str = UNANALYSED  # a Status; a plain string when read back (they compare equal)
    # Why the file could not be read or analysed (None when fine).
    error: str | None = None
    # The file was in the library but is gone from disk since the last scan.
    missing: bool = False
    # Latest model prediction, or None.
    prediction: Prediction | None = None
    # Genres chosen by the librarian (accepted or corrected), the training data for the wizard.
    chosen: list[str] | None = None
    scanned_at: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.prediction is not None and not isinstance(self.prediction, Prediction):
            self.prediction = Prediction.from_dict(self.prediction)  # a stored dict, any schema

    @property
    def predicted_genre(self) -> str | None:
        return self.prediction.top_genre if self.prediction is not None else None

    @property
    def confidence(self) -> float | None:
        return self.prediction.confidence if self.prediction is not None else None

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "extra"}
        data["genres"] = list(self.genres)
        data["chosen"] = list(self.chosen) if self.chosen is not None else None
        data["status"] = str(self.status)
        data["prediction"] = self.prediction.to_dict() if self.prediction is not None else None
        data.update(self.extra)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Track":
        known = {f.name for f in fields(cls)} - {"extra"}
        kwargs = {k: v for k, v in data.items() if k in known}
        extra = {k: v for k, v in data.items() if k not in known}
        return cls(**kwargs, extra=extra)
