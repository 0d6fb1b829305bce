#!/usr/bin/env bash
# Sets up everything Genre Desktop needs on a fresh Debian/Ubuntu machine (idempotent):
# system packages (ffmpeg for M4A/WMA decoding, PortAudio for playback, the libraries Qt needs,
# espeak-ng for the tests' spoken-word audio, a C compiler for the running-median extension,
# binutils for the bundle build's strip, readelf and objcopy),
# then a virtual environment in .venv with the package and its dev tools.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(ffmpeg libportaudio2 libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1
              libdbus-1-3 libglib2.0-0 xvfb libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 espeak-ng
              gcc libc6-dev binutils)

if command -v dpkg >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  missing=()
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    echo "Installing system packages: ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
else
  echo "Not a Debian-like system: install ffmpeg and PortAudio with your package manager." >&2
fi

PYTHON="${PYTHON:-}"
if [ -z "$PYTHON" ]; then
  for candidate in python3.11 python3.12 python3.10 python3; do
    if command -v "$candidate" >/dev/null 2>&1; then PYTHON="$candidate"; break; fi
  done
fi
[ -n "$PYTHON" ] || { echo "Python 3.10 or newer is needed" >&2; exit 1; }
# The C extension (setup.py) needs Python's headers: a system Python keeps them in python3-dev.
if ! "$PYTHON" -c "import os, sysconfig, sys; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()['include'], 'Python.h')))"; then
  if command -v apt-get >/dev/null 2>&1; then
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends python3-dev >/dev/null || true
  fi
fi

if [ ! -x .venv/bin/python ]; then
  echo "Creating .venv with $PYTHON"
  "$PYTHON" -m venv .venv
fi

# Reinstall when the dependencies or the C extension's source change (an editable install builds
# the extension in place once; a changed _median.c must be rebuilt).
stamp_value=$(cat pyproject.toml setup.py genre_desktop/features/_median.c | sha256sum | cut -d' ' -f1)
if [ ! -f .setup-stamp ] || [ "$(cat .setup-stamp)" != "$stamp_value" ]; then
  echo "Installing Python packages into .venv (first run takes a few minutes)"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[dev,cluster]"
  echo "$stamp_value" > .setup-stamp
fi
.venv/bin/python -c "from genre_desktop.features import median; print('running median:', median.implementation())"
