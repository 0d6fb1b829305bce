#!/usr/bin/env bash
# Install a built bundle (dist/genre-desktop) for the current user: the program folder, a
# launcher on PATH, the desktop entry, the AppStream metainfo and the icons.
# Honours XDG_DATA_HOME; PREFIX (default ~/.local) sets where opt/ and bin/ go.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUNDLE="${1:-$ROOT/dist/genre-desktop}"
PREFIX="${PREFIX:-$HOME/.local}"
DATA="${XDG_DATA_HOME:-$HOME/.local/share}"
APP_ID=org.genredesktop.GenreDesktop

[ -x "$BUNDLE/genre-desktop" ] || { echo "no bundle at $BUNDLE: run packaging/build.sh first" >&2; exit 1; }

mkdir -p "$PREFIX/opt" "$PREFIX/bin" "$DATA/applications" "$DATA/metainfo" \
         "$DATA/icons/hicolor/scalable/apps"
rm -rf "$PREFIX/opt/genre-desktop"
cp -a "$BUNDLE" "$PREFIX/opt/genre-desktop"
ln -sf "$PREFIX/opt/genre-desktop/genre-desktop" "$PREFIX/bin/genre-desktop"
ln -sf "$PREFIX/opt/genre-desktop/genre-desktop-cli" "$PREFIX/bin/genre-desktop-cli"

sed "s|^Exec=.*|Exec=$PREFIX/bin/genre-desktop %F|" "$ROOT/resources/$APP_ID.desktop" \
  > "$DATA/applications/$APP_ID.desktop"
cp "$ROOT/resources/$APP_ID.metainfo.xml" "$DATA/metainfo/"
cp "$ROOT/resources/icons/genre-desktop.svg" "$DATA/icons/hicolor/scalable/apps/$APP_ID.svg"
for png in "$ROOT"/resources/icons/genre-desktop-*.png; do
  size=$(basename "$png" .png); size=${size##*-}
  mkdir -p "$DATA/icons/hicolor/${size}x${size}/apps"
  cp "$png" "$DATA/icons/hicolor/${size}x${size}/apps/$APP_ID.png"
done
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$DATA/applications" || true
command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -t "$DATA/icons/hicolor" || true
echo "installed to $PREFIX/opt/genre-desktop; launcher $PREFIX/bin/genre-desktop"
