"""Package list for setuptools (everything else is in pyproject.toml).

Lists every package under cxviewer/ automatically, so new subpackages are installed without
editing this file, and maps the top-level folders resources/ and models/ to the packages
cxviewer._resources and cxviewer._models (with all their files as package data). models/ may be
absent in a fresh clone until a model is committed; it is then simply left out.
"""

from pathlib import Path

from setuptools import find_namespace_packages, setup

HERE = Path(__file__).resolve().parent
DATA_FOLDERS = {"cxviewer._resources": "resources", "cxviewer._models": "models"}

packages = find_namespace_packages(include=["cxviewer", "cxviewer.*"], exclude=["*__pycache__*"])
for package, folder in DATA_FOLDERS.items():
    if (HERE / folder).is_dir():
        packages.append(package)
        packages += [f"{package}.{sub}" for sub in find_namespace_packages(where=str(HERE / folder), exclude=["*__pycache__*"])]

setup(packages=packages)
