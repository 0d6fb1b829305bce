"""``accept --above P [--genre G ...] [--dry-run] [--strict]``: accept the predictions at or above
probability P, as the review queue's bulk accept.

The review queue's rules (``ReviewRules.bulk_accept``) and its decision path: the decisions go
through the library session (``LibrarySession.decide``), as the queue's do. ``--dry-run`` lists
what would be accepted and changes nothing. Predictions whose file is missing are skipped with
the reason: exit 0 (3 with ``--strict``). ``reset`` takes decisions back.

A music genre is never accepted in bulk for a track whose analysis heard spoken word or no
audible audio (``ReviewRules.above``): those are counted and named, for the review queue. Where
an accepted genre goes in the file (its parent too, a style field) is the write's layout
(``Settings.genre_layout``, ``write --layout``).
"""

from __future__ import annotations

import argparse

from genre_desktop.cli.common import (OK, USAGE, finished, genres_text, open_session, outside_probability, reporting_busy,
                                      store_options, strict_options)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("accept", parents=[store_options(), strict_options()],
                              help="accept predictions at or above a probability (the review queue's bulk accept)")
    p.add_argument("--above", type=float, required=True, metavar="P", help="probability, 0 to 1 (e.g. 0.8)")
    p.add_argument("--genre", action="append", default=[], metavar="G",
                   help="only predictions of this genre (repeat for several)")
    p.add_argument("--dry-run", action="store_true", help="only list what would be accepted")
    p.set_defaults(func=reporting_busy(run))


def run(args: argparse.Namespace) -> int:
    from genre_desktop.core.status import PREDICTED

    if outside_probability(args.above):
        return USAGE
    session = open_session(args)
    ws = session.workspace
    try:
        rules = ws.review_rules()
        rows = rules.queue(session.tracks())
        waiting = len(rows)
        wanted = rules.of_genres(rows, args.genre)
        decisions = rules.bulk_accept(wanted, args.above)
        not_music = rules.not_music_above(wanted, args.above)
        gone = [t for t in session.tracks() if t.missing and t.status == PREDICTED and t.predicted_genre]
        gone = rules.above(rules.of_genres(gone, args.genre), args.above)
        if not args.dry_run:
            session.decide(decisions)
            session.flush()
    finally:
        ws.close()
    verb = "would accept" if args.dry_run else "accepted"
    for d in decisions:
        track = session.track(d.path)
        print(f"{verb} {d.path}: {genres_text(d.fields['chosen'])} ({track.confidence:.0%})")
    for t in gone:
        print(f"skipped {t.path}: the file is missing (rescan the folder, or `scan --remove-missing`)")
    for t in not_music:
        print(f"left for review {t.path}: the analysis heard {t.content}, not music")
    what = "Would accept" if args.dry_run else "Accepted"
    left = (f"; {len(not_music)} left for review: the analysis heard spoken word or no audible audio, "
            f"so a music genre is not taken without a look" if not_music else "")
    print(f"{what} {len(decisions)} of {waiting} predictions waiting for review (at or above {args.above:.0%})"
          + left + (f"; {len(gone)} skipped: file missing." if gone else "."))
    return finished(args, len(gone)) if not args.dry_run else OK
