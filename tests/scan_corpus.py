"""A folder like a clinic's overnight export: real chest films mixed with broken and out-of-scope files.

Shared by the scan tests (CLI, core, GUI). ``build_corpus(root)`` returns the expected status of
every file that must appear in the results (paths relative to ``root``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from dicom_builder import build_dicom

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
DICOM = SHARED / "dicom"
CXR = SHARED / "cxr" / "images"
needs_shared = pytest.mark.skipif(
    not (DICOM.is_dir() and CXR.is_dir()), reason=f"shared test data not found under {SHARED}"
)


def _cxr(label: str, n: int) -> list[Path]:
    return sorted((CXR / label).glob("*.jpg"))[:n]


def _write_png(path: Path, image: np.ndarray) -> None:
    ok, buf = cv2.imencode(".png", image)
    assert ok
    path.write_bytes(buf.tobytes())


def _ct_slice(path: Path) -> None:
    """A small CT data set (512 x 512, HU rescale): an ellipse of soft tissue in air."""
    from pydicom.uid import CTImageStorage

    yy, xx = np.mgrid[:512, :512]
    body = ((yy - 256) ** 2 / 200**2 + (xx - 256) ** 2 / 240**2) < 1
    build_dicom(path, np.where(body, 1064, 24).astype(np.uint16), bits_stored=12, sop_class=CTImageStorage,
                modality="CT", PatientID="CT-1", BodyPartExamined="CHEST", RescaleIntercept=-1024, RescaleSlope=1)


def _text_report(path: Path) -> None:
    """A Basic Text SR: a well-formed DICOM object with no pixels (exports often hold reports like it)."""
    from pydicom.uid import BasicTextSRStorage

    build_dicom(path, None, sop_class=BasicTextSRStorage, modality="SR", PatientID="SR-1")


def build_corpus(root: Path, symlink_loop: bool = True) -> dict[str, str]:
    """Fill ``root``; returns {relative path: expected status} for every file that must be reported."""
    expected: dict[str, str] = {}
    (root / "films" / "covid").mkdir(parents=True)
    (root / "films" / "normal").mkdir(parents=True)
    (root / "dicom").mkdir()
    (root / "broken").mkdir()
    (root / "other").mkdir()

    for label, n in (("covid", 2), ("normal", 2)):
        for src in _cxr(label, n):
            shutil.copyfile(src, root / "films" / label / src.name)
            expected[f"films/{label}/{src.name}"] = "ok"
    pneu = _cxr("pneumonia", 1)[0]
    shutil.copyfile(pneu, root / "films" / "IMG_0001")  # a JPEG without an extension: found by its bytes
    expected["films/IMG_0001"] = "ok"
    grey_rgb = cv2.cvtColor(cv2.imread(str(_cxr("normal", 3)[2]), cv2.IMREAD_GRAYSCALE), cv2.COLOR_GRAY2BGR)
    _write_png(root / "films" / "grey_saved_as_rgb.png", grey_rgb)  # colour container, grey content: in scope
    expected["films/grey_saved_as_rgb.png"] = "ok"

    for name in ("CR-MONO1-10-chest.dcm", "RG1_UNCR.dcm", "RG1_J2KR.dcm"):
        shutil.copyfile(DICOM / name, root / "dicom" / name)
        expected[f"dicom/{name}"] = "ok"
    shutil.copyfile(DICOM / "CR-MONO1-10-chest.dcm", root / "dicom" / "CHEST0002")  # no preamble, no extension
    expected["dicom/CHEST0002"] = "ok"

    data = (DICOM / "RG1_UNCR.dcm").read_bytes()
    (root / "broken" / "truncated.dcm").write_bytes(data[: len(data) // 3])
    (root / "broken" / "report.dcm").write_text("Chest PA: no acute cardiopulmonary process.\n")
    (root / "broken" / "empty.dcm").write_bytes(b"")
    shutil.copyfile(DICOM / "RG2_JPLY.dcm", root / "broken" / "RG2_JPLY.dcm")  # decoders reject its JPEG
    for name in ("truncated.dcm", "report.dcm", "empty.dcm", "RG2_JPLY.dcm"):
        expected[f"broken/{name}"] = "error"

    for name in ("RG2_RLE.dcm", "RG3_J2KI.dcm", "CR-ModalitySequenceLUT.dcm", "CR_tiny_1.dcm"):
        shutil.copyfile(DICOM / name, root / "other" / name)  # hip, tibia, teeth, 16 px cervical spine
        expected[f"other/{name}"] = "out_of_scope"
    yy, xx = np.mgrid[:400, :400].astype(np.float32)
    colour = np.dstack([xx / 400 * 255, yy / 400 * 255, (1 - xx / 400) * 255]).astype(np.uint8)
    _write_png(root / "other" / "colour_photo.png", colour)
    _write_png(root / "other" / "icon_32.png", cv2.resize(cv2.imread(str(pneu), cv2.IMREAD_GRAYSCALE), (32, 32)))
    _write_png(root / "other" / "banner.png", np.tile(np.linspace(0, 255, 1200, dtype=np.uint8), (300, 1)))
    _ct_slice(root / "other" / "ct_slice.dcm")
    _text_report(root / "other" / "SR000001")  # no extension: found by content, reported as no image
    for name in ("colour_photo.png", "icon_32.png", "banner.png", "ct_slice.dcm", "SR000001"):
        expected[f"other/{name}"] = "out_of_scope"

    (root / "other" / "README.txt").write_text("export notes, not an image\n")  # ignored, counted
    if symlink_loop and hasattr(os, "symlink"):
        os.symlink(root, root / "dicom" / "loop")  # dicom/loop -> the export itself
    return expected


def tree_digest(root: Path) -> dict[str, str]:
    """Every entry under ``root`` (links not followed) with the SHA-256 of its bytes or its link target."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            rel = p.relative_to(root).as_posix()
            if p.is_symlink():
                out[rel] = "link:" + os.readlink(p)
            elif p.is_file():
                out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
            else:
                out[rel] = "dir"
    return out
