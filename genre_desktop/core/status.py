"""Where a track is in the review workflow. Stored as its plain string value."""

from __future__ import annotations

from enum import Enum


class Status(str, Enum):
    """A track's status. A ``str`` subclass: stored values stay the plain strings they always were,
    and a status read back from the store as a plain string compares equal to its member."""

    UNANALYSED = "unanalysed"  # no prediction yet
    PREDICTED = "predicted"  # a model's prediction waits for review
    ACCEPTED = "accepted"  # the librarian took the prediction
    CORRECTED = "corrected"  # the librarian chose another genre
    WRITTEN = "written"  # the chosen genres are in the file
    ERROR = "error"  # the file could not be read or analysed

    # Print as the stored value (the CLI prints statuses), not "Status.PREDICTED".
    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)


UNANALYSED = Status.UNANALYSED
PREDICTED = Status.PREDICTED
ACCEPTED = Status.ACCEPTED
CORRECTED = Status.CORRECTED
WRITTEN = Status.WRITTEN
ERROR = Status.ERROR
STATUSES = tuple(Status)
REVIEWED = (ACCEPTED, CORRECTED, WRITTEN)  # the librarian decided: re-analysing keeps the decision
