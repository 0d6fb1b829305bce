"""Workflow rules of the window and the CLI that are not widgets: which tracks an analysis takes,
what a prediction changes in a track, when an interrupted analysis resumes. Qt-free.

A track counts as changed since its analysis when the file's size or modification time differs
from what it was when it was analysed (``ANALYSED_KEY``, kept in the track's extra fields). A
verified tag write (audio region proven identical) carries the mark over to the written file.
"""

from __future__ import annotations

import os
from typing import Any, Iterable

from genre_desktop.core.prediction import Prediction
from genre_desktop.core.status import ERROR, PREDICTED, REVIEWED, UNANALYSED
from genre_desktop.core.track import Track
from genre_desktop.settings import Settings

RESUME_KEY = "analysis_pending"  # in Settings.extra: an analysis was running when the app closed
ANALYSED_KEY = "analysed_file"  # in Track.extra: [size, mtime] of the file as analysed


def under_root(path: str, root: str | None) -> bool:
    """``path`` is inside the folder ``root`` (None: everywhere)."""
    if not root:
        return True
    root = root.rstrip(os.sep) + os.sep
    return path.startswith(root)


def can_analyze(track: Track) -> bool:
    """A file that is still there can be analysed (again)."""
    return not track.missing


def to_analyze(tracks: Iterable[Track], only_new: bool = False) -> list[Track]:
    """The tracks an analysis takes: the present ones (``only_new``: those never analysed)."""
    return [t for t in tracks if can_analyze(t) and (not only_new or t.status == UNANALYSED)]


def file_signature(track: Track) -> list:
    """The file as the store knows it: [size, mtime]."""
    return [track.size, track.mtime]


def analysed_current(track: Track) -> bool:
    """The track's analysis was made from the file as the store knows it now."""
    seen = track.extra.get(ANALYSED_KEY)
    return seen is not None and list(seen) == file_signature(track)


def needs_analysis(track: Track, reanalyse: bool = False) -> bool:
    """The file is there and was never analysed, or changed since it was (``reanalyse``: every one)."""
    if not can_analyze(track):
        return False
    if reanalyse or track.status == UNANALYSED:
        return True
    seen = track.extra.get(ANALYSED_KEY)
    return track.prediction is not None and seen is not None and list(seen) != file_signature(track)


def prediction_fields(track: Track, prediction: Prediction) -> dict[str, Any]:
    """The Track fields one analysis result changes.

    A reviewed track (accepted, corrected, written) keeps its status: re-analysing must not throw
    away the librarian's decision; only the prediction shown next to it is refreshed. A note the
    scan left beside a usable status ("truncated MP3: ...", "tags unreadable ...") outlives a
    successful analysis (the file is still like that); a failed analysis' reason replaces it.
    ``extra`` holds extra fields to merge (not replace): the analysed-file mark.
    """
    fields: dict[str, Any] = {"prediction": prediction, "error": noted_error(scan_note(track), prediction.error),
                              "extra": {ANALYSED_KEY: file_signature(track)}}
    if track.status not in REVIEWED:
        fields["status"] = ERROR if prediction.error else PREDICTED
    return fields


# Joins a scan's note and an analysis' failure in one reason ("truncated MP3: ...; analysis: no
# audible audio"): the failure is usually the note's consequence, and the note must stay in view.
NOTE_JOIN = "; analysis: "


def scan_note(track: Track) -> str | None:
    """The note the scan left on a readable file ("truncated MP3: ...", "tags unreadable ..."), also
    when a later analysis failed (then it leads the error, before :data:`NOTE_JOIN`)."""
    if not track.error:
        return None
    if track.status != ERROR:
        return track.error
    return track.error.split(NOTE_JOIN, 1)[0] if NOTE_JOIN in track.error else None


def noted_error(note: str | None, error: str | None) -> str | None:
    """The reason a track shows: the analysis' ``error`` after the scan's ``note`` (either may be None)."""
    if note and error:
        return f"{note}{NOTE_JOIN}{error}"
    return error or note


def is_truncated(reason: str | None) -> bool:
    """The file was cut short (the scan's note or an analysis reason says so)."""
    return bool(reason) and ("truncated " in reason or reason.startswith("truncated"))


def apply_fields(track: Track, fields: dict[str, Any]) -> Track:
    """Set ``fields`` on ``track`` (in place); ``extra`` is merged into the extra fields, as a new
    dict (the store shares extra values with the Tracks it returns: never change them in place)."""
    for name, value in fields.items():
        if name == "extra":
            track.extra = {**track.extra, **value}
        else:
            setattr(track, name, value)
    return track


def should_resume(settings: Settings, tracks: Iterable[Track]) -> bool:
    """An analysis was cut short last time (the app closed) and tracks still wait for one."""
    return bool(settings.extra.get(RESUME_KEY)) and any(t.status == UNANALYSED and can_analyze(t) for t in tracks)


def analysis_pending(settings: Settings, pending: bool) -> Settings:
    """``settings`` recording whether an analysis is running (resumed at the next start if so)."""
    return settings.with_extra(**{RESUME_KEY: bool(pending)})


def merge_scanned(scanned: Track, current: Track | None) -> Track:
    """A track a scan read, made ready to store over ``current`` (the record as stored now).

    A scan reads the store, then reads the file, then stores the result a while later; decisions
    saved meanwhile (the review, an analysis) live in ``current`` and must survive. The scan owns
    what the file says (tags, stream, size, presence, unreadable); the review owns the rest.
    """
    if current is None or current is scanned:
        return scanned
    scanned.prediction, scanned.chosen = current.prediction, current.chosen
    scanned.chosen_style = current.chosen_style
    if scanned.status != ERROR:  # readable: the stored status, an error mark lifted (as the scanner does)
        scanned.status = current.status
        if current.status == ERROR:
            scanned.status = PREDICTED if current.prediction is not None else UNANALYSED
    return scanned
