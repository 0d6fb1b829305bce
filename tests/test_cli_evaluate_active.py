"""``evaluate --audio`` evaluates what ``classify`` runs: the active trained model with its own
genres (a ``Lo-fi/`` folder is its genre "lo-fi"), or with ``--bundled`` the bundled models alone."""

from __future__ import annotations

import json

from media import make_audio

from genre_desktop.cli import main
from genre_desktop.settings import Settings

SPECS = {"Lo-fi": ("noise", 440.0), "classical": ("tone", 180.0)}


def _library(root):
    for genre, (signal, base) in SPECS.items():
        for a in range(3):
            for t in range(2):
                make_audio(root / genre / f"{a}-{t}.wav", seconds=5.5 + 0.25 * (2 * a + t),
                           freq=base * (1 + 0.12 * a + 0.05 * t), signal=signal,
                           tags={"artist": f"{genre} artist {a}", "genre": genre})


def test_evaluate_audio_runs_the_active_model_and_knows_its_genres(tmp_path, capsys):
    from genre_desktop.paths import app_dirs

    Settings(cpu_threads=1, segments=1).save(app_dirs().settings_path)
    music, held = tmp_path / "music", tmp_path / "held-out"
    _library(music)
    make_audio(held / "Lo-fi" / "new.wav", seconds=6.0, freq=700.0, signal="noise")  # an artist never heard
    make_audio(held / "Classical" / "new.wav", seconds=6.0, freq=260.0, signal="tone")
    store = str(tmp_path / "lib.json")
    assert main(["scan", str(music), "--store", store]) == 0
    assert main(["train", "--store", store, "--trust-existing", "Lo-fi", "Classical", "--activate"]) == 0
    out = capsys.readouterr().out
    version = next(line.split()[1] for line in out.splitlines() if line.startswith("saved "))
    assert "\nactivated" in out, out

    assert main(["evaluate", "--audio", str(held), "--json"]) == 0
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert report["model_version"].endswith(version) and "lo-fi" in report["labels"]
    assert report["n"] == 2 and "skipped" not in captured.err  # Lo-fi/ is the trained genre, not skipped
    assert set(report["models"]["ensemble"]["recall"]) == {"lo-fi", "classical"}
    assert f"user:{version}" in report["models"]
    assert report["models_used"].startswith(f"your trained model {version}")

    assert main(["evaluate", "--audio", str(held), "--bundled"]) == 0
    captured = capsys.readouterr()
    assert "models gtzan-" in captured.out and "(the bundled models alone)" in captured.out
    assert "note: 1 file skipped: Lo-fi/ names no genre these models know (the bundled models alone)" in captured.err
