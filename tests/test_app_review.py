"""The review queue's rules and the write plan, without widgets (app/review.py, app/plan.py)."""

from __future__ import annotations

from genre_desktop.app.plan import plan_changes
from genre_desktop.app.review import ReviewRules, decision, in_queue
from genre_desktop.app.workflow import ANALYSED_KEY, merge_scanned, prediction_fields, should_resume, to_analyze
from genre_desktop.core import ACCEPTED, CORRECTED, ERROR, PREDICTED, UNANALYSED, WRITTEN, Prediction, Track
from genre_desktop.settings import DEFAULT_ALIASES, Settings


def predicted(path: str, genre: str, p: float, genres=(), **kw) -> Track:
    return Track(path, genres=list(genres), status=PREDICTED,
                 prediction=Prediction(path, genres=[(genre, p), ("pop", round(1 - p, 2))]), **kw)


def test_queue_membership_order_filter_and_bulk_accept():
    settings = Settings()
    rules = ReviewRules(settings.spell, settings.aliases)
    tracks = [predicted("/a", "rock", 0.9, ["Rock"]), predicted("/b", "hiphop", 0.6, ["Hip Hop"]),
              predicted("/c", "jazz", 0.8, ["Blues"]), predicted("/d", "rock", 0.95, missing=True),
              Track("/e", status=UNANALYSED), Track("/f", status=ACCEPTED, chosen=["x"])]
    assert [t.path for t in rules.queue(tracks)] == ["/a", "/c", "/b"]
    assert [t.path for t in rules.queue(tracks, most_confident_first=False)] == ["/b", "/c", "/a"]
    # "hiphop" (spelled Hip-Hop) is the file's "Hip Hop": only /c disagrees.
    assert [t.path for t in rules.queue(tracks, only_disagreeing=True)] == ["/c"]
    assert [d.path for d in rules.bulk_accept(rules.queue(tracks), 0.8)] == ["/a", "/c"]
    assert not in_queue(Track("/g", status=PREDICTED, prediction=Prediction.failed("/g", "bad")))


def test_a_typed_genre_accepts_when_it_is_the_prediction_however_spelled():
    rules = ReviewRules(Settings().spell, DEFAULT_ALIASES)
    track = predicted("/a", "hiphop", 0.7)
    assert rules.status_for(track, "Hip-Hop") == ACCEPTED == rules.status_for(track, "hip hop")
    assert rules.status_for(track, "Jazz") == CORRECTED
    assert decision(["Jazz"], CORRECTED) == {"chosen": ["Jazz"], "status": CORRECTED}
    names = ReviewRules().known_genres([Track("/x", chosen=["World"]), Track("/y", genres=["Hip Hop", "world "])], ["rock"])
    assert {"World", "Rock", "Hip-Hop", "Drum and Bass"} <= set(names)  # one spelling per genre, the tree's
    assert not {"rock", "Hip Hop", "world"} & set(names)


def test_write_plan_spells_dedupes_and_counts_unchanged():
    settings = Settings(max_genres=2, write_mode="replace")
    tracks = [Track("/a", genres=["Rock"], status=ACCEPTED, chosen=["hiphop"],
                    prediction=Prediction("/a", genres=[("hiphop", 0.6), ("Hip Hop", 0.3), ("jazz", 0.1)])),
              Track("/b", genres=["Jazz"], status=CORRECTED, chosen=["Jazz"]),
              Track("/c", genres=[], status=PREDICTED, chosen=None)]
    changes, unchanged = plan_changes(tracks, settings)
    assert [(c.path, c.old, c.new) for c in changes] == [("/a", ["Rock"], ["Hip-Hop", "Jazz"])]
    assert unchanged == 1


def test_workflow_rules_of_the_window():
    fresh, gone = Track("/a"), Track("/b", missing=True)
    done = Track("/c", status=PREDICTED, prediction=Prediction("/c", genres=[("rock", 1.0)]))
    assert to_analyze([fresh, gone, done], only_new=True) == [fresh]
    assert to_analyze([fresh, gone, done]) == [fresh, done]
    assert not should_resume(Settings(), [fresh])
    assert should_resume(Settings().with_extra(analysis_pending=True), [fresh])
    assert not should_resume(Settings().with_extra(analysis_pending=True), [done, gone])
    result = Prediction("/c", genres=[("jazz", 0.9)])
    assert prediction_fields(done, result) == {"prediction": result, "error": None, "status": PREDICTED,
                                               "extra": {ANALYSED_KEY: [done.size, done.mtime]}}
    written = Track("/w", status=WRITTEN, chosen=["Rock"])
    assert "status" not in prediction_fields(written, result)  # a decision outlives a re-analysis
    assert prediction_fields(fresh, Prediction.failed("/a", "bad"))["status"] == ERROR


def test_a_scan_batch_keeps_decisions_saved_while_it_was_read():
    scanned = Track("/a", title="New title", genres=["Rock"], size=2, status=PREDICTED,
                    prediction=Prediction("/a", genres=[("rock", 0.5)]))
    current = Track("/a", title="Old", genres=["Rock"], size=1, status=ACCEPTED, chosen=["Jazz"],
                    prediction=Prediction("/a", genres=[("jazz", 0.9)]))
    merged = merge_scanned(scanned, current)
    assert (merged.title, merged.size) == ("New title", 2)  # the file's side, from the scan
    assert (merged.status, merged.chosen, merged.predicted_genre) == (ACCEPTED, ["Jazz"], "jazz")
    unreadable = Track("/a", status=ERROR, error="truncated")
    assert merge_scanned(unreadable, current).status == ERROR
    was_bad = Track("/a", status=ERROR, error="x")
    assert merge_scanned(Track("/a", status=ERROR), was_bad).status == ERROR
    assert merge_scanned(Track("/a", status=UNANALYSED), was_bad).status == UNANALYSED
    assert merge_scanned(scanned, None) is scanned
