#!/usr/bin/env python
"""Measure and fit the content rule (music / spoken word) that ``inference/content.py`` applies.

Nothing here is set by hand: a logistic regression (balanced classes) on the track's mean logits of
a few of the network's classes (``CLASSES``) gives the speech evidence, and the threshold on it is
the midpoint of the gap between the music tracks and the spoken tracks when they separate, else
the lowest value that keeps every music track music. Nothing is random (lbfgs, espeak-ng and the
decoders are deterministic), so the same audio gives the same rule.

Audio, each track analysed through the app's own path (``Analyzer`` windows as the app plans them,
``EXCERPTS`` 10 s excerpts per 30 s window as the app's network runs them, each window's class
scores averaged over its excerpts):

- spoken word: speech made by ``espeak-ng`` (several languages and voices, two speeds), alone and
  over quiet music (a GTZAN train clip 12, 18 and 24 dB below the speech: a podcast's bed);
- music: every GTZAN train clip (no track of it may become spoken word), and music with a spoken
  intro (8-14 s of speech, then a train clip).

Held out: the rule is fitted on half of the voices and clips (halves by voice, and by blocks of
ten clip numbers: an artist proxy) and judged on the other half, both ways round; the two judged
halves together are the held-out confusion. Then the rule written is fitted on all of it, and
judged once more on the GTZAN valid clips (music of artists none of the fitting audio holds): they
are analysed and kept in the rows but never fitted on, and nothing is chosen by them.

Writes ``content_rule.json`` into the models folder (``--out``), and every track's evidence (the
class logits the rule reads, rounded to 1e-6, and the recipe that made its audio) to ``--rows``
(``docs/measurements/content_rule_rows.json``): the rule is fitted on those rounded rows, so
``--from-rows`` refits the shipped rule and its figures exactly without audio
(``tests/test_content_rule_fit.py`` checks both that and a few rows' evidence from the audio).
The valid split is never used.

Usage: python tools/fit_content_rule.py [--models DIR] [--out FILE] [--rows FILE] [--limit N]
       python tools/fit_content_rule.py --from-rows FILE [--out FILE]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from genre_desktop.audio import decode, probe  # noqa: E402
from genre_desktop.cancel import NEVER  # noqa: E402
from genre_desktop.inference.content import RULE_FORMAT, class_logits  # noqa: E402

AUDIO = Path(os.environ.get("GENRE_DESKTOP_GTZAN") or ROOT.parent / "shared" / "data" / "gtzan") / "audio"
ROWS = ROOT / "docs" / "measurements" / "content_rule_rows.json"
EXCERPTS = 3  # the app's network runs 3 excerpts per window (manifest: excerpts_per_window)
SR = 22050
CLASSES = ["Speech", "Male speech, man speaking", "Female speech, woman speaking", "Narration, monologue",
           "Speech synthesizer", "Music", "Singing", "Rapping", "Musical instrument"]
TEXTS = {
    "en": ("The archive holds letters, maps and recordings from three centuries. Each box is numbered, and the "
           "catalogue tells which shelf it stands on. In the winter of that year the river froze so hard that "
           "carts crossed it for six weeks, and the ferryman, who had nothing to do, began to write down what the "
           "travellers told him. His notebooks are the reason we know how the valley sounded before the railway. "
           "Chapter two. The next morning she walked to the station early, because the first train was the only "
           "one that stopped in the village, and she did not want to miss the appointment in town."),
    "de": ("Das Archiv bewahrt Briefe, Karten und Tonaufnahmen aus drei Jahrhunderten. Jede Kiste ist nummeriert, "
           "und der Katalog sagt, in welchem Regal sie steht. Im Winter jenes Jahres fror der Fluss so fest zu, dass "
           "sechs Wochen lang Wagen darueber fuhren. Der Faehrmann hatte nichts zu tun und schrieb auf, was ihm die "
           "Reisenden erzaehlten. Zweites Kapitel. Am naechsten Morgen ging sie frueh zum Bahnhof."),
    "fr": ("Les archives conservent des lettres, des cartes et des enregistrements de trois siecles. Chaque boite "
           "porte un numero, et le catalogue indique sur quelle etagere elle se trouve. Cet hiver-la, la riviere gela "
           "si fort que les charrettes la traverserent pendant six semaines. Le passeur, qui n'avait rien a faire, "
           "commenca a noter ce que lui racontaient les voyageurs. Chapitre deux."),
    "es": ("El archivo guarda cartas, mapas y grabaciones de tres siglos. Cada caja lleva un numero, y el catalogo "
           "dice en que estante se encuentra. Aquel invierno el rio se helo tanto que los carros lo cruzaron durante "
           "seis semanas. El barquero, que no tenia nada que hacer, empezo a escribir lo que le contaban los viajeros. "
           "Capitulo dos. A la manana siguiente ella camino temprano hasta la estacion."),
}
# (voice, speed in words per minute); the two halves use different voices and languages
VOICES = [("en", 150), ("de", 170), ("fr+f3", 160), ("es+m3", 180), ("en-us+f2", 140),
          ("en+m7", 175), ("de+f4", 150), ("fr", 185), ("es", 150), ("en-gb-x-rp+f5", 165)]


def speak(text: str, voice: str, wpm: int, path: Path) -> np.ndarray:
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(wpm), "-w", str(path), text], check=True,
                   capture_output=True)
    return decode(path, SR)


def voice_audio(i: int, folder: Path) -> np.ndarray:
    """The speech of ``VOICES[i]`` (its language's text)."""
    voice, wpm = VOICES[i]
    lang = voice.split("+")[0].split("-")[0]
    return speak(TEXTS.get(lang, TEXTS["en"]), voice, wpm, folder / f"v{i}.wav")


def train_clips(limit: int | None, split: str = "train") -> list[str]:
    """The GTZAN clips of ``split``, as ``genre/clip.opus`` below ``AUDIO``."""
    with open(AUDIO / "clips.csv", newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["split"] == split]
    return [f"{r['genre']}/{r['clip']}.opus" for r in rows][:limit]


def rms(y: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(y, dtype=np.float64)))) or 1e-9


