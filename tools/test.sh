#!/usr/bin/env bash
# Set everything up (first run only) and run the test suite; extra arguments go to pytest.
# The few tests that compare ONNX exports with torch (the `train` extra: torch CPU, a download of
# several hundred MB) are skipped with that reason unless it is installed; install it with
#   .venv/bin/python -m pip install -e '.[dev,cluster,train]'
# (CI does: .ci/run). Nothing is installed behind your back.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
bash "$here/tools/setup.sh"
cd "$here"
export QT_QPA_PLATFORM=offscreen
exec .venv/bin/python -m pytest "$@"
