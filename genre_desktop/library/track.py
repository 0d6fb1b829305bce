"""The Track record: one audio file in the library, as stored.

Shared vocabulary of the store, the scanner, the CLI and the GUI. Stored as plain JSON dicts
(``to_dict``/``from_dict``); unknown keys from newer versions are kept in ``extra``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

# Status of a track in the review workflow.
UNANALYSED = "unanalysed"
PREDICTED = "predicted"
ACCEPTED = "accepted"
CORRECTED = "corrected"
WRITTEN = "written"
ERROR = "error"
STATUSES = (UNANALYSED, PREDICTED, ACCEPTED, CORRECTED, WRITTEN, ERROR)


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
    genres: list[str] = field(default_factory=list)
    status: str = UNANALYSED
    # Why the file could not be read or analysed (None when fine).
    error: str | None = None
    # The file was in the library but is gone from disk since the last scan.
    missing: bool = False
    # Latest model prediction (Prediction.to_dict() of inference/result.py), or None.
    prediction: dict[str, Any] | None = None
    # Genres chosen by the librarian (accepted or corrected), the training data for the wizard.
    chosen: list[str] | None = None
    scanned_at: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def predicted_genre(self) -> str | None:
        if not self.prediction or not self.prediction.get("genres"):
            return None
        return self.prediction["genres"][0]["genre"]

    @property
    def confidence(self) -> float | None:
        if not self.prediction or not self.prediction.get("genres"):
            return None
        return float(self.prediction["genres"][0]["probability"])

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        extra = data.pop("extra")
        data.update(extra)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Track":
        known = {f.name for f in fields(cls)} - {"extra"}
        kwargs = {k: v for k, v in data.items() if k in known}
        extra = {k: v for k, v in data.items() if k not in known}
        return cls(**kwargs, extra=extra)