def recipes(limit: int | None) -> list[dict]:
    """Every track of the fitting audio: kind, half and how its audio is made."""
    out = []
    for i, clip in enumerate(train_clips(limit)):
        half = "AB"[(i // 10) % 2]  # blocks of ten clips: an artist proxy
        out.append({"kind": "music (GTZAN train)", "half": half, "clip": clip})
        if i % 6 == 0:
            out.append({"kind": "music with a spoken intro", "half": half, "clip": clip,
                        "voice": (i // 6) % len(VOICES), "intro_seconds": 8 + (i % 7)})
        if i % 4 == 0:
            v = (i // 4) % len(VOICES)
            out.append({"kind": "speech over quiet music", "half": "AB"[v % 2], "clip": clip, "voice": v,
                        "bed_db": -(12 + 6 * ((i // 4) % 3))})
    for v in range(len(VOICES)):
        out.append({"kind": "spoken word (espeak-ng)", "half": "AB"[v % 2], "voice": v})
    for clip in train_clips(limit, "valid"):  # judged only, by the rule written: never fitted on
        out.append({"kind": VALID_KIND, "half": "valid", "clip": clip})
    return out


def make_audio(recipe: dict, voice) -> np.ndarray:
    """A recipe's 22,050 Hz mono audio; ``voice(i)`` gives ``VOICES[i]``'s speech."""
    y = None
    if "clip" in recipe:
        path = AUDIO / recipe["clip"]
        y = decode(path, SR, 0.0, probe(path).duration)
    if "voice" not in recipe:
        return y
    s = voice(recipe["voice"])
    if y is None:
        return s
    if "intro_seconds" in recipe:
        return np.concatenate([s[: int(SR * recipe["intro_seconds"])], y])
    bed = np.resize(y, len(s)) * (rms(s) / rms(y)) * 10 ** (recipe["bed_db"] / 20)
    return s + bed


def evidence(analyzer, network, indices: list[int], y: np.ndarray, units: int = EXCERPTS) -> np.ndarray | None:
    """The track's mean class logits as the analysis computes them (None: no audible window)."""
    from genre_desktop.inference.inputs import AudioInputs

    def read(start: float, length: float) -> np.ndarray:
        a = int(round(start * SR))
        return y[a:a + int(round(length * SR))]

    windows = analyzer._windows(read, len(y) / SR, NEVER)
    if not windows:
        return None
    inputs = AudioInputs(windows, {network.name: network})
    scores = np.stack([o["scores"].mean(axis=0) for o in inputs.outputs(network.name, units)])
    return class_logits(scores, indices).mean(axis=0)


def load_network(models: Path | None):
    """(analyzer, efficientat member, its manifest entry, the class indices) as the app loads them."""
    from genre_desktop.inference.analyzer import Analyzer
    from genre_desktop.inference.members import build_member
    from genre_desktop.paths import bundled_models_dir

    models = models or bundled_models_dir()
    analyzer = Analyzer(models, threads=1, musicnn=False)  # the app's windows (5 per track)
    entry = next((e for e in analyzer.manifest.models if e.kind == "efficientat"), None)
    if entry is None:
        raise SystemExit(f"{models}: the manifest lists no efficientat network")
    network = build_member(entry, threads=1)
    return analyzer, network, entry, [network.labels.index(c) for c in CLASSES]


def fit(music: list[float], spoken: list[float]) -> float:
    """The midpoint of the gap when the classes separate, else just above the highest music track."""
    top_music, low_spoken = max(music), min(spoken)
    if low_spoken > top_music:
        return (top_music + low_spoken) / 2.0
    return float(top_music) + 1e-6  # beyond rounding: the highest music track stays music


SPOKEN_KINDS = {"spoken word (espeak-ng)", "speech over quiet music"}
VALID_KIND = "music (GTZAN valid)"


def fit_rule(rows: list[dict]) -> tuple[np.ndarray, float, float]:
    """(weights, bias, threshold) fitted on ``rows``."""
    from sklearn.linear_model import LogisticRegression

    X = np.array([r["features"] for r in rows], dtype=np.float64)
    y = np.array([r["kind"] in SPOKEN_KINDS for r in rows])
    model = LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000).fit(X, y)
    w, b = np.round(model.coef_[0], 6), round(float(model.intercept_[0]), 6)
    e = X @ w + b
    return w, b, round(fit(list(e[~y]), list(e[y])), 6)


def said(row: dict, w: np.ndarray, b: float, t: float) -> str:
    return "spoken word" if float(np.asarray(row["features"]) @ w + b) > t else "music"


def confusion(rows: list[dict], w, b, t) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for r in sorted(rows, key=lambda r: r["kind"]):
        out.setdefault(r["kind"], {"music": 0, "spoken word": 0})[said(r, w, b, t)] += 1
    return out


def measure(rows: list[dict]) -> dict:
    """Held-out confusions (each half judged by the rule fitted on the other), theirs pooled, the
    held-out detail of speech over music by the bed's level, and the rule fitted on all of it."""
    measured, pooled, beds = {}, {}, {}
    for fit_half, judge_half in (("A", "B"), ("B", "A")):
        w, b, t = fit_rule([r for r in rows if r["half"] == fit_half])
        judged = [r for r in rows if r["half"] == judge_half]
        c = confusion(judged, w, b, t)
        measured[f"fitted on half {fit_half}, judged on half {judge_half}"] = {"confusion": c}
        for kind, counts in c.items():
            for k, n in counts.items():
                pooled.setdefault(kind, {"music": 0, "spoken word": 0})[k] += n
        for r in judged:
            if "bed_db" in r["recipe"]:
                beds.setdefault(f"{r['recipe']['bed_db']} dB", {"music": 0, "spoken word": 0})[said(r, w, b, t)] += 1
    measured["held out (both halves judged by the other's rule)"] = {
        "confusion": dict(sorted(pooled.items())),
        "speech over quiet music by the music's level": dict(sorted(beds.items(), reverse=True))}
    w, b, t = fit_rule(rows)
    measured["all (fitted and judged on all: the rule written)"] = {"confusion": confusion(rows, w, b, t)}
    return measured


def rule_from_rows(saved: dict) -> dict:
    """The rule file's content, fitted on ``saved`` (the ``--rows`` file's content)."""
    judged = [r for r in saved["rows"] if r["half"] == "valid"]
    rows = [r for r in saved["rows"] if r["half"] != "valid"]
    w, b, threshold = fit_rule(rows)
    measured = measure(rows)
    if judged:
        measured["GTZAN valid music (other artists; never fitted on, judged by the rule written)"] = {
            "confusion": confusion(judged, w, b, threshold)}
    return {"format": RULE_FORMAT, "network": saved["network"], "network_sha256": saved["network_sha256"],
            "classes": saved["classes"], "weights": [float(v) for v in w], "bias": b, "threshold": threshold,
            "excerpts_per_window": saved["excerpts_per_window"],
            "statistic": "logistic-regression evidence of the mean over the analysed windows of the classes' "
                         "logits (each window's probabilities averaged over its excerpts)",
            "fitted_by": "tools/fit_content_rule.py", "tracks": len(rows), "measured": measured}


def collect(models: Path | None, limit: int | None) -> dict:
    """Every track's evidence through the app's path: the ``--rows`` file's content."""
    analyzer, network, entry, indices = load_network(models)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        voices: dict[int, np.ndarray] = {}

        def voice(i: int) -> np.ndarray:
            if i not in voices:
                voices[i] = voice_audio(i, Path(tmp))
            return voices[i]

        for recipe in recipes(limit):
            e = evidence(analyzer, network, indices, make_audio(recipe, voice))
            if e is not None:
                rows.append({"kind": recipe.pop("kind"), "half": recipe.pop("half"), "recipe": recipe,
                             "features": [round(float(v), 6) for v in e]})
    return {"network": entry.name, "network_sha256": entry.sha256, "classes": CLASSES,
            "excerpts_per_window": EXCERPTS, "windows": analyzer.n_segments, "rows": rows}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--rows", type=Path, default=ROWS, help="where every track's evidence is written")
    parser.add_argument("--from-rows", type=Path, default=None, help="refit from a rows file; no audio")
    parser.add_argument("--limit", type=int, default=None, help="at most this many train clips")
    args = parser.parse_args()
    if args.from_rows:
        saved = json.loads(args.from_rows.read_text(encoding="utf-8"))
    else:
        if shutil.which("espeak-ng") is None:
            raise SystemExit("espeak-ng is not installed (apt-get install espeak-ng)")
        saved = collect(args.models, args.limit)
        args.rows.parent.mkdir(parents=True, exist_ok=True)
        args.rows.write_text(json.dumps(saved, indent=0) + "\n", encoding="utf-8")
        print(f"wrote {args.rows} ({len(saved['rows'])} tracks)")
    rule = rule_from_rows(saved)
    print(json.dumps(rule["measured"], indent=1))
    if args.from_rows and not args.out:
        return 0
    from genre_desktop.paths import bundled_models_dir

    out = args.out or (Path(args.models or bundled_models_dir()) / "content_rule.json")
    out.write_text(json.dumps(rule, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {out} (sha256 {hashlib.sha256(out.read_bytes()).hexdigest()[:12]}...)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
