"""DICOM objects that hold no image, found among the films of an opened folder, are recognised and
counted quietly, not reported as unreadable files. The objects are the app's own, made as a reader
makes them: a GSPS (annotate.gsps), a structured report (`cxviewer predict FILE --sr`) and an
Encapsulated PDF (`cxviewer report FILE --dicom`), beside a real CR film."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pydicom
import pytest
from PySide6.QtWidgets import QApplication
from dicom_builder import chest_cr
from ui_support import real_dicom

from cxviewer.annotate import gsps
from cxviewer.annotate.model import Annotation
from cxviewer.imaging import NonImageObjectError, UnreadableImageError, read_radiograph
from cxviewer.ui.annotate.tools import install_annotation_tools
from cxviewer.ui.main_window import MainWindow
from cxviewer.ui.studies.model import COLUMNS
from cxviewer.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
FILM = "RG2_JPLL.dcm"  # real CR film with Patient ID 10RG2


def _cxviewer(args, home: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT), CXVIEWER_HOME=str(home), QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run([sys.executable, "-m", "cxviewer", *args], env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]


@pytest.fixture(scope="module")
def study(tmp_path_factory) -> Path:
    """A folder as a PACS export delivers it: the film, its GSPS, an SR and the report as Encapsulated PDF."""
    work = tmp_path_factory.mktemp("made")
    film = real_dicom(FILM)
    header = pydicom.dcmread(film, stop_before_pixels=True)
    made = gsps.write_presentation_state(
        gsps.build_presentation_state(header, [Annotation("text", ((60.0, 2000.0),), "R hip")], {}),
        work / "gsps", [film])
    _cxviewer(["predict", str(film), "--sr", str(work / "sr.dcm")], work / "home")
    _cxviewer(["report", str(film), "-o", str(work / "report.pdf"), "--no-ai", "--dicom", str(work / "pdf.dcm")],
              work / "home")
    folder = tmp_path_factory.mktemp("study")
    shutil.copy(film, folder / FILM)
    shutil.copy(made, folder / "PS0001.dcm")
    shutil.copy(work / "sr.dcm", folder / "SR0001.dcm")
    shutil.copy(work / "pdf.dcm", folder / "DOC0001.dcm")
    return folder


def test_the_reader_names_what_each_object_is(study, tmp_path):
    kinds = {}
    for name in ("PS0001.dcm", "SR0001.dcm", "DOC0001.dcm"):
        with pytest.raises(NonImageObjectError) as caught:
            read_radiograph(study / name)
        kinds[name] = (caught.value.kind, caught.value.sop_class_name)
    assert kinds == {"PS0001.dcm": ("presentation state", "Grayscale Softcopy Presentation State Storage"),
                     "SR0001.dcm": ("report", "Comprehensive SR Storage"),
                     "DOC0001.dcm": ("document", "Encapsulated PDF Storage")}
    # a film whose pixel data are gone is still a broken film, not a non-image object
    broken = chest_cr(tmp_path / "cut.dcm", np.full((64, 64), 500, np.uint16))
    ds = pydicom.dcmread(broken)
    del ds.PixelData
    ds.save_as(broken)
    with pytest.raises(UnreadableImageError) as caught:
        read_radiograph(broken)
    assert not isinstance(caught.value, NonImageObjectError)


def test_an_opened_folder_lists_them_quietly_and_the_gsps_applies(qtbot, study):
    w = MainWindow(Settings.load())
    qtbot.addWidget(w)
    tools = install_annotation_tools(w)
    w.show()
    qtbot.waitExposed(w)
    w.open_paths([study])
    qtbot.waitUntil(lambda: not w.loader.busy() and not w._batches and w.image_view.rad is not None,
                    timeout=120_000)
    QApplication.processEvents()
    model = w.study_browser.model
    top = [text for text, _children in model.tree()]
    assert not any(t.startswith("Unreadable files") for t in top)  # no error for a report or a GSPS
    assert top[-1] == "3 non-image objects"
    last = model.rowCount() - 1
    assert model.item(last, COLUMNS.index("Description")).text() == "not shown: document, presentation state, report"
    assert w.image_view.rad.path == study / FILM and len(model.entries) == 1
    message = w.status.currentMessage()
    assert message.startswith("Opened 1 image;") and "could not be read" not in message
    assert "3 non-image objects (document, presentation state, report) not shown" in message
    row = model.item(model.rowCount() - 1)
    assert "PS0001.dcm: Grayscale Softcopy Presentation State Storage: a presentation state" in row.toolTip()
    assert "SR0001.dcm: Comprehensive SR Storage: a report" in row.toolTip()
    # clicking the row shows nothing in the viewer: the film stays
    w.study_browser.view.setCurrentIndex(row.index())
    QApplication.processEvents()
    assert w.image_view.rad is not None and w.image_view.rad.path == study / FILM
    # the presentation state is offered for its film and applies
    qtbot.waitUntil(lambda: [p.name for p in w.presentation_states.found] == ["PS0001.dcm"],
                    timeout=60_000)  # looked up off the GUI thread
    w.actions_by_name["gsps_apply_found"].trigger()
    assert [a.text for a in tools.main.doc.annotations] == ["R hip"]
    # opened again: counted once per file
    w.open_paths([study])
    qtbot.waitUntil(lambda: not w.loader.busy() and not w._batches, timeout=120_000)
    assert [t for t, _c in model.tree()][-1] == "3 non-image objects"
    w.close()
    w.loader.shutdown()
