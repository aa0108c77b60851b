"""A seeded mutation fuzzer for the reader, run case by case in a supervised child process.

``mutate(sources, seed, index)`` turns one of the real DICOM files into a damaged copy: a header
value set to something hostile (geometry, pixel format, photometric, LUT descriptors, rescale and
window values, transfer syntax), an element removed, bytes overwritten in the header or the
codestream, the file cut short, or two of these at once. The same (seed, index) always gives the
same bytes, so a failing case can be replayed with ``replay(seed, index)``.

``run_cases`` sends case numbers to a runner process that reads each mutated file with
``read_radiograph`` and, when it is accepted, draws it with ``render_display`` (the default VOI
and every header preset). The parent notices a runner that dies (a decoder abort would kill
it) or stops answering (a hang), records that case and starts a new runner.
"""

from __future__ import annotations

import io
import multiprocessing

from cxviewer.imaging.decode_pool import _peak_rss
import random
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

_INTERESTING_INTS = (0, 1, 2, 3, 7, 8, 12, 15, 16, 17, 31, 32, 64, 255, 256, 65535)
_INTERESTING_NUMBERS = ("0", "-1", "1e300", "-1e300", "1e-300", "nan", "inf", "-inf", "3.4e38", "1e20", "0.0001", "", "abc")
_PHOTOMETRIC = ("MONOCHROME1", "MONOCHROME2", "RGB", "PALETTE COLOR", "YBR_FULL", "YBR_FULL_422", "YBR_RCT", "YBR_ICT", "ARGB", "")
_DESCRIPTORS = ([0, 0, 16], [4096, 0, 17], [4096, 0, 0], [1, 65535, 8], [65535, 0, 16], [2, 0, 16], [0, 0, 8])


@dataclass
class Outcome:
    index: int
    source: str
    mutation: str
    result: str  # "accepted", "refused", "contract", "not-2d", "display", "death", "hang"
    detail: str = ""


@dataclass
class Summary:
    outcomes: list[Outcome] = field(default_factory=list)
    peak_runner_rss: int = 0
    peak_worker_rss: int = 0
    seconds: float = 0.0

    def count(self, result: str) -> int:
        return sum(o.result == result for o in self.outcomes)

    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.result not in ("accepted", "refused")]


