#!/usr/bin/env bash
# Set everything up (first run only) and start Genre Desktop on FOLDER, else the last library,
# else the platform's Music folder.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
bash "$here/tools/setup.sh"
exec "$here/.venv/bin/genre-desktop" "$@"
