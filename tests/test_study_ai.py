"""The study browser's header columns (modality, body part) and its AI column, on real films."""

import shutil
import threading

import pytest
from ui_support import image_paths

from cxviewer.model import available_models

FILMS = {  # file: what its header says (BodyPartExamined)
    "RG1_UNCR.dcm": "CHEST",
    "RG2_RLE.dcm": "HIP",
    "CR_tiny_1.dcm": "CSPINE",
}


@pytest.fixture
def folder(tmp_path, dicom_dir):
    out = tmp_path / "opened"
    out.mkdir()
    for name in FILMS:
        shutil.copy(dicom_dir / name, out / name)
    return out


def _cell(model, path, column):
    from cxviewer.ui.studies.model import COLUMNS

    index = model.index_for_path(path)
    return index.siblingAtColumn(COLUMNS.index(column)).data()


def test_modality_and_body_part_are_shown_from_the_header_before_a_film_is_opened(qtbot, dicom_dir):
    from cxviewer.ui.studies.loader import read_entry
    from cxviewer.ui.studies.browser import StudyBrowser

    browser = StudyBrowser()
    qtbot.addWidget(browser)
    for name, body in FILMS.items():
        rad, entry = read_entry(dicom_dir / name)
        assert rad is not None and entry.body_part == body
        browser.add_entry(entry)
        assert _cell(browser.model, dicom_dir / name, "Body part") == body
        assert _cell(browser.model, dicom_dir / name, "Modality") == "CR"
        assert _cell(browser.model, dicom_dir / name, "AI") == ""  # blank until analysed
    # the study and series rows carry them too
    from cxviewer.ui.studies.model import COLUMNS

    study = browser.model.index_for_path(dicom_dir / "RG2_RLE.dcm").parent().parent()
    assert study.siblingAtColumn(COLUMNS.index("Body part")).data() == "HIP"
    assert study.siblingAtColumn(COLUMNS.index("Modality")).data() == "CR"


@pytest.mark.skipif(not available_models(), reason="no bundled model in models/")
def test_ai_column_is_filled_in_the_background_for_an_opened_folder_and_sorts(qtbot, folder):
    from PySide6.QtCore import Qt

    from cxviewer.ui.app import build_main_window
    from cxviewer.settings import Settings
    from cxviewer.ui.studies.model import AI_COLUMN

    window, service = build_main_window(Settings.load())  # composed as the application does
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    model = window.study_browser.model
    background: dict[str, object] = {}
    threads: set[str] = set()
    service.backgroundResult.connect(lambda key, p: background.__setitem__(key, p))
    worker = service._worker
    worker.background_done.connect(lambda *_: threads.add(threading.current_thread().name),
                                   type=Qt.ConnectionType.DirectConnection)  # runs where it is emitted
    paths = [folder / name for name in FILMS]
    try:
        window.open_paths([str(folder)])
        qtbot.waitUntil(lambda: all(model.contains(p) for p in paths), timeout=120_000)
        qtbot.waitUntil(lambda: all(_cell(model, p, "AI") for p in paths), timeout=600_000)
        chest, hip, spine = (_cell(model, p, "AI") for p in paths)
        assert chest in ("COVID-19", "Other pneumonia", "Normal", "Uncertain")
        assert hip == "Out of scope" and spine == "Out of scope"  # refused by their headers' body part
        assert "HIP" in model.index_for_path(paths[1]).siblingAtColumn(AI_COLUMN).data(Qt.ItemDataRole.ToolTipRole)
        # the films not on screen were analysed in the background, on the worker thread, without a map
        on_screen = str(window.image_view.rad.path)
        off_screen = [str(p) for p in paths if str(p) != on_screen]
        assert set(off_screen) <= set(background)
        assert all(background[k].heatmap is None and background[k].lung_mask is None for k in off_screen)
        assert threads and threading.main_thread().name not in threads
        natural = image_paths(model)
        assert sorted(natural) == sorted(paths) and natural[0] != paths[0]  # the sort has something to do
        # sorting by the AI column puts the called (or uncertain) chest film first, the refused ones after it
        window.study_browser._on_header_clicked(AI_COLUMN)
        assert window.study_browser.sorted_by_ai
        assert image_paths(model)[0] == paths[0]
        window.study_browser._on_header_clicked(AI_COLUMN)  # again: back to the natural order
        assert not window.study_browser.sorted_by_ai
        assert image_paths(model) == natural
        assert all(_cell(model, p, "AI") for p in paths)  # nothing lost by the moves
        # closing everything drops what is still queued
        window.close_all()
        assert service.background_queued() == 0
    finally:
        service.shutdown()


@pytest.mark.skipif(not available_models(), reason="no bundled model in models/")
def test_verdict_words_and_ranks_on_real_predictions(dicom_dir):
    from cxviewer.imaging import read_radiograph
    from cxviewer.model import load_classifier
    from cxviewer.ui.ai.study_column import error_verdict, verdict

    clf = load_classifier()
    chest = clf.predict_radiograph(read_radiograph(dicom_dir / "RG1_UNCR.dcm"), gradcam=False, outline=False)
    hip = clf.predict_radiograph(read_radiograph(dicom_dir / "RG2_RLE.dcm"), gradcam=False, outline=False)
    text, rank, tip = verdict(chest)
    n = len(clf.labels)
    if chest.call == "uncertain":
        assert (text, rank) == ("Uncertain", n) and tip.startswith("No call:")
    else:
        assert rank == clf.labels.index(chest.call) < n
    assert verdict(hip)[:2] == ("Out of scope", n + 1) and "HIP" in verdict(hip)[2]
    assert error_verdict("bad file", n) == ("Error", n + 2, "bad file")


@pytest.mark.skipif(len(available_models()) < 2, reason="needs two bundled classifiers")
def test_another_model_clears_the_ai_column_and_fills_it_again(qtbot, folder):
    from cxviewer.model import default_model_dir
    from cxviewer.ui.app import build_main_window
    from cxviewer.settings import Settings

    window, service = build_main_window(Settings.load())
    qtbot.addWidget(window)
    model = window.study_browser.model
    paths = [folder / name for name in FILMS]
    try:
        window.open_paths([str(folder)])
        qtbot.waitUntil(lambda: all(model.contains(p) and _cell(model, p, "AI") for p in paths), timeout=600_000)
        other = next(c.directory for c in available_models() if c.directory.resolve() != default_model_dir().resolve())
        service.set_model(other)
        assert all(_cell(model, p, "AI") == "" for p in paths)  # the old model's answers are gone at once
        qtbot.waitUntil(lambda: all(_cell(model, p, "AI") for p in paths), timeout=600_000)
        assert _cell(model, paths[1], "AI") == "Out of scope"  # the hip film, by its header, whatever the model
    finally:
        service.shutdown()
