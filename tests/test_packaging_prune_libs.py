"""packaging/prune_libs.py keeps every library a root reaches and only removes the others.

A small fake bundle of real ELF libraries built with gcc: an extension module that links
``libused.so`` (which links ``libdeep.so``), a Qt plugin, a library loaded by name (PortAudio),
and an orphan left behind by a dropped plugin. Only the orphan goes; two byte-identical copies of
one library become one file and a link that still resolves.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "packaging"))

prune_libs = pytest.importorskip("prune_libs")

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or not all(shutil.which(t) for t in ("gcc", "readelf")),
    reason="needs gcc and binutils (tools/setup.sh installs them)")


def _lib(path: Path, *needed: str, body: str = "int f(void) { return 1; }") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    source = path.with_suffix(".c")
    source.write_text(body + "\n")
    links = [f"-l:{name}" for name in needed]
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(path), str(source), f"-L{path.parent}",
                    f"-L{path.parent.parent}", *links, f"-Wl,-soname,{path.name}"], check=True)
    source.unlink()
    return path


@pytest.fixture
def bundle(tmp_path):
    internal = tmp_path / "_internal"
    deep = _lib(internal / "libdeep.so.1", body="int deep(void) { return 2; }")
    _lib(internal / "libused.so.1", "libdeep.so.1", body="int deep(void); int used(void) { return deep(); }")
    _lib(internal / "pkg" / "mod.cpython-311-x86_64-linux-gnu.so", "libused.so.1",
         body="int used(void); int mod(void) { return used(); }")  # a call: --as-needed keeps the link
    _lib(internal / "PySide6" / "Qt" / "plugins" / "platforms" / "libqoffscreen.so")
    _lib(internal / "libportaudio.so.2")
    orphan = _lib(internal / "libgio-2.0.so.0")
    return internal, deep, orphan


def test_only_what_nothing_reaches_is_unreachable(bundle):
    internal, _, orphan = bundle
    assert prune_libs.unreachable(internal) == [orphan]


def test_main_removes_the_orphan_and_keeps_the_rest_loadable(bundle, capsys):
    import ctypes

    internal, _, orphan = bundle
    assert prune_libs.main([str(internal)]) == 0
    assert not orphan.exists() and "libgio-2.0.so.0" in capsys.readouterr().out
    module = internal / "pkg" / "mod.cpython-311-x86_64-linux-gnu.so"
    # the module's chain is intact and loads (libdeep first: libused's DT_NEEDED resolves to it by soname)
    ctypes.CDLL(str(internal / "libdeep.so.1"))
    ctypes.CDLL(str(internal / "libused.so.1"))
    assert module.exists() and (internal / "libportaudio.so.2").exists()


def test_identical_copies_become_one_file_and_a_link(tmp_path):
    a = _lib(tmp_path / "numpy.libs" / "libgfortran-x.so.5")
    b = tmp_path / "scipy.libs" / "libgfortran-x.so.5"
    b.parent.mkdir()
    shutil.copyfile(a, b)
    different = _lib(tmp_path / "other" / "libgfortran-x.so.5", body="int g(void) { return 7; }")
    linked = prune_libs.share_duplicates(tmp_path)
    assert linked == [(b, a)]
    assert b.is_symlink() and b.resolve() == a.resolve() and b.read_bytes() == a.read_bytes()
    assert not different.is_symlink()
