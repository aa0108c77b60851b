"""Read a DICOM file (with or without preamble and file meta) into a Radiograph.

Order of work: parse the header (a deflated data set inflated with a bound, ``deflate.py``),
settle the transfer syntax (inferred from the encoding when the file has no meta, as in old
ACR-NEMA style files), check the image geometry against the bytes actually present and a
compressed frame's own header against the DICOM header (before any decoder allocates), decode
the first frame (compressed data in a supervised worker process, ``decode_pool.py``), then apply
the modality transform.

The contract: every failure is an UnreadableImageError, and what comes back is a 2-D image of
finite values that the display can show.
"""

from __future__ import annotations

import logging
import math
import re
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.pixels import get_decoder, pixel_array
from pydicom.uid import UID, ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

from cxviewer.imaging.codestream import check_codestream, codec_name, first_fragment
from cxviewer.imaging.decode_pool import DecodeFailure, WorkerUnavailable, pool
from cxviewer.imaging.deflate import InflationError, read_deflated
from cxviewer.imaging.dicom_header import metadata, pixel_spacing, voi_function, voi_presets
from cxviewer.imaging.errors import NonImageObjectError, UnreadableImageError
from cxviewer.imaging.modality import modality_transform, padding_range
from cxviewer.imaging.radiograph import Radiograph

log = logging.getLogger(__name__)

# Largest frame accepted (pixels): far beyond any radiograph (a stitched long-leg CR is ~75 MP),
# and small enough that a lying header cannot make a decoder allocate gigabytes.
MAX_PIXELS = 100_000_000

_GREY = ("MONOCHROME1", "MONOCHROME2")
_COLOUR = ("RGB", "YBR_FULL", "YBR_FULL_422", "YBR_ICT", "YBR_RCT", "PALETTE COLOR")
_PIXEL_DATA_TAG = b"\xe0\x7f\x10\x00"  # (7FE0,0010) little endian
_ALL_PLUGINS_FAILED = "Unable to decode as exceptions were raised by all available plugins:"


def transfer_syntax_name(uid: str) -> str:
    """The standard's name of a transfer syntax (PS3.6 writes "Process 2 & 4"), with its UID."""
    name = UID(uid).name
    if name == uid:
        return f"unknown transfer syntax {uid}"
    name = re.sub(r"Process (\d+) and (\d+)", r"Process \1 & \2", name)
    return f"{name} ({uid})"


def _fail(reason: str, path: Path) -> UnreadableImageError:
    return UnreadableImageError(reason, path)


def _read_dataset(path: Path) -> Dataset:
    try:
        return read_deflated(path) or pydicom.dcmread(path, force=True)
    except InflationError as exc:
        raise _fail(str(exc), path) from None
    except Exception as exc:  # pydicom raises many types for damaged files
        raise _fail(f"The DICOM header is damaged and cannot be read ({type(exc).__name__}: {exc}).", path) from exc


def _settle_transfer_syntax(ds: Dataset, path: Path) -> UID:
    """The transfer syntax, set in file meta when the file has none (inferred from its encoding)."""
    uid = ds.file_meta.get("TransferSyntaxUID") if hasattr(ds, "file_meta") else None
    if uid:
        uid = UID(str(uid))
        if not uid.is_transfer_syntax:
            raise _fail(f"The file gives {transfer_syntax_name(uid)} as its transfer syntax, which is not a transfer syntax.", path)
        return uid
    if ds["PixelData"].is_undefined_length:
        raise _fail(
            "The pixel data are compressed but the file does not say how (no transfer syntax in a file "
            "without DICOM file meta information).",
            path,
        )
    implicit, little = ds.original_encoding
    uid = ImplicitVRLittleEndian if implicit else (ExplicitVRLittleEndian if little is not False else ExplicitVRBigEndian)
    if not hasattr(ds, "file_meta") or ds.file_meta is None:
        ds.file_meta = pydicom.dataset.FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = uid
    return uid


