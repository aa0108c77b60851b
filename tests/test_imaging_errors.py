"""Bad input: one exception type (UnreadableImageError) with a reason a radiologist understands."""

from __future__ import annotations

import re
import tracemalloc
from pathlib import Path

import numpy as np
import pydicom
import pytest
from dicom_builder import build_dicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.uid import BasicTextSRStorage, JPEG2000Lossless, MPEG2MPML, generate_uid

from cxviewer.imaging import UnreadableImageError, read_radiograph


def _fails(path: Path, *patterns: str) -> UnreadableImageError:
    with pytest.raises(UnreadableImageError) as info:
        read_radiograph(path)
    error = info.value
    assert error.path == path and str(error).startswith(f"{path.name}: ")
    for pattern in patterns:
        assert re.search(pattern, error.reason), f"{pattern!r} not in {error.reason!r}"
    return error


def _peak_mib(func) -> float:
    tracemalloc.start()
    try:
        func()
    except UnreadableImageError:
        pass
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def test_zero_byte_file(tmp_path):
    path = tmp_path / "empty.dcm"
    path.write_bytes(b"")
    _fails(path, "empty")


def test_text_file(tmp_path):
    path = tmp_path / "notes.dcm"
    path.write_text("Patient notes: chest clear.\nNo findings.\n")
    _fails(path, "not a DICOM file or a PNG, JPEG, WebP or TIFF image")


def test_missing_file_and_folder(tmp_path):
    _fails(tmp_path / "nope.dcm", "does not exist")
    _fails(tmp_path, "folder")


def test_truncated_uncompressed_pixel_data_gives_byte_counts(dicom_dir, tmp_path):
    data = (dicom_dir / "RG1_UNCR.dcm").read_bytes()
    path = tmp_path / "cut.dcm"
    path.write_bytes(data[:5_000_000])
    error = _fails(path, "truncated", r"1841 x 1955", r"needs 7,198,310 bytes")
    present = int(re.search(r"holds only ([\d,]+)", error.reason).group(1).replace(",", ""))
    assert 4_990_000 < present < 5_000_000


def test_truncated_compressed_pixel_data(dicom_dir, tmp_path):
    data = (dicom_dir / "RG1_J2KR.dcm").read_bytes()
    path = tmp_path / "cut.dcm"
    path.write_bytes(data[:2_000_000])
    _fails(path, "truncated", "2,000,000 bytes")


def test_truncated_header(dicom_dir, tmp_path):
    data = (dicom_dir / "RG1_UNCR.dcm").read_bytes()
    path = tmp_path / "cut.dcm"
    path.write_bytes(data[:1000])
    _fails(path, "no pixel data", "truncated", "1,000 bytes")


def test_dicom_without_pixel_data(tmp_path):
    ds = Dataset()
    ds.SOPClassUID, ds.SOPInstanceUID = BasicTextSRStorage, generate_uid()
    ds.PatientName = "Report^Only"
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = pydicom.uid.ExplicitVRLittleEndian
    path = tmp_path / "sr.dcm"
    pydicom.dcmwrite(path, ds, enforce_file_format=True)
    _fails(path, "holds no image", "Basic Text SR Storage")


def test_absurd_dimensions_fail_without_allocating(tmp_path):
    path = build_dicom(tmp_path / "huge.dcm", np.zeros((4, 4), np.uint16), Rows=60000, Columns=60000)
    _fails(path, "dimensions make no sense", "60000 x 60000")
    assert _peak_mib(lambda: read_radiograph(path)) < 20


def test_absurd_dimensions_compressed_fail_before_decoding(tmp_path):
    ds = Dataset()
    ds.SOPClassUID, ds.SOPInstanceUID = pydicom.uid.ComputedRadiographyImageStorage, generate_uid()
    ds.Rows = ds.Columns = 60000
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    ds.PixelData = encapsulate([b"\xff\x4f\xff\x51" + bytes(200)])
    ds["PixelData"].VR = "OB"
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = JPEG2000Lossless
    path = tmp_path / "huge_j2k.dcm"
    pydicom.dcmwrite(path, ds, enforce_file_format=True)
    _fails(path, "dimensions make no sense")
    assert _peak_mib(lambda: read_radiograph(path)) < 20


