"""The Track record: one audio file in the library, as stored.

Shared vocabulary of the store, the scanner, the CLI and the GUI. Stored as plain JSON dicts
(``to_dict``/``from_dict``; the prediction as ``Prediction.to_dict()``); unknown keys from newer
versions are kept in ``extra``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from genre_desktop.core.prediction import NO_AUDIO, SPOKEN_WORD, Prediction
from genre_desktop.core.status import UNANALYSED, Status


class _StoredPrediction:
    """The ``Track.prediction`` field: a Prediction, read from the stored dict on first use.

    Opening a library makes a Track per file; making a Prediction object for each (100,000 of
    them) before anyone looks costs seconds of allocation and garbage collection. The table only
    needs the top genre, which :attr:`Track.predicted_genre` reads from the dict directly.
    """

    def __get__(self, track: "Track | None", owner: type | None = None) -> Prediction | None:
        if track is None:
            return None  # the field's default
        value = track.__dict__.get("_prediction")
        if value is not None and not isinstance(value, Prediction):
            value = track.__dict__["_prediction"] = Prediction.from_dict(value)  # a stored dict, any schema
        return value

    def __set__(self, track: "Track", value: Prediction | dict[str, Any] | None) -> None:
        track.__dict__["_prediction"] = value


def _raw_top(raw: dict[str, Any]) -> tuple[str, float] | None:
    genres = raw.get("genres")
    if isinstance(genres, list) and genres and isinstance(genres[0], dict):
        return genres[0]["genre"], float(genres[0]["probability"])
    return Prediction.from_dict(raw).top if genres else None


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
    styles: list[str] = field(default_factory=list)  # what the file's style tag holds (tagging.fields)
    status: Status | str = UNANALYSED  # a Status; a plain string when read back (they compare equal)
    # Why the file could not be read or analysed (None when fine).
    error: str | None = None
    # The file was in the library but is gone from disk since the last scan.
    missing: bool = False
    # Latest model prediction, or None (a stored dict given here is read as a Prediction).
    prediction: Prediction | None = _StoredPrediction()  # type: ignore[assignment]
    # Genres chosen by the librarian (accepted or corrected), the training data for the wizard.
    chosen: list[str] | None = None
    # The style (sub-genre) the librarian chose for the file's style field, or None (none chosen).
    chosen_style: list[str] | None = None
    scanned_at: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def _top(self) -> tuple[str, float] | None:
        value = self.__dict__.get("_prediction")
        if value is None:
            return None
        return value.top if isinstance(value, Prediction) else _raw_top(value)

    @property
    def predicted_genre(self) -> str | None:
        top = self._top()
        return top[0] if top else None

    @property
    def confidence(self) -> float | None:
        top = self._top()
        return top[1] if top else None

    @property
    def is_music(self) -> bool:
        """Whether a music genre may be taken for this track without a person looking (the review
        queue's bulk accept asks): False when its analysis heard spoken word or no audible audio
        (``Prediction.is_music``); True when it heard music, or was not analysed so."""
        value = self.__dict__.get("_prediction")
        if value is None:
            return True
        if isinstance(value, Prediction):
            return value.is_music
        return value.get("content") not in (SPOKEN_WORD, NO_AUDIO)  # a stored dict: no parsing

    @property
    def content(self) -> str | None:
        """What its analysis heard (``Prediction.content``: "music", "spoken word", "no audible
        audio"), None when not analysed so; read from the stored dict without parsing it."""
        value = self.__dict__.get("_prediction")
        if value is None:
            return None
        return value.content if isinstance(value, Prediction) else value.get("content")

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "extra"}
        data["genres"] = list(self.genres)
        data["styles"] = list(self.styles)
        data["chosen"] = list(self.chosen) if self.chosen is not None else None
        data["chosen_style"] = list(self.chosen_style) if self.chosen_style is not None else None
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
