"""One genre identity (core.canonical_genre) for the review queue, the write plan, training and colours."""

from __future__ import annotations

from genre_desktop.app.review import ReviewRules
from genre_desktop.core import PREDICTED, Prediction, Track, canonical_genre, same_genre
from genre_desktop.settings import DEFAULT_ALIASES
from genre_desktop.training.dataset import build_dataset, existing_genre_counts
from genre_desktop.core.status import CORRECTED


def test_spacing_hyphens_case_and_aliases_do_not_make_another_genre():
    assert canonical_genre("Hip-Hop") == canonical_genre("hip hop") == canonical_genre("HipHop") == "hip-hop"
    assert canonical_genre("  Drum_and  Bass ") == canonical_genre("drum-and-bass")
    assert same_genre("R&B", "r & b") and not same_genre("Rock", "Pop")
    assert canonical_genre("Hip-Hop", DEFAULT_ALIASES) == canonical_genre("hiphop", DEFAULT_ALIASES)
    # An alias that is not a respelling still names its label's genre.
    assert canonical_genre("Urban", {"hiphop": "Urban"}) == canonical_genre("hiphop")


def test_names_in_other_scripts_keep_their_letters():
    """The review queue stripped everything but a-z and 0-9: every Japanese genre was one genre."""
    assert canonical_genre("演歌") != canonical_genre("ロック")
    assert canonical_genre("Música Popular") == canonical_genre("música-popular") != canonical_genre("musica popular x")
    track = Track("/m/a.mp3", genres=["ロック"], status=PREDICTED,
                  prediction=Prediction("/m/a.mp3", genres=[("演歌", 0.9)]))
    assert ReviewRules().disagrees(track)


def _labelled(genre: str, i: int) -> Track:
    return Track(f"/m/{genre}-{i}.flac", artist=f"Artist {i}", status=CORRECTED, chosen=[genre])


def test_training_makes_one_class_of_one_genre_spelled_two_ways():
    """The review queue treated "Hip Hop" and "Hip-Hop" as one genre; training made two classes."""
    tracks = ([_labelled("Hip Hop", i) for i in range(3)] + [_labelled("Hip-Hop", i + 3) for i in range(3)]
              + [_labelled("Jazz", i + 6) for i in range(3)])
    for aliases in (None, DEFAULT_ALIASES):
        dataset = build_dataset(tracks, aliases=aliases)
        assert len(dataset.labels) == 2, dataset.labels
        assert dataset.counts()[dataset.labels[0]] == 6
    assert build_dataset(tracks, aliases=DEFAULT_ALIASES).labels == ["hiphop", "jazz"]  # the bundled label
    # Without aliases a bundled genre is still its label; a genre outside the tree takes its most
    # used spelling (ties: the first in code-point order).
    more = tracks + [_labelled("hip-hop", 9)]
    assert build_dataset(more).labels == ["hiphop", "jazz"]
    lofi = [_labelled("lo-fi", i) for i in range(3)] + [_labelled(s, i + 3) for i, s in enumerate(("Lo-Fi", "Lo-fi"))]
    assert build_dataset(lofi).labels == ["lo-fi"]
    dnb = [_labelled(s, i) for i, s in enumerate(("DnB", "Drum & Bass", "drum'n'bass"))]
    assert build_dataset(dnb).labels == ["drum and bass"]  # the tree's name, lowercase


def test_trusted_tags_and_merges_follow_the_same_identity():
    tracks = [Track(f"/m/{i}.flac", artist=f"A{i}", genres=["Drum & Bass" if i % 2 else "drum&bass"])
              for i in range(4)]
    assert existing_genre_counts(tracks) == {"drum and bass": 4}
    dataset = build_dataset(tracks, trust_existing=["DRUM & BASS"], min_tracks=1)
    assert len(dataset) == 4 and len(dataset.labels) == 1
    merged = build_dataset(tracks, trust_existing=["drum & bass"], merges={"Drum&Bass": "Electronic"}, min_tracks=1)
    assert merged.labels == ["electronic"]


def test_one_genre_one_colour():
    from genre_desktop.ui.theme import genre_colour

    assert genre_colour("Hip Hop") == genre_colour("hip_hop") == genre_colour("HIPHOP")
    assert genre_colour("Drum and Bass") == genre_colour("drum-and-bass") == genre_colour("DnB")
    assert genre_colour("Hip-Hop").name() == "#e8743b" and genre_colour("Heavy Metal").name() == "#8a8f98"
