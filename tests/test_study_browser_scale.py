"""The study browser's model with thousands of films in one series (a PNG folder, DICOM files without a
Series Instance UID): films land in their natural place, ``series_paths`` lists them in display order, and
sorting by the AI's answer and clearing it give what they always gave. Behaviour only: the model keeps
Python lists beside its Qt items so that these stay fast, and these tests check that both always agree."""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path

import cv2
import numpy as np
import pytest
from dicom_builder import chest_cr
from PySide6.QtCore import Qt
from ui_support import image_paths, quadrant_image

from cxviewer.ui.studies.loader import read_entry
from cxviewer.ui.studies.model import AI_COLUMN, AI_RANK_ROLE, NO_AI_RANK, PATH_ROLE, StudyModel

N = 3000


def natural_key(entry) -> tuple:
    """The browser's order of images in a series: instance number (none: last), then file name."""
    return (entry.instance_number if entry.instance_number is not None else 1 << 30, entry.path.name)


@pytest.fixture(scope="module")
def png_entry(tmp_path_factory):
    """One PNG film read as the loader reads it; the others are copies of its entry under other names."""
    path = tmp_path_factory.mktemp("png") / "base.png"
    assert cv2.imwrite(str(path), (quadrant_image() % 256).astype(np.uint8))
    rad, entry = read_entry(path)
    assert rad is not None and entry.ok and entry.thumbnail is not None and not entry.series_uid
    return entry


@pytest.fixture(scope="module")
def dicom_entry(tmp_path_factory):
    path = chest_cr(tmp_path_factory.mktemp("dcm") / "base.dcm", quadrant_image(), instance=1,
                    series_uid="1.2.3.4.5.6.7", study_uid="1.2.3.4.5.6")
    rad, entry = read_entry(path)
    assert rad is not None and entry.ok and entry.series_uid == "1.2.3.4.5.6.7"
    return entry


def png_films(base, folder: Path, n: int, seed: int = 0) -> list:
    """``n`` films of one folder (one series), in a random order: mostly without an instance number (PNG),
    some with one (as a DICOM file without a Series Instance UID has), a few sharing one."""
    rng = random.Random(seed)
    films = []
    for i in range(n):
        instance = rng.choice([None, None, rng.randint(1, 50)])
        films.append(dataclasses.replace(base, path=folder / f"film{rng.randint(0, 10 * n):06d}_{i}.png",
                                         instance_number=instance))
    rng.shuffle(films)
    return films


def shown_order(model: StudyModel, path: Path) -> list[Path]:
    """The series holding ``path`` as the view sees it, row by row."""
    series = model.index_for_path(path).parent()
    return [Path(model.index(row, 0, series).data(PATH_ROLE)) for row in range(model.rowCount(series))]


def ai_cell(model: StudyModel, path: Path) -> tuple:
    cell = model.index_for_path(path).siblingAtColumn(AI_COLUMN)
    return cell.data(), cell.data(AI_RANK_ROLE), cell.data(Qt.ItemDataRole.ToolTipRole)


