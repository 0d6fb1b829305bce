"""Where the packages come from: setuptools reads everything else from pyproject.toml.

The repository keeps the bundled models in the top-level ``models/`` and the desktop files in
``resources/`` (for the people and tools that read them there); installed, they are the packages
``genre_desktop.models`` and ``genre_desktop.resources``, so that one ``importlib.resources`` lookup
finds them in a source checkout (the editable install maps the two folders), a wheel, an sdist
build and the PyInstaller bundle alike. ``package_dir`` cannot be combined with package discovery
in pyproject.toml alone, hence this file.

One C extension, ``genre_desktop.features._median``: the exact running median behind the HPSS
features (``features/median.py``), plain C99 that the compiler vectorises. It is optional: where
no C compiler is at hand the install still succeeds and the analysis uses scipy's median filter,
same values, slower (``genre-desktop-cli doctor`` says which one runs). -O3 vectorises the kernel
for the machine's baseline (SSE2 on x86-64); no -march/-mcpu, so a wheel runs on any CPU of its
platform; on x86-64 Linux the C file itself adds an AVX2 copy chosen at load time.
"""

import sys

from setuptools import Extension, find_namespace_packages, setup

MAPPED = {"genre_desktop.models": "models", "genre_desktop.resources": "resources"}
# Every folder is a package (a data folder such as resources/icons too): setuptools then installs
# its files by the package-data rule in pyproject.toml instead of warning that it would skip them.
NOT_PACKAGES = ["*__pycache__*", "*.egg-info"]


def _packages() -> list[str]:
    found = find_namespace_packages(include=["genre_desktop", "genre_desktop.*"], exclude=NOT_PACKAGES)
    for name, folder in MAPPED.items():
        found += [name] + [f"{name}.{sub}" for sub in find_namespace_packages(where=folder, exclude=NOT_PACKAGES)]
    return found


MEDIAN = Extension(
    "genre_desktop.features._median",
    sources=["genre_desktop/features/_median.c"],
    extra_compile_args=[] if sys.platform == "win32" else ["-O3"],
    optional=True,
)

setup(packages=_packages(), package_dir=MAPPED, ext_modules=[MEDIAN])
