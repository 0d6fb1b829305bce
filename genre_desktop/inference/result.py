"""The result of analysing one audio file: what the CLI prints and the GUI shows.

JSON shape (``to_dict``), shared with ``classify --json`` and the store's ``Track.prediction``::

    {"path": str, "genres": [{"genre": str, "probability": float}, ...],   # highest first
     "models": {member_name: {genre: probability, ...}, ...},
     "segments": [{"start": s, "end": s, "genres": {genre: probability, ...}}, ...],
     "tags": {music_tag: score, ...},
     "model_version": str, "error": None | str}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Probabilities are stored and printed with this many decimals: more is noise, and a full
# prediction (members x segments x labels, plus 50 tag scores) is the bulk of the store's size.
DECIMALS = 5


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


@dataclass
class Prediction:
    path: str
    genres: list[tuple[str, float]] = field(default_factory=list)
    models: dict[str, dict[str, float]] = field(default_factory=dict)
    segments: list[SegmentScore] = field(default_factory=list)
    tags: dict[str, float] = field(default_factory=dict)
    model_version: str = ""
    error: str | None = None

    @property
    def top(self) -> tuple[str, float] | None:
        return self.genres[0] if self.genres else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "genres": [{"genre": g, "probability": _r(p)} for g, p in self.genres],
            "models": {m: _rd(d) for m, d in self.models.items()},
            "segments": [s.to_dict() for s in self.segments],
            "tags": _rd(self.tags),
            "model_version": self.model_version,
            "error": self.error,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Prediction":
        return cls(
            path=data.get("path", ""),
            genres=[(g["genre"], float(g["probability"])) for g in data.get("genres", [])],
            models={m: dict(d) for m, d in data.get("models", {}).items()},
            segments=[SegmentScore(s["start"], s["end"], dict(s["genres"])) for s in data.get("segments", [])],
            tags=dict(data.get("tags", {})),
            model_version=data.get("model_version", ""),
            error=data.get("error"),
        )

    @classmethod
    def failed(cls, path: str, reason: str) -> "Prediction":
        return cls(path=path, error=reason)
