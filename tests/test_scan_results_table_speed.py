"""The batch scan results table with a night's worth of rows (20,000): sorting, filtering, export and column fitting
keep their behaviour while none of them makes Python work per comparison, per filter step or per written row on the
GUI thread. Behaviour only, no timings (those are in tests/benchmarks/bench_scan_table.py)."""

from __future__ import annotations

import csv
import os
import random
import threading

import pytest
from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox

from cxviewer.scan import COLUMNS, ScanResult, ScanSetupError
from cxviewer.scan import results as scan_results
from cxviewer.ui.scan import results_table
from cxviewer.ui.scan.results_table import (
    FIT_SAMPLE_ROWS,
    MAX_COLUMN_PX,
    RESULT_ROLE,
    SORT_ROLE,
    ScanResultsModel,
    ScanResultsView,
)

N = 20_000
posix_only = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")


def make_rows(n: int, seed: int = 7, start: int = 0) -> list[ScanResult]:
    """ok rows with probabilities, error and out-of-scope rows without; ties in every sorted column."""
    rnd = random.Random(seed)
    rows = []
    for i in range(start, start + n):
        status = rnd.choice(("ok", "ok", "ok", "error", "out_of_scope"))
        if status == "ok":
            p = [rnd.randint(1, 40) for _ in range(3)]
            total = sum(p)
            p = [x / total for x in p]
            label = ("covid", "pneumonia", "normal")[p.index(max(p))]
            rows.append(ScanResult(f"/night/{i % 97:02d}/film-{i:05d}.dcm", "ok", label=label, p_covid=p[0],
                                   p_pneumonia=p[1], p_normal=p[2], ood_score=rnd.random(), model="densenet",
                                   patient_id=f"PID-{rnd.randrange(500)}", ms=float(rnd.randint(5, 60)),
                                   call=label, confidence=max(p), runtime="onnx", device="cpu"))
        else:
            error = "truncated file" if status == "error" else "body part HIP is not the chest"
            rows.append(ScanResult(f"/night/{i % 97:02d}/other-{i:05d}.dcm", status, error=error,
                                   ms=None if rnd.random() < 0.5 else float(rnd.randint(1, 9))))
    return rows


@pytest.fixture
def view(qtbot):
    v = ScanResultsView()
    qtbot.addWidget(v)
    return v


def _fill(view: ScanResultsView, rows: list[ScanResult]) -> None:
    for r in rows:
        view.model.add_result(r)


def _shown(view: ScanResultsView) -> list[str]:
    return [r.path for r in view.proxy.visible_results()]


def _shown_through_qt(proxy) -> list[str]:
    return [proxy.index(r, 0).data(RESULT_ROLE).path for r in range(proxy.rowCount())]


def _key(name: str):
    def key(r: ScanResult):
        v = getattr(r, name)
        if name in results_table.NUMERIC:
            return -1.0 if v is None else v
        return str(v)
    return key


def _expected(rows, name, descending=False, keep=lambda r: True) -> list[str]:
    """Stable both ways: ties keep the order of ``rows`` (the order before the click); an empty number sorts as -1
    (first up, last down)."""
    return [r.path for r in sorted(rows, key=_key(name), reverse=descending) if keep(r)]


def _by_path(rows, paths):
    index = {r.path: r for r in rows}
    return [index[p] for p in paths]


# --- sorting ---


def test_a_header_click_sorts_both_ways_with_empty_cells_as_before(view):
    rows = make_rows(N)
    _fill(view, rows)
    header = view.table.horizontalHeader()
    for name in ("p_covid", "ms", "status", "path"):
        col = COLUMNS.index(name)
        for order in (Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder):
            before = view.proxy.visible_results()
            view.table.sortByColumn(col, order)
            descending = order == Qt.SortOrder.DescendingOrder
            assert _shown(view) == _expected(before, name, descending), (name, order)
            assert (header.sortIndicatorSection(), header.sortIndicatorOrder()) == (col, order)  # the arrow shows
    view.table.sortByColumn(COLUMNS.index("ms"), Qt.SortOrder.AscendingOrder)
    first, last = view.proxy.visible_results()[0], view.proxy.visible_results()[-1]
    assert first.ms is None and last.ms == max(r.ms for r in rows if r.ms is not None)  # empty sorts as -1
    view.table.sortByColumn(COLUMNS.index("ms"), Qt.SortOrder.DescendingOrder)
    assert view.proxy.visible_results()[-1].ms is None
    assert _shown_through_qt(view.proxy) == _shown(view)  # what the view shows is what visible_results says
    view.table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # no column: the scan's order again
    assert _shown(view) == [r.path for r in rows]


