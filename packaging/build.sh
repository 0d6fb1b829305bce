#!/usr/bin/env bash
# Build the one-folder desktop bundle in dist/genre-desktop from a runtime-only environment
# (the package and its runtime dependencies plus PyInstaller: no torch, TensorFlow, test or
# training tools). Prints the build time and the bundle size.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
VENV="$ROOT/build/pkg-venv"
start=$(date +%s)

if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q "$ROOT" "pyinstaller>=6.10"

# From the build folder, not the checkout: the analysis must see the installed package (with its
# models and resources inside), not the source tree's genre_desktop/ through the working directory.
cd "$ROOT/build"
"$VENV/bin/pyinstaller" --noconfirm --clean --log-level WARN \
  --distpath "$ROOT/dist" --workpath "$ROOT/build/pyinstaller" \
  "$ROOT/packaging/genre_desktop.spec"

# Debug symbols of the large libraries that ship with them: libpython and XGBoost (-16 and -3 MiB),
# and our own extension. Not everything: the libraries that auditwheel patched (numpy's and scipy's
# OpenBLAS) no longer load once stripped.
internal="$ROOT/dist/genre-desktop/_internal"
for lib in "$internal"/libpython3*.so* "$internal/xgboost/lib/libxgboost.so" "$internal"/genre_desktop/features/_median*.so; do
  [ -f "$lib" ] && strip --strip-unneeded "$lib"
done
# What nothing loads (the dependencies of the plugins the spec left out), one copy of identical
# libraries, and Qt's ICU data cut to what Qt's calls reach (30.6 -> 5.3 MiB): packaging/README.md.
"$VENV/bin/python" "$ROOT/packaging/prune_libs.py" "$internal"
for icu in "$internal"/PySide6/Qt/lib/libicudata.so.*; do
  [ -f "$icu" ] && [ ! -L "$icu" ] && "$VENV/bin/python" "$ROOT/packaging/slim_icu.py" "$icu"
done
# The command line is the same executable started by another name (packaging/entry.py).
ln -sfn genre-desktop "$ROOT/dist/genre-desktop/genre-desktop-cli"
# The running median's C extension must be in: without it the bundle would analyse on scipy's
# slower median (a build environment without a C compiler builds the package without it).
ls "$internal"/genre_desktop/features/_median*.so >/dev/null 2>&1 \
  || { echo "build: the C extension genre_desktop.features._median is missing (no C compiler?)" >&2; exit 1; }

end=$(date +%s)
size=$(du -sm "$ROOT/dist/genre-desktop" | cut -f1)
echo "bundle: $ROOT/dist/genre-desktop"
echo "build time: $((end - start)) s"
echo "bundle size: ${size} MiB"
