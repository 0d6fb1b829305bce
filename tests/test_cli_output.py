"""What the CLI prints: both genre columns in ``list`` (as the window shows them), and progress
that a log can hold when the output is not a terminal (issue 13 items 7 and 10)."""

from __future__ import annotations

import io

from media import make_audio

from genre_desktop.cli import main
from genre_desktop.cli.common import Progress
from genre_desktop.library.store import Store
from genre_desktop.core.status import CORRECTED


def test_list_names_what_is_in_the_file_and_the_choice(tmp_path, capsys):
    root = tmp_path / "music"
    song = make_audio(root / "song.flac", seconds=0.5, tags={"genre": ["Rock"]})
    make_audio(root / "other.flac", seconds=0.5, tags={"genre": ["Pop"]})
    store_path = tmp_path / "lib.json"
    assert main(["scan", str(root), "--store", str(store_path)]) == 0
    store = Store.open(store_path)
    store.update(str(song), chosen=["Jazz"], status=CORRECTED)  # chosen in the window, not written yet
    store.close()
    capsys.readouterr()
    assert main(["list", "--store", str(store_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    header = lines[0].split()
    assert header[:5] == ["STATUS", "IN", "FILE", "YOUR", "CHOICE"]
    row = next(line for line in lines if line.endswith("song.flac"))
    assert row.split()[:3] == ["corrected", "Rock", "Jazz"]
    other = next(line for line in lines if line.endswith("other.flac"))
    assert other.split()[1:3] == ["Pop", "-"]


def test_scan_prints_one_line_per_stage_when_not_on_a_terminal(tmp_path, capsys):
    root = tmp_path / "music"
    for i in range(3):
        make_audio(root / f"{i}.flac", seconds=0.3)
    assert main(["scan", str(root), "--store", str(tmp_path / "lib.json")]) == 0
    captured = capsys.readouterr()
    assert "\r" not in captured.err
    assert captured.err.splitlines() == [f"listing the files of {root}…", "reading the tags of 3 files…"]
    assert "files found: 3" in captured.out  # the final summary


def test_progress_redraws_a_terminal_line_and_logs_stages_elsewhere():
    log = io.StringIO()
    progress = Progress(log, interactive=False)
    for i in range(1, 51):
        progress(0.4 * i / 50, f"reading track vectors ({i}/50)")
    for i in range(1, 4):
        progress(0.5, f"cross-validating logreg ({i}/3 fits)")
    progress(0.9, "exporting to ONNX")
    progress.close()
    assert log.getvalue().splitlines() == ["reading track vectors…", "cross-validating logreg…", "exporting to ONNX…"]
    tty = io.StringIO()
    live = Progress(tty, interactive=True)
    live(0.5, "reading track vectors (25/50)")
    live.close()
    assert tty.getvalue().startswith("\r 50% reading track vectors (25/50)") and tty.getvalue().endswith("\r\033[K")
