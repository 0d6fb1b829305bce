#!/usr/bin/env python3
"""Rebuild Qt's ICU data library with only the ICU data Qt can reach: 30.5 -> ~11 MiB in the bundle.

PySide6's ``libicudata.so.NN`` is one exported symbol, ``icudtNN_dat``: ICU's whole data package
(every locale's names of languages, regions, currencies and units, number-spelling rules,
transliterators, break-iterator dictionaries, ~200 legacy-encoding converters...). Qt calls only
a few ICU functions (``nm -D --undefined-only libQt6*.so.6``, Qt 6.11): case mapping
(``u_strToUpper/Lower``), collation (``ucol_*``: QCollator, the file dialog's sorting), time-zone
display names (``ucal_*``) and converters (``ucnv_*``: QStringConverter for encodings it does not
know itself). So the rebuilt package keeps the core data (character properties, normalisation,
case mapping), every language's collation (sorting in the file dialog follows the user's locale as
before), the time-zone rules and the English time-zone names; and leaves out what no Qt call can
reach, or what the app, whose interface is in English, never shows:

- ``brkitr/`` (break-iterator rules and dictionaries: Qt breaks text with its own tables),
  ``translit/``, ``rbnf/``, ``unit/``, ``curr/``, ``lang/``, ``region/`` (no Qt call reads them);
- the ``*.cnv`` converter tables: the app never asks Qt for a legacy encoding (tags are decoded by
  mutagen; Qt's own UTF-8/16/32 and Latin-1 codecs and ICU's algorithmic converters need none);
- the locale data of every locale but root and English at the top level and in ``zone/`` (number,
  date and calendar formats Qt takes from its own CLDR tables; time-zone names in other languages,
  which the app never displays: ICU falls back to the English or "GMT+01:00" form).

``tests/test_packaging_slim_icu.py`` runs Qt with the slim library against the original: the same
sort orders in nine locales, the same case mapping (Turkish, German), the same English time-zone
names.

The package is ICU's "common data" format (``CmnD``: a header, a table of contents sorted by name,
16-byte-aligned items), rewritten here item for item, and linked into a library of the same name
and soname exporting the same symbol (``gcc``, ``objcopy``). Usage, from ``build.sh``::

    python3 packaging/slim_icu.py dist/genre-desktop/_internal/PySide6/Qt/lib/libicudata.so.73
"""

from __future__ import annotations

import argparse
import re
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

DROPPED_TREES = ("brkitr", "translit", "rbnf", "unit", "curr", "lang", "region")
DROPPED_SUFFIXES = (".cnv",)
LOCALE_TREES = ("", "zone")  # where only root and English locale data stay ("" = the top level)
_LOCALE = re.compile(r"^(?:[a-z]{2,3}|[a-z]{2,3}_[A-Za-z0-9_]+)\.res$")  # de.res, zh_Hant_TW.res; not pool.res
_KEPT_LOCALE = re.compile(r"^(?:root|en|en_[A-Za-z0-9_]+)\.res$")
ALIGN = 16
PAD = b"\xaa"  # what ICU's own tools pad with: an unchanged package is rewritten byte for byte


def _kept(name: str) -> bool:
    """Whether an item (``icudt73l/coll/de.res``) stays in the slim package."""
    parts = name.split("/")
    tree, leaf = ("/".join(parts[1:-1]), parts[-1])
    if tree in DROPPED_TREES or leaf.endswith(DROPPED_SUFFIXES):
        return False
    if tree in LOCALE_TREES and _LOCALE.match(leaf) and not _KEPT_LOCALE.match(leaf):
        return False
    return True


def read_package(blob: bytes) -> tuple[bytes, list[tuple[str, bytes]]]:
    """(header, [(name, item bytes)]) of an ICU common-data package; ValueError if it is not one."""
    header_size, magic1, magic2 = struct.unpack_from("<HBB", blob, 0)
    if (magic1, magic2) != (0xDA, 0x27) or blob[12:16] != b"CmnD" or blob[8] != 0:  # little-endian
        raise ValueError("not a little-endian ICU common data package")
    count = struct.unpack_from("<I", blob, header_size)[0]
    entries = [struct.unpack_from("<II", blob, header_size + 4 + 8 * i) for i in range(count)]
    ends = [offset for _, offset in entries[1:]] + [len(blob) - header_size]
    items = []
    for (name_offset, data_offset), end in zip(entries, ends):
        start = header_size + name_offset
        name = blob[start:blob.index(b"\0", start)].decode("ascii")
        items.append((name, blob[header_size + data_offset:header_size + end]))
    return blob[:header_size], items


def write_package(header: bytes, items: list[tuple[str, bytes]]) -> bytes:
    """The package with these items (kept in order: the table is searched by binary search)."""
    names = b"".join(name.encode("ascii") + b"\0" for name, _ in items)
    toc_size = 4 + 8 * len(items)
    data_start = toc_size + len(names)
    data_start += -(len(header) + data_start) % ALIGN
    entries, data, name_offset = [], bytearray(), toc_size
    for name, item in items:
        entries.append((name_offset, data_start + len(data)))
        name_offset += len(name) + 1
        data += item + PAD * (-len(item) % ALIGN)
    toc = struct.pack("<I", len(items)) + b"".join(struct.pack("<II", *e) for e in entries)
    body = toc + names
    body += PAD * (data_start - len(body))
    return header + body + bytes(data)


def _symbol(library: Path) -> str:
    out = subprocess.run(["nm", "-D", "--defined-only", str(library)], capture_output=True, text=True, check=True)
    found = re.findall(r"\b(icudt\d+_dat)\b", out.stdout)
    if len(found) != 1:
        raise ValueError(f"{library}: expected one icudtNN_dat symbol, found {found}")
    return found[0]


def slim(library: Path) -> tuple[int, int]:
    """Replace ``library`` by its slim build; returns (bytes before, bytes after)."""
    library = Path(library)
    before = library.stat().st_size
    symbol = _symbol(library)
    soname = library.name
    with tempfile.TemporaryDirectory(prefix="slim-icu-") as work:
        work = Path(work)
        raw = work / "rodata.bin"
        subprocess.run(["objcopy", "-O", "binary", "--only-section=.rodata", str(library), str(raw)], check=True)
        header, items = read_package(raw.read_bytes())
        kept = [(name, item) for name, item in items if _kept(name)]
        (work / "data.bin").write_bytes(write_package(header, kept))
        (work / "data.S").write_text(
            f'\t.section .rodata\n\t.globl {symbol}\n\t.type {symbol}, @object\n\t.balign {ALIGN}\n'
            f'{symbol}:\n\t.incbin "{work / "data.bin"}"\n\t.size {symbol}, .-{symbol}\n'
            '\t.section .note.GNU-stack,"",@progbits\n')
        built = work / soname
        subprocess.run(["gcc", "-shared", "-nostdlib", f"-Wl,-soname,{soname}", "-Wl,-z,noexecstack",
                        "-o", str(built), str(work / "data.S")], check=True)
        if _symbol(built) != symbol:
            raise ValueError("the rebuilt library does not export the data symbol")
        shutil.copyfile(built, library)
    return before, library.stat().st_size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("library", type=Path, help="the bundle's libicudata.so.NN (replaced in place)")
    args = parser.parse_args(argv)
    try:
        before, after = slim(args.library)
    except (OSError, ValueError, subprocess.CalledProcessError) as exc:
        print(f"slim_icu: {exc}", file=sys.stderr)
        return 1
    print(f"ICU data: {before / 2**20:.1f} -> {after / 2**20:.1f} MiB ({args.library.name})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
