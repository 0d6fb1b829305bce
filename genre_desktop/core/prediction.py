"""The result of analysing one audio file: what the CLI prints, the GUI shows and the store keeps.

Stored shape (``to_dict``), shared with ``classify --json`` and the store's track documents::

    {"schema": 3,
     "path": str, "genres": [{"genre": str, "probability": float}, ...],   # highest first
     "models": {member_name: {genre: probability, ...}, ...},
     "segments": [{"start": s, "end": s, "genres": {genre: probability, ...}}, ...],
     "tags": {music_tag: score, ...},
     "broad": [{"genre": str, "path": [str, ...], "probability": float}, ...],   # highest first
     "content": "music" | "spoken word" | "no audible audio" | null,
     "model_version": str, "error": None | str}

``broad`` and ``content`` are absent when the analysis did not tell them (no network heard the
file; every record before schema 3). ``genres`` is the ten-genre vote (plus a user model's genres). ``broad`` are the genre tree's genres
the AudioSet network hears (``inference/broad.py``): each with ``path``, its ancestors from the
root, highest first, and a calibrated probability (a parent scores at least its best child); only
the best few are kept (a 100,000-track store holds every prediction). ``content`` says what the
audio is (``inference/content.py``): music genres apply only to ``"music"``; null when the models
that tell it did not run. :attr:`Prediction.is_music` is the predicate a bulk accept asks.

Schema history: 1 is the shape of 2 without the ``schema`` key (every store written before the
key existed); 2 adds the key; 3 adds ``broad`` and ``content``. ``from_dict`` reads all three (an
older one has no broad genres and unknown content), and keeps the keys of a newer schema it does
not know in ``extra`` so that re-saving a track does not drop them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from functools import cached_property
from typing import Any

SCHEMA = 3

MUSIC = "music"
SPOKEN_WORD = "spoken word"
NO_AUDIO = "no audible audio"
CONTENTS = (MUSIC, SPOKEN_WORD, NO_AUDIO)

# Probabilities are stored and printed with this many decimals: more is noise, and a full
# prediction (members x segments x labels, plus 50 tag scores) is the bulk of the store's size.
DECIMALS = 5

_KNOWN = frozenset({"schema", "path", "genres", "models", "segments", "tags", "broad", "content", "model_version",
                    "error"})


def _r(value: float) -> float:
    return round(float(value), DECIMALS)


def _rd(dist: dict[str, float]) -> dict[str, float]:
    return {k: _r(v) for k, v in dist.items()}


@dataclass
class SegmentScore:
    start: float
    end: float
    genres: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return {"start": round(self.start, 3), "end": round(self.end, 3), "genres": _rd(self.genres)}

    @property
    def top(self) -> tuple[str, float] | None:
        """The segment's most likely genre and its probability."""
        if not self.genres:
            return None
        genre = max(self.genres, key=self.genres.__getitem__)
        return genre, float(self.genres[genre])


def _read_genres(raw: Any) -> list[tuple[str, float]]:
    """Ranked genres from a stored value: a list of {"genre", "probability"} (schema 1 and 2), or
    leniently a list of pairs or a {genre: probability} mapping; highest first."""
    if isinstance(raw, dict):
        return sorted(((str(g), float(p)) for g, p in raw.items()), key=lambda gp: -gp[1])
    out = []
    for item in raw or ():
        if isinstance(item, dict):
            out.append((item["genre"], float(item["probability"])))
        else:
            genre, probability = item
            out.append((str(genre), float(probability)))
    return out


@dataclass(frozen=True)
class BroadGenre:
    """A genre of the tree the network hears: ``path`` its ancestors from the root, highest first."""

    genre: str
    path: tuple[str, ...]
    probability: float

    def to_dict(self) -> dict[str, Any]:
        return {"genre": self.genre, "path": list(self.path), "probability": _r(self.probability)}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> "BroadGenre":
        return cls(str(raw["genre"]), tuple(str(p) for p in raw.get("path") or ()), float(raw["probability"]))


def _read_broad(raw: Any) -> list[BroadGenre]:
    out = []
    for item in raw or ():
        try:
            out.append(BroadGenre.from_dict(item))
        except (KeyError, TypeError, ValueError):
            continue  # one damaged entry must not hide the others
    return out


