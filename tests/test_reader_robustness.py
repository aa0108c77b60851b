"""Hostile DICOM files: decoder crashes, hangs and bombs stay out of the reader's process.

The reader's contract: every failure is an UnreadableImageError with a reason for a person, and
what it accepts is one 2-D frame of finite values that the display can draw.
"""

from __future__ import annotations


import os
import resource
import shutil
import struct
import time
import zlib
from pathlib import Path

import numpy as np
import pydicom
import pytest
from dicom_builder import build_dicom
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset, write_file_meta_info
from pydicom.uid import DeflatedExplicitVRLittleEndian

from cxviewer.imaging import UnreadableImageError, read_radiograph, render_display
from cxviewer.imaging.decode_pool import DecodeFailure, DecodePool
from cxviewer.imaging.dicom_reader import _pixel_module


def _rewrite(source: Path, out: Path, **changes) -> Path:
    ds = pydicom.dcmread(source)
    for keyword, value in changes.items():
        setattr(ds, keyword, value)
    ds.save_as(out, enforce_file_format=False)
    return out


@pytest.mark.parametrize("name", ["RG2_JLSL.dcm", "RG1_JLSN.dcm", "RG3_JLSN.dcm"])
def test_jpeg_ls_header_claiming_one_more_row_is_refused_before_decoding(dicom_dir, tmp_path, name):
    # GDCM aborted the whole process on these (issue 15): the SOF55 check refuses them first.
    ds = pydicom.dcmread(dicom_dir / name)
    path = _rewrite(dicom_dir / name, tmp_path / name, Rows=ds.Rows + 1)
    with pytest.raises(UnreadableImageError) as info:
        read_radiograph(path)
    assert "do not match the header" in info.value.reason
    assert f"holds {ds.Columns} x {ds.Rows} pixels but the DICOM header says {ds.Columns} x {ds.Rows + 1}" in info.value.reason


def test_jpeg_lossless_with_32_bits_allocated_is_refused(dicom_dir, tmp_path):
    path = _rewrite(dicom_dir / "RG2_JPLL.dcm", tmp_path / "jpll32.dcm", BitsAllocated=32)
    with pytest.raises(UnreadableImageError, match="must have 8 or 16 bits allocated"):
        read_radiograph(path)


def test_a_decoder_abort_kills_only_its_worker(dicom_dir):
    """Feed GDCM the lying JPEG-LS header directly (no codestream check): it aborts the worker,
    the decode fails with a reason, and the pool's next decode works."""
    pool = DecodePool(size=1)
    try:
        ds = pydicom.dcmread(dicom_dir / "RG2_JLSL.dcm")
        good = _pixel_module(ds, ds.file_meta.TransferSyntaxUID)
        bad = _pixel_module(ds, ds.file_meta.TransferSyntaxUID)
        bad.Rows = ds.Rows + 1
        with pytest.raises(DecodeFailure, match="the JPEG-LS decoder crashed on this file"):
            pool.decode(bad, 0, "JPEG-LS")
        assert pool.deaths == 1
        pixels = pool.decode(good, 0, "JPEG-LS")
        assert pixels.shape == (ds.Rows, ds.Columns)
        reference = pydicom.dcmread(dicom_dir / "RG2_JPLL.dcm").pixel_array  # same image, JPEG Lossless
        assert np.array_equal(pixels, reference)
    finally:
        pool.close()


def test_a_decode_past_its_time_is_stopped_and_the_pool_goes_on(dicom_dir):
    pool = DecodePool(size=1, timeout_s=0.05)
    try:
        ds = pydicom.dcmread(dicom_dir / "RG1_J2KR.dcm")
        module = _pixel_module(ds, ds.file_meta.TransferSyntaxUID)
        started = time.monotonic()
        with pytest.raises(DecodeFailure, match="did not finish within"):
            pool.decode(module, 0, "JPEG 2000")  # a worker start alone takes longer than 50 ms
        assert time.monotonic() - started < 10
        assert pool.decode(module, 0, "JPEG 2000", timeout_s=120).shape == (1955, 1841)
    finally:
        pool.close()


def test_a_decode_over_the_memory_limit_fails_with_a_reason(dicom_dir):
    pool = DecodePool(size=1, memory_limit=8 << 20)  # the 1955 x 1841 frame alone is 7 MB
    try:
        ds = pydicom.dcmread(dicom_dir / "RG1_J2KR.dcm")
        with pytest.raises(DecodeFailure) as info:
            pool.decode(_pixel_module(ds, ds.file_meta.TransferSyntaxUID), 0, "JPEG 2000")
        assert any(word in info.value.reason for word in ("memory", "crashed", "could not", "Error")), info.value.reason
    finally:
        pool.close()


