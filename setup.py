"""Where the packages come from: setuptools reads everything else from pyproject.toml.

The repository keeps the bundled models in the top-level ``models/`` and the desktop files in
``resources/`` (for the people and tools that read them there); installed, they are the packages
``genre_desktop.models`` and ``genre_desktop.resources``, so that one ``importlib.resources`` lookup
finds them in a source checkout (the editable install maps the two folders), a wheel, an sdist
build and the PyInstaller bundle alike. ``package_dir`` cannot be combined with package discovery
in pyproject.toml alone, hence this file.
"""

from setuptools import find_namespace_packages, setup

MAPPED = {"genre_desktop.models": "models", "genre_desktop.resources": "resources"}
# Every folder is a package (a data folder such as resources/icons too): setuptools then installs
# its files by the package-data rule in pyproject.toml instead of warning that it would skip them.
NOT_PACKAGES = ["*__pycache__*", "*.egg-info"]


def _packages() -> list[str]:
    found = find_namespace_packages(include=["genre_desktop", "genre_desktop.*"], exclude=NOT_PACKAGES)
    for name, folder in MAPPED.items():
        found += [name] + [f"{name}.{sub}" for sub in find_namespace_packages(where=folder, exclude=NOT_PACKAGES)]
    return found


setup(packages=_packages(), package_dir=MAPPED)
