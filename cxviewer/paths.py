"""Where CXViewer finds its bundled files and keeps the user's own data.

Bundled: ``resources/`` and ``models/`` of the source tree, installed as the packages
``cxviewer._resources`` and ``cxviewer._models``; found through importlib when installed, else
in the repository folders. User folders follow the platform's conventions (appdirs), unless the
environment variable ``CXVIEWER_HOME`` is set: then data lives in ``$CXVIEWER_HOME/data`` and
settings in ``$CXVIEWER_HOME/config`` (tests use this so they never touch a real profile).
User folders are created on first use.
"""

from __future__ import annotations

import importlib.resources
import importlib.util
import os
from pathlib import Path

import appdirs

from cxviewer.files.folders import make_dirs_private

APP_NAME = "CXViewer"
HOME_ENV = "CXVIEWER_HOME"
SAMPLE_FILE = "samples/RG1_J2KR.dcm"

_PACKAGE_DIR = Path(__file__).resolve().parent
_REPO_ROOT = _PACKAGE_DIR.parent


def _bundled(package: str, repo_folder: str) -> Path:
    """Folder of an installed data package, else the folder in the source tree."""
    try:
        ref = importlib.resources.files(package)
    except ModuleNotFoundError:
        ref = None
    if isinstance(ref, Path):
        return ref
    if ref is not None:  # a folder without __init__.py is a namespace package, not a plain Path
        spec = importlib.util.find_spec(package)
        locations = list(spec.submodule_search_locations or []) if spec else []
        if locations:
            return Path(locations[0])
    if (_REPO_ROOT / "pyproject.toml").is_file():  # running from a source tree
        return _REPO_ROOT / repo_folder
    return _PACKAGE_DIR / f"_{repo_folder}"  # installed without this folder: a path that does not exist


class UserFolderError(OSError):
    """The app's data or config folder cannot be made (a file of that name is in the way, no permission)."""


def _user_dir(sub: str, platform_dir: str) -> Path:
    home = os.environ.get(HOME_ENV)
    path = Path(home).expanduser() / sub if home else Path(platform_dir)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        what = "is not a folder" if path.exists() and not path.is_dir() else f"cannot be made ({exc.strerror or exc})"
        raise UserFolderError(f"CXViewer's folder {path} {what}") from None
    return path


def private_dir(path: Path) -> Path:
    """``path`` created if needed and readable by the user only (0700): it holds patient data (for the app's own
    folders: an existing one is made 0700 too; a folder the user chose keeps its mode, see :func:`make_dirs_private`)."""
    make_dirs_private(path)
    try:
        os.chmod(path, 0o700)
    except OSError:  # not ours (a shared mount): leave it, the files in it are still 0600
        pass
    return path


def resources_dir() -> Path:
    """Bundled read-only resources (sample study, icons...)."""
    return _bundled("cxviewer._resources", "resources")


def models_dir() -> Path:
    """Bundled models; may not exist when no model has been bundled."""
    return _bundled("cxviewer._models", "models")


def sample_study() -> Path:
    """The bundled demo chest radiograph (a DICOM CR file)."""
    return resources_dir() / SAMPLE_FILE


def user_data_dir() -> Path:
    """The user's data (scan journals, report drafts, models): 0700, files in it 0600."""
    return private_dir(_user_dir("data", appdirs.user_data_dir(APP_NAME, False)))


def user_config_dir() -> Path:
    return _user_dir("config", appdirs.user_config_dir(APP_NAME, False))


def user_models_dir() -> Path:
    """Models the user trained or added; listed beside the bundled ones."""
    return private_dir(user_data_dir() / "models")
