"""Whether a trained model can predict the genres it was taught, measured, and what would help.

A new version runs as the mix ``w * p_user + (1 - w) * p_bundled`` (``inference.user_model.mix``)
with ``w`` fitted on held-out artists. That mix can be unable to answer a genre the librarian
taught: at ``w = 0`` it *is* the bundled ensemble (activating changes no prediction) and a genre
the bundled models do not know ("lo-fi") can never come first.

What "can predict" means here, per taught genre:

- **held out**: the genre comes first (the mix's top answer) for at least one of its own held-out
  tracks (recall > 0 on artists the model never saw);
- a genre with no held-out track (its few artists all stayed in training) is **untested**, then
  judged on its own training tracks with the saved model (in-sample, so only a floor): if the mix
  never answers it even there, it cannot be predicted.

Advice is in the librarian's terms: more tracks, by more artists (the counts it has now).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

HELD_OUT = "held out"
IN_TRAINING = "its training tracks"


@dataclass
class GenreCheck:
    """One taught genre under the mix."""

    genre: str
    tracks: int  # in the training set
    artists: int
    tested_on: str  # HELD_OUT or IN_TRAINING
    n: int  # tracks it was judged on
    won: int  # of them, those the mix answers with this genre

    @property
    def ok(self) -> bool:
        return self.won > 0

    def problem(self, weight: float, bundled_knows: bool) -> str:
        """"lo-fi: never the answer for its 2 held-out tracks (...)"; "" when it can be predicted."""
        if self.ok:
            return ""
        where = (f"its {self.n} held-out track{'s' if self.n != 1 else ''}" if self.tested_on == HELD_OUT
                 else f"any of its {self.n} training track{'s' if self.n != 1 else ''}")
        why = ""
        if weight == 0.0 and not bundled_knows:
            why = " (the mix gives your model weight 0.00 and the bundled models do not know it: it can never win)"
        elif weight == 0.0:
            why = " (the mix gives your model weight 0.00: the bundled models answer alone)"
        return f"{self.genre}: never the answer for {where}{why}"

    def advice(self) -> str:
        more = "more tracks of it by more artists" if self.artists < 5 else "more tracks of it"
        return (f"{self.genre}: {more} (now {self.tracks} track{'s' if self.tracks != 1 else ''} by "
                f"{self.artists} artist{'s' if self.artists != 1 else ''}), or merge it with a close genre")


@dataclass
class Verdict:
    """What activating the new version would do (see the module docstring)."""

    weight: float
    changes_nothing: bool  # w = 0: the mix is the bundled ensemble
    genres: list[GenreCheck] = field(default_factory=list)
    bundled_labels: list[str] = field(default_factory=list)

    @property
    def unpredictable(self) -> list[GenreCheck]:
        return [g for g in self.genres if not g.ok]

    @property
    def useful(self) -> bool:
        """Activating changes something and every taught genre can be predicted."""
        return not self.changes_nothing and not self.unpredictable

    def problems(self) -> list[str]:
        out = [g.problem(self.weight, g.genre in self.bundled_labels) for g in self.unpredictable]
        if self.changes_nothing:
            out.insert(0, "activating it would change no prediction: the fitted weight of your model is 0.00 "
                          "(on your held-out artists the bundled models alone did better)")
        return out

    def advice(self) -> list[str]:
        return [g.advice() for g in self.unpredictable]

    def summary(self) -> str:
        """The verdict as a predicate: "this model {summary}" ("would change nothing and cannot
        predict lo-fi")."""
        if self.useful:
            return "can predict every genre you taught"
        names = ", ".join(g.genre for g in self.unpredictable)
        if self.changes_nothing:
            return "would change nothing" + (f" and cannot predict {names}" if names else "")
        return f"cannot predict {names}"

    def to_dict(self) -> dict:
        return {"weight": self.weight, "changes_nothing": self.changes_nothing, "useful": self.useful,
                "genres": [asdict(g) | {"ok": g.ok} for g in self.genres],
                "problems": self.problems(), "advice": self.advice()}


def check(labels: list[str], heldout_true: list[str], heldout_answer: list[str], weight: float,
          counts: dict[str, int], artists: dict[str, int], bundled_labels: list[str],
          training_answers: dict[str, list[str]] | None = None) -> Verdict:
    """The verdict on a new version.

    ``heldout_true``/``heldout_answer``: each held-out track's genre and the mix's top answer;
    ``training_answers``: genre -> the saved mix's answers on that genre's own training tracks,
    for the genres with no held-out track (see the module docstring)."""
    checks = []
    for genre in labels:
        answers = [a for t, a in zip(heldout_true, heldout_answer) if t == genre]
        tested_on = HELD_OUT
        if not answers:
            answers, tested_on = list((training_answers or {}).get(genre, [])), IN_TRAINING
        checks.append(GenreCheck(genre, int(counts.get(genre, 0)), int(artists.get(genre, 0)), tested_on,
                                 len(answers), sum(a == genre for a in answers)))
    return Verdict(float(weight), float(weight) == 0.0, checks, list(bundled_labels))
