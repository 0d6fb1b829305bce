"""The fuzz campaign's report (tools/fuzz_tags.py): what it counts must be right, since its table
is the evidence that undo gives every written file back (issue 21)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
import fuzz_tags  # noqa: E402


def record(container, written, *, sha="a", after="a", final="a", undo_ok=None, error=None, scan_error=None,
           audio="x", after_audio="x"):
    return {"container": container, "path": f"/f/{container}/{len(error or '')}{written}{after}{final}",
            "mutation": "flip", "sha": sha, "after_sha": after, "final_sha": final, "written": written,
            "error": error, "scan_error": scan_error, "undo_ok": undo_ok, "undo_error": None, "undo_exact": undo_ok,
            "audio": audio, "after_audio": after_audio}


def test_the_table_counts_undos_refusals_and_the_must_be_zero_columns(tmp_path, capsys):
    records = [
        record("mp3", True, after="b", final="a", undo_ok=True),                  # written, undone exactly
        record("mp3", True, after="b", final="b", undo_ok=False),                 # written, undo failed
        record("mp3", False, error="damaged MP3: frame 3 is cut at byte 1,024"),
        record("mp3", False, error="damaged MP3: frame 9 is cut at byte 77"),
        record("flac", False, error="not an audio file", scan_error="not an audio file"),
        record("flac", True, after="b", final="a", undo_ok=True, after_audio="y"),  # audio changed
    ]
    report = fuzz_tags.summarise(records)
    mp3, flac = report["table"]["mp3"], report["table"]["flac"]
    assert (mp3["files"], mp3["written"], mp3["undone byte for byte"], mp3["undo failed"]) == (4, 2, 1, 1)
    assert mp3["refused (clear reason)"] == 2 and flac["audio changed"] == 1 and flac["scan refused"] == 1
    by_container = fuzz_tags.reasons_by_container(records)
    assert by_container["mp3"] == {"damaged MP#: frame # is cut at byte #": 2}
    assert by_container["flac"] == {"not an audio file": 1}
    assert fuzz_tags.print_report(report) == 1  # an undo that failed is a finding
    out = capsys.readouterr().out
    assert "reasons per container" in out and "written, but undo did not give the file back" in out
    (tmp_path / "report.json").write_text(json.dumps(report))
    assert fuzz_tags.main(["--report", str(tmp_path / "report.json")]) == 1


def test_a_clean_campaign_exits_0():
    report = fuzz_tags.summarise([record("ogg", True, after="b", final="a", undo_ok=True),
                                  record("ogg", False, error="damaged Ogg: page 2 checksum")])
    assert fuzz_tags.print_report(report) == 0


def test_an_extra_folders_files_join_the_container_of_their_extension(tmp_path):
    import fuzz_corpus

    for name in ("a.mp3", "b.AIF", "c.m4b", "d.mpc", "sub/e.flac"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "empty.ogg").write_bytes(b"")  # nothing to fuzz
    found = {k: sorted(p.name for p in v) for k, v in fuzz_corpus.extra_masters(tmp_path).items()}
    assert found == {"mp3": ["a.mp3"], "aiff": ["b.AIF"], "m4a": ["c.m4b"], "untaggable": ["d.mpc"],
                     "flac": ["e.flac"]}
