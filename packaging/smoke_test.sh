#!/usr/bin/env bash
# Smoke test of a built bundle (dist/genre-desktop): start it offscreen on a generated audio
# folder; the window scans, plays a track (the null output: no sound card here) until its
# spectrogram is drawn, classifies it, accepts it in the review queue, writes its genre and exits; then the bundled command line runs smoke_cli.sh (classify, analyse, write, train,
# activate, map, rollback, undo, a cluster without Dask), and the bundle is installed for a user.
# Nothing from the source tree or the development venv is on the path: only the bundle runs.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUNDLE="${1:-$ROOT/dist/genre-desktop}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
export GENRE_DESKTOP_HOME="$WORK/home" QT_QPA_PLATFORM=offscreen
unset PYTHONPATH VIRTUAL_ENV

music="$WORK/music"
mkdir -p "$music/album"
# Real audio made by ffmpeg: a chord with a beat (FLAC, tagged), a noise burst (MP3), and a broken file.
ffmpeg -loglevel error -f lavfi -i "sine=frequency=220:duration=12" -f lavfi -i "sine=frequency=330:duration=12" \
  -f lavfi -i "anoisesrc=d=12:a=0.1" -filter_complex "[0][1][2]amix=inputs=3,volume=2" -ar 22050 -ac 1 \
  -metadata title="Smoke Chord" -metadata artist="Bundle Test" "$music/album/01 chord.flac"
ffmpeg -loglevel error -f lavfi -i "anoisesrc=d=8:c=pink:a=0.3" -ar 44100 -ac 2 -b:a 128k \
  -metadata title="Smoke Noise" "$music/album/02 noise.mp3"
printf 'this is not audio' > "$music/album/03 broken.ogg"

start=$(date +%s)
# Nothing may be written inside the bundle (a read-only install folder: /opt, a mounted image):
# checked at the end against this stamp.
touch "$WORK/bundle-stamp"
report=$(cd "$WORK" && timeout 420 "$BUNDLE/genre-desktop" --smoke-test "$music" 2>"$WORK/gui.err" | tail -n 1) || {
  echo "bundle smoke test: the window failed" >&2; cat "$WORK/gui.err" >&2; echo "$report" >&2; exit 1; }
echo "window: $report"
case "$report" in *'"ok": true'*'"play+spectrogram"'*) ;; *) echo "bundle smoke test: window report not ok" >&2; exit 1 ;; esac

cli="$BUNDLE/genre-desktop-cli"
"$cli" scan "$music" > "$WORK/scan.txt" || true   # exit 1: the broken file is unreadable, as it should be
grep -q "unreadable:  1" "$WORK/scan.txt" || { echo "scan summary unexpected:" >&2; cat "$WORK/scan.txt" >&2; exit 1; }
# The command line: classify, analyse, write, train, activate, map, rollback, undo, no Dask.
bash "$ROOT/packaging/smoke_cli.sh" "$cli" "$WORK"
# The per-user install: launcher on PATH, desktop entry pointing at it, icons, metainfo.
PREFIX="$WORK/prefix" XDG_DATA_HOME="$WORK/share" bash "$ROOT/packaging/install.sh" "$BUNDLE" >/dev/null
"$WORK/prefix/bin/genre-desktop" --version | grep -q "genre-desktop " || { echo "installed launcher does not start" >&2; exit 1; }
grep -q "^Exec=$WORK/prefix/bin/genre-desktop %F" "$WORK/share/applications/org.genredesktop.GenreDesktop.desktop"
test -f "$WORK/share/icons/hicolor/256x256/apps/org.genredesktop.GenreDesktop.png"
test -f "$WORK/share/metainfo/org.genredesktop.GenreDesktop.metainfo.xml"
echo "install: launcher, desktop entry, icons and metainfo in place"
written=$(find "$BUNDLE" -newer "$WORK/bundle-stamp" | head -5)
[ -z "$written" ] || { echo "bundle smoke test: the app wrote inside its install folder: $written" >&2; exit 1; }
echo "install folder: nothing written inside it (it may be read-only)"
end=$(date +%s)
echo "bundle smoke test passed in $((end - start)) s ($(du -sm "$BUNDLE" | cut -f1) MiB bundle)"