def test_large_header_with_little_data_is_truncated_with_counts(tmp_path):
    path = build_dicom(tmp_path / "liar.dcm", np.zeros((4, 4), np.uint16), Rows=6000, Columns=6000)
    _fails(path, "truncated", "needs 72,000,000 bytes", "holds only 32")
    assert _peak_mib(lambda: read_radiograph(path)) < 20


@pytest.mark.parametrize(
    "elements, pattern",
    [
        (dict(Rows=0), "dimensions make no sense"),
        (dict(BitsAllocated=12), "pixel format makes no sense"),
        (dict(BitsStored=17), "pixel format makes no sense"),
        (dict(SamplesPerPixel=4), "pixel format makes no sense"),
        (dict(NumberOfFrames=0), "number of frames makes no sense"),
        (dict(PhotometricInterpretation="HSV"), "Unsupported photometric interpretation 'HSV'"),
    ],
)
def test_nonsense_pixel_module(tmp_path, elements, pattern):
    path = build_dicom(tmp_path / "bad.dcm", np.zeros((4, 4), np.uint16), **elements)
    _fails(path, pattern)


def _with_transfer_syntax(tmp_path: Path, uid: str) -> Path:
    path = build_dicom(tmp_path / "ts.dcm", np.zeros((4, 4), np.uint16))
    ds = pydicom.dcmread(path)
    ds.file_meta.TransferSyntaxUID = uid
    ds.PixelData = encapsulate([bytes(64)])
    pydicom.dcmwrite(path, ds, enforce_file_format=True)
    return path


def test_unknown_transfer_syntax(tmp_path):
    _fails(_with_transfer_syntax(tmp_path, "1.2.3.4.5"), "1.2.3.4.5", "not a transfer syntax")


def test_unsupported_transfer_syntax_is_named(tmp_path):
    _fails(_with_transfer_syntax(tmp_path, MPEG2MPML), "MPEG2 Main Profile / Main Level", "not supported")


def test_undecodable_compressed_data_is_named(tmp_path):
    _fails(_with_transfer_syntax(tmp_path, JPEG2000Lossless), r"JPEG 2000 Image Compression \(Lossless Only\)", "could not be decoded")


def test_compressed_data_without_transfer_syntax(tmp_path):
    ds = Dataset()
    ds.SOPClassUID, ds.SOPInstanceUID = pydicom.uid.ComputedRadiographyImageStorage, generate_uid()
    ds.Rows = ds.Columns = 4
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    ds.PixelData = encapsulate([bytes(16)])
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True
    path = tmp_path / "raw_encaps.dcm"
    pydicom.dcmwrite(path, ds, implicit_vr=True, little_endian=True, enforce_file_format=False)
    _fails(path, "compressed but the file does not say how")


def test_png_with_absurd_header(tmp_path):
    import cv2

    ok, png = cv2.imencode(".png", np.zeros((4, 4), np.uint8))
    data = bytearray(png.tobytes())
    data[16:24] = (60000).to_bytes(4, "big") * 2  # IHDR width, height (CRC now wrong, never reached)
    path = tmp_path / "huge.png"
    path.write_bytes(bytes(data))
    _fails(path, "dimensions make no sense", "60000 x 60000")


def test_truncated_png(tmp_path):
    import cv2

    ok, png = cv2.imencode(".png", (np.random.default_rng(0).random((200, 200)) * 255).astype(np.uint8))
    path = tmp_path / "cut.png"
    path.write_bytes(png.tobytes()[:300])
    _fails(path, "PNG image but cannot be decoded")
