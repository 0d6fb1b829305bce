#!/usr/bin/env python3
"""Remove the shared libraries nothing in the bundle loads, and share identical copies (build step).

PyInstaller collects each binary's dependencies as it analyses them; the spec then leaves out Qt
plugins and modules the app never loads (``DROP``), but what only those needed stays behind: GIO,
Kerberos, the EGL-FS integration... (5 MiB). Here the libraries are followed from what the app
really opens: every Python extension module, every Qt plugin, libpython, and the libraries loaded
by name at run time (PortAudio and libsndfile through cffi, XGBoost's and onnxruntime's own); a
library no ``DT_NEEDED`` chain from those reaches is removed. (Run after the spec's DROP, which it
completes: a library PyInstaller collected for a dropped plugin.)

Then a library shipped twice, byte for byte (numpy's and scipy's libgfortran under the same
hashed name), becomes one file and a relative symbolic link: both resolve to the same soname, which
the dynamic loader maps once anyway.

    python3 packaging/prune_libs.py dist/genre-desktop/_internal
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

# Loaded by name (dlopen) at run time, so no DT_NEEDED entry points at them.
LOADED_BY_NAME = ("libpython", "libportaudio", "libsndfile", "libxgboost", "libonnxruntime")


def _is_elf(path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            return handle.read(4) == b"\x7fELF"
    except OSError:
        return False


def _needed(path: Path) -> list[str]:
    out = subprocess.run(["readelf", "-d", str(path)], capture_output=True, text=True).stdout
    return re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]", out)


def _is_root(relative: str) -> bool:
    name = os.path.basename(relative)
    return (".cpython-" in name or name.endswith(".abi3.so") or "/plugins/" in f"/{relative}"
            or name.startswith(LOADED_BY_NAME))


def unreachable(internal: Path) -> list[Path]:
    """The bundle's shared libraries that no root reaches through DT_NEEDED."""
    libraries = [p for p in internal.rglob("*.so*") if p.is_file() and not p.is_symlink() and _is_elf(p)]
    by_name: dict[str, list[Path]] = defaultdict(list)
    for path in libraries:
        by_name[path.name].append(path)
    stack = [p for p in libraries if _is_root(str(p.relative_to(internal)))]
    seen: set[Path] = set()
    while stack:
        path = stack.pop()
        if path in seen:
            continue
        seen.add(path)
        for name in _needed(path):
            stack.extend(by_name.get(name, []))
    return sorted(p for p in libraries if p not in seen)


def share_duplicates(internal: Path) -> list[tuple[Path, Path]]:
    """Replace byte-identical libraries of the same name by links to the first; (link, target) pairs."""
    groups: dict[tuple[str, str], list[Path]] = defaultdict(list)
    for path in sorted(internal.rglob("*.so*")):
        if path.is_file() and not path.is_symlink() and _is_elf(path):
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            groups[(path.name, digest)].append(path)
    linked = []
    for paths in groups.values():
        target = paths[0]
        for other in paths[1:]:
            other.unlink()
            other.symlink_to(os.path.relpath(target, other.parent))
            linked.append((other, target))
    return linked


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("internal", type=Path, help="the bundle's _internal folder")
    args = parser.parse_args(argv)
    if not args.internal.is_dir():
        print(f"prune_libs: no folder {args.internal}", file=sys.stderr)
        return 1
    freed = 0
    for path in unreachable(args.internal):
        freed += path.stat().st_size
        print(f"  removed {path.relative_to(args.internal)} (nothing loads it)")
        path.unlink()
    for link in [p for p in args.internal.rglob("*") if p.is_symlink() and not p.exists()]:
        link.unlink()  # PyInstaller's top-level links to a removed library
    for link, target in share_duplicates(args.internal):
        freed += target.stat().st_size
        print(f"  linked {link.relative_to(args.internal)} -> {target.relative_to(args.internal)} (identical)")
    print(f"prune_libs: {freed / 2**20:.1f} MiB freed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