def _deflated_file(path: Path, bomb: int, where: str) -> tuple[Path, int]:
    """A deflated CR whose data set holds a zero-filled private OB element of ``bomb`` bytes,
    before or after the pixel data (written in pieces: the zeros never exist in memory).
    Returns the file and where its deflate stream starts."""
    ds = pydicom.Dataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.1"
    ds.SOPInstanceUID = pydicom.uid.generate_uid()
    ds.Modality = "CR"
    ds.Rows = ds.Columns = 64
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    header = DicomBytesIO()
    header.is_little_endian, header.is_implicit_VR = True, False
    write_dataset(header, ds)
    pixels = np.arange(64 * 64, dtype="<u2").reshape(64, 64) % 4096
    pixel_element = struct.pack("<HH2sHI", 0x7FE0, 0x0010, b"OW", 0, pixels.nbytes) + pixels.tobytes()
    group = 0x7FDF if where == "before" else 0x7FE1
    creator = struct.pack("<HH2sH", group, 0x0010, b"LO", 8) + b"BOMBTEST"
    bomb_head = struct.pack("<HH2sHI", group, 0x1000, b"OB", 0, bomb)
    deflater = zlib.compressobj(1, zlib.DEFLATED, -zlib.MAX_WBITS)
    out = bytearray()

    def emit(data: bytes) -> None:
        out.extend(deflater.compress(data))

    emit(header.getvalue())
    if where == "after":
        emit(pixel_element)
    emit(creator + bomb_head)
    zeros = bytes(16 << 20)
    for _ in range(bomb // len(zeros)):
        emit(zeros)
    if where == "before":
        emit(pixel_element)
    out.extend(deflater.flush())
    meta = pydicom.dataset.FileMetaDataset()
    meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID = ds.SOPClassUID, ds.SOPInstanceUID
    meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
    buffer = DicomBytesIO()
    buffer.is_little_endian, buffer.is_implicit_VR = True, False
    write_file_meta_info(buffer, meta)
    path.write_bytes(b"\0" * 128 + b"DICM" + buffer.getvalue() + bytes(out))
    return path, 132 + len(buffer.getvalue())


@pytest.mark.parametrize("where", ["before", "after"])
def test_a_deflate_bomb_is_refused_quickly_and_in_little_memory(tmp_path, where):
    path, _ = _deflated_file(tmp_path / "bomb.dcm", 256 << 20, where)
    assert path.stat().st_size < 2_000_000  # 256 MiB of zeros
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    with pytest.raises(UnreadableImageError, match="decompression bomb"):
        read_radiograph(path)
    assert time.monotonic() - started < 20
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mib < 400, f"peak memory grew by {grown_mib:.0f} MiB"


def test_a_plain_deflated_file_reads_as_written(tmp_path):
    path, _ = _deflated_file(tmp_path / "small.dcm", 0, "before")
    rad = read_radiograph(path)
    assert rad.pixels.shape == (64, 64)
    assert np.array_equal(rad.pixels, np.arange(64 * 64).reshape(64, 64) % 4096)
    assert "Deflated" in rad.transfer_syntax


def test_damaged_deflate_stream_is_refused(tmp_path):
    path, start = _deflated_file(tmp_path / "small.dcm", 0, "before")
    data = bytearray(path.read_bytes())
    data[start : start + 8] = b"\xff" * 8  # block type 3: reserved
    path.write_bytes(bytes(data))
    with pytest.raises(UnreadableImageError):
        read_radiograph(path)


def test_palette_colour_without_its_tables_is_refused(tmp_path):
    path = build_dicom(tmp_path / "palette.dcm", np.zeros((8, 8), np.uint8), photometric="PALETTE COLOR")
    with pytest.raises(UnreadableImageError):
        read_radiograph(path)


def test_rgb_on_one_sample_data_is_refused_with_a_reason(tmp_path):
    path = build_dicom(tmp_path / "rgb.dcm", np.zeros((8, 8), np.uint8), photometric="RGB")
    with pytest.raises(UnreadableImageError, match="3 sample"):
        read_radiograph(path)


def test_one_pixel_image_is_shown(tmp_path):
    for dtype in (np.uint8, np.uint16, np.int16):
        path = build_dicom(tmp_path / f"one-{np.dtype(dtype).name}.dcm", np.full((1, 1), 7, dtype))
        rad = read_radiograph(path)
        assert rad.pixels.shape == (1, 1)
        assert render_display(rad).shape == (1, 1)
        assert render_display(rad, (7, 10)).shape == (1, 1)


def test_rescale_out_of_range_never_reaches_the_display(tmp_path):
    stored = np.arange(64, dtype=np.uint16).reshape(8, 8)
    for intercept in ("1e300", "-1e300", "1e38"):
        path = build_dicom(tmp_path / "rescale.dcm", stored, RescaleSlope="1", RescaleIntercept=intercept)
        try:
            rad = read_radiograph(path)
        except UnreadableImageError as exc:
            assert "not finite" in exc.reason
            continue
        shown = render_display(rad)
        assert shown.shape == (8, 8) and shown.dtype == np.uint8


def test_more_pixel_data_than_frames_gives_the_first_frame(tmp_path):
    path = build_dicom(tmp_path / "extra.dcm", np.ones((2, 2), np.uint16), pixel_data=np.arange(40, dtype="<u2").tobytes())
    rad = read_radiograph(path)
    assert rad.pixels.shape == (2, 2)
    assert rad.pixels.tolist() == [[0, 1], [2, 3]]



def test_a_file_sent_ahead_by_name_is_read_and_decoded_in_the_worker(dicom_dir, tmp_path):
    """decode_ahead: the worker reads the file itself; the decode that names it as its source collects those
    pixels. The data set passed with it is not even looked at (None here), so the pixels can only be the ones
    the worker decoded from the file. A file changed since it was sent is decoded again from what is passed."""
    film = tmp_path / "film.dcm"
    shutil.copy(dicom_dir / "RG1_J2KR.dcm", film)
    reference = pydicom.dcmread(dicom_dir / "RG1_J2KR.dcm").pixel_array
    pool = DecodePool(size=1)
    try:
        pool.decode_ahead(film)
        assert np.array_equal(pool.decode(None, 0, "JPEG 2000", source=film), reference)
        pool.decode_ahead(film)
        shutil.copy(dicom_dir / "RG2_J2KR.dcm", film)  # another film under the same name
        os.utime(film, ns=(time.time_ns(), time.time_ns() + 10**9))
        other = pydicom.dcmread(film)
        pixels = pool.decode(_pixel_module(other, other.file_meta.TransferSyntaxUID), 0, "JPEG 2000", source=film)
        assert np.array_equal(pixels, other.pixel_array)
        assert pool.deaths == 0 and len(pool.worker_pids()) == 1
    finally:
        pool.close()


def test_a_file_sent_ahead_gets_the_readers_checks_in_the_worker_and_is_released_unread(dicom_dir, tmp_path):
    """The lying JPEG-LS header that aborted GDCM (issue 15) is refused by the worker's own codestream check;
    a decode sent ahead and never collected is released: the one-worker pool decodes the next file."""
    ds = pydicom.dcmread(dicom_dir / "RG2_JLSL.dcm")
    lying = _rewrite(dicom_dir / "RG2_JLSL.dcm", tmp_path / "lying.dcm", Rows=ds.Rows + 1)
    pool = DecodePool(size=1)
    try:
        pool.warm_up()
        (pid,) = pool.worker_pids()
        pool.decode_ahead(lying)
        pool.drop_ahead(lying)  # the reader refused it here first: nobody collects it
        assert pool.worker_pids() == [pid] and pool.deaths == 0  # the worker refused it too: GDCM never saw it
        with pytest.raises(UnreadableImageError, match="do not match the header"):
            read_radiograph(lying)  # (the reader's own message for it)
        good = _pixel_module(ds, ds.file_meta.TransferSyntaxUID)
        assert pool.decode(good, 0, "JPEG-LS", timeout_s=120).shape == (ds.Rows, ds.Columns)
    finally:
        pool.close()


def test_a_film_sent_ahead_that_its_decoder_cannot_decode_is_decoded_once(dicom_dir, tmp_path):
    """A JPEG 2000 codestream damaged past its header: the worker's decode fails, and that failure is the answer
    (a decoder failure with the decoder's reason), not a reason to send the file to a second decode."""
    data = bytearray((dicom_dir / "RG1_J2KR.dcm").read_bytes())
    start = data.find(b"\xff\x4f\xff\x51")  # the codestream's SOC and SIZ markers
    for k in range(start + 400, len(data) - 400, 5):
        data[k] = 0xFF
    bad = tmp_path / "damaged.dcm"
    bad.write_bytes(bytes(data))
    pool = DecodePool(size=1)
    taken = []
    take = pool._take
    pool._take = lambda: taken.append(1) or take()  # type: ignore[method-assign]
    try:
        pool.decode_ahead(bad)
        ds = pydicom.dcmread(bad)
        with pytest.raises(DecodeFailure) as failure:
            pool.decode(_pixel_module(ds, ds.file_meta.TransferSyntaxUID), 0, "JPEG 2000", source=bad)
        assert "Unexpected tag" in failure.value.reason  # pydicom's own reason, passed on
        assert len(taken) == 1 and pool.deaths == 0
    finally:
        pool.close()
    with pytest.raises(UnreadableImageError, match="could not be decoded"):
        read_radiograph(bad)  # the reader's message for the same file
