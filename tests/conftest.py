"""Shared test setup: headless Qt, a throw-away CXViewer home, and the shared test data."""

from __future__ import annotations

import atexit
import csv
import os
import shutil
import tempfile
from pathlib import Path

import pytest

# Before anything imports Qt: no display needed.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# Session-wide fallback so that even code running at import or in session fixtures never
# touches the real user's folders; each test then gets its own home (fixture below).
_SESSION_HOME = tempfile.mkdtemp(prefix="cxviewer-test-home-")
atexit.register(shutil.rmtree, _SESSION_HOME, ignore_errors=True)
os.environ["CXVIEWER_HOME"] = _SESSION_HOME

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DIR = REPO_ROOT.parent / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """../shared relative to the repository root (read-only test data); skips when absent."""
    if not SHARED_DIR.is_dir():
        pytest.skip(f"shared test data not found at {SHARED_DIR}")
    return SHARED_DIR


@pytest.fixture(scope="session")
def dicom_dir(shared_dir: Path) -> Path:
    """../shared/data/dicom: the 17 real CR files described in its README."""
    path = shared_dir / "data" / "dicom"
    if not path.is_dir():
        pytest.skip(f"DICOM test data not found at {path}")
    return path


@pytest.fixture(scope="session")
def training_film(shared_dir: Path):
    """``training_film(label, index)``: the ``index``-th JPEG (sorted by name) of ``label`` in ../shared/data/cxr,
    as 8-bit grey."""
    import cv2

    def read(label: str, index: int):
        return cv2.imread(str(sorted((shared_dir / "data" / "cxr" / "images" / label).glob("*.jpg"))[index]),
                          cv2.IMREAD_GRAYSCALE)

    return read


@pytest.fixture(autouse=True)
def cxviewer_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets an empty CXViewer home (user data and settings) of its own."""
    home = tmp_path_factory.mktemp("cxviewer-home")
    monkeypatch.setenv("CXVIEWER_HOME", str(home))
    return home


# Files loaded into the test PACS: RG1 (chest, patient 9RG1), RG2 (hip), two of the tiny C-spine CRs.
PACS_FILES = ("RG1_J2KR.dcm", "RG2_J2KR.dcm", "CR_tiny_1.dcm", "CR_tiny_2.dcm")


@pytest.fixture(scope="session")
def orthanc(dicom_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """A real Orthanc (DIMSE + DICOMweb) on free localhost ports, loaded with PACS_FILES; skips without it."""
    from tests.orthanc_server import Orthanc, dicomweb_plugin, free_port, orthanc_binary

    if orthanc_binary() is None or dicomweb_plugin() is None:
        pytest.skip("Orthanc with its DICOMweb plugin is not installed (apt-get install orthanc orthanc-dicomweb)")
    server = Orthanc(tmp_path_factory.mktemp("orthanc"), free_port(), free_port(), free_port())
    server.start(dicomweb_plugin())
    try:
        for name in PACS_FILES:
            server.upload(dicom_dir / name)
        yield server
    finally:
        server.stop()


@pytest.fixture
def tiny_training_folder(tmp_path, shared_dir):
    """Ten films of each class from the shared training folder, with their manifest rows (no patient IDs)."""
    src = shared_dir / "data" / "cxr"
    with open(src / "manifest.csv", newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        fields, rows = reader.fieldnames, list(reader)
    picked: list[dict] = []
    for label in ("covid", "pneumonia", "normal"):  # no lung masks: one stratum per class
        picked += [r for r in rows if r["label"] == label and not r["mask_path"]][:10]
    for row in picked:
        (tmp_path / "data" / row["path"]).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src / row["path"], tmp_path / "data" / row["path"])
    with open(tmp_path / "data" / "manifest.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(picked)
    return tmp_path / "data"


@pytest.fixture
def umask_022():
    """A common umask (group and others may read), so a file written 0600 on purpose is told from one left to it."""
    old = os.umask(0o022)
    yield
    os.umask(old)
