#!/usr/bin/env bash
# Smoke test of the wheel: build it, install it (not editable) into a clean venv with nothing of
# the checkout or the development venv on the path, and run the command line's smoke test
# (smoke_cli.sh: classify with the bundled models, analyse a folder, train and use a model...)
# against that install. The wheel must carry the models and everything the app reads at run time.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
start=$(date +%s)

"$PYTHON" -m venv "$WORK/build-env"
"$WORK/build-env/bin/python" -m pip install -q --upgrade pip
"$WORK/build-env/bin/python" -m pip wheel -q --no-deps -w "$WORK/wheel" "$ROOT"
wheel=$(ls "$WORK"/wheel/genre_desktop-*.whl)
echo "wheel: $(basename "$wheel") ($(du -k "$wheel" | cut -f1) KiB)"

"$PYTHON" -m venv "$WORK/venv"
"$WORK/venv/bin/python" -m pip install -q "$wheel"
# As the README tells a pip user (and a Dask worker image): compile the feature code once.
"$WORK/venv/bin/genre-desktop-cli" precompile > /dev/null

export GENRE_DESKTOP_HOME="$WORK/home" QT_QPA_PLATFORM=offscreen
unset PYTHONPATH VIRTUAL_ENV
cd "$WORK"
"$WORK/venv/bin/python" - <<'PY'
import genre_desktop, genre_desktop.paths as p
assert "site-packages" in genre_desktop.__file__, genre_desktop.__file__
assert (p.bundled_models_dir() / "manifest.json").is_file() and (p.resources_dir() / "icons").is_dir()
PY
bash "$ROOT/packaging/smoke_cli.sh" "$WORK/venv/bin/genre-desktop-cli" "$WORK"
end=$(date +%s)
echo "wheel smoke test passed in $((end - start)) s"
