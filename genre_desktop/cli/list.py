"""``list [--genre G] [--search TEXT] [--status S] [--content C] [--json]``: the library's tracks
with their genres. ``--content spoken`` finds the audiobooks, podcasts and interviews the analysis
heard (``app.review.CONTENT_FILTERS``).

``--genre`` is the one genre filter (``core.genre_matcher``): "hiphop" finds "Hip-Hop", and a genre
finds the genres under it in the genre tree, the librarian's own included. Two genre columns: what
the file's tag holds now, and the librarian's pending choice (what the next write puts there), as
the window's table shows them. ``--json``: one array of track records.
"""

from __future__ import annotations

import argparse
import json
import sys

from genre_desktop.cli.common import OK, USAGE, genres_text, open_store, reporting_busy, store_options


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("list", parents=[store_options()], help="list the library's tracks with their genres")
    p.add_argument("--genre", help="only tracks whose current genres include this genre, in any spelling, or a "
                                   "genre under it in the genre tree ('electronic' finds House too)")
    p.add_argument("--search", metavar="TEXT", help="only tracks whose path, title, artist or album contain TEXT")
    p.add_argument("--status", help="only tracks with this status (unanalysed, predicted, written, error, ...)")
    p.add_argument("--content", metavar="C",
                   help="only tracks whose analysis heard this: music, spoken (spoken word), silent (no audible "
                        "audio), not-music (spoken or silent), unknown (not analysed so)")
    p.add_argument("--json", action="store_true", help="one JSON array of track records")
    p.set_defaults(func=reporting_busy(run))


def run(args: argparse.Namespace) -> int:
    from genre_desktop.core.status import STATUSES

    if args.status and args.status not in STATUSES:
        print(f"error: unknown status {args.status!r} (one of {', '.join(STATUSES)})", file=sys.stderr)
        return USAGE
    from genre_desktop.app.review import content_matcher
    from genre_desktop.core.genre import genre_matcher

    try:
        content = content_matcher(args.content) if args.content is not None else None
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return USAGE

    ws = open_store(args)
    try:
        settings = ws.settings  # the librarian's aliases and own genres take part in the match
        genre = genre_matcher(args.genre, settings.aliases, settings.genre_tree()) if args.genre else None
        tracks = sorted((t for t in ws.store.query(genre=genre, search=args.search, status=args.status)
                         if content is None or content(t)), key=lambda t: t.path)
    finally:
        ws.close()
    if args.json:
        print(json.dumps([json_record(t) for t in tracks], indent=1))
        return OK
    if tracks:
        print(f"{'STATUS':<10}  {'IN FILE':<24}  {'YOUR CHOICE':<20}  PATH")
    for t in tracks:
        flag = " (missing)" if t.missing else ""
        predicted = f"  [model: {t.predicted_genre} {t.confidence:.0%}]" if t.predicted_genre else ""
        heard = f"  [{t.content}]" if t.content not in (None, "music") else ""
        choice = genres_text(t.chosen or []) + (f" (style {genres_text(t.chosen_style)})" if t.chosen_style else "")
        print(f"{t.status:<10}  {genres_text(t.genres):<24}  {choice:<20}  "
              f"{t.path}{flag}{predicted}{heard}")
    print(f"{len(tracks)} track(s)", file=sys.stderr)
    return OK


def json_record(track) -> dict:
    """A track for ``list --json``: its fields, ``choice`` (the pending choice or null),
    ``predicted`` ([{genre, probability}] highest first, or null), ``broad`` (the genre tree's genres
    the network heard, [{genre, path, probability}] highest first; [] when not analysed so) and
    ``content`` ("music", "spoken word", "no audible audio" or null) instead of the whole
    prediction (windows, tags: kilobytes per track)."""
    record = track.to_dict()
    prediction = record.pop("prediction", None)
    record["choice"] = record.get("chosen")
    genres = (prediction or {}).get("genres") if not (prediction or {}).get("error") else None
    record["predicted"] = sorted(({"genre": g["genre"], "probability": g["probability"]} for g in genres),
                                 key=lambda g: -g["probability"]) if genres else None
    record["broad"] = list((prediction or {}).get("broad") or [])
    record["content"] = (prediction or {}).get("content")
    return record
