"""``accept --above P [--genre G ...]``: accept the predictions at or above probability P, as the
review queue's bulk accept (``ReviewRules.bulk_accept``)."""

from __future__ import annotations

import argparse
import sys

from genre_desktop.cli.common import OK, USAGE, genres_text, open_store, reporting_busy, store_options


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("accept", parents=[store_options()],
                              help="accept predictions at or above a probability (the review queue's bulk accept)")
    p.add_argument("--above", type=float, required=True, metavar="P", help="probability, 0 to 1 (e.g. 0.8)")
    p.add_argument("--genre", action="append", default=[], metavar="G",
                   help="only predictions of this genre (repeat for several)")
    p.set_defaults(func=reporting_busy(run))


def run(args: argparse.Namespace) -> int:
    from genre_desktop.app.review import decision

    if not 0.0 <= args.above <= 1.0:
        print("error: --above wants a probability between 0 and 1 (e.g. 0.8)", file=sys.stderr)
        return USAGE
    ws = open_store(args)
    try:
        rules = ws.review_rules()
        rows = rules.queue(ws.store.all())
        waiting = len(rows)
        if args.genre:
            rows = [t for t in rows if any(rules.same(t.predicted_genre, g) for g in args.genre)]
        decisions = rules.bulk_accept(rows, args.above)
        with ws.store.batch():
            for track, chosen, status in decisions:
                ws.store.update(track.path, **decision(chosen, status))
    finally:
        ws.close()
    for track, chosen, _ in decisions:
        print(f"accepted {track.path}: {genres_text(chosen)} ({track.confidence:.0%})")
    print(f"Accepted {len(decisions)} of {waiting} predictions waiting for review "
          f"(at or above {args.above:.0%}).")
    return OK
