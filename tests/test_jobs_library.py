"""LibraryJobs on a real Store: analysis results arrive and are saved in batches, cancel and resume,
review decisions saved through the serial writer, the analyzer built once per configuration."""

from __future__ import annotations

import threading

import pytest

from genre_desktop.cancel import Cancelled
from genre_desktop.core.prediction import Prediction
from genre_desktop.app.workflow import prediction_fields, under_root
from genre_desktop.app.analysis import AnalyzerProvider, RunSummary
from genre_desktop.app.review import Decision
from genre_desktop.jobs.library_jobs import LibraryJobs
from genre_desktop.jobs.runner import JobRunner
from genre_desktop.library.store import Store
from genre_desktop.core.status import ACCEPTED, CORRECTED, ERROR, PREDICTED, UNANALYSED
from genre_desktop.core.track import Track
from genre_desktop.app.workspace import Workspace
from genre_desktop.paths import app_dirs
from genre_desktop.settings import Settings


class StandInAnalyzer:
    """Same method as inference.Analyzer; genre from the file name, "bad" files fail."""

    def __init__(self, gate: threading.Event | None = None, stop_after: int | None = None):
        self.calls: list[str] = []
        self.gate = gate
        self.stop_after = stop_after

    def analyze(self, path, cancel):
        if self.stop_after is not None and len(self.calls) >= self.stop_after and self.gate is not None:
            self.gate.wait(5)
        cancel.raise_if_cancelled()
        self.calls.append(path)
        if "bad" in path:
            return Prediction.failed(path, "cannot decode: truncated file")
        genre = "jazz" if int(path[-7]) % 2 else "rock"  # t010.flac -> 1 -> jazz
        return Prediction(path, genres=[(genre, 0.8), ("pop", 0.2)], model_version="stand-in")


@pytest.fixture
def store(tmp_path):
    s = Store.open(tmp_path / "library.json")
    s.upsert([Track(f"/music/t{i:02d}0.flac") for i in range(6)] + [Track("/music/bad.mp3")])
    yield s
    s.close()


def workspace_on(store, settings=None) -> Workspace:
    workspace = Workspace(app_dirs(), settings or Settings(), store_path=store.path)
    workspace.store = store
    return workspace


def make_jobs(store, analyzer, synchronous=False):
    runner = JobRunner(synchronous=synchronous)
    workspace = workspace_on(store)
    provider = AnalyzerProvider(workspace, factory=lambda **kw: analyzer)
    jobs = LibraryJobs(runner, workspace, provider)
    jobs.session.set_tracks(store.all())
    return jobs, runner


def test_results_arrive_one_by_one_and_are_saved_in_the_store(qtbot, store):
    analyzer = StandInAnalyzer()
    jobs, runner = make_jobs(store, analyzer)
    items, progress = [], []
    handle = jobs.analyze(store.all(), on_item=items.append, on_progress=progress.append)
    qtbot.waitUntil(lambda: not handle.running, timeout=10000)
    runner.wait()
    qtbot.waitUntil(lambda: not runner.active(), timeout=5000)
    assert len(items) == 7
    assert handle.result.done == 7 and handle.result.errors == [("/music/bad.mp3", "cannot decode: truncated file")]
    assert isinstance(progress[-1], RunSummary) and progress[-1].done == 7 and progress[-1].eta == 0
    assert store.get("/music/t010.flac").status == PREDICTED
    assert store.get("/music/t010.flac").predicted_genre == "jazz"
    assert store.get("/music/bad.mp3").status == ERROR
    assert store.get("/music/bad.mp3").error == "cannot decode: truncated file"
    runner.shutdown()


def test_cancel_then_resume_analyses_only_what_is_left(qtbot, store):
    gate = threading.Event()
    analyzer = StandInAnalyzer(gate=gate, stop_after=3)
    jobs, runner = make_jobs(store, analyzer)
    handle = jobs.analyze(store.all())
    qtbot.waitUntil(lambda: len(analyzer.calls) == 3, timeout=5000)
    handle.cancel()
    gate.set()
    qtbot.waitUntil(lambda: not handle.running, timeout=5000)
    runner.wait()
    qtbot.waitUntil(lambda: not runner.active(), timeout=5000)
    assert handle.outcome == "cancelled"
    done = [t for t in store.all() if t.status != UNANALYSED]
    assert len(done) == 3  # what finished before the cancel is kept
    # "Resume after a restart": a new session analyses the tracks still unanalysed.
    analyzer2 = StandInAnalyzer()
    jobs2, runner2 = make_jobs(store, analyzer2)
    left = [t for t in store.all() if t.status == UNANALYSED]
    h2 = jobs2.analyze(left)
    qtbot.waitUntil(lambda: not h2.running, timeout=5000)
    runner2.wait()
    qtbot.waitUntil(lambda: not runner2.active(), timeout=5000)
    assert sorted(analyzer2.calls) == sorted(t.path for t in left) and len(analyzer2.calls) == 4
    assert not [t for t in store.all() if t.status == UNANALYSED]
    runner.shutdown()
    runner2.shutdown()


