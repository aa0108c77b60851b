"""DICOM lookup tables (Modality LUT and VOI LUT Sequence items): descriptor and data."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydicom.dataset import Dataset


@dataclass(frozen=True)
class LutTable:
    data: np.ndarray  # entries, as unsigned integers
    first_mapped: int  # input value that maps to data[0]
    bits: int  # bits per entry (output range 0..2**bits-1)


def read_lut(item: Dataset, signed_input: bool, little_endian: bool = True) -> LutTable:
    """Decode a LUT item's LUT Descriptor and LUT Data (PS3.3 C.11.1.1 / C.11.2.1.1).

    Descriptor: [entries (0 means 65536), first mapped value (US, or SS when ``signed_input``: the table's input
    can be negative, i.e. signed pixels for a Modality LUT, a rescaled range reaching below 0 for a VOI LUT),
    bits per entry]. 8-bit entries may come packed two to a 16-bit word. Raises ValueError for an inconsistent item.
    """
    descriptor = [int(v) for v in item.LUTDescriptor]
    if len(descriptor) != 3:
        raise ValueError(f"LUT Descriptor has {len(descriptor)} values, expected 3")
    entries, first, bits = descriptor
    entries = entries or 65536
    if signed_input and first >= 0x8000:
        first -= 0x10000
    if not 1 <= bits <= 16:
        raise ValueError(f"LUT Descriptor gives {bits} bits per entry")
    raw = item.LUTData
    if isinstance(raw, (bytes, bytearray)) and bits <= 8 and len(raw) // 2 < entries <= len(raw) <= entries + 1:
        # 8-bit entries packed two to a 16-bit word (LUT Data read as OW, e.g. in an Implicit VR file): one byte each
        data: np.ndarray = np.frombuffer(raw, dtype=np.uint8, count=entries)
    elif isinstance(raw, (bytes, bytearray)):
        dtype = np.dtype("<u2" if little_endian else ">u2")
        data = np.frombuffer(raw, dtype=dtype, count=min(entries, len(raw) // 2))
    else:
        data = np.atleast_1d(np.asarray(raw, dtype=np.int64))
    if len(data) < entries:
        raise ValueError(f"LUT Data holds {len(data)} entries but the descriptor promises {entries}")
    data = data[:entries].astype(np.int64) & ((1 << bits) - 1)
    return LutTable(data=data.astype(np.uint16), first_mapped=first, bits=bits)
