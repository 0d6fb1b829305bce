#!/usr/bin/env bash
# Recreates the TOOLING environment for converting musicnn's TensorFlow checkpoints to ONNX
# (tools/convert_musicnn.py) and checking the result (tools/check_musicnn.py).
#
# This is NOT the app's environment: the app never imports TensorFlow. Versions are pinned so the
# conversion is reproducible:
#   - tensorflow-cpu 2.15.1 is the last TF whose graph tf2onnx 1.16 supports well; it needs numpy<2
#     and protobuf<4 (tf2onnx 1.16 pins protobuf~=3.20).
#   - musicnn 0.1.0 is installed with --no-deps: its metadata pins numpy<1.17 and an old TF, which
#     it does not actually need (it runs under TF2's compat.v1 API).
#   - mutagen reads the FMA clips' genre tags for the mapping measurement in check_musicnn.py.
#   - onnxruntime is held back (1.20.1): the app's 1.32 pulls protobuf 7, which TensorFlow 2.15 and
#     tf2onnx 1.16 cannot use. The app's own onnxruntime runs the models in tests/test_musicnn.py.
#
# Usage: bash tools/musicnn_env.sh [ENV_DIR]   (default /work/tfenv; PYTHON=python3.11 to override)
set -euo pipefail

ENV_DIR="${1:-/work/tfenv}"
PYTHON="${PYTHON:-}"
if [ -z "$PYTHON" ]; then
  for candidate in /root/.pyenv/versions/3.11.7/bin/python python3.11; do
    if command -v "$candidate" >/dev/null 2>&1; then PYTHON="$candidate"; break; fi
  done
fi
[ -n "$PYTHON" ] || { echo "Python 3.11 is needed (TensorFlow 2.15 has no wheels for 3.12+)" >&2; exit 1; }

if [ ! -x "$ENV_DIR/bin/python" ]; then
  "$PYTHON" -m venv "$ENV_DIR"
fi
PIP=("$ENV_DIR/bin/python" -m pip)
"${PIP[@]}" install -q --upgrade pip
"${PIP[@]}" install -q \
  "tensorflow-cpu==2.15.1" \
  "tf2onnx==1.16.1" \
  "onnx==1.16.2" \
  "onnxruntime==1.20.1" \
  "librosa==0.11.0" \
  "numpy==1.26.4" \
  "protobuf==3.20.3" \
  "soundfile==0.14.0" \
  "soxr==1.1.0" \
  "scipy==1.17.1" \
  "mutagen==1.48.0"
# musicnn's declared dependencies are stale (numpy<1.17, tensorflow>=1.14); the checkpoints and
# musicnn's own code run fine on the pins above.
"${PIP[@]}" install -q --no-deps "musicnn==0.1.0"

"$ENV_DIR/bin/python" - <<'EOF'
import musicnn, numpy, onnx, onnxruntime, tensorflow, tf2onnx, librosa
print("tooling env ready:", "tensorflow", tensorflow.__version__, "| tf2onnx", tf2onnx.__version__,
      "| onnx", onnx.__version__, "| onnxruntime", onnxruntime.__version__,
      "| numpy", numpy.__version__, "| librosa", librosa.__version__)
EOF
