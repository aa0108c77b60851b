"""The 17 real CR files of ../shared/data/dicom: every one exports or fails with its clear message.

Expected values come from that folder's README (read with pydicom by its authors), so these tests
check CXViewer against facts established independently of it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import cv2
import numpy as np
import pydicom
import pytest
from display_reference import modality, to_display, voi_linear
from pydicom.pixels import apply_modality_lut, pixel_array

from cxviewer.cli import main
from cxviewer.imaging import UnreadableImageError, read_radiograph, render_display

# name: (photometric, rows, cols, first window (c, w) or None, pixel spacing)
EXPECTED = {
    "CR-MONO1-10-chest": ("MONOCHROME1", 440, 440, (550, 1024), None),
    "CR-ModalitySequenceLUT": ("MONOCHROME1", 1576, 1976, None, (0.15, 0.15)),
    "CR_tiny_1": ("MONOCHROME1", 16, 16, (1600, 2800), (0.1, 0.1)),
    "CR_tiny_2": ("MONOCHROME1", 16, 16, (1600, 2800), (0.1, 0.1)),
    "CR_tiny_3": ("MONOCHROME1", 16, 16, (1600, 2800), (0.1, 0.1)),
    "RG1_UNCR": ("MONOCHROME1", 1955, 1841, (15000, 30000), None),
    "RG1_J2KR": ("MONOCHROME1", 1955, 1841, (15000, 30000), None),
    "RG1_J2KI": ("MONOCHROME1", 1955, 1841, (15000, 30000), None),
    "RG1_JLSN": ("MONOCHROME1", 1955, 1841, (15000, 30000), None),
    "RG2_JPLL": ("MONOCHROME2", 2140, 1760, (511, 1024), (0.2, 0.2)),
    "RG2_RLE": ("MONOCHROME2", 2140, 1760, (511, 1024), (0.2, 0.2)),
    "RG2_JLSL": ("MONOCHROME2", 2140, 1760, (511, 1024), (0.2, 0.2)),
    "RG2_J2KR": ("MONOCHROME2", 2140, 1760, (511, 1024), (0.2, 0.2)),
    "RG3_J2KI": ("MONOCHROME1", 1760, 1760, (550, 1024), None),
    "RG3_JLSN": ("MONOCHROME1", 1760, 1760, (550, 1024), None),
}
# Files no decoder can read (JPEG Extended, 12-bit, invalid SOS): they must fail clearly.
UNDECODABLE = {"RG2_JPLY", "RG3_JPLY"}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _all_files() -> list[str]:
    folder = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "dicom"
    return sorted(p.stem for p in folder.glob("*.dcm")) or sorted(EXPECTED | dict.fromkeys(UNDECODABLE))


def test_every_shared_file_is_covered(dicom_dir):
    assert {p.stem for p in dicom_dir.glob("*.dcm")} == set(EXPECTED) | UNDECODABLE


@pytest.mark.parametrize("name", _all_files())
def test_export_or_clear_failure(dicom_dir, tmp_path, capsys, name):
    source = dicom_dir / f"{name}.dcm"
    before = _sha256(source)
    out = tmp_path / f"{name}.png"
    code = main(["export", str(source), "-o", str(out)])
    err = capsys.readouterr().err
    assert _sha256(source) == before  # the input is never touched
    if name in UNDECODABLE:
        assert code != 0 and not out.exists()
        assert "JPEG Extended (Process 2 & 4)" in err and "1.2.840.10008.1.2.4.51" in err
        assert "could not be decoded" in err and name in err
        return
    assert code == 0, err
    photometric, rows, cols, window, spacing = EXPECTED[name]
    png = cv2.imread(str(out), cv2.IMREAD_UNCHANGED)
    assert png.dtype == np.uint8 and png.shape == (rows, cols)  # 8-bit grey, native resolution
    assert png.std() > 5  # a real picture, not a flat field
    rad = read_radiograph(source)
    assert np.array_equal(png, render_display(rad))
    assert rad.photometric == photometric
    assert rad.pixel_spacing == spacing
    assert rad.modality == "CR" and rad.source_format == "DICOM"
    first = (rad.voi_presets[0].center, rad.voi_presets[0].width) if rad.voi_presets else None
    assert first == window


def test_undecodable_raises_unreadable_image_error(dicom_dir):
    for name in sorted(UNDECODABLE):
        with pytest.raises(UnreadableImageError, match=r"JPEG Extended \(Process 2 & 4\)") as info:
            read_radiograph(dicom_dir / f"{name}.dcm")
        assert info.value.path == dicom_dir / f"{name}.dcm"


def test_lossless_variants_decode_identically(dicom_dir):
    rg1 = read_radiograph(dicom_dir / "RG1_UNCR.dcm").pixels
    assert np.array_equal(read_radiograph(dicom_dir / "RG1_J2KR.dcm").pixels, rg1)
    rg2 = [read_radiograph(dicom_dir / f"RG2_{v}.dcm").pixels for v in ("JPLL", "RLE", "JLSL", "J2KR")]
    assert rg2[0].shape == (2140, 1760) and rg2[0].max() == 893
    for other in rg2[1:]:
        assert np.array_equal(other, rg2[0])


def test_uncompressed_reference_matches_plain_pydicom(dicom_dir):
    """RG1_UNCR needs no codec: CXViewer's pixels are exactly pydicom's stored values."""
    expected = pydicom.dcmread(dicom_dir / "RG1_UNCR.dcm").pixel_array
    assert np.array_equal(read_radiograph(dicom_dir / "RG1_UNCR.dcm").pixels, expected)


@pytest.mark.parametrize("name, max_abs", [("RG1_J2KI", None), ("RG1_JLSN", 4)])
def test_lossy_variants_stay_close(dicom_dir, name, max_abs):
    reference = read_radiograph(dicom_dir / "RG1_UNCR.dcm")
    lossy = read_radiograph(dicom_dir / f"{name}.dcm")
    diff = np.abs(lossy.pixels.astype(np.int32) - reference.pixels.astype(np.int32))
    assert diff.mean() <= 0.005 * 30000  # under 0.5 % of the header window width
    if max_abs is not None:
        assert diff.max() <= max_abs  # near-lossless: bounded error
    shown = np.abs(render_display(lossy).astype(int) - render_display(reference).astype(int))
    assert shown.mean() <= 1.0  # on screen: under one grey level on average


def test_acr_nema_file_without_meta_is_read(dicom_dir):
    path = dicom_dir / "CR-MONO1-10-chest.dcm"
    assert path.read_bytes()[128:132] != b"DICM"
    rad = read_radiograph(path)
    assert rad.pixels.shape == (440, 440) and (rad.pixels.min(), rad.pixels.max()) == (0, 979)
    assert rad.transfer_syntax.startswith("Implicit VR Little Endian")
    assert rad.view_position == "PA" and rad.body_part == "CHEST" and rad.instance_number == 16


def test_modality_lut_sequence_takes_precedence(dicom_dir):
    """Compare with pydicom's own modality transform on pydicom-decoded stored values."""
    path = dicom_dir / "CR-ModalitySequenceLUT.dcm"
    ds = pydicom.dcmread(path)
    assert "ModalityLUTSequence" in ds and ds.RescaleSlope == 1  # both present: the sequence wins
    expected = apply_modality_lut(pixel_array(ds), ds)
    rad = read_radiograph(path)
    assert np.array_equal(rad.pixels, expected)
    assert rad.voi_presets == []  # no window: full range of modality values
    u8 = render_display(rad)
    lo, hi = float(expected.min()), float(expected.max())
    assert u8[expected == lo].min() == 255 and u8[expected == hi].max() == 0  # MONOCHROME1: low = white


