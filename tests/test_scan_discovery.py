"""Discovery finds images by content, in a stable order, without looping on symlinks."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from scan_corpus import CXR, DICOM, needs_shared

from cxviewer.scan.discovery import Discovery, count_files, sniff_format
from cxviewer.scan.guards import ScanSetupError, check_inputs, check_output

pytestmark = needs_shared


def _first_jpeg() -> Path:
    return sorted((CXR / "normal").glob("*.jpg"))[0]


def test_sniff_formats_by_content(tmp_path):
    jpeg = tmp_path / "no_extension"
    shutil.copyfile(_first_jpeg(), jpeg)
    chest_no_preamble = tmp_path / "IM0001"
    shutil.copyfile(DICOM / "CR-MONO1-10-chest.dcm", chest_no_preamble)
    with_preamble = tmp_path / "IM0002"
    shutil.copyfile(DICOM / "RG1_UNCR.dcm", with_preamble)
    text = tmp_path / "notes"
    text.write_text("radiology report: no acute findings\n")
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    import cv2
    import numpy as np

    png = tmp_path / "picture.bin"
    ok, buf = cv2.imencode(".png", np.zeros((8, 8), np.uint8))
    png.write_bytes(buf.tobytes())
    webp = tmp_path / "w"
    ok, buf = cv2.imencode(".webp", np.zeros((8, 8, 3), np.uint8))
    webp.write_bytes(buf.tobytes())
    tiff = tmp_path / "t"
    ok, buf = cv2.imencode(".tiff", np.zeros((8, 8), np.uint8))
    tiff.write_bytes(buf.tobytes())

    assert sniff_format(jpeg) == "JPEG"
    assert sniff_format(chest_no_preamble) == "DICOM"  # no preamble, no DICM: forced header read
    assert sniff_format(with_preamble) == "DICOM"
    assert sniff_format(png) == "PNG"
    assert sniff_format(webp) == "WEBP"
    assert sniff_format(tiff) == "TIFF"
    assert sniff_format(text) is None
    assert sniff_format(empty) is None
    assert sniff_format(tmp_path / "missing") is None


def test_bytes_that_look_like_a_tag_are_not_enough(tmp_path):
    fake = tmp_path / "looks_like_a_tag"
    fake.write_bytes(b"\x08\x00\x05\x00" + b"\x00" * 200)  # group 0008 start, then nothing a data set holds
    assert sniff_format(fake) is None


def test_walk_order_named_suffixes_and_ignored(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "a").mkdir()
    shutil.copyfile(_first_jpeg(), tmp_path / "b" / "2.jpg")
    shutil.copyfile(_first_jpeg(), tmp_path / "b" / "1.jpg")
    shutil.copyfile(DICOM / "CR-MONO1-10-chest.dcm", tmp_path / "a" / "IMG")
    shutil.copyfile(_first_jpeg(), tmp_path / "z_top.jpg")
    (tmp_path / "a" / "readme.txt").write_text("not an image")
    (tmp_path / "a" / "broken.dcm").write_text("not DICOM either, but its name says so")
    (tmp_path / "a" / "._IMG.dcm").write_bytes(b"\x00\x05\x16\x07")  # macOS companion file

    d = Discovery([tmp_path])
    found = [p.relative_to(tmp_path).as_posix() for p in d]
    # files of a folder first (sorted), then its subfolders (sorted); by-name candidates kept
    assert found == ["z_top.jpg", "a/IMG", "a/broken.dcm", "b/1.jpg", "b/2.jpg"]
    assert d.ignored == 2
    assert list(Discovery([tmp_path])) == list(Discovery([tmp_path]))  # deterministic
    flat = Discovery([tmp_path], recursive=False)
    assert [p.name for p in flat] == ["z_top.jpg"]
    assert count_files([tmp_path]) == 7
    assert count_files([tmp_path], recursive=False) == 1


def test_named_file_is_always_reported_once(tmp_path):
    shutil.copyfile(_first_jpeg(), tmp_path / "x.jpg")
    note = tmp_path / "note.txt"
    note.write_text("hello")
    found = list(Discovery([tmp_path / "x.jpg", note, tmp_path]))
    assert found == [tmp_path / "x.jpg", note]  # x.jpg not repeated by the folder walk


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")
def test_symlink_loops_are_not_followed(tmp_path):
    root = tmp_path / "export"
    (root / "study" / "series").mkdir(parents=True)
    shutil.copyfile(_first_jpeg(), root / "study" / "series" / "1.jpg")
    os.symlink(root, root / "study" / "series" / "loop")  # points back up: an infinite tree
    os.symlink(root / "study", root / "again")  # a second way into a folder already seen
    d = Discovery([root])
    found = list(d)
    assert found == [root / "again" / "series" / "1.jpg"]  # sorted: "again" before "study"
    assert len(d.skipped_dirs) == 2
    assert all("already scanned" in s for s in d.skipped_dirs)
    assert count_files([root]) == 1


def test_output_inside_scanned_tree_is_refused(tmp_path):
    root = tmp_path / "export"
    (root / "sub").mkdir(parents=True)
    image = root / "sub" / "1.jpg"
    shutil.copyfile(_first_jpeg(), image)
    for bad in (root / "results.csv", root / "sub" / "deep" / "r.csv", root, image):
        with pytest.raises(ScanSetupError, match="never writes into or beside"):
            check_output(bad, [root])
    with pytest.raises(ScanSetupError, match="never writes"):
        check_output(root / "sub" / "r.csv", [image])  # beside a file named on its own
    if hasattr(os, "symlink"):
        link = tmp_path / "link"
        os.symlink(root / "sub", link)
        with pytest.raises(ScanSetupError):
            check_output(link / "r.csv", [root])  # a link into the tree is the tree
    assert check_output(tmp_path / "out" / "r.csv", [root]) == tmp_path / "out" / "r.csv"
    with pytest.raises(ScanSetupError, match="no such file"):
        check_inputs([tmp_path / "nope"])