def test_review_decision_during_analysis_is_not_lost(qtbot, store):
    gate = threading.Event()
    analyzer = StandInAnalyzer(gate=gate, stop_after=2)
    jobs, runner = make_jobs(store, analyzer)
    handle = jobs.analyze(store.all())
    qtbot.waitUntil(lambda: len(analyzer.calls) == 2, timeout=5000)
    jobs.session.decide([Decision("/music/t000.flac", {"chosen": ["blues"], "status": ACCEPTED})])
    jobs.flush_pending()
    gate.set()
    qtbot.waitUntil(lambda: not handle.running, timeout=5000)
    runner.wait()
    qtbot.waitUntil(lambda: not runner.active(), timeout=5000)
    track = store.get("/music/t000.flac")
    assert track.chosen == ["blues"] and track.status == ACCEPTED  # the later analysis result kept the decision
    assert track.prediction is not None
    runner.shutdown()


def test_prediction_fields_keep_reviewed_status():
    pred = Prediction("/m/a", genres=[("rock", 0.9)])
    assert prediction_fields(Track("/m/a"), pred)["status"] == PREDICTED
    assert "status" not in prediction_fields(Track("/m/a", status=ACCEPTED), pred)
    assert prediction_fields(Track("/m/a"), Prediction.failed("/m/a", "x"))["status"] == ERROR
    assert under_root("/music/a/b.mp3", "/music/a") and not under_root("/music/ab/c.mp3", "/music/a")


def test_analyzer_is_built_once_per_configuration():
    built = []
    workspace = Workspace(app_dirs(), Settings())
    provider = AnalyzerProvider(workspace, factory=lambda **kw: built.append(kw) or object())
    first = provider.get()
    assert provider.get() is first
    workspace.update_settings(save=False, segments=3)  # settings are replaced, never changed in place
    assert provider.get() is not first
    assert built == [{"models_dir": None, "n_segments": 5, "threads": 0}, {"models_dir": None, "n_segments": 3, "threads": 0}]


def test_synchronous_mode_saves_at_once(store):
    jobs, _ = make_jobs(store, StandInAnalyzer(), synchronous=True)
    jobs.session.decide([Decision("/music/t000.flac", {"status": ACCEPTED, "chosen": ["rock"]})])
    assert store.get("/music/t000.flac").status == ACCEPTED
    with pytest.raises(Cancelled):
        raise Cancelled()


def test_scan_reports_tracks_as_it_finds_them(qtbot, tmp_path):
    from media import make_audio

    root = tmp_path / "music"
    for i in range(4):
        make_audio(root / f"a{i}.wav", seconds=0.2)
    store = Store.open(tmp_path / "lib.json")
    jobs, runner = make_jobs(store, StandInAnalyzer())
    found: list[str] = []
    handle = jobs.scan(str(root), partial_every=0.0, batch_size=1, on_item=lambda tracks: found.extend(t.path for t in tracks))
    qtbot.waitUntil(lambda: not handle.running, timeout=20000)
    runner.wait()
    qtbot.waitUntil(lambda: not runner.active(), timeout=5000)
    assert sorted(found) == sorted(str(root / f"a{i}.wav") for i in range(4))  # each reported once
    assert len(handle.result.tracks) == 4 and handle.result.summary.new == 4
    runner.shutdown()
    store.close()


def test_a_write_interrupted_by_a_crash_is_settled_before_the_next_gui_write(qtbot, tmp_path):
    """The journal holds an intent with no outcome (the app was killed after the tag save but
    before recording it): the next write from the GUI settles it from the file, so undo then
    restores the old genres instead of leaving the entry pending forever."""
    from genre_desktop.library.journal import Journal
    from genre_desktop.library.scanner import scan_paths
    from genre_desktop.tagging import WriteOptions, read_genres, write_genres
    from tests.media import make_audio

    song = make_audio(tmp_path / "song.flac", seconds=0.5, tags={"genre": ["Blues"]})
    other = make_audio(tmp_path / "other.flac", seconds=0.5)
    store = Store.open(tmp_path / "library.json")
    scan_paths([str(song), str(other)], store)
    journal_path = tmp_path / "journal.jsonl"  # the journal of library.json (one rule, paths.journal_for)
    with Journal(journal_path) as journal:
        journal.intent("crashed-batch", str(song), ["Blues"], ["Jazz"])
    write_genres(song, ["Jazz"])  # the save happened; the process died before "done"
    workspace = workspace_on(store)
    assert workspace.journal_path == journal_path
    jobs = LibraryJobs(JobRunner(synchronous=True), workspace, AnalyzerProvider(workspace, factory=lambda **kw: None))
    jobs.session.set_tracks(store.all())
    jobs.session.decide([Decision(str(other), {"chosen": ["Rock"], "status": CORRECTED})])
    handle = jobs.session.write(jobs.session.plan(), options=WriteOptions())
    qtbot.waitUntil(lambda: not handle.running, timeout=10000)
    with Journal(journal_path) as journal:
        assert journal.pending() == []
    assert read_genres(other) == ["Rock"]
    store.close()