def _header_mutation(rng: random.Random, ds) -> str:
    import pydicom
    from pydicom.dataset import Dataset
    from pydicom.uid import AllTransferSyntaxes

    rows, cols = int(ds.get("Rows", 16)), int(ds.get("Columns", 16))
    choice = rng.randrange(14)
    if choice == 0:
        keyword = rng.choice(("Rows", "Columns"))
        base = rows if keyword == "Rows" else cols
        value = rng.choice((base + 1, base - 1, 0, 1, 2, 65535, base * 2, base // 2))
        setattr(ds, keyword, value)
    elif choice == 1:
        keyword = rng.choice(("BitsAllocated", "BitsStored", "HighBit", "SamplesPerPixel", "PixelRepresentation", "PlanarConfiguration"))
        value = rng.choice(_INTERESTING_INTS)
        setattr(ds, keyword, value)
    elif choice == 2:
        keyword, value = "PhotometricInterpretation", rng.choice(_PHOTOMETRIC)
        setattr(ds, keyword, value)
    elif choice == 3:
        keyword = rng.choice(("RescaleSlope", "RescaleIntercept", "WindowCenter", "WindowWidth"))
        value = rng.choice(_INTERESTING_NUMBERS)
        ds.add_new(keyword, "DS", value) if keyword not in ds else None
        ds[keyword]._value = value  # as written, no validation: the file may say anything
    elif choice == 4:
        keyword, value = "NumberOfFrames", rng.choice(("0", "1", "2", "1000", "-1", "x"))
        ds.add_new("NumberOfFrames", "IS", None)
        ds["NumberOfFrames"]._value = value
    elif choice == 5:
        keyword = "ModalityLUTSequence"
        item = Dataset()
        item.LUTDescriptor = rng.choice(_DESCRIPTORS)
        if rng.random() < 0.7:
            item.LUTData = [rng.randrange(65536) for _ in range(rng.choice((1, 16, 4096)))]
        value = list(item.LUTDescriptor)
        ds.ModalityLUTSequence = [item]
    elif choice == 6:
        keyword, value = "VOILUTSequence", "random table"
        item = Dataset()
        item.LUTDescriptor = rng.choice(_DESCRIPTORS)
        item.LUTData = [rng.randrange(65536) for _ in range(rng.choice((1, 256, 4096)))]
        ds.VOILUTSequence = [item]
    elif choice == 7:
        keyword, value = "PALETTE COLOR", "descriptors"
        ds.PhotometricInterpretation = "PALETTE COLOR"
        for colour in ("Red", "Green", "Blue"):
            if rng.random() < 0.8:
                setattr(ds, f"{colour}PaletteColorLookupTableDescriptor", rng.choice(_DESCRIPTORS))
            if rng.random() < 0.6:
                setattr(ds, f"{colour}PaletteColorLookupTableData", bytes(rng.randrange(256) for _ in range(rng.choice((2, 512)))))
    elif choice == 8:
        keyword = rng.choice(("Rows", "Columns", "BitsAllocated", "PixelData", "PhotometricInterpretation", "BitsStored", "SamplesPerPixel"))
        value = "deleted"
        if keyword in ds:
            del ds[keyword]
    elif choice == 9:
        keyword, value = "TransferSyntaxUID", rng.choice(sorted(AllTransferSyntaxes))
        ds.file_meta.TransferSyntaxUID = value
    elif choice == 10:
        keyword, value = "VOILUTFunction", rng.choice(("SIGMOID", "LINEAR_EXACT", "LINEAR", "BOGUS"))
        ds.VOILUTFunction = value
        ds.WindowCenter, ds.WindowWidth = rng.choice(((0, 1), (1e6, 1), (-5, 0.5), (2000, 4000)))
    elif choice == 11:  # the geometry of a colour image on one-sample data
        keyword, value = "RGB on one sample", ""
        ds.PhotometricInterpretation, ds.SamplesPerPixel = "RGB", rng.choice((1, 3))
    elif choice == 12:  # a tiny image
        keyword, value = "Rows x Columns", "1 x 1"
        ds.Rows = ds.Columns = 1
    else:
        keyword, value = "PixelData", "length"
        if "PixelData" in ds:
            data = bytes(ds.PixelData)
            ds.PixelData = data[: rng.randrange(len(data) + 1)] if rng.random() < 0.5 else data + bytes(rng.randrange(1, 4096))
    del pydicom
    return f"{keyword}={value!r}"


def _write(ds) -> bytes:
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=False)
    return buffer.getvalue()


def mutate(sources: list[Path], seed: int, index: int) -> tuple[str, str, bytes]:
    """(source name, what was done, mutated bytes) for case ``index`` of the run ``seed``."""
    import warnings

    import pydicom

    rng = random.Random(seed * 1_000_003 + index)
    source = sources[rng.randrange(len(sources))]
    data = source.read_bytes()
    kind = rng.choices(("header", "header2", "bytes", "codestream", "truncate"), weights=(45, 15, 15, 15, 10))[0]
    if kind in ("header", "header2"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                ds = pydicom.dcmread(io.BytesIO(data), force=True)
                ds.PixelData  # noqa: B018 - read it now, while it is intact
                done = [_header_mutation(rng, ds) for _ in range(1 if kind == "header" else 2)]
                return source.name, "header " + ", ".join(done), _write(ds)
            except Exception as exc:  # noqa: BLE001 - the writer refused this value: overwrite bytes instead
                kind = f"bytes (writer refused: {type(exc).__name__})"
    buf = bytearray(data)
    if kind == "truncate":
        cut = rng.randrange(len(buf))
        return source.name, f"truncate at {cut}", bytes(buf[:cut])
    if kind == "codestream":
        start = data.rfind(b"\xe0\x7f\x10\x00")
        start = start + 12 if start >= 0 else 0
        span = (start, min(len(buf), start + 4096))
    elif rng.random() < 0.6:
        span = (0, min(len(buf), 4096))
    else:
        span = (0, len(buf))
    count = rng.randint(1, 16)
    for _ in range(count):
        at = rng.randrange(*span) if span[1] > span[0] else 0
        if at < len(buf):
            buf[at] = rng.choice((0x00, 0xFF, 0x7F, 0x80, rng.randrange(256)))
    return source.name, f"{kind}: {count} bytes in {span[0]}..{span[1]}", bytes(buf)


def _check_case(path: Path) -> tuple[str, str]:
    import numpy as np

    from cxviewer.imaging import UnreadableImageError, read_radiograph, render_display

    try:
        rad = read_radiograph(path)
    except UnreadableImageError as exc:
        return "refused", exc.reason[:200]
    except BaseException as exc:  # noqa: BLE001 - this is what the contract forbids
        return "contract", f"{type(exc).__name__}: {exc}"[:300]
    pixels = rad.pixels
    if pixels.ndim != 2 or (pixels.dtype.kind == "f" and not np.isfinite(pixels).all()):
        return "not-2d", f"shape {pixels.shape} dtype {pixels.dtype}"
    try:
        for window in [None, *rad.voi_presets]:
            shown = render_display(rad, window)
            if shown.shape != pixels.shape or shown.dtype != np.uint8:
                return "display", f"display {shown.shape} {shown.dtype} for {pixels.shape}"
    except BaseException as exc:  # noqa: BLE001
        return "display", f"{type(exc).__name__}: {exc}"[:300]
    return "accepted", f"{pixels.shape} {pixels.dtype}"


def _runner(conn, sources: list[str], seed: int) -> None:
    import resource
    import warnings

    from cxviewer.imaging.decode_pool import pool

    warnings.simplefilter("ignore")  # damaged files make pydicom warn a lot; outcomes are what count
    paths = [Path(s) for s in sources]
    with tempfile.TemporaryDirectory(prefix="cxviewer-fuzz-") as tmp:
        while True:
            try:
                index = conn.recv()
            except EOFError:
                return
            if index is None:
                return
            name, mutation, data = mutate(paths, seed, index)
            conn.send(("started", name, mutation))
            path = Path(tmp) / f"case-{index}.dcm"
            path.write_bytes(data)
            result, detail = _check_case(path)
            path.unlink()
            rss = _peak_rss()  # this process image's own peak (ru_maxrss would carry the pytest parent's over exec)
            conn.send(("done", result, detail, rss, pool().peak_worker_rss))


def run_cases(sources: list[Path], seed: int, indices: range, case_timeout_s: float = 150.0) -> Summary:
    """Run the cases in a supervised runner process; see the module docstring."""
    context = multiprocessing.get_context("spawn")
    summary, started = Summary(), time.monotonic()
    runner = conn = None
    pending = list(indices)
    while pending:
        if runner is None:
            conn, child = context.Pipe()
            # Not daemonic: the reader starts decoder processes of its own.
            runner = context.Process(target=_runner, args=(child, [str(s) for s in sources], seed))
            runner.start()
            child.close()
        index = pending.pop(0)
        conn.send(index)
        name, mutation = "?", "?"
        try:
            message = conn.recv() if conn.poll(case_timeout_s) else None
            if message is not None:
                _, name, mutation = message
                message = conn.recv() if conn.poll(case_timeout_s) else None
        except (EOFError, OSError):
            runner.join(5)
            summary.outcomes.append(Outcome(index, name, mutation, "death", f"runner exit code {runner.exitcode}"))
            runner = None
            continue
        if message is None:
            runner.kill()
            runner.join(5)
            summary.outcomes.append(Outcome(index, name, mutation, "hang", f"no answer within {case_timeout_s:.0f} s"))
            runner = None
            continue
        _, result, detail, rss, worker_rss = message
        summary.peak_runner_rss = max(summary.peak_runner_rss, rss)
        summary.peak_worker_rss = max(summary.peak_worker_rss, worker_rss)
        summary.outcomes.append(Outcome(index, name, mutation, result, detail))
    if runner is not None:
        conn.send(None)
        runner.join(30)
        if runner.is_alive():
            runner.kill()
    summary.seconds = time.monotonic() - started
    return summary


def replay(sources: list[Path], seed: int, index: int, out: Path) -> str:
    """Write case ``index`` to ``out`` (to debug it by hand); returns what was mutated."""
    name, mutation, data = mutate(sources, seed, index)
    out.write_bytes(data)
    return f"{name}: {mutation}"
