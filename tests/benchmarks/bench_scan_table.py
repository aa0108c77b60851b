"""The batch scan results table with many rows: what one click, filter change, export or column fit costs the GUI thread.

    python tests/benchmarks/bench_scan_table.py [ROWS]      (default 20000; offscreen Qt)

Prints one JSON object per line (name, ms, and for the sort the former way's ms and the ratio). The former sort is
QSortFilterProxyModel's own sort on SORT_ROLE, which asks Python for keys N log N times. Standalone: not in run.py.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the working tree, not an installed copy
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))

from PySide6.QtCore import QElapsedTimer, QEventLoop, Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402
from test_scan_results_table_speed import make_rows, qt_proxy_over  # noqa: E402

from cxviewer.scan import COLUMNS  # noqa: E402
from cxviewer.ui.scan.results_table import ScanResultsView  # noqa: E402


def main(n: int) -> None:
    app = QApplication.instance() or QApplication([])
    rows = make_rows(n)
    view = ScanResultsView()
    view.resize(1200, 700)
    view.show()
    for r in rows:
        view.model.add_result(r)
    app.processEvents()

    def ms(fn) -> float:
        t = time.perf_counter()
        fn()
        app.processEvents()  # the repaint that follows counts
        return (time.perf_counter() - t) * 1000

    def out(name: str, value: float, **extra) -> None:
        print(json.dumps({"name": name, "rows": n, "ms": round(value, 1), **extra}), flush=True)

    col = COLUMNS.index("p_covid")
    former = qt_proxy_over(rows)
    t = time.perf_counter()
    former.sort(col, Qt.SortOrder.AscendingOrder)
    former_ms = (time.perf_counter() - t) * 1000
    new_ms = ms(lambda: view.table.sortByColumn(col, Qt.SortOrder.AscendingOrder))
    out("sort_click", new_ms, former_ms=round(former_ms, 1), ratio=round(former_ms / new_ms, 1))
    out("sort_click_again", ms(lambda: view.table.sortByColumn(col, Qt.SortOrder.DescendingOrder)))
    out("status_filter", ms(lambda: view.status_box.setCurrentIndex(view.status_box.findData("ok"))))
    out("probability_filter", ms(lambda: view.min_p.setValue(0.4)))
    out("fit_columns", ms(view.fit_columns))

    target = Path(tempfile.mkdtemp()) / "export.csv"
    gaps: list[int] = []
    clock = QElapsedTimer()
    clock.start()
    last = [clock.elapsed()]

    def tick() -> None:
        now = clock.elapsed()
        gaps.append(now - last[0])
        last[0] = now

    ticker = QTimer()
    ticker.setInterval(2)
    ticker.timeout.connect(tick)
    done: list[tuple] = []
    loop = QEventLoop()  # a real event loop: polling processEvents() with sleeps would fight the writer for the GIL
    view.exportFinished.connect(lambda *args: (done.append(args), loop.quit()))
    ticker.start()
    t = time.perf_counter()
    view.start_export(target)
    start_ms = (time.perf_counter() - t) * 1000
    last[0] = clock.elapsed()
    QTimer.singleShot(30_000, loop.quit)
    loop.exec()
    total_ms = (time.perf_counter() - t) * 1000
    ticker.stop()
    out("export_start_on_gui_thread", start_ms, written_ms=round(total_ms, 1), longest_event_loop_gap_ms=max(gaps or [0]),
        rows_written=done[0][1])


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)