def test_thousands_of_films_in_one_series_land_in_their_natural_order(qtbot, png_entry, tmp_path):
    model = StudyModel()
    films = png_films(png_entry, tmp_path / "set", N)
    for i, film in enumerate(films, 1):
        model.add_entry(film)
        if i in (1, 10, 500):  # in order at every step, not only at the end
            expected = [f.path for f in sorted(films[:i], key=natural_key)]
            assert model.series_paths(films[0].path) == expected == shown_order(model, films[0].path)
    expected = [f.path for f in sorted(films, key=natural_key)]  # a stable sort: equal keys as they came
    assert len(set(expected)) == N
    listed = model.series_paths(films[N // 2].path)
    assert listed == expected == shown_order(model, films[0].path)
    assert model.index_for_path(films[0].path).parent().data(Qt.ItemDataRole.ToolTipRole) == f"{N} images"
    # the caller's list is its own
    listed.reverse()
    listed.append(tmp_path / "elsewhere.png")
    assert model.series_paths(films[0].path) == expected
    # no series for a path not open; an unreadable file is in no series
    assert model.series_paths(tmp_path / "not-open.png") == []
    bad = tmp_path / "set" / "broken.png"
    model.add_entry(dataclasses.replace(png_entry, path=bad, error="Cannot decode"))
    assert model.series_paths(bad) == [] and model.series_paths(films[0].path) == expected


def test_equal_keys_keep_the_order_they_came_in(qtbot, dicom_entry, tmp_path):
    """One Series Instance UID over several folders: the same instance number and file name in each."""
    model = StudyModel()
    folders = [tmp_path / f"copy{k}" for k in range(5)]
    arrivals = []
    rng = random.Random(3)
    for instance in rng.sample(range(1, 201), 200):
        for folder in rng.sample(folders, len(folders)):
            arrivals.append(dataclasses.replace(dicom_entry, path=folder / f"im{instance}.dcm",
                                                instance_number=instance))
    rng.shuffle(arrivals)
    for film in arrivals:
        model.add_entry(film)
    expected = [f.path for f in sorted(arrivals, key=natural_key)]
    assert model.series_paths(arrivals[0].path) == expected == shown_order(model, arrivals[0].path)
    # again, from scratch: the same order
    again = StudyModel()
    for film in arrivals:
        again.add_entry(film)
    assert again.series_paths(arrivals[0].path) == expected
    # a film read again goes after those equal to it, as a new one does; a removed one leaves the list
    moved = arrivals[17]
    model.add_entry(moved)
    rest = [f for f in arrivals if f.path != moved.path] + [moved]
    expected = [f.path for f in sorted(rest, key=natural_key)]
    assert model.series_paths(moved.path) == expected == shown_order(model, moved.path)
    model.remove_path(arrivals[5].path)
    expected.remove(arrivals[5].path)
    assert model.series_paths(moved.path) == expected == shown_order(model, moved.path)
    assert model.series_paths(arrivals[5].path) == []


def test_sort_by_ai_and_clear_ai_on_thousands_of_films(qtbot, png_entry, dicom_entry, tmp_path):
    from cxviewer.ui.studies.browser import StudyBrowser

    browser = StudyBrowser()
    qtbot.addWidget(browser)
    model = browser.model
    big = png_films(png_entry, tmp_path / "set", N, seed=1)  # patient "(no patient data)", one series
    other_patient = dataclasses.replace(dicom_entry, patient_id="OTHER", patient_name="Other^Patient")
    small = [dataclasses.replace(other_patient, path=tmp_path / "b" / f"im{i}.dcm", instance_number=i)
             for i in range(30, 0, -1)]
    big = [dataclasses.replace(f, series_number=1) for f in big]
    second_series = [dataclasses.replace(png_entry, path=tmp_path / "set" / f"jpeg{i}.jpg", source_format="JPEG",
                                         series_number=2) for i in range(40)]
    for film in big[:N // 2] + small + second_series + big[N // 2:]:
        browser.add_entry(film)
    model.add_entry(dataclasses.replace(png_entry, path=tmp_path / "bad1.png", error="Cannot decode"))
    model.add_entry(dataclasses.replace(png_entry, path=tmp_path / "sr.dcm", error="SR", non_image="report"))
    model.add_entry(dataclasses.replace(png_entry, path=tmp_path / "bad0.png", error="Cannot decode"))
    tree = model.tree()
    assert [text for text, _ in tree][2:] == ["Unreadable files (2)", "1 non-image object"]
    natural_all = image_paths(model)
    natural_big = [f.path for f in sorted(big, key=natural_key)]
    assert model.series_paths(big[0].path) == natural_big

    # answers: the big series from 2 to 5, the JPEG series 1, the other patient 0 (its first film only)
    rng = random.Random(7)
    answers = {}
    for film in rng.sample(big, N // 3):
        answers[film.path] = ("Normal", rng.randint(2, 5), f"tip {film.path.name}")
    answers[second_series[3].path] = ("Uncertain", 1, "no call")
    answers[small[-1].path] = ("COVID-19", 0, "called")
    for path, (text, rank, tip) in answers.items():
        assert model.set_ai(path, text, rank, tip)
    assert not model.set_ai(tmp_path / "bad1.png", "Error", 9, "")  # no answer for an unreadable file

    current = big[10].path
    browser.select_path(current)
    picked, removed = [], []
    browser.imageSelected.connect(picked.append)
    model.rowsRemoved.connect(lambda *args: removed.append(args))
    browser.sort_by_ai(True)

    def by_ai(films):
        ranked = {f.path: answers.get(f.path, (None, NO_AI_RANK))[1] for f in films}
        return [f.path for f in sorted(sorted(films, key=natural_key), key=lambda f: ranked[f.path])]

    big_by_ai = by_ai(big)
    assert model.series_paths(big[0].path) == big_by_ai == shown_order(model, big[0].path)
    assert big_by_ai != natural_big
    # the other patient first (rank 0), then ours: its JPEG series (1) before its PNG one (2); the rest stay last
    assert image_paths(model) == by_ai(small) + by_ai(second_series) + big_by_ai + [tmp_path / "bad1.png",
                                                                                  tmp_path / "bad0.png"]
    assert [text for text, _ in model.tree()][2:] == ["1 non-image object", "Unreadable files (2)"]  # errors last
    # nothing lost by the moves, and the film on screen neither changed nor lost its row
    for path, answer in answers.items():
        assert ai_cell(model, path) == answer
    assert ai_cell(model, next(f.path for f in big if f.path not in answers)) == ("", None, None)
    assert Path(browser.view.currentIndex().siblingAtColumn(0).data(PATH_ROLE)) == current
    assert picked == [] and removed == []
    # a film added while sorted by the AI goes before the first row whose key is greater, as it did
    late = dataclasses.replace(png_entry, path=tmp_path / "set" / "film000000_late.png", instance_number=None)
    browser.add_entry(late)
    keys = {f.path: natural_key(f) for f in big}
    place = next((i for i, p in enumerate(big_by_ai) if keys[p] > natural_key(late)), len(big_by_ai))
    big_by_ai.insert(place, late.path)
    big.append(late)
    assert model.series_paths(late.path) == big_by_ai == shown_order(model, late.path)

    browser.sort_by_ai(False)  # back to the natural order
    natural_big = [f.path for f in sorted(big, key=natural_key)]
    assert model.series_paths(big[0].path) == natural_big == shown_order(model, big[0].path)
    assert [p for p in image_paths(model) if p != late.path] == natural_all
    for path, answer in answers.items():
        assert ai_cell(model, path) == answer
    assert Path(browser.view.currentIndex().siblingAtColumn(0).data(PATH_ROLE)) == current

    model.clear_ai()
    for film in big + small + second_series:
        assert ai_cell(model, film.path) == ("", None, "")
    browser.sort_by_ai(True)  # nothing analysed: the natural order
    assert [p for p in image_paths(model) if p != late.path] == natural_all
    assert model.series_paths(big[0].path) == natural_big
    assert picked == [] and removed == []


def test_sort_by_ai_with_non_image_objects_and_nothing_to_move(qtbot, png_entry, tmp_path):
    model = StudyModel()
    model.add_entry(dataclasses.replace(png_entry, path=tmp_path / "a" / "one.png"))
    model.add_entry(dataclasses.replace(png_entry, path=tmp_path / "b" / "two.png", patient_id="B"))
    model.add_entry(dataclasses.replace(png_entry, path=tmp_path / "sr.dcm", error="SR", non_image="report"))
    model.add_entry(dataclasses.replace(png_entry, path=tmp_path / "bad.png", error="Cannot decode"))
    before = model.tree()
    for on in (True, False, True):
        model.sort_by_ai(on)  # a non-image row beside patients not analysed: no crash, it stays where it is
        assert model.tree() == before
    model.set_ai(tmp_path / "b" / "two.png", "Normal", 2, "")
    model.sort_by_ai(True)
    assert [text for text, _ in model.tree()] == [before[1][0], before[0][0], "1 non-image object",
                                                  "Unreadable files (1)"]
