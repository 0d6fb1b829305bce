"""Status-bar sentences for scans, analyses and writes (plain functions, easy to test)."""

from __future__ import annotations

import os
from typing import Any

from genre_desktop.app.workflow import is_truncated


def count(n: int, noun: str) -> str:
    """'1 track', '2 tracks', '1,204 tracks' (regular plurals only)."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def format_eta(seconds: float | None) -> str:
    if seconds is None:
        return "estimating time left"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s left"
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s left"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min left"


def describe_analysis(p: Any, finished: bool = False) -> str:
    """From the analysis driver's RunSummary, while it runs or when it ``finished``."""
    if finished:
        errors = len(p.errors)
        rate = p.done / p.elapsed if p.elapsed > 0 else 0.0
        tail = f"; {errors} could not be analysed (see the problems list)" if errors else ""
        failed = {path for path, _ in p.errors}
        truncated = sum(1 for path, note in getattr(p, "noted", ()) if is_truncated(note) and path not in failed)
        if truncated:
            tail += f"; {count(truncated, 'truncated file')} (only what the file holds was analysed)"
        return (f"Analysed {count(p.done, 'track')} in {p.elapsed:.0f} s ({rate:.1f}/s){tail}. "
                f"Review the predictions with Ctrl+2.")
    errors = f" · {len(p.errors):,} failed" if p.errors else ""
    return (f"Analysing {p.done:,} / {p.total:,} · {p.rate:.1f} tracks/s · {format_eta(p.eta)}{errors} · "
            f"{os.path.basename(p.path)}")


def describe_scan(p: Any, finished: bool = False) -> str:
    """From the scanner's ScanProgress (running) or ScanSummary (finished)."""
    if p is None:
        return "Library loaded."
    unreadable = p.unreadable if isinstance(p.unreadable, int) else len(p.unreadable)
    parts = [f"{p.new:,} new", f"{p.changed:,} changed", f"{p.unchanged:,} unchanged"]
    if getattr(p, "removed", 0):
        parts.append(f"{p.removed:,} missing")
    if unreadable:
        parts.append(f"{unreadable:,} unreadable")
    parts += noted_parts(p)
    if finished:
        what = "Scan cancelled" if getattr(p, "cancelled", False) else "Scan finished"
        return f"{what}: {p.found:,} audio files ({', '.join(parts)})."
    if getattr(p, "total", None) is None:
        return f"Listing the folder: {p.found:,} audio files found so far…"
    total = f" / {p.total:,}" if getattr(p, "total", None) else ""
    return f"Scanning {p.done:,}{total} files · {', '.join(parts)} · {os.path.basename(p.path)}"


def noted_parts(p: Any) -> list[str]:
    """"2 truncated", "1 with unreadable tags": the readable files a scan found something wrong with
    (a finished scan's lists; a running scan's count)."""
    damaged = getattr(p, "damaged", 0)
    if isinstance(damaged, int):
        return [f"{damaged:,} with problems"] if damaged else []
    reasons = [r for _, r in damaged] + [r for _, r in getattr(p, "unreadable", []) or []]
    truncated = sum(1 for r in reasons if is_truncated(r))
    other = sum(1 for _, r in damaged if not is_truncated(r))
    return ([f"{truncated:,} truncated"] if truncated else []) + ([f"{other:,} with unreadable tags"] if other else [])


def describe_write(verb: str, ok: int, failed: list[tuple[str, str]]) -> str:
    text = f"{verb} the genres of {ok:,} file{'s' if ok != 1 else ''}."
    if failed:
        text += f" {len(failed):,} failed (see the problems list): {os.path.basename(failed[0][0])}: {failed[0][1]}"
    elif verb == "Wrote":
        text += " Edit ▸ Undo last write (Ctrl+Shift+Z) restores the old values."
    return text
