#!/usr/bin/env bash
# The command line's part of the smoke tests, for any install: the bundle (smoke_test.sh) and a
# wheel in a clean venv (wheel_smoke_test.sh). Usage: smoke_cli.sh CLI WORKDIR
# (Output goes to files before grep reads it: `grep -q` on a pipe closes it early.)
# On generated audio (ffmpeg): scan, classify with the bundled models, analyse a folder, write the
# librarian's genres into the files, train a model from them, activate it, classify with it
# (model_version names it), map the library, roll back, undo the writes; a cluster without Dask is
# a message. The caller sets GENRE_DESKTOP_HOME; nothing else of the machine is used.
set -euo pipefail
cli="$1"
WORK="$2"
music="$WORK/cli-music"
fail() { echo "cli smoke test: $*" >&2; exit 1; }
mkdir -p "$music/techno" "$music/ambient"
# Two genres by four artists each: pink-noise bursts with a beat, and soft chords.
for a in 1 2 3 4; do
  ffmpeg -loglevel error -f lavfi -i "anoisesrc=d=7:c=pink:a=0.4" -f lavfi -i "sine=frequency=$((60 + 20 * a)):duration=7" \
    -filter_complex "[0][1]amix=inputs=2,volume=3,tremolo=f=$((2 + a)):d=0.9" -ar 22050 -ac 1 \
    -metadata artist="Techno Artist $a" "$music/techno/$a.flac"
  ffmpeg -loglevel error -f lavfi -i "sine=frequency=$((200 + 30 * a)):duration=7" -f lavfi -i "sine=frequency=$((300 + 45 * a)):duration=7" \
    -filter_complex "[0][1]amix=inputs=2,volume=0.8" -ar 22050 -ac 1 -metadata artist="Ambient Artist $a" "$music/ambient/$a.flac"
done

# No sound card here, and no GPU: doctor says so and everything else works.
"$cli" doctor > "$WORK/cli-doctor.txt" 2>&1 || fail "doctor failed: $(cat "$WORK/cli-doctor.txt")"
grep -q "audio out" "$WORK/cli-doctor.txt" && grep -q "median .*C extension" "$WORK/cli-doctor.txt" \
  || fail "doctor: $(cat "$WORK/cli-doctor.txt")"
"$cli" scan "$music" > "$WORK/cli-scan.txt" || fail "scan failed: $(cat "$WORK/cli-scan.txt")"
grep -q "files found: 8" "$WORK/cli-scan.txt" || fail "scan summary unexpected: $(cat "$WORK/cli-scan.txt")"

"$cli" classify --json "$music/techno/1.flac" > "$WORK/cli-classify.json" 2> "$WORK/cli-classify.err" \
  || fail "classify failed: $(cat "$WORK/cli-classify.err")"
grep -q '"error": null' "$WORK/cli-classify.json" || fail "classify gave an error: $(cat "$WORK/cli-classify.json")"

"$cli" analyze "$music" > "$WORK/cli-analyze.txt" 2>&1 || fail "analyze failed: $(cat "$WORK/cli-analyze.txt")"
grep -q "Analysed 8 of 8 tracks" "$WORK/cli-analyze.txt" || fail "analyze summary unexpected: $(cat "$WORK/cli-analyze.txt")"
"$cli" list --json > "$WORK/cli-list.json"
grep -q '"probability"' "$WORK/cli-list.json" || fail "no prediction stored"

# The librarian's corrections, written into the files (journaled), then learnt from.
"$cli" tag --genre Techno "$music"/techno/*.flac > /dev/null
"$cli" tag --genre Ambient "$music"/ambient/*.flac > /dev/null
"$cli" train --trust-existing Techno Ambient --activate > "$WORK/cli-train.txt" 2>&1 \
  || fail "train failed: $(cat "$WORK/cli-train.txt")"
grep -q "activated" "$WORK/cli-train.txt" || fail "the trained model was not activated: $(cat "$WORK/cli-train.txt")"
version=$("$cli" models list | awk '/^\*/ {print $2}')
[ -n "$version" ] || fail "no active version listed"
"$cli" classify --json "$music/ambient/2.flac" > "$WORK/cli-user.json"
grep -q "\"model_version\": \"[^\"]*$version" "$WORK/cli-user.json" || fail "the user model $version did not run: $(cat "$WORK/cli-user.json")"
"$cli" models map --trust-existing Techno Ambient --out "$WORK/cli-map.csv" > /dev/null
# (the library may hold the caller's other tracks too: the bundle's window wrote one)
[ "$(grep -c "^$music/" "$WORK/cli-map.csv")" -eq 8 ] || fail "the map lists $(grep -c "^$music/" "$WORK/cli-map.csv") of the 8 tracks"
"$cli" models rollback > /dev/null
"$cli" classify --json "$music/ambient/2.flac" > "$WORK/cli-back.json"
grep -q "\"model_version\": \"[^\"]*$version" "$WORK/cli-back.json" && fail "rollback left $version active"
"$cli" undo --all > /dev/null
"$cli" list --json > "$WORK/cli-undone.json"
# The files' own genre fields (not the analysis's broad genres, where "Techno" may be predicted).
python3 - "$WORK/cli-undone.json" <<'PY' || fail "undo left the written genres: $(cat "$WORK/cli-undone.json")"
import json, sys
tracks = json.load(open(sys.argv[1], encoding="utf-8"))
sys.exit(len(tracks) < 8 or any({"Techno", "Ambient"} & set(t.get("genres") or []) for t in tracks))
PY

# The cluster is optional: without Dask a message, never a traceback.
if "$cli" analyze --reanalyse --cluster local > "$WORK/cli-cluster.txt" 2>&1; then
  echo "cluster: Dask is installed, analysed on a local cluster"
else
  grep -q "genre-desktop\[cluster\]" "$WORK/cli-cluster.txt" || fail "cluster without Dask: $(cat "$WORK/cli-cluster.txt")"
fi
grep -q "Traceback" "$WORK"/cli-*.txt "$WORK"/cli-*.err && fail "a traceback was printed"
echo "command line: scan, classify, analyse, write, train ($version), activate, map, rollback, undo"