def _no_pixel_data(ds: Dataset, path: Path) -> UnreadableImageError:
    if "FloatPixelData" in ds or "DoubleFloatPixelData" in ds:
        return _fail("The image holds floating-point pixel data, which CXViewer does not display.", path)
    data = path.read_bytes()
    if _PIXEL_DATA_TAG in data[132:]:
        return _fail(
            f"The pixel data are truncated: the file ({len(data):,} bytes) ends inside the compressed "
            "image data, before its end marker.",
            path,
        )
    kind = UID(str(ds.get("SOPClassUID", ""))).name if ds.get("SOPClassUID") else ""
    if "Image" in kind:
        return _fail(f"This '{kind}' file has no pixel data: it is probably truncated (it ends after {len(data):,} bytes).", path)
    if kind and kind != str(ds.get("SOPClassUID", "")):  # a class the standard names: not a broken film
        return NonImageObjectError(f"The DICOM file holds no image: it is a '{kind}' object, which has no "
                                   "pixel data.", path, kind)
    if kind:
        return _fail(f"The DICOM file holds no image: it is a '{kind}' object, which has no pixel data.", path)
    return _fail(f"The DICOM file holds no image (no Pixel Data element; {len(data):,} bytes, possibly truncated).", path)


def _check_geometry(ds: Dataset, uid: UID, path: Path) -> tuple[int, int, int]:
    """Validate the image pixel module against the data present; returns (rows, cols, frames)."""

    def number(keyword: str, default: int | None = None) -> int | None:
        try:
            value = ds.get(keyword, default)
            return default if value in (None, "") else int(value)
        except (TypeError, ValueError):
            return None

    rows, cols = number("Rows"), number("Columns")
    bits, spp, frames = number("BitsAllocated"), number("SamplesPerPixel", 1), number("NumberOfFrames", 1)
    stored = number("BitsStored", bits)
    if not rows or not cols or rows < 0 or cols < 0:
        raise _fail(f"The image dimensions make no sense (Rows {ds.get('Rows')!r}, Columns {ds.get('Columns')!r}).", path)
    if bits not in (1, 8, 16, 32, 64) or stored is None or not 1 <= stored <= bits:
        raise _fail(f"The pixel format makes no sense (Bits Allocated {ds.get('BitsAllocated')!r}, Bits Stored {ds.get('BitsStored')!r}).", path)
    if spp not in (1, 3):
        raise _fail(f"The pixel format makes no sense (Samples per Pixel {ds.get('SamplesPerPixel')!r}).", path)
    if frames is None or frames < 1:
        raise _fail(f"The number of frames makes no sense ({ds.get('NumberOfFrames')!r}).", path)
    if rows * cols > MAX_PIXELS:
        raise _fail(
            f"The image dimensions make no sense: the header claims {cols} x {rows} pixels "
            f"({rows * cols / 1e6:,.0f} megapixels), far beyond any radiograph.",
            path,
        )
    photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2")).strip().upper()
    if photometric not in _GREY + _COLOUR:
        raise _fail(f"Unsupported photometric interpretation '{photometric}'.", path)
    expected_spp = 3 if photometric in _COLOUR and photometric != "PALETTE COLOR" else 1
    if spp != expected_spp:
        raise _fail(
            f"The pixel format makes no sense: {photometric} images have {expected_spp} sample(s) per pixel, "
            f"this header says {spp}.",
            path,
        )
    if not uid.is_encapsulated:
        samples = rows * cols * (2 if photometric == "YBR_FULL_422" else spp)  # 4:2:2 keeps 2 of 3 samples
        needed, present = math.ceil(samples * frames * bits / 8), len(ds.PixelData)
        if present < needed:
            shape = f"{cols} x {rows}" + (f" x {frames} frames" if frames > 1 else "") + f", {bits} bits allocated"
            raise _fail(
                f"The pixel data are truncated: the header ({shape}) needs {needed:,} bytes "
                f"but the file holds only {present:,}.",
                path,
            )
    return rows, cols, frames