def qt_proxy_over(rows: list[ScanResult]) -> QSortFilterProxyModel:
    """The former way to sort: Qt's own QSortFilterProxyModel on SORT_ROLE over a plain model of ``rows`` (the
    reference the tests compare orders with, and the benchmark times)."""
    reference = ScanResultsModel()
    for r in rows:
        reference.add_result(r)
    proxy = QSortFilterProxyModel()
    proxy.setSourceModel(reference)
    proxy.setSortRole(SORT_ROLE)
    proxy.reference = reference  # kept alive with the proxy
    return proxy


def test_the_order_is_the_one_qts_proxy_sort_gave(view):
    """The same order as the former QSortFilterProxyModel sort on SORT_ROLE, column by column, both ways."""
    rows = make_rows(1500, seed=3)
    _fill(view, rows)
    qt_sorted = qt_proxy_over(rows)
    for col, name in enumerate(COLUMNS):
        for order in (Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder):
            qt_sorted.sort(col, order)
            view.table.sortByColumn(col, order)
            assert _shown(view) == _shown_through_qt(qt_sorted), (name, order)


def test_sort_keys_are_computed_once_per_row(view, monkeypatch):
    calls = []
    real = results_table.sort_key
    monkeypatch.setattr(results_table, "sort_key", lambda r, name: calls.append(name) or real(r, name))
    _fill(view, make_rows(N))
    col = COLUMNS.index("p_covid")
    view.table.sortByColumn(col, Qt.SortOrder.AscendingOrder)
    assert len(calls) == N  # one key per row, not one per comparison
    view.table.sortByColumn(col, Qt.SortOrder.DescendingOrder)
    view.table.sortByColumn(col, Qt.SortOrder.AscendingOrder)
    assert len(calls) == N  # kept for the next click on the same column
    view.add_result(make_rows(1, seed=99, start=N)[0])
    assert len(calls) == N + 1


def test_rows_arriving_during_the_scan_land_in_the_sorted_order(view):
    rows = make_rows(N)
    _fill(view, rows[:5000])
    view.status_box.setCurrentIndex(view.status_box.findData("ok"))
    view.table.sortByColumn(COLUMNS.index("ms"), Qt.SortOrder.DescendingOrder)
    for r in rows[5000:]:
        view.add_result(r)  # as the scan delivers them
    ok = lambda r: r.status == "ok"  # noqa: E731
    by_ms = _expected(rows, "ms", True)  # the first click sorts the scan order: ties in scan order
    assert _shown(view) == _expected(rows, "ms", True, ok)
    assert _shown_through_qt(view.proxy) == _shown(view)
    assert view.count_label.text() == f"{sum(map(ok, rows))} of {N} shown"  # hidden arrivals count too
    view.table.sortByColumn(COLUMNS.index("p_covid"), Qt.SortOrder.AscendingOrder)
    more = make_rows(300, seed=11, start=N)
    for r in more:
        view.add_result(r)  # after their ties
    by_p = _expected(_by_path(rows, by_ms), "p_covid")
    assert _shown(view) == _expected(_by_path(rows + more, by_p) + more, "p_covid", False, ok)
    assert [r.path for r in view.model.results()] == [r.path for r in rows + more]  # results(): scan order


def test_the_selected_row_stays_selected_across_a_sort(view):
    _fill(view, make_rows(3000))
    view.table.selectRow(1234)
    chosen = view.proxy.index(1234, 0).data(RESULT_ROLE)
    view.table.sortByColumn(COLUMNS.index("p_normal"), Qt.SortOrder.DescendingOrder)
    current = view.table.currentIndex()
    assert current.data(RESULT_ROLE) is chosen
    assert [i.data(RESULT_ROLE) for i in view.table.selectionModel().selectedRows()] == [chosen]


def test_clear_keeps_the_sorted_column_for_the_next_scan(view):
    _fill(view, make_rows(200))
    view.table.sortByColumn(COLUMNS.index("ms"), Qt.SortOrder.AscendingOrder)
    view.clear()
    rows = make_rows(500, seed=5)
    for r in rows:
        view.add_result(r)
    assert _shown(view) == _expected(rows, "ms")  # ties in arrival order


