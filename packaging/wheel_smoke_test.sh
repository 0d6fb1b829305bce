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
# A platform wheel with the running median's C extension built in (not py3-none-any).
case "$(basename "$wheel")" in *-none-any.whl) echo "wheel smoke test: a pure wheel, the C extension was not built" >&2; exit 1;; esac
# (listed into a file first: grep -q stops at the first match, and with pipefail the lister's broken
# pipe would fail the check)
"$WORK/build-env/bin/python" -m zipfile -l "$wheel" > "$WORK/wheel-files.txt"
grep -q "genre_desktop/features/_median.*\.so" "$WORK/wheel-files.txt" \
  || { echo "wheel smoke test: the wheel lacks genre_desktop/features/_median" >&2; exit 1; }

"$PYTHON" -m venv "$WORK/venv"
"$WORK/venv/bin/python" -m pip install -q "$wheel"

export GENRE_DESKTOP_HOME="$WORK/home" QT_QPA_PLATFORM=offscreen
unset PYTHONPATH VIRTUAL_ENV
cd "$WORK"
"$WORK/venv/bin/python" - <<'PY'
import sys
import genre_desktop, genre_desktop.paths as p
from genre_desktop.features import median
assert "site-packages" in genre_desktop.__file__, genre_desktop.__file__
assert median._median is not None, "the C extension did not install"
assert "numba" not in sys.modules and "librosa" not in sys.modules
assert (p.bundled_models_dir() / "manifest.json").is_file() and (p.resources_dir() / "icons").is_dir()
PY
bash "$ROOT/packaging/smoke_cli.sh" "$WORK/venv/bin/genre-desktop-cli" "$WORK"
end=$(date +%s)
echo "wheel smoke test passed in $((end - start)) s"