def test_rescale_slope_intercept_real_file(dicom_dir):
    path = dicom_dir / "CR_tiny_1.dcm"
    ds = pydicom.dcmread(path)
    rad = read_radiograph(path)
    np.testing.assert_allclose(rad.pixels, ds.pixel_array * 0.684 + 200, rtol=1e-6)
    assert 1563 < rad.pixels.min() and rad.pixels.max() < 2117  # README: about 1564..2117


@pytest.mark.parametrize("name", ["RG1_UNCR", "CR-MONO1-10-chest", "RG2_RLE", "CR_tiny_2"])
def test_real_display_matches_reference(dicom_dir, name):
    """Default display of real files vs the per-pixel reference, on a sample of pixels."""
    ds = pydicom.dcmread(dicom_dir / f"{name}.dcm", force=True)
    if "TransferSyntaxUID" not in ds.file_meta:
        ds.file_meta.TransferSyntaxUID = pydicom.uid.ImplicitVRLittleEndian
    stored = ds.pixel_array
    slope, intercept = float(ds.get("RescaleSlope", 1)), float(ds.get("RescaleIntercept", 0))
    c, w = float(ds.WindowCenter), float(ds.WindowWidth)
    mono1 = ds.PhotometricInterpretation == "MONOCHROME1"
    rng = np.random.default_rng(0)
    rows = rng.integers(0, stored.shape[0], 4000)
    cols = rng.integers(0, stored.shape[1], 4000)
    expected = np.array([to_display(voi_linear(modality(int(stored[r, q]), slope, intercept), c, w), mono1) for r, q in zip(rows, cols)])
    actual = render_display(read_radiograph(dicom_dir / f"{name}.dcm"))[rows, cols].astype(int)
    diff = np.abs(actual - expected)
    assert diff.mean() <= 1.5 and diff.max() <= 1


def test_header_fields(dicom_dir):
    rad = read_radiograph(dicom_dir / "RG1_J2KR.dcm")
    assert rad.patient_name == "CompressedSamples^RG1" and rad.patient_id == "9RG1"
    assert (rad.patient_birth_date, rad.patient_sex) == ("19400305", "F")
    assert rad.study_uid == "1.3.6.1.4.1.5962.1.2.9.20040826185059.5457"
    assert (rad.study_date, rad.study_time, rad.study_description) == ("20040826", "185059", "THORAX")
    assert (rad.series_number, rad.instance_number, rad.accession_number) == (1, 2, "exam Number")
    assert (rad.body_part, rad.view_position) == ("CHEST", "PA")
    assert rad.header is not None and "PixelData" not in rad.header and rad.header.Rows == 1955
    assert rad.voi_function == "LINEAR" and rad.frame_count == 1 and not rad.was_color