# --- filtering ---


def _count_refilters(view, monkeypatch) -> list[int]:
    calls = []
    real = view.proxy._refilter
    monkeypatch.setattr(view.proxy, "_refilter", lambda: (calls.append(1), real()))
    return calls


def test_one_filter_change_is_applied_once(view, monkeypatch):
    rows = make_rows(N)
    _fill(view, rows)
    refilters = _count_refilters(view, monkeypatch)
    removed, layouts = [], []
    view.proxy.rowsRemoved.connect(lambda *a: removed.append(a))
    view.proxy.layoutChanged.connect(lambda *a: layouts.append(a))

    view.status_box.setCurrentIndex(view.status_box.findData("ok"))
    assert len(refilters) == 1
    assert (removed, len(layouts)) == ([], 1)  # one layout change, not a rowsRemoved per run of rows
    assert view.proxy.rowCount() == sum(r.status == "ok" for r in rows)

    view.class_box.setCurrentIndex(view.class_box.findData("covid"))  # min 0: the rows shown do not change...
    view.min_p.setValue(0.4)  # ...a value set by the program is applied at once
    assert len(refilters) == 3
    expected = [r.path for r in rows if r.status == "ok" and r.p_covid >= 0.4]
    assert _shown(view) == expected == _shown_through_qt(view.proxy)
    assert view.count_label.text() == f"{len(expected)} of {N} shown"

    view.class_box.setCurrentIndex(view.class_box.findData(""))  # any class: the highest probability
    assert len(refilters) == 4
    assert _shown(view) == [r.path for r in rows if r.status == "ok" and max(r.p_covid, r.p_pneumonia, r.p_normal) >= 0.4]
    view.min_p.setValue(0.4)  # no change: nothing to do
    assert len(refilters) == 4


def test_the_probability_box_filters_once_its_arrows_rest(view, qtbot, monkeypatch):
    rows = make_rows(N)
    _fill(view, rows)
    refilters = _count_refilters(view, monkeypatch)
    for _ in range(6):  # the reader holds the up arrow: six steps of 0.05
        view.min_p.stepBy(1)
    assert view.min_p.value() == pytest.approx(0.30)
    assert refilters == [] and view.proxy.rowCount() == N  # nothing filtered yet
    qtbot.waitUntil(lambda: len(refilters) == 1, timeout=2000)
    assert _shown(view) == [r.path for r in rows if r.probabilities and max(r.probabilities.values()) >= 0.3]
    qtbot.wait(3 * results_table.FILTER_DEBOUNCE_MS)
    assert len(refilters) == 1  # once

    qtbot.keyClick(view.min_p, Qt.Key.Key_Up)  # a key step waits as well
    assert len(refilters) == 1
    view.status_box.setCurrentIndex(view.status_box.findData("ok"))  # another control: everything at once
    assert len(refilters) == 2 and not view._filter_timer.isActive()
    assert _shown(view) == [r.path for r in rows if r.status == "ok" and max(r.probabilities.values()) >= 0.35]


# --- export ---


@posix_only
def test_export_button_writes_the_rows_shown_off_the_gui_thread(view, qtbot, tmp_path, monkeypatch, umask_022):
    rows = make_rows(N)
    _fill(view, rows)
    view.table.sortByColumn(COLUMNS.index("p_covid"), Qt.SortOrder.DescendingOrder)
    view.status_box.setCurrentIndex(view.status_box.findData("ok"))
    target = tmp_path / "exported.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), "CSV files (*.csv)"))
    told = []
    monkeypatch.setattr(QMessageBox, "information", lambda parent, title, text: told.append((title, text)))
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text: told.append(("WARNING", text)))
    writers = []
    real_init = scan_results.CsvResultWriter.__init__

    def init(self, path, *args, **kwargs):
        writers.append((threading.current_thread(), kwargs.get("private")))
        real_init(self, path, *args, **kwargs)

    same = tmp_path / "same.csv"
    assert view.export_csv(same) == view.proxy.rowCount()  # the synchronous path (scripts, older tests): written on return
    monkeypatch.setattr(scan_results.CsvResultWriter, "__init__", init)
    shown = view.proxy.visible_results()

    with qtbot.waitSignal(view.exportFinished, timeout=30_000) as finished:
        view.export_button.click()
        assert view.exporting and not view.export_button.isEnabled()  # the click returned before the file is written
        for r in make_rows(50, seed=21, start=N):
            view.add_result(r)  # the scan goes on: the export keeps the rows it was asked for
    assert finished.args == [str(target), len(shown), ""]
    assert told == [("Export scan results", f"{len(shown)} row(s) written to {target}")]
    assert view.export_button.isEnabled() and not view.exporting
    assert len(writers) == 1
    thread, private = writers[0]
    assert thread is not threading.main_thread() and private is True
    assert oct(target.stat().st_mode & 0o777) == oct(0o600)  # patient IDs and paths: owner only
    with open(target, newline="") as fh:
        reader = csv.DictReader(fh)
        written = list(reader)
    assert tuple(reader.fieldnames) == COLUMNS
    assert [w["path"] for w in written] == [r.path for r in shown]  # the order shown
    assert written == [r.as_row() for r in shown]
    assert target.read_bytes() == same.read_bytes()  # the same file as the synchronous export
    assert [w["path"] for w in written] == _expected(rows, "p_covid", True, lambda r: r.status == "ok")


