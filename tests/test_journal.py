"""Journal: durable intents, outcomes, torn tail, undo bookkeeping."""

from __future__ import annotations

import json

from genre_desktop.library.journal import DONE, FAILED, PENDING, UNDO, Journal


def test_state_transitions_survive_reopen(tmp_path):
    path = tmp_path / "journal.jsonl"
    journal = Journal(path)
    batch = journal.new_batch_id()
    a = journal.intent(batch, "/m/a.mp3", ["Rock"], ["Jazz"])
    b = journal.intent(batch, "/m/b.mp3", [], ["Pop"])
    c = journal.intent(batch, "/m/c.mp3", ["X"], ["Y"])
    # The intent is on disk before the caller touches the file.
    assert len(path.read_text().splitlines()) == 3
    journal.done(a.id)
    journal.failed(b.id, "read-only")
    journal.close()
    again = Journal(path)
    states = {e.path: e.state for e in again.entries()}
    assert states == {"/m/a.mp3": DONE, "/m/b.mp3": FAILED, "/m/c.mp3": PENDING}
    assert again.get(b.id).error == "read-only"
    assert [e.path for e in again.pending()] == ["/m/c.mp3"]
    assert again.batches() == [(batch, again.entries())]


def test_torn_last_line_is_ignored_and_next_append_starts_clean(tmp_path):
    path = tmp_path / "journal.jsonl"
    journal = Journal(path)
    entry = journal.intent("b1", "/m/a.mp3", ["Rock"], ["Jazz"])
    journal.close()
    with open(path, "ab") as handle:  # a crash in the middle of writing the "done" record
        handle.write(b'{"op":"done","id":"' + entry.id[:5].encode())
    again = Journal(path)
    assert again.get(entry.id).state == PENDING and again.skipped_lines == 1
    again.done(entry.id)
    again.close()
    lines = path.read_bytes().split(b"\n")
    assert json.loads(lines[-2])["op"] == "done"
    final = Journal(path)
    assert final.get(entry.id).state == DONE and final.skipped_lines == 1


def test_resolve_tells_which_side_a_file_is_on(tmp_path):
    entry = Journal(tmp_path / "j").intent("b", "/m/a.flac", ["Rock"], ["Jazz", "Blues"])
    assert entry.resolve(["Jazz", "Blues"]) == "new"
    assert entry.resolve(["Rock"]) == "old"
    assert entry.resolve(["Metal"]) == "neither"


def test_undo_entries_mark_writes_undone(tmp_path):
    journal = Journal(tmp_path / "j")
    write = journal.intent("b1", "/m/a.mp3", ["Rock"], ["Jazz"])
    journal.done(write.id)
    undo = journal.intent("b2", "/m/a.mp3", ["Jazz"], ["Rock"], kind=UNDO, undoes=write.id)
    assert journal.undone_ids() == set()
    journal.done(undo.id)
    assert journal.undone_ids() == {write.id}
    assert [b for b, _ in journal.batches(kind="write")] == ["b1"]
    assert Journal(tmp_path / "j").undone_ids() == {write.id}


def test_non_utf8_paths_round_trip(tmp_path):
    import os
    weird = os.fsdecode(b"/m/caf\xe9.mp3")
    journal = Journal(tmp_path / "j")
    journal.intent("b", weird, [], ["Jazz"])
    journal.close()
    assert Journal(tmp_path / "j").entries()[0].path == weird


def test_fields_undo_data_expiry_and_refresh(tmp_path):
    path = tmp_path / "journal.jsonl"
    mine, other = Journal(path), Journal(path)
    entry = mine.intent("b1", "/m/a.flac", ["Rock"], ["Jazz"], fields={"style": {"old": [], "new": ["Bebop"]}})
    mine.undo_data(entry.id, {"recipe": "ab" * 32, "sha256": "0" * 64, "written_sha256": "1" * 64,
                              "blobs": [["ab" * 32, 321]]})
    mine.done(entry.id)
    assert other.entries() == []
    other.refresh()  # another process's records, read again only because the file grew
    [seen] = other.entries()
    assert seen.fields == {"genre": {"old": ["Rock"], "new": ["Jazz"]}, "style": {"old": [], "new": ["Bebop"]}}
    assert seen.undo_blobs == {"ab" * 32: 321} and seen.state == DONE
    other.expire([seen.id])
    other.undo_refused(seen.id, "the file changed since the write")
    mine.refresh()
    again = mine.get(entry.id)
    assert again.expired is not None and again.undo_blobs == {} and again.undo_refused.startswith("the file")
    record = json.loads(path.read_text().splitlines()[0])
    assert "old" not in record and record["fields"]["genre"] == {"old": ["Rock"], "new": ["Jazz"]}
    mine.close()
    other.close()