def _decoder_available(uid: UID, path: Path) -> None:
    try:
        decoder = get_decoder(uid)
    except NotImplementedError:
        raise _fail(f"Transfer syntax {transfer_syntax_name(uid)} is not supported (no decoder exists for it).", path) from None
    if not decoder.is_available:
        raise _fail(f"Transfer syntax {transfer_syntax_name(uid)} is not supported: no decoder for it is installed.", path)


def _decode_first_frame(ds: Dataset, uid: UID, frames: int, path: Path) -> np.ndarray:
    _decoder_available(uid, path)
    codec = codec_name(uid)
    if codec is not None:
        return _decode_supervised(ds, uid, codec, path)
    return _decode_here(ds, uid, path)


def first_frame_here(path: str | Path) -> np.ndarray | None:
    """In a decoder process (``decode_pool``): the first frame of the DICOM file ``path``, read and checked as
    ``read_dicom`` does (pixel data present, geometry, the codestream against the header) and decoded in this
    process; None when its pixel data need no decoder process. Raises UnreadableImageError as the reader does."""
    path = Path(path)
    ds = _read_dataset(path)
    if "PixelData" not in ds:
        raise _no_pixel_data(ds, path)
    uid = _settle_transfer_syntax(ds, path)
    _check_geometry(ds, uid, path)
    _decoder_available(uid, path)
    if codec_name(uid) is None:
        return None
    _check_codestream(ds, uid, path)
    # the decoder's own exception, not the reader's UnreadableImageError: the pool then reports a decoder
    # failure (as for any supervised decode) instead of sending the file to be decoded a second time
    return pixel_array(ds, index=0)


def _decode_here(ds: Dataset, uid: UID, path: Path) -> np.ndarray:
    try:
        if _unsigned_with_unused_bits(ds, uid):
            # pydicom copies the bytes, then shifts left and right in place to clear the unused high bits: three
            # passes over a 7 MB film. One AND from a view of the bytes gives the same values in one pass.
            view = pixel_array(ds, index=0, view_only=True, correct_unused_bits=False)
            return np.bitwise_and(view, view.dtype.type((1 << int(ds.BitsStored)) - 1))
        return pixel_array(ds, index=0)  # the first frame only, even when the data hold more
    except Exception as exc:
        detail = " ".join(str(exc).split()).replace(_ALL_PLUGINS_FAILED, "").strip()
        raise _fail(f"The image data, encoded as {transfer_syntax_name(uid)}, could not be decoded: {detail}", path) from exc


def _unsigned_with_unused_bits(ds: Dataset, uid: UID) -> bool:
    """Native little-endian unsigned grey pixel data (PixelData, 8 or 16 bits allocated) with fewer bits stored."""
    try:
        allocated, stored = int(ds.BitsAllocated), int(ds.BitsStored)
        unsigned = int(ds.get("PixelRepresentation", 0)) == 0 and int(ds.get("SamplesPerPixel", 1)) == 1
    except (AttributeError, TypeError, ValueError):
        return False
    native = uid in (ExplicitVRLittleEndian, ImplicitVRLittleEndian) and "PixelData" in ds
    return native and unsigned and allocated in (8, 16) and 0 < stored < allocated


def _pixel_module(ds: Dataset, uid: UID) -> Dataset:
    """What a decoder needs: the Image Pixel elements (group 0028), the pixel data with its
    Extended Offset Table (group 7FE0) and the transfer syntax."""
    out = Dataset()
    for group in (0x0028, 0x7FE0):
        for element in ds.group_dataset(group):
            out.add(element)
    out.file_meta = pydicom.dataset.FileMetaDataset()
    out.file_meta.TransferSyntaxUID = uid
    return out