def test_export_errors_are_reported_as_before(view, qtbot, tmp_path, monkeypatch):
    _fill(view, make_rows(100))
    warnings = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text: warnings.append((title, text)))
    monkeypatch.setattr(QMessageBox, "information", lambda *a: pytest.fail("no success message on a failure"))

    missing = tmp_path / "gone" / "out.csv"  # the folder is not there: the writer's OSError
    with pytest.raises(OSError) as raised:
        view.export_csv(missing)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(missing), ""))
    with qtbot.waitSignal(view.exportFinished, timeout=10_000) as finished:
        view.export_button.click()
    assert finished.args == [str(missing), 0, str(raised.value)]
    assert warnings == [("Export scan results", str(raised.value))]
    assert view.export_button.isEnabled()

    scanned = tmp_path / "films"
    scanned.mkdir()
    view.protected_roots = [scanned]
    inside = scanned / "export.csv"
    with pytest.raises(ScanSetupError) as refused:
        view.export_csv(inside)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(inside), ""))
    view.export_button.click()  # refused at once, before any thread
    assert warnings[-1] == ("Export scan results", str(refused.value))
    assert not view.exporting and view.export_button.isEnabled()
    assert not inside.exists()


# --- column widths ---


def test_fit_columns_gives_the_widths_qt_would_give_for_the_rows_it_measures(view, qtbot):
    """On a small table (every row sampled) the widths are those of resizeColumnToContents (capped)."""
    rows = make_rows(120, seed=4)
    rows[77] = ScanResult("/night/" + "w" * 90 + ".dcm", "error", error="W" * 200)  # wider than the caps
    _fill(view, rows)
    view.resize(1000, 600)
    view.show()
    qtbot.waitExposed(view)
    view.fit_columns()
    header = view.table.horizontalHeader()
    ours = [header.sectionSize(c) for c in range(len(COLUMNS))]
    for col, name in enumerate(COLUMNS):
        view.table.resizeColumnToContents(col)
        qt = min(header.sectionSize(col), MAX_COLUMN_PX.get(name, 10_000))
        assert abs(ours[col] - qt) <= 1, (name, ours[col], qt)
    assert ours[COLUMNS.index("path")] == MAX_COLUMN_PX["path"] and ours[COLUMNS.index("error")] == MAX_COLUMN_PX["error"]


def test_fit_columns_measures_a_sample_of_a_large_table(view, qtbot, monkeypatch):
    rows = make_rows(N)
    _fill(view, rows)
    view.resize(1000, 600)
    view.show()
    qtbot.waitExposed(view)
    measured = []
    real = results_table.display_text
    monkeypatch.setattr(results_table, "display_text", lambda r, name: measured.append(r) or real(r, name))
    view.fit_columns()
    sampled_rows = len(measured) // len(COLUMNS)
    assert FIT_SAMPLE_ROWS <= sampled_rows <= 2 * FIT_SAMPLE_ROWS + 100  # first rows, rows on screen, a spread
    fm = view.table.fontMetrics()
    header = view.table.horizontalHeader()
    for name in ("path", "status", "label", "p_covid"):
        col = COLUMNS.index(name)
        widest = max(fm.horizontalAdvance(real(r, name)) for r in rows[:FIT_SAMPLE_ROWS])
        assert header.sectionSize(col) >= min(widest, MAX_COLUMN_PX.get(name, 10_000))
