"""A film named at launch is read before the window exists (``cxviewer.imaging.read_ahead``): the loader
takes that read instead of decoding the file again, a changed file is read again, and a decoder that
crashes during the read ahead costs only its process: the film gets the reader's message, the viewer
goes on."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication
from ui_support import real_dicom

from cxviewer import paths
from cxviewer.imaging import UnreadableImageError, read_radiograph
from cxviewer.imaging.decode_pool import pool
from cxviewer.imaging.read_ahead import ReadAhead, first_file, launch_read_ahead

ROOT = Path(__file__).resolve().parents[1]


class Recording:
    """The real reader, counting the files it read (which thread, which file)."""

    def __init__(self):
        self.calls: list[tuple[str, Path]] = []

    def __call__(self, path: Path):
        self.calls.append((threading.current_thread().name, Path(path)))
        return read_radiograph(path)


def test_the_film_read_ahead_is_handed_over_once_then_read_as_usual():
    sample = paths.sample_study()
    reader = Recording()
    ahead = ReadAhead(sample, read=reader)
    rad = ahead.read(sample)  # waits for the read ahead
    assert rad.pixels.shape == (1955, 1841) and rad.modality == "CR"
    assert reader.calls == [("cxviewer-read-ahead", sample)]  # read once, on the read-ahead thread
    again = ahead.read(sample)  # the cache dropped it, say: a real read, not the same object again
    assert again is not rad and (again.pixels == rad.pixels).all()
    assert len(reader.calls) == 2 and reader.calls[1][0] != "cxviewer-read-ahead"


def test_another_file_is_read_as_usual_while_the_read_ahead_waits(dicom_dir):
    reader = Recording()
    ahead = ReadAhead(dicom_dir / "RG1_J2KR.dcm", read=reader)
    other = ahead.read(dicom_dir / "CR_tiny_1.dcm")
    assert other.path == dicom_dir / "CR_tiny_1.dcm"
    assert ahead.read(dicom_dir / "RG1_J2KR.dcm").path == dicom_dir / "RG1_J2KR.dcm"
    assert sorted(p.name for _t, p in reader.calls) == ["CR_tiny_1.dcm", "RG1_J2KR.dcm"]


def test_a_file_changed_since_the_read_ahead_is_read_again(dicom_dir, tmp_path):
    film = tmp_path / "film.dcm"
    shutil.copy(dicom_dir / "RG1_J2KR.dcm", film)
    ahead = ReadAhead(film)
    while not ahead.done:
        time.sleep(0.05)
    shutil.copy(dicom_dir / "RG2_J2KR.dcm", film)  # another film under the same name
    os.utime(film, ns=(time.time_ns(), time.time_ns() + 10**9))
    assert ahead.read(film).pixels.shape == read_radiograph(dicom_dir / "RG2_J2KR.dcm").pixels.shape != (1955, 1841)
    assert ahead._result is None  # the stale read is let go, not kept for the session


def test_an_unreadable_file_read_ahead_gives_the_readers_message(tmp_path):
    broken = tmp_path / "broken.dcm"
    broken.write_bytes(b"\0" * 128 + b"DICM" + b"\x02\x00\x10\x00UI\xff\xff")  # a file meta that ends at once
    ahead = ReadAhead(broken)
    with pytest.raises(UnreadableImageError) as raised:
        ahead.read(broken)
    with pytest.raises(UnreadableImageError) as again:
        read_radiograph(broken)
    assert raised.value.reason == again.value.reason


def _cpu_ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:  # the process has gone
        return -1
    return int(fields[11]) + int(fields[12])  # utime + stime


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc to catch the decoder mid-decode")
def test_a_decoder_crash_during_the_read_ahead_fails_that_film_with_a_reason_and_the_viewer_goes_on(qtbot, dicom_dir):
    """The decoder process is killed with SIGSEGV while it decodes the film read ahead (as a decoder that
    crashes on it would die): the loader reports the film with the reader's message, the window stays up
    and the next film opens (in a new decoder process)."""
    from cxviewer.ui.main_window import MainWindow

    decoders = pool()
    read_radiograph(dicom_dir / "RG2_J2KR.dcm")  # a decoder process up, its codecs imported, idle
    # earlier tests in the same run may have left more than one worker: the one whose CPU time grows decodes
    before = {p: _cpu_ticks(p) for p in decoders.worker_pids()}
    killed: list[int] = []
    film = dicom_dir / "RG1_J2KR.dcm"
    ahead = ReadAhead(film)

    def crash_when_decoding():
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not killed:
            busy = [p for p, t in before.items() if _cpu_ticks(p) >= t + 3]  # decoding: its CPU time grows
            if busy:
                killed.append(busy[0])
                os.kill(busy[0], signal.SIGSEGV)
            time.sleep(0.002)

    killer = threading.Thread(target=crash_when_decoding)
    killer.start()
    window = MainWindow(read=ahead.read)
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(window.loader.signals.failed, timeout=120_000) as failed:
        window.open_paths([film], remember=False)
    killer.join()
    assert killed, "no decoder process started decoding the film read ahead"
    pid = killed[0]
    entry = failed.args[1]
    assert entry.path == film
    assert "JPEG 2000" in entry.error and "decoder crashed on this file" in entry.error
    assert pid not in decoders.worker_pids()
    with qtbot.waitSignal(window.currentImageChanged, timeout=120_000) as shown:
        window.open_paths([dicom_dir / "RG2_J2KR.dcm"], remember=False)
    assert shown.args[0] is not None and shown.args[0].path == dicom_dir / "RG2_J2KR.dcm"
    window.loader.shutdown()
    window.close()
    QApplication.processEvents()


def test_the_viewer_shows_the_film_read_ahead_without_reading_it_again(qtbot):
    from cxviewer.ui.main_window import MainWindow

    sample = paths.sample_study()
    reader = Recording()
    ahead = ReadAhead(sample, read=reader)
    window = MainWindow(read=ahead.read)
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(window.currentImageChanged, timeout=120_000) as shown:
        window.open_sample()
    assert shown.args[0].path == sample and window.image_view.rad is shown.args[0]
    assert reader.calls == [("cxviewer-read-ahead", sample)]  # decoded once, before the window asked for it
    window.loader.shutdown()
    window.close()
    QApplication.processEvents()


def test_a_jpeg_named_at_launch_is_read_ahead_here_not_sent_to_the_decoder(shared_dir):
    film = next(iter(sorted((shared_dir / "data" / "cxr" / "images").glob("*/*.jpg"))))
    reader = Recording()
    ahead = ReadAhead(film, read=reader)
    rad = ahead.read(film)
    assert rad.source_format == "JPEG" and rad.pixels.ndim == 2
    assert reader.calls == [("cxviewer-read-ahead", film)]


def test_which_film_is_read_ahead(tmp_path, dicom_dir):
    assert first_file([tmp_path, tmp_path / "missing.dcm", dicom_dir / "CR_tiny_1.dcm"]) == dicom_dir / "CR_tiny_1.dcm"
    assert first_file([tmp_path]) is None  # a folder: its discovery order is the loader's business
    assert launch_read_ahead([tmp_path]) is None
    ahead = launch_read_ahead([dicom_dir / "CR_tiny_1.dcm"], sample=True)  # --sample shows the sample first
    assert ahead.path == paths.sample_study()
    ahead.read(ahead.path)


def test_cxviewer_with_a_film_reads_it_before_qt_is_imported(tmp_path):
    """``cxviewer --smoke-test`` (the sample): its read ahead runs, decoder process started, when PySide6 is
    first imported; the smoke test then sees the film drawn."""
    code = ("import sys, threading\n"
            "class Spy:\n"
            "    seen = False\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            "        if name == 'PySide6' and not self.seen:\n"
            "            self.seen = True\n"
            "            names = sorted(t.name for t in threading.enumerate())\n"
            "            print('at-qt-import', 'cxviewer-read-ahead' in names, flush=True)\n"
            "        return None\n"
            "sys.meta_path.insert(0, Spy())\n"
            "from cxviewer import cli\n"
            "sys.exit(cli.main(['--smoke-test']))\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CXVIEWER_HOME": str(tmp_path), "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert lines[0] == "at-qt-import True"  # the film is being read already
    assert any('"event": "image"' in line and '"drawn": true' in line for line in lines), done.stdout
