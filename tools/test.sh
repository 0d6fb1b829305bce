#!/usr/bin/env bash
# Set everything up (first run only) and run the test suite; extra arguments go to pytest.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
bash "$here/tools/setup.sh"
# The CNN export tests compare onnxruntime with torch: tests also get the training extra (setup.sh
# stays lean for app users). Only when missing, so a ready venv starts the tests at once.
"$here/.venv/bin/python" -c "import torch, onnxscript" 2>/dev/null || "$here/.venv/bin/python" -m pip install -q -e "$here[dev,train]"
cd "$here"
export QT_QPA_PLATFORM=offscreen
exec .venv/bin/python -m pytest "$@"
