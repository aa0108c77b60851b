"""GUI entry point: ``cxviewer [PATH ...] [--sample]`` opens the main window."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from cxviewer import __version__


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="cxviewer", description="Chest radiograph viewer.")
    parser.add_argument("paths", nargs="*", help="DICOM or image files, or folders, to open")
    parser.add_argument("--sample", action="store_true", help="open the bundled sample study")
    parser.add_argument("--smoke-test", action="store_true",
                        help="open the sample, wait until it is drawn (and classified), print JSON lines, quit")
    parser.add_argument("--version", action="version", version=f"cxviewer {__version__}")
    return parser.parse_args(argv)


def build_main_window(settings=None, read=None):
    """The reading station, composed in one place: the main window, then each feature given what it
    uses (the inference service and the AI panel go to the report pane and the PACS sender by
    argument). ``read``: how the loader reads files (``ReadAhead.read`` for a film named at launch).
    Returns (window, inference service)."""
    from cxviewer.ui.ai.controller import install_ai_panel
    from cxviewer.ui.ai.inference import PRELOAD_DELAY_MS
    from cxviewer.ui.ai.study_column import install_study_ai
    from cxviewer.ui.main_window import MainWindow
    from cxviewer.ui.pacs.dialog import install_pacs
    from cxviewer.ui.report.install import install_report_dock
    from cxviewer.ui.scan.dialog import install_batch_action

    window = MainWindow(settings, read=read)
    install_batch_action(window)  # Tools > Batch scan...
    # AI dock, Grad-CAM overlay, AI menu (the model loads and runs once at start-up: at once when a film named at
    # launch is being read, else once the window has painted)
    ai = install_ai_panel(window, preload_delay_ms=0 if read is not None else PRELOAD_DELAY_MS)
    install_study_ai(window, ai.service)  # the study browser's AI column, filled in the background
    report = install_report_dock(window, inference=ai.service, ai_panel=ai.panel)  # the report pane (right dock)
    # PACS menu (Query/Retrieve, nodes), the listener toggle, "Send AI result"; no network until asked
    install_pacs(window, report_dock=report, inference=ai.service)
    from cxviewer.ui.annotate.tools import install_annotation_tools
    from cxviewer.ui.viewer.layouts import install_layouts

    # Annotate menu (tools, undo, per-film saving, GSPS; replaces D / Delete); the PDF image carries them
    tools = install_annotation_tools(window, report_dock=report)
    install_layouts(window, tools)  # View > Layout 1x1/1x2/2x2, linked viewports, Compare with prior (P)
    return window, ai.service


def _user_folders_problem() -> str | None:
    """Why CXViewer's own folders (settings, drafts, annotations) cannot be used, for the reader; None when they can."""
    from cxviewer import paths

    try:
        paths.user_config_dir()
        paths.user_data_dir()
    except OSError as exc:
        return (f"{exc}. Your settings, report drafts and measurements are kept there: move what is in the way, "
                f"or set {paths.HOME_ENV} to a folder CXViewer may use.")
    return None


def run_gui(argv: list[str], read_ahead=None) -> int:
    """The viewer. ``read_ahead``: the read of the film named in ``argv``, if the caller started it already
    (``cxviewer.cli`` does, before Qt is imported); else it starts here."""
    args = _parse(argv)
    logging.basicConfig(level=os.environ.get("CXVIEWER_LOGLEVEL", "INFO"),
                        format="%(levelname)s %(name)s: %(message)s")
    if read_ahead is None:  # a film opens at once: read it (decoder process first) while the window is built
        from cxviewer.imaging.read_ahead import launch_read_ahead

        read_ahead = launch_read_ahead(args.paths, sample=args.sample or args.smoke_test)
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("CXViewer")
    app.setApplicationVersion(__version__)
    from cxviewer.ui.app_icon import app_icon

    app.setWindowIcon(app_icon())  # resources/icons; resources/cxviewer.desktop names the same icon
    app.setDesktopFileName("cxviewer")
    problem = _user_folders_problem()
    if problem:  # drafts, settings and annotations would have nowhere to go: say so rather than lose work
        print(f"cxviewer: {problem}", file=sys.stderr)
        if not args.smoke_test and QApplication.platformName() != "offscreen":
            from PySide6.QtWidgets import QMessageBox

            QMessageBox.critical(None, "CXViewer cannot start", problem)
        return 1
    window, inference = build_main_window(read=read_ahead.read if read_ahead else None)
    from cxviewer.ui import startup_probe

    if startup_probe.requested():  # start-up benchmark: report the first paint, quit
        startup_probe.install(app, window)
    window.show()
    if args.smoke_test:
        from cxviewer.ui.smoke_test import install_smoke_test

        install_smoke_test(window, inference)  # checks a build: opens the sample, quits once it is drawn
    elif args.sample:
        window.open_sample()
    if args.paths:
        window.open_paths(args.paths)
    code = int(app.exec())
    # Everything a reader waits for is done by now (settings and report drafts are saved on the way out,
    # scan rows are on disk as written). What is left is work nobody waits for: a network call or a
    # file read in flight, thread pools, Python's and the libraries' own teardown. Leave without it.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
