"""Native unsigned pixel data with unused high bits is read with one AND from a view of the file's bytes instead of
pydicom's copy and two shifts (issue 16: a film's read): the values are pydicom's own, the high bits (overlays,
garbage) are cleared, and the array is the reader's own, writable and not a view of the data set's bytes."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest
from dicom_builder import build_dicom
from pydicom.pixels import pixel_array

from cxviewer.imaging import dicom_reader, read_radiograph


def _pydicom_values(path):
    return pixel_array(pydicom.dcmread(path, force=True), index=0)  # pydicom's own unused-bit correction


@pytest.mark.parametrize("dtype,bits", [(np.uint16, 12), (np.uint16, 15), (np.uint8, 6)])
def test_high_bits_are_cleared_as_pydicom_does(tmp_path, dtype, bits):
    rng = np.random.default_rng(bits)
    top = np.iinfo(dtype).max
    stored = rng.integers(0, top, (300, 257), dtype=dtype, endpoint=True)  # garbage in the unused bits too
    path = build_dicom(tmp_path / "film.dcm", stored, bits_stored=bits)
    ds = pydicom.dcmread(path, force=True)
    assert dicom_reader._unsigned_with_unused_bits(ds, ds.file_meta.TransferSyntaxUID)
    rad = read_radiograph(path)
    assert np.array_equal(rad.pixels, stored & ((1 << bits) - 1))
    assert np.array_equal(rad.pixels, _pydicom_values(path))
    assert rad.pixels.flags.writeable and rad.pixels.flags.owndata


def test_signed_and_full_width_data_keep_pydicom_s_path(tmp_path):
    signed = build_dicom(tmp_path / "signed.dcm", np.array([[-5, 2047], [-2048, 0]] * 8, np.int16), bits_stored=12)
    full = build_dicom(tmp_path / "full.dcm", np.arange(64, dtype=np.uint16).reshape(8, 8))
    for path in (signed, full):
        ds = pydicom.dcmread(path, force=True)
        assert not dicom_reader._unsigned_with_unused_bits(ds, ds.file_meta.TransferSyntaxUID)
    assert read_radiograph(signed).pixels.min() < 0  # sign-extended from 12 bits by pydicom


def test_every_native_shared_film_reads_as_pydicom_decodes_it(dicom_dir):
    fast = 0
    for path in sorted(dicom_dir.glob("*.dcm")):
        ds = pydicom.dcmread(path, force=True)
        uid = getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", None)
        if uid is None or not dicom_reader._unsigned_with_unused_bits(ds, uid):
            continue
        fast += 1
        rad = read_radiograph(path)
        frame = _pydicom_values(path)
        assert np.array_equal(dicom_reader._decode_here(ds, uid, path), frame), path.name
        assert rad.pixels.shape == frame.shape, path.name
    assert fast >= 1  # RG1_UNCR at least: 15 of 16 bits stored
