#!/usr/bin/env python
"""Measure and fit the content rule (music / spoken word) that ``inference/content.py`` applies.

Nothing here is set by hand: a logistic regression (balanced classes) on the track's mean logits of
a few of the network's classes (``CLASSES``) gives the speech evidence, and the threshold on it is
the midpoint of the gap between the music tracks and the spoken tracks when they separate, else
the lowest value that keeps every music track music.

Audio, each track analysed through the app's own path (``Analyzer`` windows, one 10 s excerpt per
window, the network's class scores):

- spoken word: speech made by ``espeak-ng`` (several languages and voices, two speeds), alone and
  over quiet music (a GTZAN train clip 12, 18 and 24 dB below the speech: a podcast's bed);
- music: every GTZAN train clip (no track of it may become spoken word), and music with a spoken
  intro (8-14 s of speech, then a train clip).

First the rule is fitted on half of the voices and clips and judged on the other half (the
confusion reported); then the rule written is fitted on all of it. Writes ``content_rule.json``
into the models folder (``--out``) and prints the confusion. The valid split is never used.

Usage: python tools/fit_content_rule.py [--models DIR] [--out FILE] [--limit N]
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


def train_clips(limit: int | None) -> list[Path]:
    with open(AUDIO / "clips.csv", newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["split"] == "train"]
    return [AUDIO / r["genre"] / f"{r['clip']}.opus" for r in rows][:limit]


def rms(y: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(y, dtype=np.float64)))) or 1e-9


def evidence(analyzer, network, indices: list[int], y: np.ndarray) -> np.ndarray | None:
    """The track's mean class logits as the analysis computes them (None: no audible window)."""
    from genre_desktop.inference.inputs import AudioInputs

    def read(start: float, length: float) -> np.ndarray:
        a = int(round(start * SR))
        return y[a:a + int(round(length * SR))]

    windows = analyzer._windows(read, len(y) / SR, NEVER)
    if not windows:
        return None
    inputs = AudioInputs(windows, {network.name: network})
    scores = np.stack([o["scores"].mean(axis=0) for o in inputs.outputs(network.name)])
    return class_logits(scores, indices).mean(axis=0)


def fit(music: list[float], spoken: list[float]) -> float:
    """The midpoint of the gap when the classes separate, else just above the highest music track."""
    top_music, low_spoken = max(music), min(spoken)
    if low_spoken > top_music:
        return (top_music + low_spoken) / 2.0
    return float(top_music) + 1e-6  # beyond rounding: the highest music track stays music


def confusion(rows: list[tuple[str, str, float]], threshold: float) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for kind, _, e in rows:
        said = "spoken word" if e > threshold else "music"
        out.setdefault(kind, {"music": 0, "spoken word": 0})[said] += 1
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--limit", type=int, default=None, help="at most this many train clips")
    args = parser.parse_args()
    if shutil.which("espeak-ng") is None:
        raise SystemExit("espeak-ng is not installed (apt-get install espeak-ng)")
    from genre_desktop.inference.analyzer import Analyzer
    from genre_desktop.inference.members import build_member
    from genre_desktop.paths import bundled_models_dir

    models = args.models or bundled_models_dir()
    analyzer = Analyzer(models, n_segments=5, threads=1, musicnn=False)
    entry = next((e for e in analyzer.manifest.models if e.kind == "efficientat"), None)
    if entry is None:
        raise SystemExit(f"{models}: the manifest lists no efficientat network")
    network = build_member(entry, threads=1)
    indices = [network.labels.index(c) for c in CLASSES]
    clips = train_clips(args.limit)
    rows: list[tuple[str, str, float]] = []  # (kind, half, evidence)
    with tempfile.TemporaryDirectory() as tmp:
        voices = []
        for i, (voice, wpm) in enumerate(VOICES):
            lang = voice.split("+")[0].split("-")[0]
            voices.append((speak(TEXTS.get(lang, TEXTS["en"]), voice, wpm, Path(tmp) / f"v{i}.wav"), "AB"[i % 2]))
        for i, path in enumerate(clips):
            y = decode(path, SR, 0.0, probe(path).duration)
            half = "AB"[(i // 10) % 2]  # blocks of ten clips: an artist proxy
            rows.append(("music (GTZAN train)", half, evidence(analyzer, network, indices, y)))
            if i % 6 == 0:
                s, shalf = voices[(i // 6) % len(voices)]
                intro = s[: int(SR * (8 + (i % 7)))]
                rows.append(("music with a spoken intro", half,
                             evidence(analyzer, network, indices, np.concatenate([intro, y]))))
            if i % 4 == 0:
                s, shalf = voices[(i // 4) % len(voices)]
                bed = np.resize(y, len(s)) * (rms(s) / rms(y)) * 10 ** (-(12 + 6 * ((i // 4) % 3)) / 20)
                rows.append(("speech over quiet music", shalf, evidence(analyzer, network, indices, s + bed)))
        for s, half in voices:
            rows.append(("spoken word (espeak-ng)", half, evidence(analyzer, network, indices, s)))
    rows = [r for r in rows if r[2] is not None]
    spoken_kinds = {"spoken word (espeak-ng)", "speech over quiet music"}

    def fit_rule(chosen):
        """(weights, bias, threshold) fitted on ``chosen`` rows."""
        from sklearn.linear_model import LogisticRegression

        X = np.stack([e for _, _, e in chosen])
        y = np.array([k in spoken_kinds for k, _, _ in chosen])
        model = LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000).fit(X, y)
        w, b = model.coef_[0], float(model.intercept_[0])
        e = X @ w + b
        return w, b, fit(list(e[~y]), list(e[y]))

    def judged(chosen, w, b, t):
        return confusion([(k, h, float(np.round(e @ w + b, 6))) for k, h, e in chosen], round(t, 6))

    measured = {}
    for fit_half, judge_half in (("A", "B"), ("B", "A")):
        w, b, t = fit_rule([r for r in rows if r[1] == fit_half])
        measured[f"fitted on half {fit_half}, judged on half {judge_half}"] = {
            "confusion": judged([r for r in rows if r[1] == judge_half], w, b, t)}
    w, b, threshold = fit_rule(rows)
    measured["all (fitted and judged on all: the rule written)"] = {"confusion": judged(rows, w, b, threshold)}
    rule = {"format": RULE_FORMAT, "network": entry.name, "network_sha256": entry.sha256, "classes": CLASSES,
            "weights": [round(float(v), 6) for v in w], "bias": round(b, 6), "threshold": round(threshold, 6),
            "statistic": "logistic-regression evidence of the mean over the analysed windows of the classes' "
                         "logits (each window's probabilities averaged over its excerpts)",
            "fitted_by": "tools/fit_content_rule.py", "measured": measured}
    print(json.dumps(measured, indent=1))
    out = args.out or (Path(models) / "content_rule.json")
    out.write_text(json.dumps(rule, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {out} (sha256 {hashlib.sha256(out.read_bytes()).hexdigest()[:12]}...)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
