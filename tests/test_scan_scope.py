"""Scope rules: what the header and the pixels say about "is this a frontal chest radiograph"."""

from __future__ import annotations


import cv2
import numpy as np
import pytest
from scan_corpus import CXR, DICOM, needs_shared

from cxviewer.imaging import read_radiograph
from cxviewer.imaging.colour import chroma
from cxviewer.model.scope import anatomy_problem, geometry_problem, modality_problem, scope_problem


@pytest.mark.parametrize(
    "body_part, descriptions, in_scope",
    [
        ("CHEST", [], True),
        ("THORAX", ["XR C-SPINE"], True),  # the body part says chest: it wins
        ("", ["Chest PA and lateral"], True),
        ("", ["MODALITYLUT - TEETH"], False),
        ("", ["XR L SPINE 2 VIEWS"], False),
        ("C-SPINE", [], False),
        ("CSPINE", [], False),
        ("HIP", ["HIP JOINT"], False),
        ("EXTREMITY", [], False),
        ("SKULL", [], False),
        ("PORTABLE", ["ICU bedside"], True),  # an unfamiliar value: not guessed at
        ("", [], True),
        ("", ["Chest and abdomen"], True),
    ],
)
def test_anatomy(body_part, descriptions, in_scope):
    assert (anatomy_problem(body_part, descriptions) is None) is in_scope


@pytest.mark.parametrize("modality, in_scope", [("CR", True), ("DX", True), ("", True), ("CT", False),
                                                ("MR", False), ("MG", False), ("US", False), ("XX", False)])
def test_modality(modality, in_scope):
    assert (modality_problem(modality) is None) is in_scope


def test_geometry():
    assert geometry_problem(2048, 2500) is None
    assert geometry_problem(751, 873) is None
    assert geometry_problem(1000, 1780) is None  # wide but still a film shape
    assert "too small" in geometry_problem(64, 512)
    assert "aspect" in geometry_problem(300, 1200)


@needs_shared
def test_chroma_separates_grey_saved_as_colour_from_colour():
    grey = cv2.imread(str(sorted((CXR / "normal").glob("*.jpg"))[0]), cv2.IMREAD_GRAYSCALE)
    as_bgr = cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)
    ok, buf = cv2.imencode(".jpg", as_bgr, [cv2.IMWRITE_JPEG_QUALITY, 80])
    recoded = cv2.imdecode(buf, cv2.IMREAD_COLOR)  # JPEG chroma noise on a grey film
    assert chroma(recoded) < 12
    tinted = as_bgr.copy()
    tinted[..., 2] = np.clip(tinted[..., 2].astype(int) + 60, 0, 255)
    assert chroma(tinted) > 12


@needs_shared
def test_real_files(tmp_path):
    assert scope_problem(read_radiograph(DICOM / "RG1_UNCR.dcm")) is None
    assert scope_problem(read_radiograph(DICOM / "CR-MONO1-10-chest.dcm")) is None
    assert "HIP" in scope_problem(read_radiograph(DICOM / "RG2_RLE.dcm"))
    assert "TEETH" in scope_problem(read_radiograph(DICOM / "CR-ModalitySequenceLUT.dcm"))
    # a grey JPEG film re-encoded as a colour JPEG stays in scope; a tinted one does not
    grey = cv2.imread(str(sorted((CXR / "covid").glob("*.jpg"))[0]), cv2.IMREAD_GRAYSCALE)
    bgr = cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)
    cv2.imwrite(str(tmp_path / "grey.jpg"), bgr, [cv2.IMWRITE_JPEG_QUALITY, 75])
    bgr[..., 0] = np.clip(bgr[..., 0].astype(int) + 80, 0, 255)
    cv2.imwrite(str(tmp_path / "blue.jpg"), bgr)
    assert scope_problem(read_radiograph(tmp_path / "grey.jpg")) is None
    assert "Colour" in scope_problem(read_radiograph(tmp_path / "blue.jpg"))
