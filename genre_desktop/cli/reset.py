"""``reset [--above P] [--genre G ...] [--dry-run]`` (also ``unaccept``): take review decisions back.

The selectors of ``accept``: accepted or corrected tracks (not yet written), whose prediction is at
or above probability P (``--above``), whose chosen genre is one of ``--genre``; none given: every
decision not yet written. Each goes back to waiting for review (predicted), its choice
forgotten, through the library session's decision path. A written track keeps its genres in the
file: ``undo`` restores those.
"""

from __future__ import annotations

import argparse

from genre_desktop.cli.common import (OK, USAGE, genres_text, open_session, outside_probability, reporting_busy,
                                      store_options)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("reset", aliases=["unaccept"], parents=[store_options()],
                              help="take accepted or corrected choices back (before they are written)")
    p.add_argument("--above", type=float, default=None, metavar="P",
                   help="only decisions on predictions at or above this probability, 0 to 1")
    p.add_argument("--genre", action="append", default=[], metavar="G",
                   help="only decisions that chose this genre (repeat for several)")
    p.add_argument("--dry-run", action="store_true", help="only list what would be taken back")
    p.set_defaults(func=reporting_busy(run))


def run(args: argparse.Namespace) -> int:
    from genre_desktop.app.review import Decision, decided, reads_at_or_above

    if outside_probability(args.above):
        return USAGE
    session = open_session(args)
    ws = session.workspace
    try:
        rules = ws.review_rules()
        rows = rules.of_genres([t for t in session.tracks() if decided(t)], args.genre, chosen=True)
        if args.above is not None:
            rows = [t for t in rows if reads_at_or_above(t.confidence or 0.0, args.above)]  # as accept compares
        rows.sort(key=lambda t: t.path)
        shown = [(t.path, _taken_back(t), t.status) for t in rows]
        if not args.dry_run:
            session.decide([Decision.take_back(t) for t in rows])
            session.flush()
    finally:
        ws.close()
    verb = "would take back" if args.dry_run else "took back"
    for path, taken, status in shown:
        print(f"{verb} {path}: {taken} ({status})")
    print(f"{'Would take' if args.dry_run else 'Took'} back {len(shown)} decision(s); "
          f"{'they would wait' if args.dry_run else 'they wait'} for review again.")
    return OK


def _taken_back(track) -> str:
    """What a decision chose, as the line names it: ``jazz``, ``jazz; style House``, or ``style House``
    for a style chosen while the genre waits for review (a bare "-" would say nothing was taken)."""
    parts = [genres_text(track.chosen)] if track.chosen else []
    if track.chosen_style:
        parts.append(f"style {'; '.join(track.chosen_style)}")
    return "; ".join(parts) or genres_text(None)