@dataclass
class Prediction:
    """One file's prediction: ranked genres, per-member and per-segment scores, music tags.

    Read-only by convention once stored: a Track read from the store shares its dicts with the
    store's cache (copying every prediction of a 100,000-track library on open costs seconds).
    """

    path: str
    genres: list[tuple[str, float]] = field(default_factory=list)
    models: dict[str, dict[str, float]] = field(default_factory=dict)
    segments: list[SegmentScore] = field(default_factory=list)
    tags: dict[str, float] = field(default_factory=dict)
    model_version: str = ""
    error: str | None = None
    broad: list[BroadGenre] = field(default_factory=list)
    content: str | None = None  # one of CONTENTS; None: not told (schema < 3, or no network)
    schema: int = SCHEMA  # the schema it was read from (SCHEMA for a new one)
    extra: dict[str, Any] = field(default_factory=dict)  # keys of a newer schema, kept on save

    def __eq__(self, other: object) -> bool:
        """Equal fields, whether read from a stored dict or built by the analyzer."""
        if not isinstance(other, Prediction):
            return NotImplemented
        return all(getattr(self, f.name) == getattr(other, f.name) for f in fields(Prediction))

    __hash__ = None  # type: ignore[assignment] - mutable

    @property
    def top(self) -> tuple[str, float] | None:
        return self.genres[0] if self.genres else None

    @property
    def top_genre(self) -> str | None:
        return self.genres[0][0] if self.genres else None

    @property
    def confidence(self) -> float | None:
        return float(self.genres[0][1]) if self.genres else None

    @property
    def is_music(self) -> bool:
        """Whether a music genre may be taken for this file without a person looking: False when the
        analysis heard spoken word or no audible audio (a bulk accept skips those tracks); True
        when it heard music or could not tell (an older prediction)."""
        return self.content not in (SPOKEN_WORD, NO_AUDIO)

    def ranked(self, n: int | None = None) -> list[str]:
        """The genre names, most likely first (the first ``n``)."""
        names = [g for g, _ in self.genres]
        return names if n is None else names[:n]

    def segment_at(self, seconds: float) -> int | None:
        """The index of the segment playing at ``seconds`` (before the first: the first)."""
        for i, seg in enumerate(self.segments):
            if seg.start <= seconds < seg.end or (i == 0 and seconds < seg.start):
                return i
        return None

    def to_dict(self) -> dict[str, Any]:
        data = dict(self.extra)
        data.update({
            "schema": SCHEMA,
            "path": self.path,
            "genres": [{"genre": g, "probability": _r(p)} for g, p in self.genres],
            "models": {m: _rd(d) for m, d in self.models.items()},
            "segments": [s.to_dict() for s in self.segments],
            "tags": _rd(self.tags),
            "model_version": self.model_version,
            "error": self.error,
        })
        # absent rather than empty when not told: an older record keeps its shape and its size
        if self.broad:
            data["broad"] = [b.to_dict() for b in self.broad]
        if self.content is not None:
            data["content"] = self.content
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Prediction":
        """Read a stored prediction of any schema so far (see the module docstring).

        Fields are read from ``data`` when first used: opening a library reads every track's
        prediction, and most of them are never looked at beyond the top genre."""
        return _Stored(data)

    @classmethod
    def coerce(cls, value: "Prediction | dict[str, Any] | None") -> "Prediction | None":
        """A Prediction from a stored dict, a Prediction, or None."""
        if value is None or isinstance(value, Prediction):
            return value
        return cls.from_dict(value)

    @classmethod
    def failed(cls, path: str, reason: str, content: str | None = None) -> "Prediction":
        return cls(path=path, error=reason, content=content)



class _Stored(Prediction):
    """A Prediction read from a stored dict, each field parsed on first use (then kept; setting a
    field works as on any Prediction). The top genre is read without parsing the ranking."""

    def __init__(self, data: dict[str, Any]) -> None:  # noqa: D107 - no dataclass __init__: lazy fields
        self._data = data

    @cached_property
    def path(self) -> str:  # type: ignore[override]
        return self._data.get("path", "")

    @cached_property
    def genres(self) -> list[tuple[str, float]]:  # type: ignore[override]
        return _read_genres(self._data.get("genres"))

    @cached_property
    def models(self) -> dict[str, dict[str, float]]:  # type: ignore[override]
        return self._data.get("models") or {}

    @cached_property
    def segments(self) -> list[SegmentScore]:  # type: ignore[override]
        return [SegmentScore(s["start"], s["end"], s.get("genres") or {}) for s in self._data.get("segments") or ()]

    @cached_property
    def tags(self) -> dict[str, float]:  # type: ignore[override]
        return self._data.get("tags") or {}

    @cached_property
    def broad(self) -> list[BroadGenre]:  # type: ignore[override]
        return _read_broad(self._data.get("broad"))

    @cached_property
    def content(self) -> str | None:  # type: ignore[override]
        value = self._data.get("content")
        return value if value in CONTENTS else None

    @cached_property
    def model_version(self) -> str:  # type: ignore[override]
        return self._data.get("model_version") or ""

    @cached_property
    def error(self) -> str | None:  # type: ignore[override]
        return self._data.get("error")

    @cached_property
    def schema(self) -> int:  # type: ignore[override]
        return int(self._data.get("schema", 1))

    @cached_property
    def extra(self) -> dict[str, Any]:  # type: ignore[override]
        return {k: v for k, v in self._data.items() if k not in _KNOWN}

    def _first(self) -> tuple[str, float] | None:
        if "genres" in self.__dict__:
            return self.genres[0] if self.genres else None
        raw = self._data.get("genres")
        if isinstance(raw, list) and raw and isinstance(raw[0], dict):
            return raw[0]["genre"], float(raw[0]["probability"])
        return self.genres[0] if self.genres else None

    @property
    def top(self) -> tuple[str, float] | None:
        return self._first()

    @property
    def top_genre(self) -> str | None:
        first = self._first()
        return first[0] if first else None

    @property
    def confidence(self) -> float | None:
        first = self._first()
        return first[1] if first else None
