"""Batch scan dialog (issue 19 item 7): File and Reason columns wide enough to read, a counter that
agrees with the table during a run, and a folder picker that starts where the reader last chose."""

from __future__ import annotations

import os
import re

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QFileDialog
from scan_corpus import build_corpus, needs_shared

from cxviewer.scan import COLUMNS
from cxviewer.ui.scan.dialog import BatchScanDialog
from cxviewer.ui.scan.results_table import MAX_COLUMN_PX
from cxviewer.settings import Settings

pytestmark = needs_shared
SHOTS = os.environ.get("CXVIEWER_SCREENSHOTS")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("polish")
    expected = build_corpus(root)
    return root, expected


@pytest.fixture
def dialog(qtbot):
    d = BatchScanDialog(settings=Settings.load())
    qtbot.addWidget(d)
    d.model_box.setChecked(False)  # files checked only: these tests must not depend on the model
    yield d
    d.cancel()
    d.wait()


def test_counter_agrees_with_the_table_and_columns_are_readable(dialog, corpus, qtbot):
    root, expected = corpus
    dialog.add_paths([root])
    seen = []

    def check(*_):  # after the dialog's own slots: what the reader sees at this moment
        if not dialog.running:
            return
        m = re.match(r"(\d+) of (\S+) files examined: (\d+) in the table", dialog.status_label.text())
        if m:
            seen.append((int(m.group(1)), int(m.group(3)), dialog.results.model.rowCount(),
                         dialog.results.count_label.text()))

    # looked at after every row has been handled (queued: after the dialog's own slots), and every 5 ms
    dialog.results.model.rowsInserted.connect(check, Qt.ConnectionType.QueuedConnection)
    poll = QTimer()
    poll.timeout.connect(check)
    poll.start(5)
    with qtbot.waitSignal(dialog.scanFinished, timeout=120_000):
        assert dialog.start()
    poll.stop()
    qtbot.waitUntil(lambda: not dialog.running, timeout=10_000)
    assert len(seen) >= len(expected)  # a check after every row at least
    for examined, in_table, rows, shown in seen:
        assert in_table == rows, (in_table, rows)  # the counter counts what the table holds...
        assert shown == f"{rows} of {rows} shown"
        assert examined >= rows  # ...and never says fewer files examined than rows shown ("97" beside "112")

    view = dialog.results
    dialog.resize(1000, 640)
    dialog.show()
    qtbot.waitExposed(dialog)
    fm = view.table.fontMetrics()
    header = view.table.horizontalHeader()
    for name in ("path", "error", "status", "label"):
        col = COLUMNS.index(name)
        texts = [view.proxy.index(r, col).data() or "" for r in range(view.proxy.rowCount())]
        texts.append(view.proxy.headerData(col, header.orientation()))
        widest = max(fm.horizontalAdvance(t) for t in texts)
        cap = MAX_COLUMN_PX.get(name, 10_000)
        assert header.sectionSize(col) >= min(widest, cap), (name, header.sectionSize(col), widest)
    errors = [view.proxy.index(r, COLUMNS.index("error")) for r in range(view.proxy.rowCount())]
    assert any(e.data() for e in errors)
    assert all(e.data(3) == e.data() for e in errors if e.data())  # the whole reason on hover
    if SHOTS:
        view.status_box.setCurrentIndex(view.status_box.findData("error"))
        dialog.grab().save(os.path.join(SHOTS, "batch_dialog.png"))


def test_folder_picker_starts_at_the_last_folder_chosen(dialog, tmp_path, monkeypatch):
    first, second = tmp_path / "night1", tmp_path / "night2"
    first.mkdir(), second.mkdir()
    asked = []
    answers = iter([str(first), str(second)])

    def pick(parent, caption, start_dir=""):  # the reader's choice in the system's folder dialog
        asked.append(start_dir)
        return next(answers)

    monkeypatch.setattr(QFileDialog, "getExistingDirectory", pick)
    assert dialog.start_dir() != os.getcwd() or os.getcwd() == str(os.path.expanduser("~"))
    dialog.add_button.click()
    assert asked[0] == os.path.expanduser("~")  # never the working directory
    assert Settings.load()["last_dir"] == str(first)  # saved, also for the next session
    again = BatchScanDialog(settings=Settings.load())
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", pick)
    again.add_button.click()
    assert asked[1] == str(first)
    assert again.paths() == [str(second)]
