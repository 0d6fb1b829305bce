"""The bundle's slim ICU data (packaging/slim_icu.py) leaves Qt's sorting, case mapping and names as they were.

The build replaces Qt's ``libicudata.so.NN`` (30 MiB) by one holding only the ICU data Qt's calls
reach. Here the venv's own PySide6 library is slimmed the same way into a temporary folder, and one
fresh process per library asks Qt the questions whose answers live in ICU's data: the sort order of
the same words in several locales (QCollator: the file dialog), upper/lower case in Turkish, German
and Greek (QLocale), and the English names of time zones (QTimeZone). The slim library is loaded
by ``LD_PRELOAD``: the dynamic loader then satisfies Qt's ``DT_NEEDED`` on the same soname with it.
Both runs must answer alike, and the slim library must really be the smaller one.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "packaging"))

slim_icu = pytest.importorskip("slim_icu")
PySide6 = pytest.importorskip("PySide6")

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or not all(shutil.which(t) for t in ("gcc", "objcopy", "nm")),
    reason="the slim ICU build is Linux-only and needs gcc and binutils (tools/setup.sh installs them)")

_PROBE = textwrap.dedent("""
    import json
    from PySide6.QtCore import QCollator, QLocale, QTimeZone, QByteArray
    words = ["Zürich", "zebra", "Äpfel", "apple", "Øresund", "oasis", "ćevapi", "cello", "chaos",
             "İstanbul", "ılık", "Ísland", "élan", "eagle", "Ñandú", "nube", "Straße", "strasse",
             "東京", "ЖЖ", "Ёлка", "Ада", "北京", "ábaco", "Łódź", "lodz", "ÿ", "y", "10", "9", "ß"]
    out = {"sorted": {}, "upper": {}, "lower": {}, "zones": {}}
    for name in ("en_US", "de_DE", "sv_SE", "tr_TR", "es_ES", "cs_CZ", "pl_PL", "ru_RU", "ja_JP"):
        collator = QCollator(QLocale(name))
        out["sorted"][name] = sorted(words, key=collator.sortKey)
        collator.setNumericMode(True)
        out["sorted"][name + ":numeric"] = sorted(words, key=collator.sortKey)
    for name in ("tr_TR", "de_DE", "el_GR", "en_US"):
        locale = QLocale(name)
        out["upper"][name] = locale.toUpper("istanbul ılık straße άλφα ﬁx")
        out["lower"][name] = locale.toLower("İSTANBUL IŞIK STRASSE ΆΛΦΑ")
    for zone in ("Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Sydney"):
        tz = QTimeZone(QByteArray(zone.encode()))
        out["zones"][zone] = [tz.displayName(QTimeZone.TimeType.StandardTime,
                                              QTimeZone.NameType.LongName, QLocale("en_US")),
                              tz.standardTimeOffset(__import__("PySide6.QtCore").QtCore.QDateTime.currentDateTimeUtc())]
    # Which ICU data library this process really mapped (the preloaded one, or Qt's own).
    out["icudata"] = sorted({line.split()[-1] for line in open("/proc/self/maps") if "libicudata" in line})
    print(json.dumps(out, ensure_ascii=False))
""")


def _venv_icu_data() -> Path:
    found = sorted((Path(PySide6.__file__).parent / "Qt" / "lib").glob("libicudata.so.*"))
    found = [p for p in found if not p.is_symlink()]
    if not found:
        pytest.skip("this PySide6 does not ship ICU")
    return found[0]


def _probe(preload: Path | None) -> dict:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    if preload is not None:
        env["LD_PRELOAD"] = str(preload)
    done = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_package_round_trips_byte_for_byte(tmp_path):
    """Read and written back with every item, the data package is the original (the format is right)."""
    raw = tmp_path / "rodata.bin"
    subprocess.run(["objcopy", "-O", "binary", "--only-section=.rodata", str(_venv_icu_data()), str(raw)], check=True)
    blob = raw.read_bytes()
    header, items = slim_icu.read_package(blob)
    assert len(items) > 500
    assert slim_icu.write_package(header, items) == blob


def test_qt_sorts_cases_and_names_zones_the_same_with_the_slim_library(tmp_path):
    original = _venv_icu_data()
    slim_copy = tmp_path / original.name
    shutil.copyfile(original, slim_copy)
    before, after = slim_icu.slim(slim_copy)
    assert after < before / 2, (before, after)

    reference, slimmed = _probe(None), _probe(slim_copy)
    assert reference.pop("icudata") == [str(original.resolve())]
    assert slimmed.pop("icudata") == [str(slim_copy)]
    # The probe really exercises the locales (or it would prove nothing): Swedish puts Ö-words
    # after z, German does not; Turkish upper-cases i to İ.
    assert reference["sorted"]["sv_SE"].index("Øresund") > reference["sorted"]["sv_SE"].index("zebra")
    assert reference["sorted"]["de_DE"].index("Äpfel") < reference["sorted"]["de_DE"].index("zebra")
    assert reference["upper"]["tr_TR"].startswith("İSTANBUL")
    assert slimmed == reference


def test_a_file_that_is_not_an_icu_package_is_refused():
    with pytest.raises(ValueError):
        slim_icu.read_package(b"\x14\x00\xda\x27" + b"\0" * 60)