def _check_codestream(ds: Dataset, uid: UID, path: Path) -> None:
    """A compressed frame's own header against the DICOM header, before any decoder allocates."""
    fragment = first_fragment(ds.PixelData)
    if fragment is not None:
        problem = check_codestream(fragment, uid, int(ds.Rows), int(ds.Columns), int(ds.get("SamplesPerPixel", 1) or 1), int(ds.BitsAllocated))
        if problem:
            raise _fail(f"The image data, encoded as {transfer_syntax_name(uid)}, do not match the header: {problem}.", path)


def _decode_supervised(ds: Dataset, uid: UID, codec: str, path: Path) -> np.ndarray:
    _check_codestream(ds, uid, path)
    try:  # (a file sent ahead to a decoder process by name, unchanged since, is collected from it: decode_ahead)
        return pool().decode(_pixel_module(ds, uid), 0, codec, source=path)
    except WorkerUnavailable as exc:
        log.warning("%s: decoding in this process, no decoder process can be started here (%s)", path, exc)
        return _decode_here(ds, uid, path)
    except DecodeFailure as exc:
        detail = " ".join(exc.reason.split()).replace(_ALL_PLUGINS_FAILED, "").strip()
        raise _fail(f"The image data, encoded as {transfer_syntax_name(uid)}, could not be decoded: {detail}", path) from None


def _to_grey(frame: np.ndarray, ds: Dataset, photometric: str) -> tuple[np.ndarray, bool, float]:
    """Colour frame -> luma (Rec. 601), whether it really had colour, and its chroma (``colour.chroma``)."""
    from cxviewer.imaging.colour import chroma

    if photometric == "PALETTE COLOR":
        from pydicom.pixels import apply_color_lut

        frame = apply_color_lut(frame, ds)
    colour = chroma(frame, None if frame.dtype == np.uint8 else int(getattr(ds, "BitsStored", 8) or 8))
    rgb = frame.astype(np.float32)
    spread = float(np.max(rgb.max(axis=2) - rgb.min(axis=2))) if rgb.size else 0.0
    luma = rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114
    if frame.dtype.kind in "iu":
        luma = np.rint(luma).astype(frame.dtype)
    full_scale = float(np.iinfo(frame.dtype).max) if frame.dtype.kind in "iu" else 1.0
    return luma, spread > 0.01 * full_scale, colour


def _read_first_frame(path: Path):
    """(data set, transfer syntax UID, frame count, first frame decoded): read, checked (pixel data present, geometry against the bytes) and
    decoded under supervision; what every DICOM read here starts with."""
    ds = _read_dataset(path)
    if "PixelData" not in ds:
        raise _no_pixel_data(ds, path)
    uid = _settle_transfer_syntax(ds, path)
    _rows, _cols, frames = _check_geometry(ds, uid, path)
    return ds, uid, frames, _decode_first_frame(ds, uid, frames, path)


def read_dicom(path: Path) -> Radiograph:
    ds, uid, frames, frame = _read_first_frame(path)
    photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2")).strip().upper()
    was_color, colour = False, None
    if photometric in _GREY:
        pixels = modality_transform(frame, ds)
    else:
        pixels, was_color, colour = _to_grey(frame, ds, photometric)
        photometric = "MONOCHROME2"
    del ds.PixelData  # the header keeps no pixel bytes
    return Radiograph(
        path=path,
        pixels=pixels,
        photometric=photometric,
        presentation_lut_shape=str(ds.get("PresentationLUTShape", "") or "").strip().upper() if not was_color else "",
        padding=padding_range(ds) if not was_color else None,
        voi_presets=voi_presets(ds, path) if not was_color else [],
        voi_function=voi_function(ds),
        pixel_spacing=pixel_spacing(ds),
        source_format="DICOM",
        was_color=was_color,
        chroma=colour if was_color else None,
        header=ds,
        frame_count=frames,
        transfer_syntax=transfer_syntax_name(uid),
        **metadata(ds),
    )
