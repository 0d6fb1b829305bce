"""The review queue's rules, without widgets: which tracks wait for review, in which order, which
a bulk accept takes, which disagree with the file, and what a decision records. Qt-free.

A :class:`Decision` is a path and the Track fields it sets: the review queue, the CLI's ``accept``
and ``reset`` all make Decisions and hand them to the library session (one decision path, one undo).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping

from genre_desktop.core.genre import canonical_genre
from genre_desktop.core.genre_spelling import GenreSpelling, user_tree
from genre_desktop.core.prediction import CONTENTS, MUSIC, NO_AUDIO, SPOKEN_WORD
from genre_desktop.core.status import ACCEPTED, CORRECTED, PREDICTED, UNANALYSED, WRITTEN, Status
from genre_desktop.core.track import Track


# What the library's content filter offers (the window and ``list --content``): name -> the
# ``Prediction.content`` values it keeps (None: the analysis did not tell, or none yet).
CONTENT_FILTERS: dict[str, tuple[str | None, ...]] = {
    "music": (MUSIC,),
    "spoken": (SPOKEN_WORD,),
    "silent": (NO_AUDIO,),
    "not-music": (SPOKEN_WORD, NO_AUDIO),
    "unknown": (None,),
}


def content_matcher(name: str) -> Callable[[Track], bool]:
    """A predicate keeping the tracks whose content is the filter ``name`` (a key of
    :data:`CONTENT_FILTERS`, or a content as ``Prediction`` says it: "spoken word"); ValueError
    naming the choices for anything else."""
    key = name.strip().casefold()
    wanted = CONTENT_FILTERS.get(key) or next(((c,) for c in CONTENTS if c == key), None)
    if wanted is None:
        raise ValueError(f"unknown content {name!r} (one of {', '.join(CONTENT_FILTERS)})")
    return lambda track: track.content in wanted


def in_queue(track: Track) -> bool:
    """A track waits for review: predicted, with genres, not reviewed yet, and its file is there."""
    return track.status == PREDICTED and track.predicted_genre is not None and not track.missing


def decision(chosen: list[str] | None, status: Status | str) -> dict[str, Any]:
    """The Track fields a review decision (or its undo) sets."""
    return {"chosen": list(chosen) if chosen is not None else None, "status": status}


def shown_percent(probability: float) -> int:
    """The whole percent ``probability`` is shown as everywhere ("{:.0%}": 0.695 -> 70): a bulk accept
    compares this, so the rows it takes are the rows that read at or above the threshold."""
    return int(format(float(probability), ".0%").rstrip("%"))


def reads_at_or_above(probability: float, threshold: float) -> bool:
    """Whether ``probability`` reads at or above ``threshold`` as both are shown (whole percents)."""
    return shown_percent(probability) >= shown_percent(threshold)


@dataclass(frozen=True)
class Decision:
    """A review decision: the Track ``fields`` it sets on the track at ``path`` (today the chosen
    genres and the status; any other field, such as a style, the same way)."""

    path: str
    fields: Mapping[str, Any]

    @classmethod
    def choose(cls, track: Track | str, chosen: list[str] | None, status: Status | str) -> "Decision":
        return cls(track if isinstance(track, str) else track.path, decision(chosen, status))

    @classmethod
    def take_back(cls, track: Track) -> "Decision":
        """Back to waiting for review (predicted) or for analysis, the choice (and style) forgotten."""
        fields = decision(None, PREDICTED if track.prediction is not None else UNANALYSED)
        if track.chosen_style is not None:
            fields["chosen_style"] = None
        return cls(track.path, fields)


def decided(track: Track) -> bool:
    """The track carries a decision not yet written (what ``reset`` can take back): a genre, or
    a style chosen while its genre waits for review."""
    return track.status in (ACCEPTED, CORRECTED) or (track.status == PREDICTED and track.chosen_style is not None)


class ReviewRules:
    """The queue's rules under the librarian's spelling (``spell``), aliases (label -> spelling) and
    own genres (``Settings.user_genres``); each may be a function returning the current ones:
    settings change while the window is open."""

    def __init__(self, spell: Callable[[str], str] | None = None,
                 aliases: Mapping[str, str] | Callable[[], Mapping[str, str]] | None = None,
                 user_genres: Iterable | Callable[[], Iterable] | None = None) -> None:
        self.spell = spell or (lambda g: g)
        self._aliases = aliases
        self._user_genres = user_genres

    @property
    def aliases(self) -> Mapping[str, str]:
        return (self._aliases() if callable(self._aliases) else self._aliases) or {}

    @property
    def user_genres(self) -> Iterable:
        return (self._user_genres() if callable(self._user_genres) else self._user_genres) or ()

    def identity(self, genre: str) -> str:
        """The one genre identity (``core.canonical_genre``) under the current aliases."""
        return canonical_genre(genre, self.aliases)

    def same(self, a: str, b: str) -> bool:
        return self.identity(a) == self.identity(b)

    def disagrees(self, track: Track) -> bool:
        """The file has a genre tag and the predicted genre is not among it."""
        predicted = track.predicted_genre
        if not track.genres or not predicted:
            return False
        existing = {canonical_genre(g, self.aliases) for g in track.genres}
        return (canonical_genre(predicted, self.aliases) not in existing
                and canonical_genre(self.spell(predicted), self.aliases) not in existing)

    def queue(self, tracks: Iterable[Track], only_disagreeing: bool = False,
              most_confident_first: bool = True) -> list[Track]:
        """The tracks waiting for review, filtered and ordered as the queue shows them."""
        rows = [t for t in tracks if in_queue(t)]
        if only_disagreeing:
            rows = [t for t in rows if self.disagrees(t)]
        rows.sort(key=lambda t: t.confidence or 0.0, reverse=most_confident_first)
        return rows

    @staticmethod
    def split_above(rows: Iterable[Track], threshold: float) -> tuple[list[Track], list[Track]]:
        """The rows that read at or above ``threshold`` (0-1; as shown, in whole percents):
        (those a bulk accept takes, those it leaves
        because their analysis heard spoken word or no audible audio). One pass: the queue
        counts both after every decision, over up to 100,000 rows."""
        least = shown_percent(threshold)  # compared as shown: 0.695 reads "70%", so it is at or above 70 %
        edge = (least - 0.5) / 100.0  # only values this close to the edge need the exact (formatting) test
        take, leave = [], []
        for t in rows:
            confidence = t.confidence
            if confidence is None or not t.predicted_genre or confidence < edge - 1e-9:
                continue
            if confidence < edge + 1e-9 and shown_percent(confidence) < least:
                continue
            (take if t.is_music else leave).append(t)
        return take, leave

    @classmethod
    def above(cls, rows: Iterable[Track], threshold: float) -> list[Track]:
        """The rows a bulk accept at ``threshold`` (0-1) takes: confident enough, and music (a
        music genre is never taken without a person looking for spoken word or silence)."""
        return cls.split_above(rows, threshold)[0]

    @classmethod
    def not_music_above(cls, rows: Iterable[Track], threshold: float) -> list[Track]:
        """The rows at or above ``threshold`` a bulk accept leaves out because their analysis heard
        spoken word or no audible audio (to say how many, and why)."""
        return cls.split_above(rows, threshold)[1]

    def status_for(self, track: Track, genre: str) -> Status:
        """Choosing ``genre`` accepts the prediction when it is the predicted genre, else corrects it."""
        predicted = track.predicted_genre
        return ACCEPTED if predicted is not None and self.same(genre, predicted) else CORRECTED

    def bulk_accept(self, rows: Iterable[Track], threshold: float) -> list[Decision]:
        """Accept every row's prediction at or above ``threshold``."""
        return [Decision.choose(t, [t.predicted_genre], ACCEPTED) for t in self.above(rows, threshold)]

    def choose(self, track: Track, genre: str) -> Decision:
        """Choosing ``genre`` for ``track`` (accepting when it is the predicted one)."""
        return Decision.choose(track, [genre], self.status_for(track, genre))

    def choose_style(self, track: Track, style: str | None) -> Decision:
        """Choosing ``style`` for the file's style field (None: no style). A track waiting for
        review keeps waiting for its genre; a decided or written one is decided again (the write
        puts the style in)."""
        fields: dict[str, Any] = {"chosen_style": [style] if style else None}
        if track.status == WRITTEN and track.chosen:
            fields["status"] = self.status_for(track, track.chosen[0])
        return Decision(track.path, fields)

    def of_genres(self, tracks: Iterable[Track], genres: Iterable[str], chosen: bool = False) -> list[Track]:
        """The tracks whose predicted genre (``chosen``: whose choice) is one of ``genres``."""
        genres = list(genres)
        if not genres:
            return list(tracks)
        def picked(t: Track) -> list[str]:
            return list(t.chosen or []) if chosen else [t.predicted_genre] if t.predicted_genre else []
        return [t for t in tracks if any(self.same(g, w) for g in picked(t) for w in genres)]

    def known_genres(self, tracks: Iterable[Track], labels: Iterable[str] = ()) -> list[str]:
        """Genre names to offer when typing one, one spelling per genre (the one a write uses): the
        genre tree with the librarian's own genres, the labels, and every genre the files hold or
        was chosen so far."""
        used = [g for t in tracks for g in (*t.genres, *(t.chosen or ()))]
        spelling = GenreSpelling(self.aliases, user_tree(self.user_genres), used)
        return spelling.names(list(labels))
