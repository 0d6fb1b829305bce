"""What the desktop bundle holds: MiB per package, largest first (the table in packaging/README.md).

    python tools/bundle_sizes.py [dist/genre-desktop] [--json]

Files are grouped by their top folder inside ``_internal`` (a Python package and its ``.libs``
folder count as one: ``numpy`` + ``numpy.libs``); the shared libraries at the top are grouped as
"Qt's system libraries" (X11/xcb, GLib, fonts... that PyInstaller collects for Qt's plugins),
except ``libpython`` and ``libcrypto``/``libssl`` (Python's own).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path


def group_of(relative: Path) -> str:
    first = relative.parts[0]
    if len(relative.parts) == 1:
        if first.startswith("libpython"):
            return "libpython"
        if first.startswith(("libcrypto", "libssl", "libffi", "libz.", "libbz2", "liblzma", "libexpat")):
            return "Python's system libraries"
        if first.startswith("lib"):
            return "Qt's system libraries"
        return "executables and the bootloader's archive"
    name = first.split(".libs")[0].split("-")[0]
    if name.endswith(".dist-info"):
        return "package metadata"
    return {"python3.11": "Python standard library (compiled modules)"}.get(name, name)


def sizes(bundle: Path) -> Counter:
    total: Counter = Counter()
    for path in bundle.rglob("*"):
        if path.is_file() and not path.is_symlink():
            relative = path.relative_to(bundle)
            if relative.parts[0] == "_internal":
                group = group_of(Path(*relative.parts[1:]))
            else:
                group = "executables and the bootloader's archive"
            total[group] += path.stat().st_size
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bundle", nargs="?", type=Path, default=Path("dist/genre-desktop"))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if not (args.bundle / "_internal").is_dir():
        print(f"error: no bundle at {args.bundle} (build it with packaging/build.sh)", file=sys.stderr)
        return 2
    total = sizes(args.bundle)
    mib = {k: v / 2**20 for k, v in total.most_common()}
    if args.json:
        print(json.dumps({"total_mib": sum(mib.values()), "packages": mib}, indent=2))
        return 0
    print("| package | MiB |\n|---|---|")
    for name, value in mib.items():
        if value >= 0.5:
            print(f"| {name} | {value:.1f} |")
    rest = sum(v for v in mib.values() if v < 0.5)
    print(f"| everything else ({sum(1 for v in mib.values() if v < 0.5)} items) | {rest:.1f} |")
    print(f"| **total** | **{sum(mib.values()):.1f}** |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
